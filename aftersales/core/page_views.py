from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from aftersales.core.audit import history_for
from aftersales.core.models import AuditLog, OutboxMessage
from aftersales.core.pages import RestrictedListView


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["assignments"] = self.request.user.role_assignments.filter(active=True).select_related(
            "dealer", "region"
        )
        return ctx


def _display(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


def _label_changes(entries):
    """Give each audit entry its record type and (field label, before, after) rows for the
    page; labels come from the model's field names, so no extra queries."""
    for entry in entries:
        model = entry.content_type.model_class()
        entry.model_label = model._meta.verbose_name if model else entry.content_type.model
        rows = []
        for name, pair in (entry.changes or {}).items():
            before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            try:
                field = model._meta.get_field(name) if model else None
            except FieldDoesNotExist:
                field = None
            label = field.verbose_name if field is not None else name
            rows.append({"label": label, "before": _display(before), "after": _display(after)})
        entry.change_rows = rows
    return entries


class AuditListView(RestrictedListView):
    model = AuditLog
    template_name = "core/audit_list.html"

    def get_queryset(self):
        qs = super().get_queryset().select_related("content_type")
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(Q(object_repr__icontains=q) | Q(actor_name__icontains=q))
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        _label_changes(ctx["object_list"])
        return ctx


class RecordHistoryView(RestrictedListView):
    """The audit history of one record; the record itself must be visible to the user."""

    model = AuditLog
    template_name = "core/record_history.html"

    def get_queryset(self):
        try:
            ct = ContentType.objects.get_for_id(self.kwargs["content_type_id"])
        except ContentType.DoesNotExist as exc:
            raise Http404 from exc
        model = ct.model_class()
        if model is None or not hasattr(model.objects, "restrict"):
            raise Http404
        self.record = (
            model.objects.restrict(self.request.user, "view")
            .filter(pk=self.kwargs["object_id"])
            .first()
        )
        if self.record is None:
            raise Http404
        return history_for(self.record, self.request.user).select_related("content_type")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(record=self.record, **kwargs)
        _label_changes(ctx["object_list"])
        ctx["record_type"] = self.record._meta.verbose_name
        get_url = getattr(self.record, "get_absolute_url", None)
        ctx["record_url"] = get_url() if get_url else None
        return ctx


class OutboxListView(RestrictedListView):
    model = OutboxMessage
    template_name = "core/outbox_list.html"

    def get_queryset(self):
        qs = super().get_queryset()
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(Q(recipient__icontains=q) | Q(subject__icontains=q))
        return qs
