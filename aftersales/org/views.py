from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic.edit import FormMixin

from aftersales.core.errors import ServiceError
from aftersales.core.pages import RestrictedDetailView, RestrictedListView
from aftersales.org import services
from aftersales.org.forms import DealerForm
from aftersales.org.models import Dealer, RoleAssignment, User


class DealerListView(RestrictedListView):
    model = Dealer
    template_name = "org/dealer_list.html"

    def get_queryset(self):
        qs = super().get_queryset().select_related("region")
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(name__icontains=q) | qs.filter(code__icontains=q)
        return qs


class DealerDetailView(RestrictedDetailView):
    model = Dealer
    template_name = "org/dealer_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["content_type_id"] = ContentType.objects.get_for_model(Dealer).id
        ctx["can_edit"] = (
            Dealer.objects.restrict(self.request.user, "change").filter(pk=self.object.pk).exists()
        )
        return ctx


class DealerEditView(FormMixin, RestrictedDetailView):
    model = Dealer
    action = "change"
    form_class = DealerForm
    template_name = "org/dealer_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = self.get_form()
        if not form.is_valid():
            return self.form_invalid(form)
        if not form.changed_data:
            messages.info(request, _("Nothing was changed."))
            return redirect("dealer-detail", pk=self.object.pk)
        try:
            services.dealer_update(
                actor=request.user,
                dealer=self.object,
                **{f: form.cleaned_data[f] for f in form.changed_data},
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        messages.success(request, _("Dealer saved."))
        return redirect("dealer-detail", pk=self.object.pk)


_ACTIVE_ROLES = Prefetch(
    "role_assignments",
    queryset=RoleAssignment.objects.filter(active=True).select_related("dealer", "region"),
    to_attr="active_roles",
)


class StaffListView(RestrictedListView):
    model = User
    template_name = "org/staff_list.html"

    def get_queryset(self):
        qs = (
            super()
            .get_queryset()
            .select_related("dealer", "region")
            .prefetch_related(_ACTIVE_ROLES)
            .order_by("dealer__code", "username")
        )
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(
                Q(username__icontains=q) | Q(display_name__icontains=q) | Q(mobile__icontains=q)
            )
        return qs


class StaffDetailView(RestrictedDetailView):
    model = User
    template_name = "org/staff_detail.html"
    context_object_name = "person"

    def get_queryset(self):
        qs = super().get_queryset().select_related("dealer", "region")
        return qs.prefetch_related(_ACTIVE_ROLES)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["content_type_id"] = ContentType.objects.get_for_model(User).id
        return ctx
