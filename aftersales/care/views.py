"""Customer-care pages: the coupons (list with filters, a goodwill coupon for a customer,
voiding), the cashier's redemption of a code on a repair order's invoice (with an htmx
check of the code as it is typed), the holiday greetings (list, plan one) and the
birthday-greeting settings.

Writes go through the services; a refused request shows the service's message and changes
nothing. Forms that create carry a one-time idempotency key (a double submit acts once).
Rows are scoped with ``restrict``: another dealer's id answers 404."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from aftersales.care import forms as f
from aftersales.care import greetings, redeem, services
from aftersales.care.choices import CouponReason, CouponState, HolidayStatus
from aftersales.care.models import Coupon, GreetingSettings, HolidayGreeting
from aftersales.core.access import allowed_at, user_has_perm, user_scope
from aftersales.core.errors import ServiceError
from aftersales.core.idempotency import once
from aftersales.core.pages import PermissionPage

PER_PAGE = 50
VIEW = "care.view_coupon"


def put_errors(form, exc: ServiceError):
    for field, errors in (exc.fields or {}).items():
        if field in form.fields:
            for error in errors if isinstance(errors, list) else [errors]:
                form.add_error(field, str(error))
    form.add_error(None, str(exc.message))


def dealers_where(user, permission: str):
    """The dealers where ``user`` holds ``permission``; and whether at OEM level."""
    from aftersales.org.models import Dealer

    scope = user_scope(user, permission)
    rows = Dealer.objects.order_by("code")
    if not scope.everything:
        rows = rows.filter(pk__in=scope.dealer_ids)
    return list(rows[:500]), scope.everything


def _tabs(user):
    tabs = [
        ("care-coupon-list", _("Coupons"), VIEW),
        ("care-redeem", _("Redeem a coupon"), "care.redeem_coupon"),
        ("care-holiday-list", _("Holiday greetings"), "care.view_holidaygreeting"),
        ("care-settings", _("Greeting settings"), "care.view_greetingsettings"),
    ]
    return [
        {"name": name, "label": label, "url": reverse(name)}
        for name, label, permission in tabs
        if user_has_perm(user, permission)
    ]


class TabsMixin:
    tab = ""

    def tabs_context(self):
        return {"care_tabs": _tabs(self.request.user), "care_tab": self.tab}


def _next(request, default):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# ---------------------------------------------------------------- coupons


class CouponListView(TabsMixin, PermissionPage, ListView):
    """The coupons in the user's scope: state, reason, dealer and a search by code, the
    customer's name or mobile number."""

    permission = VIEW
    template_name = "care/coupon_list.html"
    paginate_by = PER_PAGE
    tab = "care-coupon-list"

    def filters(self):
        get = self.request.GET
        state = get.get("state", "")
        reason = get.get("reason", "")
        dealer = get.get("dealer", "")
        return {
            "state": state if state in CouponState.values else "",
            "reason": reason if reason in CouponReason.values else "",
            "dealer": dealer if dealer.isdigit() or dealer == f.OEM_CHOICE else "",
            "q": get.get("q", "").strip()[:40],
        }

    def get_queryset(self):
        filters = self.filters()
        rows = Coupon.objects.restrict(self.request.user, "view").select_related(
            "customer", "dealer", "invoice"
        )
        if filters["state"]:
            rows = rows.filter(state=filters["state"])
        if filters["reason"]:
            rows = rows.filter(reason=filters["reason"])
        if filters["dealer"] == f.OEM_CHOICE:
            rows = rows.filter(dealer__isnull=True)
        elif filters["dealer"]:
            rows = rows.filter(dealer_id=int(filters["dealer"]))
        q = filters["q"]
        if q:
            code = services.clean_code(q)
            match = Q(customer__mobile=q) | Q(customer__name=q)
            if code:
                match |= Q(code=code)
            rows = rows.filter(match)
        return rows.order_by("-issued_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        for coupon in context["object_list"]:
            coupon.may_void = coupon.state == CouponState.ISSUED and services.may(
                user, services.VOID, coupon
            )
        dealers, _everything = dealers_where(user, VIEW)
        context.update(self.tabs_context())
        context.update(
            filters=self.filters(),
            states=CouponState.choices,
            reasons=CouponReason.choices,
            dealers=dealers if len(dealers) > 1 else [],
            may_issue=user_has_perm(user, services.ISSUE),
            void_form=f.VoidForm(),
        )
        return context


class CouponNewView(TabsMixin, PermissionPage, View):
    """Give a customer a goodwill coupon of one of the user's dealers (or of the OEM)."""

    permission = services.ISSUE
    tab = "care-coupon-list"

    def issuers(self):
        dealers, everything = dealers_where(self.request.user, services.ISSUE)
        choices = [(str(d.pk), f"{d.code} {d.name}") for d in dealers]
        if everything:
            choices.insert(0, (f.OEM_CHOICE, _("The OEM (valid at every dealer)")))
        return choices

    def _render(self, request, form, status=200):
        return render(
            request, "care/coupon_new.html", {"form": form, **self.tabs_context()}, status=status
        )

    def get(self, request):
        initial = {"mobile": request.GET.get("mobile", "")[:11]}
        return self._render(request, f.IssueForm(initial=initial, issuers=self.issuers()))

    def post(self, request):
        from aftersales.crm.models import Customer
        from aftersales.org.models import Dealer

        form = f.IssueForm(request.POST, issuers=self.issuers())
        if not form.is_valid():
            return self._render(request, form)
        data = form.cleaned_data
        customer = (
            Customer.objects.restrict(request.user, "view")
            .live()
            .filter(mobile=data["mobile"].strip())
            .first()
        )
        if customer is None:
            form.add_error("mobile", _("No customer of yours has this mobile number."))
            return self._render(request, form)
        issuer = data["issuer"]
        dealer = None if issuer == f.OEM_CHOICE else Dealer.objects.get(pk=int(issuer))
        try:
            coupon, _acted = once(
                user=request.user,
                scope="care.coupon.issue",
                key=data.get("idempotency_key") or "",
                action=lambda: services.coupon_issue(
                    actor=request.user,
                    customer=customer,
                    dealer=dealer,
                    amount=data.get("amount"),
                    percent=data.get("percent"),
                    min_spend=data.get("min_spend"),
                    valid_until=data["valid_until"],
                    reason=data["reason"],
                    note=data.get("note", ""),
                ),
                model=Coupon,
            )
        except ServiceError as exc:
            put_errors(form, exc)
            return self._render(request, form)
        messages.success(
            request,
            _("Coupon %(code)s (%(value)s) given to %(name)s.")
            % {"code": coupon.display_code, "value": coupon.value_label, "name": customer.name},
        )
        return redirect(reverse("care-coupon-list") + f"?q={coupon.code}")


class CouponVoidView(PermissionPage, View):
    permission = services.VOID

    def post(self, request, pk):
        coupon = get_object_or_404(Coupon.objects.restrict(request.user, "view"), pk=pk)
        form = f.VoidForm(request.POST)
        reason = form.data.get("reason", "") if form.is_bound else ""
        try:
            services.coupon_void(actor=request.user, coupon=coupon, reason=reason)
        except ServiceError as exc:
            if exc.status == 404:
                raise Http404 from None
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Coupon %(code)s voided.") % {"code": coupon.display_code})
        return redirect(_next(request, reverse("care-coupon-list")))


# ---------------------------------------------------------------- the cashier


def customer_invoice(user, order_number: str):
    """The repair order (one the user may see) and its customer invoice to redeem on:
    the issued one with something due, else the draft. (None, None) when not found."""
    from aftersales.billing.choices import InvoiceStatus
    from aftersales.billing.models import Invoice
    from aftersales.workorders import selectors
    from aftersales.workorders.choices import PayType

    number = (order_number or "").strip().upper()
    if not number:
        return None, None
    order = selectors.repair_orders(user).filter(number=number).first()
    if order is None:
        return None, None
    invoices = list(
        Invoice.objects.filter(repair_order=order, pay_type=PayType.CUSTOMER).order_by("-id")
    )
    due = [i for i in invoices if i.status == InvoiceStatus.ISSUED and i.due_amount > 0]
    drafts = [i for i in invoices if i.status == InvoiceStatus.DRAFT]
    return order, (due or drafts or [None])[0]


class RedeemView(TabsMixin, PermissionPage, View):
    """The cashier types the repair order's number and the customer's code; the page
    checks the code as it is typed (htmx) and redeems it on the order's customer
    invoice."""

    permission = redeem.REDEEM
    tab = "care-redeem"

    def _check(self, request, order_number, code):
        order, invoice = customer_invoice(request.user, order_number)
        offer, problem = None, ""
        if order is None:
            problem = _("No repair order with this number.") if order_number else ""
        elif invoice is None:
            problem = _("This repair order has no customer invoice to redeem on.")
        elif code:
            try:
                offer = redeem.coupon_check(actor=request.user, code=code, invoice=invoice)
            except ServiceError as exc:
                problem = str(exc.message)
        return {"order": order, "invoice": invoice, "offer": offer, "problem": problem}

    def _render(self, request, form, check, status=200):
        return render(
            request,
            "care/redeem.html",
            {"form": form, **check, **self.tabs_context()},
            status=status,
        )

    def get(self, request):
        order_number = request.GET.get("order", "")[:40]
        code = request.GET.get("code", "")[:20]
        check = self._check(request, order_number, code)
        if request.headers.get("HX-Request"):
            return render(request, "care/_redeem_check.html", check)
        form = f.RedeemForm(initial={"order": order_number, "code": code})
        return self._render(request, form, check)

    def post(self, request):
        form = f.RedeemForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, {})
        data = form.cleaned_data
        check = self._check(request, data["order"], "")
        invoice = check["invoice"]
        if invoice is None:
            form.add_error("order", check["problem"])
            return self._render(request, form, check)
        try:
            coupon, _acted = once(
                user=request.user,
                scope=f"care.coupon.redeem:{invoice.pk}",
                key=data.get("idempotency_key") or "",
                action=lambda: redeem.coupon_redeem(
                    actor=request.user, code=data["code"], invoice=invoice
                ),
                model=Coupon,
            )
        except ServiceError as exc:
            put_errors(form, exc)
            return self._render(request, form, self._check(request, data["order"], data["code"]))
        messages.success(
            request,
            _("Coupon %(code)s redeemed: %(discount)s off invoice %(invoice)s.")
            % {
                "code": coupon.display_code,
                "discount": coupon.discount,
                "invoice": coupon.invoice or _("(draft)"),
            },
        )
        order = check["order"]
        if allowed_at(request.user, "billing.view_payment", dealer=order.dealer):
            return redirect("billing-cashier-order", order.pk)
        return redirect("care-redeem")


