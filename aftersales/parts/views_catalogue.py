"""Parts lookup pages: one box for a part number, barcode, name or VIN (a valid 17-character
VIN lists the parts that fit the vehicle), and a part's card."""

import re

from django.urls import NoReverseMatch, reverse

from aftersales.core.access import user_has_perm
from aftersales.core.errors import ServiceError, ValidationFailed
from aftersales.core.pages import RestrictedDetailView, RestrictedListView
from aftersales.parts import lookup
from aftersales.parts.models import Part, PartCategory, StockItem

VIN_LIKE = re.compile(r"^[A-Z0-9]{17}$")
FITMENT_PAGE = 500


class PartLookupView(RestrictedListView):
    model = Part
    template_name = "parts/catalogue_lookup.html"
    paginate_by = 50

    def get_queryset(self):
        request = self.request
        self.q = (request.GET.get("q") or "").strip()
        self.mode, self.fitment, self.error, self.groups = "browse", None, None, []
        self.category = request.GET.get("category") or ""
        self.universal = request.GET.get("universal") == "1"
        key = lookup.number_key(self.q)
        if not self.q:
            return super().get_queryset().select_related("category", "superseded_by")
        if VIN_LIKE.match(key) and not lookup.find_part(self.q):
            try:
                self.fitment = lookup.parts_for_vin(
                    request.user,
                    key,
                    q=request.GET.get("filter"),
                    category=int(self.category) if self.category.isdigit() else None,
                    universal=self.universal,
                    limit=FITMENT_PAGE,
                )
            except ValidationFailed as exc:
                if exc.code != "invalid_vin":
                    raise
                self.error = exc.message  # not a VIN after all: search it as a part
            except ServiceError as exc:
                self.error = exc.message
                self.mode = "vin"
                return []
            else:
                self.mode = "vin"
                return self.fitment.parts
        self.mode = "search"
        hits = lookup.search_parts(request.user, self.q, limit=200)
        if hits:
            self.error = None
        return [hit.part for hit in hits]

    def paginate_queryset(self, queryset, page_size):
        if self.mode == "vin":  # one page: grouped by category, narrowed by the filters
            return (None, None, queryset, False)
        return super().paginate_queryset(queryset, page_size)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        parts = list(ctx["object_list"])
        if self.mode == "browse":
            lookup.annotate_replacements(parts)
        user = self.request.user
        stock = lookup.available_by_part(user, [p.pk for p in parts])
        for part in parts:
            part.available = None if stock is None else stock.get(part.pk)
        ctx.update(
            object_list=parts,
            q=self.q,
            mode=self.mode,
            error=self.error,
            fitment=self.fitment,
            show_stock=stock is not None,
            category=self.category,
            universal=self.universal,
        )
        if self.mode == "vin":
            groups = {}
            for part in parts:
                groups.setdefault(part.category, []).append(part)
            ctx["groups"] = list(groups.items())
            ctx["categories"] = list(PartCategory.objects.all())
            ctx["fitment_page"] = FITMENT_PAGE
        return ctx


class PartDetailView(RestrictedDetailView):
    model = Part
    template_name = "parts/catalogue_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("category", "superseded_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        part, user = self.object, self.request.user
        chain = lookup.supersession_chain(part)
        ctx["chain"] = chain
        ctx["replacement"] = chain[-1] if chain else None
        ctx["supersedes"] = lookup.superseded_parts(part)
        ctx["fitments"] = list(
            part.fitments.select_related("vehicle_model", "variant").order_by(
                "vehicle_model__code", "variant__code"
            )
        )
        ctx["show_stock"] = user_has_perm(user, "parts.view_stockitem")
        if ctx["show_stock"]:
            rows = (
                StockItem.objects.restrict(user, "view")
                .filter(part=part)
                .select_related("warehouse", "default_bin", "dealer")
                .order_by("dealer__code", "warehouse__code")
            )
            if user.dealer_id:
                rows = rows.filter(dealer_id=user.dealer_id)
            ctx["stock"] = list(rows)
        ctx["admin_url"] = None
        if user.is_staff and user_has_perm(user, "parts.change_part"):
            try:
                ctx["admin_url"] = reverse("admin:parts_part_change", args=[part.pk])
            except NoReverseMatch:
                pass
        try:
            ctx["stock_card_url"] = reverse("stock-card", args=[part.pk])
        except NoReverseMatch:
            ctx["stock_card_url"] = None
        return ctx
