"""The CRM staff pages: customers and their 360, vehicles, the reception lookup,
duplicates and merge, the segment thresholds.

Every read goes through ``selectors`` (scoped with ``restrict``: another dealer's id is a
404), every write through ``services``; the views only shape input and output.
"""

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView

from aftersales.catalogue.models import Variant, VehicleModel
from aftersales.core.access import user_has_perm
from aftersales.core.errors import Conflict, ServiceError
from aftersales.core.errors import PermissionDenied as ServicePermissionDenied
from aftersales.crm import selectors, services
from aftersales.crm.choices import Segment
from aftersales.crm.forms import (
    CustomerEditForm,
    CustomerFilterForm,
    CustomerForm,
    MergeForm,
    OdometerForm,
    OwnerLookupForm,
    SegmentRuleForm,
    TransferForm,
    VehicleCreateForm,
    VehicleEditForm,
    VehicleFilterForm,
    parse_before,
)
from aftersales.crm.models import (
    Customer,
    CustomerTag,
    OdometerReading,
    Ownership,
    SegmentRule,
    Vehicle,
)
from aftersales.crm.timeline import customer_timeline
from aftersales.crm.validators import PROVINCES, mask_mobile, normalise_mobile
from aftersales.org.models import Dealer

_NO_SUCH_CUSTOMER = gettext_lazy(
    "None of your customers has this mobile number. Register the customer first."
)
TIMELINE_PAGE = 50  # entries per timeline page (the 360 selector's default)