# ---------------------------------------------------------------- greetings


class HolidayListView(TabsMixin, PermissionPage, ListView):
    permission = "care.view_holidaygreeting"
    template_name = "care/holiday_list.html"
    paginate_by = PER_PAGE
    tab = "care-holiday-list"

    def get_queryset(self):
        return (
            HolidayGreeting.objects.restrict(self.request.user, "view")
            .select_related("dealer")
            .order_by("-date", "-id")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.tabs_context())
        context.update(
            may_add=user_has_perm(self.request.user, services.GREET_ADD),
            today=timezone.localdate(),
            planned=HolidayStatus.PLANNED,
        )
        return context


class HolidayNewView(TabsMixin, PermissionPage, View):
    permission = services.GREET_ADD
    tab = "care-holiday-list"

    def targets(self):
        dealers, everything = dealers_where(self.request.user, services.GREET_ADD)
        choices = [(str(d.pk), _("Customers of %(dealer)s") % {"dealer": d.name}) for d in dealers]
        if everything:
            choices.insert(0, (f.OEM_CHOICE, _("All customers (national)")))
        return choices

    def _render(self, request, form):
        return render(request, "care/holiday_new.html", {"form": form, **self.tabs_context()})

    def get(self, request):
        return self._render(request, f.HolidayForm(targets=self.targets()))

    def post(self, request):
        from aftersales.org.models import Dealer

        form = f.HolidayForm(request.POST, targets=self.targets())
        if not form.is_valid():
            return self._render(request, form)
        data = form.cleaned_data
        target = data["target"]
        dealer = None if target == f.OEM_CHOICE else Dealer.objects.get(pk=int(target))
        try:
            holiday, _acted = once(
                user=request.user,
                scope="care.holiday.create",
                key=data.get("idempotency_key") or "",
                action=lambda: services.holiday_create(
                    actor=request.user,
                    name=data["name"],
                    date=data["date"],
                    text=data["text"],
                    dealer=dealer,
                    **form.template(),
                ),
                model=HolidayGreeting,
            )
        except ServiceError as exc:
            put_errors(form, exc)
            return self._render(request, form)
        messages.success(
            request,
            _("Holiday greeting “%(name)s” planned for %(day)s.")
            % {"name": holiday.name, "day": holiday.date.isoformat()},
        )
        return redirect("care-holiday-list")


