"""Pages of the labour catalogue (OEM level: operations with their standard times,
maintenance packages) and of a dealer's workshop set-up (labour rates, bays, service
settings). Everyone in the workshop reads them; OEM admins edit the catalogue, the
service manager and the dealer admin their dealer's set-up."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from aftersales.core.access import allowed_at, user_has_perm, user_scope
from aftersales.core.errors import ServiceError
from aftersales.core.pages import PermissionPage
from aftersales.org.models import Dealer
from aftersales.workorders import labour
from aftersales.workorders.choices import OperationCategory, PayType
from aftersales.workorders.forms_catalogue import (
    BayEditForm,
    BayForm,
    LabourTimeForm,
    OperationForm,
    OperationSearchForm,
    PackageForm,
    RatesForm,
    SettingsForm,
    add_service_errors,
    package_initial,
    settings_initial,
)
from aftersales.workorders.models import (
    LabourOperation,
    LabourRate,
    LabourTime,
    MaintenancePackage,
    PackageOperation,
    PackagePart,
    ServiceSettings,
    WorkshopBay,
)

PAGE_SIZE = 50


# ------------------------------------------------------------------ labour operations


class OperationListView(PermissionPage, ListView):
    permission = "workorders.view_labouroperation"
    template_name = "workorders/catalogue_operation_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        self.search = OperationSearchForm(self.request.GET or None)
        rows = LabourOperation.objects.restrict(self.request.user, "view").annotate(
            time_count=Count("times")
        )
        if self.search.is_valid():
            q = self.search.cleaned_data["q"].strip()
            if q:
                rows = rows.filter(
                    Q(code__icontains=q) | Q(name__icontains=q) | Q(name_en__icontains=q)
                )
            if self.search.cleaned_data["category"]:
                rows = rows.filter(category=self.search.cleaned_data["category"])
        return rows.order_by("code")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        can_add = user_has_perm(self.request.user, "workorders.add_labouroperation")
        ctx.update(
            search=self.search,
            can_add=can_add,
            form=kwargs.get("form") or (OperationForm() if can_add else None),
            categories=OperationCategory,
        )
        return ctx

    def post(self, request):
        if not allowed_at(request.user, "workorders.add_labouroperation"):
            raise PermissionDenied
        form = OperationForm(request.POST)
        if form.is_valid():
            try:
                op = labour.labour_operation_create(actor=request.user, **form.cleaned_data)
            except ServiceError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Operation %(code)s created.") % {"code": op.code})
                return redirect("labour-operation-detail", pk=op.pk)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form), status=400)


def _operation_page(request, operation, *, form=None, time_form=None, status=200):
    times = list(
        LabourTime.objects.filter(operation=operation)
        .select_related("vehicle_model", "variant")
        .order_by("vehicle_model__code", F("variant__code").asc(nulls_first=True))
    )
    can_change = allowed_at(request.user, "workorders.change_labouroperation")
    if can_change and form is None:
        form = OperationForm(
            editing=True,
            initial={
                "name": operation.name,
                "name_en": operation.name_en,
                "category": operation.category,
                "warranty_scope": operation.warranty_scope,
                "default_hours": operation.default_hours,
                "active": operation.active,
            },
        )
    return render(
        request,
        "workorders/catalogue_operation_detail.html",
        {
            "operation": operation,
            "times": times,
            "can_change": can_change,
            "form": form,
            "time_form": time_form or (LabourTimeForm() if can_change else None),
        },
        status=status,
    )


class OperationDetailView(PermissionPage, View):
    permission = "workorders.view_labouroperation"

    def _operation(self, request, pk):
        return get_object_or_404(LabourOperation.objects.restrict(request.user, "view"), pk=pk)

    def get(self, request, pk):
        return _operation_page(request, self._operation(request, pk))

    def post(self, request, pk):
        operation = self._operation(request, pk)
        if not allowed_at(request.user, "workorders.change_labouroperation"):
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "update":
            form = OperationForm(request.POST, editing=True)
            if form.is_valid():
                try:
                    labour.labour_operation_update(
                        actor=request.user, operation=operation, **form.cleaned_data
                    )
                except ServiceError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, _("Operation saved."))
                    return redirect("labour-operation-detail", pk=operation.pk)
            return _operation_page(request, operation, form=form, status=400)
        if action == "time_set":
            time_form = LabourTimeForm(request.POST)
            if time_form.is_valid():
                try:
                    labour.labour_time_set(
                        actor=request.user, operation=operation, **time_form.cleaned_data
                    )
                except ServiceError as exc:
                    add_service_errors(time_form, exc)
                else:
                    messages.success(request, _("Standard time saved."))
                    return redirect("labour-operation-detail", pk=operation.pk)
            return _operation_page(request, operation, time_form=time_form, status=400)
        if action == "time_remove":
            time = get_object_or_404(
                LabourTime, pk=request.POST.get("time") or 0, operation=operation
            )
            labour.labour_time_remove(actor=request.user, labour_time=time)
            messages.success(request, _("Standard time removed."))
            return redirect("labour-operation-detail", pk=operation.pk)
        raise Http404


# ------------------------------------------------------------------ maintenance packages


class PackageListView(PermissionPage, ListView):
    permission = "workorders.view_maintenancepackage"
    template_name = "workorders/catalogue_package_list.html"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        rows = (
            MaintenancePackage.objects.restrict(self.request.user, "view")
            .select_related("vehicle_model")
            .annotate(
                operation_count=Count("operations", distinct=True),
                part_count=Count("parts", distinct=True),
            )
        )
        self.q = (self.request.GET.get("q") or "").strip()
        if self.q:
            rows = rows.filter(
                Q(code__icontains=self.q) | Q(name__icontains=self.q) | Q(name_en__icontains=self.q)
            )
        return rows.order_by("code")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        can_add = user_has_perm(self.request.user, "workorders.add_maintenancepackage")
        ctx.update(
            q=self.q,
            can_add=can_add,
            form=kwargs.get("form") or (PackageForm() if can_add else None),
        )
        return ctx

    def post(self, request):
        if not allowed_at(request.user, "workorders.add_maintenancepackage"):
            raise PermissionDenied
        form = PackageForm(request.POST)
        if form.is_valid():
            try:
                package = labour.package_create(actor=request.user, **form.cleaned_data)
            except ServiceError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Package %(code)s created.") % {"code": package.code})
                return redirect("package-detail", pk=package.pk)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form), status=400)


def _package_queryset(user):
    return (
        MaintenancePackage.objects.restrict(user, "view")
        .select_related("vehicle_model")
        .prefetch_related(
            Prefetch(
                "operations",
                PackageOperation.objects.select_related("operation").order_by("operation__code"),
            ),
            Prefetch("parts", PackagePart.objects.select_related("part").order_by("part__number")),
        )
    )


class PackageDetailView(PermissionPage, View):
    permission = "workorders.view_maintenancepackage"

    def _render(self, request, package, form=None, status=200):
        can_change = allowed_at(request.user, "workorders.change_maintenancepackage")
        if can_change and form is None:
            form = PackageForm(editing=True, initial=package_initial(package))
        return render(
            request,
            "workorders/catalogue_package_detail.html",
            {"package": package, "can_change": can_change, "form": form},
            status=status,
        )

    def get(self, request, pk):
        return self._render(request, get_object_or_404(_package_queryset(request.user), pk=pk))

    def post(self, request, pk):
        package = get_object_or_404(_package_queryset(request.user), pk=pk)
        if not allowed_at(request.user, "workorders.change_maintenancepackage"):
            raise PermissionDenied
        form = PackageForm(request.POST, editing=True)
        if form.is_valid():
            try:
                labour.package_update(actor=request.user, package=package, **form.cleaned_data)
            except ServiceError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Package saved."))
                return redirect("package-detail", pk=package.pk)
        return self._render(request, package, form=form, status=400)


# ------------------------------------------------------------------ workshop set-up


def visible_dealers(user, permission="workorders.view_labourrate"):
    """The dealers whose set-up the user may see."""
    scope = user_scope(user, permission)
    dealers = Dealer.objects.order_by("code")
    if scope.everything:
        return dealers
    return dealers.filter(pk__in=scope.dealer_ids)


def chosen_dealer(request, dealers):
    """The dealer named by ``?dealer=`` (or the posted ``dealer``) among ``dealers``, else
    the user's own, else the first; another dealer's id is a 404."""
    raw = request.POST.get("dealer") or request.GET.get("dealer")
    if raw:
        if not str(raw).isdigit():
            raise Http404
        return get_object_or_404(dealers, pk=int(raw))
    user = request.user
    if user.dealer_id:
        own = dealers.filter(pk=user.dealer_id).first()
        if own is not None:
            return own
    first = dealers.first()
    if first is None:
        raise Http404
    return first


SETUP_ACTIONS = {
    "rates": "workorders.change_labourrate",
    "bay_create": "workorders.add_workshopbay",
    "bay_update": "workorders.change_workshopbay",
    "settings": "workorders.change_servicesettings",
}


class WorkshopSetupView(PermissionPage, ListView):
    """A dealer's labour rates, bays and service settings (``object_list``: its bays)."""

    permission = "workorders.view_labourrate"
    template_name = "workorders/catalogue_workshop_setup.html"
    paginate_by = None

    def dispatch(self, request, *args, **kwargs):
        self.forms = {}
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        self.dealers = visible_dealers(self.request.user)
        self.dealer = chosen_dealer(self.request, self.dealers)
        return WorkshopBay.objects.restrict(self.request.user, "view").filter(dealer=self.dealer)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, dealer = self.request.user, self.dealer
        rates = {
            r.pay_type: r.rate
            for r in LabourRate.objects.restrict(user, "view").filter(dealer=dealer)
        }
        may = {
            "rates": allowed_at(user, "workorders.change_labourrate", dealer=dealer),
            "bay_add": allowed_at(user, "workorders.add_workshopbay", dealer=dealer),
            "bay_change": allowed_at(user, "workorders.change_workshopbay", dealer=dealer),
            "settings_view": allowed_at(user, "workorders.view_servicesettings", dealer=dealer),
            "settings": allowed_at(user, "workorders.change_servicesettings", dealer=dealer),
        }
        settings = ServiceSettings.for_dealer(dealer) if may["settings_view"] else None
        forms = self.forms
        bays = list(ctx["object_list"])
        if may["bay_change"]:
            for bay in bays:
                bay.form = forms.get(("bay", bay.pk)) or BayEditForm(
                    initial={"name": bay.name, "kind": bay.kind, "active": bay.active},
                    prefix=f"bay{bay.pk}",
                )
        ctx.update(
            dealer=dealer,
            dealers=self.dealers,
            choose_dealer=self.dealers.count() > 1,
            rates=[(value, label, rates.get(value)) for value, label in PayType.choices],
            settings=settings,
            may=may,
            bays=bays,
            rates_form=forms.get("rates") or (RatesForm(initial=rates) if may["rates"] else None),
            bay_form=forms.get("bay_create") or (BayForm() if may["bay_add"] else None),
            settings_form=forms.get("settings")
            or (SettingsForm(initial=settings_initial(settings)) if may["settings"] else None),
        )
        return ctx

    def post(self, request):
        self.object_list = self.get_queryset()
        dealer, user, action = self.dealer, request.user, request.POST.get("action")
        if action not in SETUP_ACTIONS:
            raise Http404
        if not allowed_at(user, SETUP_ACTIONS[action], dealer=dealer):
            raise PermissionDenied
        form, done = None, None
        try:
            if action == "rates":
                form = RatesForm(request.POST)
                if form.is_valid():
                    with_values = {k: v for k, v in form.cleaned_data.items() if v is not None}
                    for pay_type, rate in with_values.items():
                        labour.labour_rate_set(
                            actor=user, dealer=dealer, pay_type=pay_type, rate=rate
                        )
                    done = _("Labour rates saved.")
            elif action == "bay_create":
                form = BayForm(request.POST)
                if form.is_valid():
                    bay = labour.bay_create(actor=user, dealer=dealer, **form.cleaned_data)
                    done = _("Bay %(code)s added.") % {"code": bay.code}
            elif action == "bay_update":
                bay = get_object_or_404(self.object_list, pk=request.POST.get("bay") or 0)
                form = BayEditForm(request.POST, prefix=f"bay{bay.pk}")
                action = ("bay", bay.pk)
                if form.is_valid():
                    labour.bay_update(actor=user, bay=bay, **form.cleaned_data)
                    done = _("Bay %(code)s saved.") % {"code": bay.code}
            elif action == "settings":
                form = SettingsForm(request.POST)
                if form.is_valid():
                    labour.service_settings_update(actor=user, dealer=dealer, **form.cleaned_data)
                    done = _("Service settings saved.")
            else:
                raise Http404
        except ServiceError as exc:
            add_service_errors(form, exc)
        if done:
            messages.success(request, done)
            return redirect(f"{request.path}?dealer={dealer.pk}")
        self.forms[action] = form
        return self.render_to_response(self.get_context_data(), status=400)
