"""Invoice pages: the dealer's invoice list, the invoice with its lines, totals incl. and
excl. VAT and (while a draft) the fapiao/discount form and the issue button; the PDF; the
credit-note form and credit notes; "prepare invoices" from the repair order; the dealer's
billing settings. Every row is scoped with ``restrict`` (another dealer's id is a 404);
every write calls a service in aftersales/billing."""

import uuid

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from aftersales.billing import credit, invoices, printing, setup
from aftersales.billing.choices import InvoiceStatus
from aftersales.billing.forms_invoices import (
    BillingSettingsForm,
    CreditNoteForm,
    InvoiceEditForm,
    InvoiceFilterForm,
    IssueForm,
)
from aftersales.billing.models import CreditNote, Invoice
from aftersales.core.access import allowed_at, user_scope
from aftersales.core.errors import ServiceError
from aftersales.core.idempotency import clean_key, once
from aftersales.core.pages import PermissionPage, RestrictedListView
from aftersales.org.models import Dealer
from aftersales.workorders.models import RepairOrder
from aftersales.workorders.views_printing import pdf_response

VIEW = "billing.view_invoice"


def _invoice_or_404(user, pk, action="view"):
    return get_object_or_404(
        Invoice.objects.restrict(user, action).select_related(
            "dealer", "repair_order__vehicle", "customer", "issued_by", "created_by"
        ),
        pk=pk,
    )


def _dealer(obj):
    return Dealer(pk=obj.dealer_id)


class InvoiceListView(RestrictedListView):
    model = Invoice
    template_name = "billing/invoice_list.html"
    paginate_by = 50

    def get_queryset(self):
        queryset = super().get_queryset().select_related("repair_order", "dealer")
        self.filters = InvoiceFilterForm(self.request.GET or None)
        if self.filters.is_valid():
            data = self.filters.cleaned_data
            if data["q"]:
                q = data["q"].strip()
                queryset = queryset.filter(
                    Q(number__icontains=q)
                    | Q(repair_order__number__icontains=q)
                    | Q(payer_name__icontains=q)
                    | Q(title__icontains=q)
                )
            if data["status"]:
                queryset = queryset.filter(status=data["status"])
            if data["pay_type"]:
                queryset = queryset.filter(pay_type=data["pay_type"])
            if data["repair_order"]:
                queryset = queryset.filter(repair_order_id=data["repair_order"])
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filters"] = self.filters
        context["can_configure"] = not user_scope(
            self.request.user, "billing.change_billingsettings"
        ).empty
        return context


class InvoiceDetailView(PermissionPage, View):
    permission = VIEW

    def get(self, request, pk):
        return self.page(request, _invoice_or_404(request.user, pk))

    def page(self, request, invoice, *, form=None, issue_form=None, error=None, status=200):
        lines = list(invoice.lines.all())
        draft = invoice.status == InvoiceStatus.DRAFT
        may_edit = draft and allowed_at(request.user, invoices.PREPARE, dealer=_dealer(invoice))
        if may_edit and form is None:
            form = InvoiceEditForm(
                invoice=invoice,
                initial={
                    "version": invoice.version,
                    "invoice_discount": invoice.invoice_discount,
                    **{name: getattr(invoice, name) for name in invoices.EDITABLE_FIELDS},
                },
            )
        context = {
            "invoice": invoice,
            "order": invoice.repair_order,
            "lines": lines,
            "form": form if may_edit else None,
            "issue_form": issue_form or IssueForm(initial={"version": invoice.version}),
            "may_edit": may_edit,
            "may_credit": not draft
            and allowed_at(request.user, credit.ADD, dealer=_dealer(invoice)),
            "credit_notes": list(invoice.credit_notes.all()),
            "refund_due": credit.refund_due(invoice),
            "rate_percent": (invoice.vat_rate * 100).normalize(),
            "error": error,
        }
        return render(request, "billing/invoice_detail.html", context, status=status)