class SettingsView(TabsMixin, PermissionPage, View):
    """The birthday greeting of the OEM (OEM users) or of one of the user's dealers
    (``?dealer=``), with the OEM's defaults shown beside a dealer's own."""

    permission = "care.view_greetingsettings"
    tab = "care-settings"

    def get_permission(self) -> str:
        return services.SETTINGS_CHANGE if self.request.method == "POST" else self.permission

    def _subject(self, request):
        """(dealer or None for the OEM, the dealers the user may choose)."""
        dealers, everything = dealers_where(request.user, "care.view_greetingsettings")
        wanted = request.GET.get("dealer") or request.POST.get("dealer") or ""
        if wanted.isdigit():
            for dealer in dealers:
                if dealer.pk == int(wanted):
                    return dealer, dealers, everything
            raise Http404
        if everything or not dealers:
            return None, dealers, everything
        return dealers[0], dealers, everything

    def _context(self, request, dealer, dealers, everything, form=None):
        national = greetings.national_settings()
        own = GreetingSettings.objects.filter(dealer=dealer).first() if dealer else national
        shown = own or national
        may_change = allowed_at(request.user, services.SETTINGS_CHANGE, dealer=dealer)
        if form is None and may_change:
            form = f.SettingsForm(
                initial={
                    "birthday_enabled": shown.birthday_enabled,
                    "coupon_kind": shown.coupon_kind,
                    "coupon_amount": shown.coupon_amount,
                    "coupon_percent": shown.coupon_percent,
                    "coupon_min_spend": shown.coupon_min_spend,
                    "coupon_valid_days": shown.coupon_valid_days,
                }
            )
        return {
            "dealer": dealer,
            "dealers": dealers,
            "everything": everything,
            "national": national,
            "own": own,
            "shown": shown,
            "form": form,
            "may_change": may_change,
            **self.tabs_context(),
        }

    def get(self, request):
        dealer, dealers, everything = self._subject(request)
        context = self._context(request, dealer, dealers, everything)
        return render(request, "care/settings.html", context)

    def post(self, request):
        from django.core.exceptions import PermissionDenied

        dealer, dealers, everything = self._subject(request)
        if not allowed_at(request.user, services.SETTINGS_CHANGE, dealer=dealer):
            raise PermissionDenied
        form = f.SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.greeting_settings_update(
                    actor=request.user,
                    dealer=dealer,
                    birthday_enabled=form.cleaned_data["birthday_enabled"],
                    **form.template(),
                )
            except ServiceError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("Greeting settings saved."))
                url = reverse("care-settings")
                return redirect(url + (f"?dealer={dealer.pk}" if dealer else ""))
        context = self._context(request, dealer, dealers, everything, form=form)
        return render(request, "care/settings.html", context)
