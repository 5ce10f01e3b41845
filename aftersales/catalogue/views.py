"""The vehicle catalogue pages: models with their warranty terms and service intervals,
and each model's variants. OEM-level records every staff member reads."""

from django.db.models import Count, Max, Min, Prefetch, Q
from django.urls import NoReverseMatch, reverse

from aftersales.catalogue.models import Brand, Variant, VehicleModel
from aftersales.core.access import user_has_perm
from aftersales.core.pages import RestrictedDetailView, RestrictedListView


class VehicleModelListView(RestrictedListView):
    model = VehicleModel
    template_name = "catalogue/vehicle_model_list.html"
    paginate_by = 100

    def get_queryset(self):
        qs = (
            super()
            .get_queryset()
            .select_related("brand")
            .order_by("brand__code", "code")
            .annotate(
                variant_count=Count("variants"),
                first_year=Min("variants__model_year"),
                last_year=Max("variants__model_year"),
            )
            .prefetch_related(
                Prefetch(
                    "variants",
                    queryset=Variant.objects.only("id", "vehicle_model_id", "fuel_type"),
                    to_attr="variant_list",
                )
            )
        )
        self.brands = list(Brand.objects.restrict(self.request.user, "view"))
        brand = self.request.GET.get("brand", "")
        if brand.isdigit():
            qs = qs.filter(brand_id=brand)
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for model in ctx["object_list"]:
            seen = {}
            for variant in model.variant_list:
                seen.setdefault(variant.fuel_type, variant.get_fuel_type_display())
            model.fuel_labels = list(seen.values())
        ctx["brands"] = self.brands
        ctx["brand"] = self.request.GET.get("brand", "")
        return ctx


class VehicleModelDetailView(RestrictedDetailView):
    model = VehicleModel
    template_name = "catalogue/vehicle_model_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("brand")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["variants"] = list(
            Variant.objects.restrict(self.request.user, "view")
            .filter(vehicle_model=self.object)
            .order_by("-model_year", "code")
        )
        user = self.request.user
        ctx["admin_url"] = None
        if user.is_staff and user_has_perm(user, "catalogue.change_vehiclemodel"):
            try:
                ctx["admin_url"] = reverse(
                    "admin:catalogue_vehiclemodel_change", args=[self.object.pk]
                )
            except NoReverseMatch:  # the catalogue is not in the admin
                pass
        return ctx