class InvoiceEditView(PermissionPage, View):
    """POST the draft's fapiao details and discounts. An issued invoice has no form; a
    post to it is refused with the 409 message and changes nothing."""

    permission = invoices.PREPARE

    def post(self, request, pk):
        invoice = _invoice_or_404(request.user, pk)
        detail = InvoiceDetailView()
        if invoice.status != InvoiceStatus.DRAFT:
            return detail.page(
                request,
                invoice,
                error=_(
                    "This invoice has been issued and cannot be changed; "
                    "correct it with a credit note."
                ),
                status=409,
            )
        form = InvoiceEditForm(request.POST, invoice=invoice)
        if not form.is_valid():
            return detail.page(request, invoice, form=form)
        try:
            invoices.invoice_update(
                actor=request.user,
                invoice=invoice,
                version=form.cleaned_data["version"],
                line_discounts=form.line_discounts(),
                invoice_discount=form.cleaned_data.get("invoice_discount"),
                **form.field_values(),
            )
        except ServiceError as error:
            for field, problems in error.fields.items():
                if field in form.fields:
                    for problem in problems:
                        form.add_error(field, str(problem))
            return detail.page(
                request,
                _invoice_or_404(request.user, pk),
                form=form,
                error=error.message,
                status=error.status if error.status == 409 else 200,
            )
        messages.success(request, _("The invoice was saved."))
        return HttpResponseRedirect(reverse("invoice-detail", args=[invoice.pk]))


class InvoiceIssueView(PermissionPage, View):
    permission = invoices.PREPARE

    def post(self, request, pk):
        invoice = _invoice_or_404(request.user, pk)
        form = IssueForm(request.POST)
        detail = InvoiceDetailView()
        if not form.is_valid():
            return detail.page(
                request, invoice, issue_form=form, error=_("Reload the page and try again.")
            )
        try:
            invoice = invoices.invoice_issue(
                actor=request.user, invoice=invoice, version=form.cleaned_data["version"]
            )
        except ServiceError as error:
            return detail.page(
                request,
                _invoice_or_404(request.user, pk),
                error=error.message,
                status=error.status if error.status == 409 else 200,
            )
        messages.success(request, _("Invoice %(number)s issued.") % {"number": invoice.number})
        return HttpResponseRedirect(reverse("invoice-detail", args=[invoice.pk]))


class InvoicePdfView(PermissionPage, View):
    permission = VIEW

    def get(self, request, pk):
        invoice = _invoice_or_404(request.user, pk)
        content = printing.invoice_pdf(invoice, user=request.user)
        return pdf_response(content, printing.pdf_filename(invoice, "invoice"))


class InvoicePrepareView(PermissionPage, View):
    """The "Prepare invoices" button of the repair order: creates or refreshes the
    drafts, then shows the order's invoices."""

    permission = invoices.PREPARE

    def post(self, request, pk):
        order = get_object_or_404(RepairOrder.objects.restrict(request.user, "view"), pk=pk)
        drafts = []
        try:
            drafts = invoices.invoice_prepare(actor=request.user, repair_order=order)
        except ServiceError as error:
            messages.error(request, str(error.message))
        else:
            if drafts:
                messages.success(
                    request,
                    _("%(count)d draft invoice(s) prepared for %(number)s.")
                    % {"count": len(drafts), "number": order.number},
                )
            else:
                messages.info(request, _("Every approved line is already invoiced."))
        if len(drafts) == 1:
            return HttpResponseRedirect(reverse("invoice-detail", args=[drafts[0].pk]))
        return HttpResponseRedirect(f"{reverse('invoice-list')}?repair_order={order.pk}")


class CreditNoteCreateView(PermissionPage, View):
    permission = credit.ADD

    def _form(self, invoice, data=None):
        return CreditNoteForm(
            data,
            invoice=invoice,
            remaining=credit.remaining_by_line(invoice),
            initial={"idempotency_key": uuid.uuid4().hex},
        )

    def _page(self, request, invoice, form, error=None, status=200):
        remaining = credit.remaining_by_line(invoice)
        context = {
            "invoice": invoice,
            "form": form,
            "rows": [(line, form[name], left) for line, name, left in form.line_fields],
            "remaining_total": sum(remaining.values()),
            "error": error,
        }
        return render(request, "billing/credit_form.html", context, status=status)

    def get(self, request, pk):
        invoice = _invoice_or_404(request.user, pk)
        if invoice.status != InvoiceStatus.ISSUED:
            return HttpResponseRedirect(reverse("invoice-detail", args=[invoice.pk]))
        return self._page(request, invoice, self._form(invoice))

    def post(self, request, pk):
        invoice = _invoice_or_404(request.user, pk)
        form = self._form(invoice, request.POST)
        if not form.is_valid():
            return self._page(request, invoice, form)
        data = form.cleaned_data
        try:
            note, _acted = once(
                user=request.user,
                scope=f"billing-credit-note:{invoice.pk}",
                key=clean_key(data.get("idempotency_key")),
                action=lambda: credit.credit_note_create(
                    actor=request.user,
                    invoice=invoice,
                    reason=data["reason"],
                    full=data["full"],
                    lines=form.requested_lines(),
                ),
                model=CreditNote,
            )
        except ServiceError as error:
            return self._page(
                request,
                invoice,
                form,
                error=error.message,
                status=error.status if error.status == 409 else 200,
            )
        invoice.refresh_from_db()
        due = credit.refund_due(invoice)
        messages.success(request, _("Credit note %(number)s written.") % {"number": note.number})
        if due:
            messages.warning(
                request,
                _("The payer has paid %(amount)s more than is now owed: refund it at the cashier.")
                % {"amount": due},
            )
        return HttpResponseRedirect(reverse("credit-note-detail", args=[note.pk]))