class PermissionPage(LoginRequiredMixin):
    """A page for signed-in users holding ``permission`` (anywhere); anonymous visitors go
    to the sign-in page, others get 403. Rows are scoped by the selectors."""

    permission = ""
    raise_exception = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not user_has_perm(request.user, self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def optional_url(name: str, query: str = "") -> str | None:
    """The URL of a page another part of the CRM provides, or None while it does not exist."""
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


def mask_name(name: str) -> str:
    """张** : a person the user has no relationship with is named only this far."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


# ---------------------------------------------------------------- warranty


@dataclass(frozen=True)
class WarrantyState:
    """Whether one warranty (vehicle or powertrain) still runs, by date and by km."""

    until: datetime.date | None
    km: int | None
    state: str  # "active", "expired_date", "expired_km" or "unknown"

    @property
    def active(self) -> bool:
        return self.state == "active"

    @property
    def label(self):
        return {
            "active": _("In warranty"),
            "expired_date": _("Expired (date)"),
            "expired_km": _("Expired (km)"),
            "unknown": _("Not known"),
        }[self.state]


def warranty_state(until, km, odometer_km, today=None) -> WarrantyState:
    today = today or timezone.localdate()
    if until is None:
        state = "unknown"
    elif today > until:
        state = "expired_date"
    elif km and odometer_km is not None and odometer_km > km:
        state = "expired_km"
    else:
        state = "active"
    return WarrantyState(until, km, state)


def with_warranty(vehicle: Vehicle) -> Vehicle:
    """Attach ``vehicle.warranty`` and ``vehicle.powertrain`` (``WarrantyState``)."""
    today = timezone.localdate()
    vehicle.warranty = warranty_state(
        vehicle.warranty_end, vehicle.warranty_km, vehicle.odometer_km, today
    )
    vehicle.powertrain = warranty_state(
        vehicle.powertrain_warranty_end,
        vehicle.powertrain_warranty_km,
        vehicle.odometer_km,
        today,
    )
    return vehicle


def in_warranty_q(today=None) -> Q:
    today = today or timezone.localdate()
    return Q(warranty_end__gte=today) & (
        Q(odometer_km__isnull=True)
        | Q(warranty_km__isnull=True)
        | Q(odometer_km__lte=F("warranty_km"))
    )


def out_of_warranty_q(today=None) -> Q:
    today = today or timezone.localdate()
    return Q(warranty_end__lt=today) | Q(odometer_km__gt=F("warranty_km"))


# ---------------------------------------------------------------- customers

MATCH_LABELS = {
    "mobile": gettext_lazy("Mobile number"),
    "name": gettext_lazy("Name"),
    "plate": gettext_lazy("Plate"),
    "vin": gettext_lazy("VIN"),
    "vin_tail": gettext_lazy("VIN ending"),
    "id_number": gettext_lazy("Resident ID number"),
}


class CustomerListView(PermissionPage, ListView):
    """The customer list: one search box over everything (ranked hits), or the scoped
    list filtered by segment, tag and city."""

    permission = "crm.view_customer"
    template_name = "crm/customer_list.html"
    paginate_by = 50

    def get_queryset(self):
        user = self.request.user
        self.tags = list(CustomerTag.objects.restrict(user, "view"))
        self.filters = CustomerFilterForm(self.request.GET, tags=self.tags)
        self.filters.is_valid()
        data = self.filters.cleaned_data
        self.query = (data.get("q") or "").strip()
        qs = selectors.customers(user).prefetch_related(
            "tags",
            Prefetch(
                "vehicles",
                queryset=Vehicle.objects.only("id", "plate", "vin", "owner_id").order_by("id"),
                to_attr="vehicle_list",
            ),
        )
        if self.query:
            return qs.none()  # the search shows ranked hits instead of the list
        if data.get("segment"):
            qs = qs.filter(segment=data["segment"])
        if data.get("tag"):
            qs = qs.filter(tags__name=data["tag"])
        if data.get("city"):
            qs = qs.filter(city__startswith=data["city"])
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        see_phone = selectors.can_see_phone(user)
        for customer in ctx["object_list"]:
            customer.shown_mobile = customer.mobile if see_phone else mask_mobile(customer.mobile)
        hits = None
        if self.query:
            hits = selectors.search(user, self.query)
            for hit in hits:
                hit.match_label = MATCH_LABELS.get(hit.match, hit.match)
        query = self.request.GET.copy()
        query.pop("page", None)
        ctx.update(
            filters=self.filters,
            query=self.query,
            hits=hits,
            tags=self.tags,
            filtered=any(self.request.GET.get(k) for k in ("segment", "tag", "city")),
            can_add=user_has_perm(user, "crm.add_customer"),
            export_url=optional_url("customer-export", query.urlencode())
            if user_has_perm(user, "crm.export_customer")
            else None,
            import_url=optional_url("import-list")
            if user_has_perm(user, "crm.import_customer")
            or user_has_perm(user, "crm.view_importjob")
            else None,
        )
        return ctx


def _render_customer_form(request, form, customer=None, status=200):
    known_tags = CustomerTag.objects.restrict(request.user, "view").values_list("name", flat=True)
    return render(
        request,
        "crm/customer_form.html",
        {"form": form, "object": customer, "known_tags": list(known_tags)},
        status=status,
    )


class CustomerCreateView(PermissionPage, View):
    permission = "crm.add_customer"

    def get(self, request):
        initial = {"contact_channel": "sms"}
        if request.GET.get("mobile"):
            initial["mobile"] = request.GET["mobile"]
        return _render_customer_form(request, CustomerForm(initial=initial))

    def post(self, request):
        form = CustomerForm(request.POST)
        if form.is_valid():
            try:
                customer = services.customer_create(actor=request.user, **form.service_data())
            except ServiceError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Customer %(name)s registered.") % {"name": customer})
                return redirect("customer-detail", pk=customer.pk)
        return _render_customer_form(request, form)


def _customer_initial(customer: Customer) -> dict:
    return {
        **{
            f: getattr(customer, f)
            for f in (
                "name",
                "mobile",
                "phone2",
                "email",
                "city",
                "address",
                "contact_channel",
                "quiet_from",
                "quiet_until",
                "marketing_consent",
                "notes",
            )
        },
        "id_number": "",
        "tags": ", ".join(t.name for t in customer.tags.all()),
        "version": customer.version,
    }


class CustomerEditView(PermissionPage, View):
    permission = "crm.change_customer"

    def get_customer(self, pk):
        qs = Customer.objects.restrict(self.request.user, "change").live()
        return get_object_or_404(qs.prefetch_related("tags"), pk=pk)

    def get(self, request, pk):
        customer = self.get_customer(pk)
        form = CustomerEditForm(initial=_customer_initial(customer), customer=customer)
        return _render_customer_form(request, form, customer)

    def post(self, request, pk):
        customer = self.get_customer(pk)
        form = CustomerEditForm(
            request.POST, initial=_customer_initial(customer), customer=customer
        )
        if not form.is_valid():
            return _render_customer_form(request, form, customer)
        changed = form.changed_service_fields()
        if not changed and form.cleaned_data["version"] == customer.version:
            messages.info(request, _("Nothing was changed."))
            return redirect("customer-detail", pk=customer.pk)
        try:
            services.customer_update(
                actor=request.user,
                customer=customer,
                version=form.cleaned_data["version"],
                **form.service_data(changed),
            )
        except Conflict as exc:
            # keep what the user typed; they reload to see the other change
            form.add_error(None, str(exc.message))
            return _render_customer_form(request, form, customer, status=409)
        except ServiceError as exc:
            form.add_service_errors(exc)
            return _render_customer_form(request, form, customer)
        messages.success(request, _("Customer saved."))
        return redirect("customer-detail", pk=customer.pk)


def _duplicate_candidates(user, customer):
    try:
        from aftersales.crm.duplicates import duplicate_candidates
    except ImportError:  # duplicate detection not installed yet
        return []
    rows = list(duplicate_candidates(user, customer))
    for row in rows:
        row.shown_mobile = selectors.shown_mobile(user, row.customer.mobile)
    return rows


def _segment_explain(customer):
    """Why the customer is in their segment today (None while segmentation is missing)."""
    try:
        from aftersales.crm.segments import segment_explain
    except ImportError:
        return None
    return segment_explain(customer)


def _timeline_context(customer, entries, before):
    older_url = None
    if len(entries) >= TIMELINE_PAGE:
        older_url = (
            reverse("customer-detail", args=[customer.pk])
            + "?"
            + urlencode({"before": entries[-1].at.isoformat()})
        )
    return {"timeline": entries, "older_url": older_url, "before": before}


class CustomerDetailView(PermissionPage, View):
    """The customer 360: data, vehicles, ownership and odometer history, duplicates and
    the timeline newest first (``?before=`` pages it; htmx asks for the entries only)."""

    permission = "crm.view_customer"

    def get(self, request, pk):
        customer = customer_or_redirect(request.user, pk)
        if not isinstance(customer, Customer):
            return customer
        before = parse_before(request.GET.get("before"))
        if before is not None and request.htmx:
            entries = customer_timeline(customer, request.user, limit=TIMELINE_PAGE, before=before)
            ctx = {"customer": customer, **_timeline_context(customer, entries, before)}
            return render(request, "crm/_timeline_entries.html", ctx)
        return render(request, "crm/customer_detail.html", customer_360_context(request, customer))


def customer_or_redirect(user, pk):
    """The live customer ``pk`` the user may see, or a redirect to the customer a merged
    record was folded into (old links keep working), or 404."""
    customer = selectors.customers(user).filter(pk=pk).first()
    if customer is not None:
        return customer
    # the merge moved the duplicate's relationships to the survivor: whoever sees the
    # survivor follows the old link there, nobody else learns anything
    merged = (
        Customer.objects.filter(pk=pk, merged_into__isnull=False)
        .values_list("merged_into_id", flat=True)
        .first()
    )
    if merged and selectors.customers(user).filter(pk=merged).exists():
        return redirect("customer-detail", pk=merged)
    raise Http404


def customer_360_context(request, customer, **extra) -> dict:
    user = request.user
    data = selectors.customer_360(user, customer)
    before = parse_before(request.GET.get("before"))
    if before is not None:
        data["timeline"] = customer_timeline(customer, user, limit=TIMELINE_PAGE, before=before)
    for vehicle in data["vehicles"]:
        with_warranty(vehicle)
    vehicle_ids = {o.vehicle_id for o in data["ownerships"]} | {v.pk for v in data["vehicles"]}
    visible_vehicles = set(
        selectors.vehicles(user).filter(pk__in=vehicle_ids).values_list("pk", flat=True)
    )
    for vehicle in data["vehicles"]:
        vehicle.visible = vehicle.pk in visible_vehicles
    for ownership in data["ownerships"]:
        ownership.visible = ownership.vehicle_id in visible_vehicles
    data["odometer"] = sorted(data["odometer"], key=lambda r: (r.read_on, r.pk), reverse=True)
    can_merge = user_has_perm(user, "crm.merge_customer")
    return {
        **data,
        **_timeline_context(customer, data["timeline"], before),
        "object": customer,
        "shown_mobile": selectors.shown_mobile(user, customer.mobile),
        "shown_phone2": selectors.shown_mobile(user, customer.phone2)
        if customer.phone2 and len(customer.phone2) == 11
        else customer.phone2,
        "can_reveal": bool(customer.id_number_masked)
        and user_has_perm(user, "crm.reveal_customer"),
        "can_edit": Customer.objects.restrict(user, "change").filter(pk=customer.pk).exists(),
        "can_add_vehicle": user_has_perm(user, "crm.add_vehicle"),
        "can_merge": can_merge,
        "can_see_history": user_has_perm(user, "core.view_auditlog"),
        "content_type_id": ContentType.objects.get_for_model(Customer).id,
        "duplicates": _duplicate_candidates(user, customer),
        "segment_info": _segment_explain(customer),
        **extra,
    }


class CustomerRevealIdView(PermissionPage, View):
    """POST: the full resident ID number (audited by the service). htmx gets the number
    as a fragment; a plain form post gets the 360 page with the number shown."""

    permission = "crm.reveal_customer"

    def post(self, request, pk):
        customer = get_object_or_404(selectors.customers(request.user), pk=pk)
        try:
            number = services.customer_reveal_id_number(actor=request.user, customer=customer)
        except ServicePermissionDenied:
            raise PermissionDenied from None
        if request.htmx:
            return render(
                request, "crm/_id_number.html", {"customer": customer, "revealed": number}
            )
        return render(
            request,
            "crm/customer_detail.html",
            customer_360_context(request, customer, revealed=number),
        )


# ---------------------------------------------------------------- duplicates and merge


@dataclass
class DuplicatePair:
    """One row of the duplicates page: two customers and why they look alike."""

    first: Customer
    second: Customer
    reason_labels: list

    @property
    def pk(self):
        """A pair is known by its lower customer id."""
        return min(self.first.pk, self.second.pk)


class DuplicateListView(PermissionPage, ListView):
    permission = "crm.merge_customer"
    template_name = "crm/duplicate_list.html"
    paginate_by = 50

    def get_queryset(self):
        try:
            from aftersales.crm.duplicates import duplicate_pairs
        except ImportError:  # duplicate detection not installed yet
            return []
        user = self.request.user
        see_phone = selectors.can_see_phone(user)
        pairs = [DuplicatePair(p.a, p.b, p.reason_labels) for p in duplicate_pairs(user)]
        for pair in pairs:
            for customer in (pair.first, pair.second):
                customer.shown_mobile = (
                    customer.mobile if see_phone else mask_mobile(customer.mobile)
                )
        return pairs


MERGE_ROWS = [
    ("name", gettext_lazy("Name")),
    ("shown_mobile", gettext_lazy("Mobile number")),
    ("shown_phone2", gettext_lazy("Other phone")),
    ("id_number_masked", gettext_lazy("Resident ID number")),
    ("birthday", gettext_lazy("Birthday")),
    ("email", gettext_lazy("E-mail")),
    ("city", gettext_lazy("City")),
    ("address", gettext_lazy("Address")),
    ("segment_label", gettext_lazy("Segment")),
    ("loyalty_points", gettext_lazy("Loyalty points")),
    ("vehicle_count", gettext_lazy("Vehicles")),
    ("has_login", gettext_lazy("Owner login")),
    ("created_at", gettext_lazy("Registered")),
]


class CustomerMergeView(PermissionPage, View):
    """GET: both records side by side, choose which to keep; POST: merge (audited)."""

    permission = "crm.merge_customer"

    def get_pair(self, pk, other):
        if pk == other:
            raise Http404
        qs = Customer.objects.restrict(self.request.user, "merge").live()
        rows = {
            c.pk: c for c in qs.filter(pk__in=[pk, other]).annotate(vehicle_count=Count("vehicles"))
        }
        if len(rows) != 2:
            raise Http404
        see_phone = selectors.can_see_phone(self.request.user)
        for customer in rows.values():
            customer.shown_mobile = customer.mobile if see_phone else mask_mobile(customer.mobile)
            customer.shown_phone2 = (
                mask_mobile(customer.phone2)
                if customer.phone2 and not see_phone
                else customer.phone2
            )
            customer.segment_label = customer.get_segment_display()
            customer.has_login = _("Yes") if customer.user_id else _("No")
        return rows[pk], rows[other]

    def render(self, request, pair, form, status=200):
        rows = [
            {
                "label": label,
                "values": [getattr(c, attr) for c in pair],
                "differs": getattr(pair[0], attr) != getattr(pair[1], attr),
            }
            for attr, label in MERGE_ROWS
        ]
        return render(
            request,
            "crm/customer_merge.html",
            {"pair": pair, "rows": rows, "form": form},
            status=status,
        )

    def get(self, request, pk, other):
        pair = self.get_pair(pk, other)
        return self.render(request, pair, MergeForm(initial={"survivor": pk}, pair=pair))

    def post(self, request, pk, other):
        pair = self.get_pair(pk, other)
        data = request.POST.copy()
        data.setdefault("survivor", str(pk))
        form = MergeForm(data, pair=pair)
        if not form.is_valid():
            return self.render(request, pair, form)
        survivor, duplicate = pair if form.cleaned_data["survivor"] == pk else pair[::-1]
        try:
            services.customer_merge(actor=request.user, survivor=survivor, duplicate=duplicate)
        except ServicePermissionDenied:
            raise PermissionDenied from None
        except ServiceError as exc:
            form.add_error(None, str(exc.message))
            return self.render(request, pair, form, status=getattr(exc, "status", 400))
        messages.success(
            request,
            _("%(duplicate)s was merged into %(survivor)s.")
            % {"duplicate": duplicate.name, "survivor": survivor.name},
        )
        return redirect("customer-detail", pk=survivor.pk)


# ---------------------------------------------------------------- vehicles


def _variants(user):
    return (
        Variant.objects.restrict(user, "view")
        .select_related("vehicle_model")
        .order_by("vehicle_model__brand__code", "vehicle_model__code", "-model_year", "name")
    )


def _dealers(user):
    return Dealer.objects.restrict(user, "view").filter(active=True).order_by("code")


class VehicleListView(PermissionPage, ListView):
    permission = "crm.view_vehicle"
    template_name = "crm/vehicle_list.html"
    paginate_by = 50

    def get_queryset(self):
        user = self.request.user
        self.models = list(VehicleModel.objects.restrict(user, "view"))
        self.filters = VehicleFilterForm(self.request.GET, models=self.models)
        self.filters.is_valid()
        data = self.filters.cleaned_data
        qs = selectors.vehicles(user).select_related("variant__vehicle_model", "owner")
        q = "".join((data.get("q") or "").split()).upper()
        if q:
            if len(q) == 17:
                qs = qs.filter(vin=q)
            elif q[0] in PROVINCES:
                qs = qs.filter(plate__startswith=q)
            elif len(q) == 8:
                qs = qs.filter(Q(vin_last8=q) | Q(plate__endswith=q))
            elif len(q) == 6:
                qs = qs.filter(Q(vin_last6=q) | Q(plate__endswith=q))
            else:
                qs = qs.filter(Q(vin__endswith=q) | Q(plate__contains=q))
        if data.get("model"):
            qs = qs.filter(variant__vehicle_model_id=data["model"])
        if data.get("warranty") == "in":
            qs = qs.filter(in_warranty_q())
        elif data.get("warranty") == "out":
            qs = qs.filter(out_of_warranty_q())
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for vehicle in ctx["object_list"]:
            with_warranty(vehicle)
        ctx["filters"] = self.filters
        ctx["filtered"] = any(self.request.GET.get(k) for k in ("q", "model", "warranty"))
        query = self.request.GET.copy()
        query.pop("page", None)
        ctx["export_url"] = (
            optional_url("vehicle-export", query.urlencode())
            if user_has_perm(self.request.user, "crm.export_customer")
            else None
        )
        return ctx


def _render_vehicle_form(request, form, *, owner=None, vehicle=None, status=200):
    return render(
        request,
        "crm/vehicle_form.html",
        {"form": form, "owner": owner, "object": vehicle},
        status=status,
    )


class VehicleCreateView(PermissionPage, View):
    """Register a vehicle for an owner (``?owner=<id>``); without an owner, find them by
    mobile number first."""

    permission = "crm.add_vehicle"

    def get_owner(self, request):
        owner_id = request.GET.get("owner") or request.POST.get("owner")
        if not owner_id:
            return None
        if not str(owner_id).isdigit():
            raise Http404
        return get_object_or_404(selectors.customers(request.user), pk=owner_id)

    def form(self, request, data=None):
        user = request.user
        initial = {"selling_dealer": getattr(user, "dealer", None)}
        return VehicleCreateForm(
            data, initial=initial, variants=_variants(user), dealers=_dealers(user)
        )

    def get(self, request):
        owner = self.get_owner(request)
        if owner is None:
            return self.owner_lookup(request)
        return _render_vehicle_form(request, self.form(request), owner=owner)

    def owner_lookup(self, request):
        lookup = OwnerLookupForm(request.GET if "mobile" in request.GET else None)
        if lookup.is_valid():
            try:
                mobile = normalise_mobile(lookup.cleaned_data["mobile"])
            except Exception as exc:  # a DjangoValidationError with a clear message
                lookup.add_error("mobile", getattr(exc, "messages", [str(exc)])[0])
            else:
                owner = selectors.customers(request.user).filter(mobile=mobile).first()
                if owner is not None:
                    return redirect(reverse("vehicle-create") + f"?owner={owner.pk}")
                lookup.add_error(
                    "mobile",
                    _NO_SUCH_CUSTOMER,
                )
        return render(
            request,
            "crm/vehicle_owner_lookup.html",
            {"lookup": lookup, "can_add_customer": user_has_perm(request.user, "crm.add_customer")},
        )

    def post(self, request):
        owner = self.get_owner(request)
        if owner is None:
            raise Http404
        form = self.form(request, request.POST)
        if form.is_valid():
            try:
                vehicle = services.vehicle_create(
                    actor=request.user,
                    owner=owner,
                    odometer_km=form.cleaned_data.get("odometer_km"),
                    **form.service_data(),
                )
            except ServicePermissionDenied:
                raise PermissionDenied from None
            except ServiceError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request, _("Vehicle %(vehicle)s registered.") % {"vehicle": vehicle}
                )
                return redirect("vehicle-detail", pk=vehicle.pk)
        return _render_vehicle_form(request, form, owner=owner)


def _vehicle_or_404(user, pk, action="view"):
    qs = Vehicle.objects.restrict(user, action).select_related(
        "variant__vehicle_model__brand", "owner", "selling_dealer"
    )
    return get_object_or_404(qs, pk=pk)


def vehicle_context(request, vehicle, *, odometer_form=None, transfer_form=None) -> dict:
    user = request.user
    with_warranty(vehicle)
    ownerships = list(
        Ownership.objects.filter(vehicle=vehicle)
        .select_related("customer", "recorded_by")
        .order_by("-started_on", "-id")
    )
    visible = set(
        selectors.customers(user)
        .filter(pk__in={o.customer_id for o in ownerships} | {vehicle.owner_id})
        .values_list("pk", flat=True)
    )
    for ownership in ownerships:
        ownership.visible = ownership.customer_id in visible
        ownership.shown_name = (
            ownership.customer.name if ownership.visible else mask_name(ownership.customer.name)
        )
    readings = list(
        OdometerReading.objects.filter(vehicle=vehicle)
        .select_related("recorded_by", "dealer")
        .order_by("-read_on", "-id")[:100]
    )
    can_change = Vehicle.objects.restrict(user, "change").filter(pk=vehicle.pk).exists()
    return {
        "object": vehicle,
        "vehicle": vehicle,
        "model": vehicle.variant.vehicle_model,
        "owner_visible": vehicle.owner_id in visible,
        "owner_mobile": selectors.shown_mobile(user, vehicle.owner.mobile)
        if vehicle.owner_id
        else "",
        "ownerships": ownerships,
        "readings": readings,
        "can_change": can_change,
        "odometer_form": odometer_form or OdometerForm(),
        "transfer_form": transfer_form or TransferForm(initial={"version": vehicle.version}),
        "can_see_history": user_has_perm(user, "core.view_auditlog"),
        "content_type_id": ContentType.objects.get_for_model(Vehicle).id,
    }


class VehicleDetailView(PermissionPage, View):
    permission = "crm.view_vehicle"

    def get(self, request, pk):
        vehicle = _vehicle_or_404(request.user, pk)
        return render(request, "crm/vehicle_detail.html", vehicle_context(request, vehicle))


class VehicleEditView(PermissionPage, View):
    permission = "crm.change_vehicle"

    def initial(self, vehicle):
        return {
            **{f: getattr(vehicle, f) for f in VehicleEditForm.SERVICE_FIELDS},
            "variant": str(vehicle.variant_id),
            "version": vehicle.version,
        }

    def form(self, request, vehicle, data=None):
        return VehicleEditForm(
            data,
            initial=self.initial(vehicle),
            variants=_variants(request.user),
            dealers=_dealers(request.user) | Dealer.objects.filter(pk=vehicle.selling_dealer_id),
        )

    def get(self, request, pk):
        vehicle = _vehicle_or_404(request.user, pk, "change")
        return _render_vehicle_form(request, self.form(request, vehicle), vehicle=vehicle)

    def post(self, request, pk):
        vehicle = _vehicle_or_404(request.user, pk, "change")
        form = self.form(request, vehicle, request.POST)
        if not form.is_valid():
            return _render_vehicle_form(request, form, vehicle=vehicle)
        changed = form.changed_service_fields()
        if not changed and form.cleaned_data["version"] == vehicle.version:
            messages.info(request, _("Nothing was changed."))
            return redirect("vehicle-detail", pk=vehicle.pk)
        try:
            services.vehicle_update(
                actor=request.user,
                vehicle=vehicle,
                version=form.cleaned_data["version"],
                **form.service_data(changed),
            )
        except Conflict as exc:
            form.add_error(None, str(exc.message))
            return _render_vehicle_form(request, form, vehicle=vehicle, status=409)
        except ServicePermissionDenied:
            raise PermissionDenied from None
        except ServiceError as exc:
            form.add_service_errors(exc)
            return _render_vehicle_form(request, form, vehicle=vehicle)
        messages.success(request, _("Vehicle saved."))
        return redirect("vehicle-detail", pk=vehicle.pk)


class VehicleOdometerView(PermissionPage, View):
    """POST: record one odometer reading."""

    permission = "crm.change_vehicle"

    def post(self, request, pk):
        vehicle = _vehicle_or_404(request.user, pk, "change")
        form = OdometerForm(request.POST)
        if form.is_valid():
            try:
                services.odometer_record(actor=request.user, vehicle=vehicle, **form.cleaned_data)
            except ServicePermissionDenied:
                raise PermissionDenied from None
            except ServiceError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("Odometer reading of %(km)s km recorded.") % {"km": form.cleaned_data["km"]},
                )
                return redirect("vehicle-detail", pk=vehicle.pk)
        vehicle = _vehicle_or_404(request.user, pk)
        ctx = vehicle_context(request, vehicle, odometer_form=form)
        return render(request, "crm/vehicle_detail.html", ctx)


class VehicleTransferView(PermissionPage, View):
    """POST: transfer of ownership (过户) to a customer found by mobile number."""

    permission = "crm.change_vehicle"

    def post(self, request, pk):
        vehicle = _vehicle_or_404(request.user, pk, "change")
        form = TransferForm(request.POST)
        status = 200
        if form.is_valid():
            new_owner = self.new_owner(request.user, form)
            if new_owner is not None:
                try:
                    services.ownership_transfer(
                        actor=request.user,
                        vehicle=vehicle,
                        new_owner=new_owner,
                        on_date=form.cleaned_data["on_date"],
                        reason=form.cleaned_data["reason"],
                        version=form.cleaned_data["version"],
                    )
                except ServicePermissionDenied:
                    raise PermissionDenied from None
                except Conflict as exc:
                    form.add_error(None, str(exc.message))
                    status = 409
                except ServiceError as exc:
                    form.add_service_errors(exc, aliases={"new_owner": "mobile"})
                else:
                    messages.success(
                        request,
                        _("%(vehicle)s now belongs to %(owner)s.")
                        % {"vehicle": vehicle, "owner": new_owner.name},
                    )
                    return redirect("vehicle-detail", pk=vehicle.pk)
        vehicle = _vehicle_or_404(request.user, pk)
        ctx = vehicle_context(request, vehicle, transfer_form=form)
        return render(request, "crm/vehicle_detail.html", ctx, status=status)

    def new_owner(self, user, form):
        try:
            mobile = normalise_mobile(form.cleaned_data["mobile"])
        except Exception as exc:  # a DjangoValidationError with a clear message
            form.add_error("mobile", getattr(exc, "messages", [str(exc)])[0])
            return None
        owner = selectors.customers(user).filter(mobile=mobile).first()
        if owner is None:
            form.add_error(
                "mobile",
                _NO_SUCH_CUSTOMER,
            )
        return owner


# ---------------------------------------------------------------- reception


class ReceptionView(PermissionPage, View):
    """Reception lookup: exact full VIN or exact plate finds a vehicle at any dealer. For a
    vehicle the dealer has no relationship with, only a reception card is shown: the car,
    its warranty, and the owner's name and masked phone, with no link into the records."""

    permission = "crm.view_vehicle"

    def get(self, request):
        query = request.GET.get("q", "").strip()
        vehicle = selectors.reception_lookup(request.user, query) if query else None
        ctx = {"query": query, "vehicle": vehicle}
        if vehicle is not None:
            with_warranty(vehicle)
            visible = selectors.vehicles(request.user).filter(pk=vehicle.pk).exists()
            owner_visible = (
                visible
                and vehicle.owner_id
                and selectors.customers(request.user).filter(pk=vehicle.owner_id).exists()
            )
            owner = vehicle.owner
            ctx.update(
                visible=visible,
                owner_visible=owner_visible,
                owner_name=owner.name if owner else "",
                owner_mobile=(
                    selectors.shown_mobile(request.user, owner.mobile)
                    if owner_visible
                    else mask_mobile(owner.mobile)
                )
                if owner
                else "",
            )
        return render(request, "crm/reception.html", ctx)


# ---------------------------------------------------------------- segmentation


class SegmentRuleView(PermissionPage, View):
    permission = "crm.view_segmentrule"

    def get(self, request):
        rule = SegmentRule.current()
        counts = dict(
            selectors.customers(request.user)
            .order_by()
            .values_list("segment")
            .annotate(n=Count("id"))
        )
        segments = [
            {"value": value, "label": label, "count": counts.get(value, 0)}
            for value, label in Segment.choices
        ]
        return render(
            request,
            "crm/segment_rule.html",
            {
                "rule": rule,
                "segments": segments,
                "unsegmented": counts.get("", 0),
                "can_change": user_has_perm(request.user, "crm.change_segmentrule"),
            },
        )


_RULE_FIELDS = (
    "window_months",
    "at_risk_after_days",
    "lost_after_days",
    "loyal_min_visits",
    "loyal_min_amount",
    "regular_min_visits",
)


class SegmentRuleEditView(PermissionPage, View):
    permission = "crm.change_segmentrule"

    def get(self, request):
        rule = SegmentRule.current()
        form = SegmentRuleForm(initial={f: getattr(rule, f) for f in _RULE_FIELDS})
        return render(request, "crm/segment_rule_form.html", {"form": form, "rule": rule})

    def post(self, request):
        rule = SegmentRule.current()
        form = SegmentRuleForm(request.POST, initial={f: getattr(rule, f) for f in _RULE_FIELDS})
        if form.is_valid():
            if not form.changed_data:
                messages.info(request, _("Nothing was changed."))
                return redirect("segment-rule")
            try:
                from aftersales.crm.segments import segment_rule_update
            except ImportError:
                form.add_error(None, _("Changing the thresholds is not available yet."))
            else:
                try:
                    segment_rule_update(
                        actor=request.user, **{f: form.cleaned_data[f] for f in form.changed_data}
                    )
                except ServicePermissionDenied:
                    raise PermissionDenied from None
                except ServiceError as exc:
                    form.add_service_errors(exc)
                else:
                    messages.success(
                        request,
                        _("Thresholds saved. Segments are recomputed tonight."),
                    )
                    return redirect("segment-rule")
        return render(request, "crm/segment_rule_form.html", {"form": form, "rule": rule})