def _credit_note_or_404(user, pk):
    return get_object_or_404(
        CreditNote.objects.select_related("invoice__repair_order", "created_by").filter(
            invoice__in=Invoice.objects.restrict(user, "view")
        ),
        pk=pk,
    )


class CreditNoteDetailView(PermissionPage, View):
    permission = VIEW

    def get(self, request, pk):
        note = _credit_note_or_404(request.user, pk)
        return render(
            request,
            "billing/credit_detail.html",
            {
                "note": note,
                "invoice": note.invoice,
                "lines": list(note.lines.select_related("invoice_line")),
                "refund_due": credit.refund_due(note.invoice),
            },
        )


class CreditNotePdfView(PermissionPage, View):
    permission = VIEW

    def get(self, request, pk):
        note = _credit_note_or_404(request.user, pk)
        content = printing.credit_note_pdf(note, user=request.user)
        return pdf_response(content, printing.pdf_filename(note, "credit-note"))


def _settings_dealers(user):
    scope = user_scope(user, "billing.view_billingsettings")
    dealers = Dealer.objects.order_by("code")
    return dealers if scope.everything else dealers.filter(pk__in=scope.dealer_ids)


class BillingSettingsHomeView(PermissionPage, View):
    """The menu entry: the settings of the user's (first) dealer."""

    permission = "billing.view_billingsettings"

    def get(self, request):
        dealer = _settings_dealers(request.user).first()
        if dealer is None:
            raise Http404
        return HttpResponseRedirect(reverse("billing-settings-dealer", args=[dealer.pk]))


class BillingSettingsView(PermissionPage, View):
    """The service manager's page: VAT rate and discount limits per role of one dealer
    (another dealer's id is a 404)."""

    permission = "billing.view_billingsettings"

    def _page(self, request, dealer, form=None, error=None, status=200):
        may_change = allowed_at(request.user, setup.CHANGE, dealer=dealer)
        if form is None:
            limits = setup.discount_limits(dealer)
            form = BillingSettingsForm(
                initial={
                    "vat_rate_percent": (setup.billing_settings(dealer).vat_rate * 100).normalize(),
                    **{f"limit_{role}": limits.get(str(role)) for role in setup.LIMIT_ROLES},
                }
            )
        return render(
            request,
            "billing/settings_form.html",
            {
                "dealer": dealer,
                "dealers": _settings_dealers(request.user),
                "form": form,
                "may_change": may_change,
                "error": error,
            },
            status=status,
        )

    def get(self, request, dealer):
        return self._page(request, get_object_or_404(_settings_dealers(request.user), pk=dealer))

    def post(self, request, dealer):
        dealer = get_object_or_404(_settings_dealers(request.user), pk=dealer)
        form = BillingSettingsForm(request.POST)
        if not form.is_valid():
            return self._page(request, dealer, form)
        try:
            setup.billing_settings_update(
                actor=request.user,
                dealer=dealer,
                vat_rate_percent=form.cleaned_data["vat_rate_percent"],
                limits=form.limits(),
            )
        except ServiceError as error:
            return self._page(
                request,
                dealer,
                form,
                error=error.message,
                status=403 if error.status == 403 else 200,
            )
        messages.success(request, _("The billing settings were saved."))
        return HttpResponseRedirect(reverse("billing-settings-dealer", args=[dealer.pk]))
