"""The OEM's vehicle catalogue: brands, models and their variants, with the warranty terms
and maintenance intervals each model is sold with. OEM-level: every dealer reads it, only
the OEM edits it."""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.access import RestrictedQuerySet

code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{0,29}$", _("Use capital letters, digits and dashes.")
)


class FuelType(models.TextChoices):
    PETROL = "petrol", _("Petrol")
    DIESEL = "diesel", _("Diesel")
    HEV = "hev", _("Hybrid (HEV)")
    PHEV = "phev", _("Plug-in hybrid (PHEV)")
    EREV = "erev", _("Range-extended electric (EREV)")
    BEV = "bev", _("Battery electric (BEV)")

    @classmethod
    def new_energy(cls):
        """Fuel types that count as new-energy vehicles (新能源) in China: green plates,
        battery warranty."""
        return {cls.PHEV, cls.EREV, cls.BEV}


class Brand(models.Model):
    """A brand (品牌) the OEM sells under."""

    code = models.CharField(_("code"), max_length=30, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=50, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["code"]

    def __str__(self):
        return self.name


class VehicleModel(models.Model):
    """A model line (车型), e.g. 星驰 S7, with the warranty it is sold with and its
    maintenance schedule. Warranty runs from the invoice date (开票日期); whichever of time
    and distance comes first ends it."""

    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="models", verbose_name=_("brand")
    )
    code = models.CharField(_("code"), max_length=30, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=50)
    body_type = models.CharField(_("body type"), max_length=30, blank=True)
    active = models.BooleanField(_("on sale"), default=True)
    # whole-vehicle warranty (整车质保)
    warranty_years = models.PositiveSmallIntegerField(
        _("vehicle warranty (years)"), default=3, validators=[MinValueValidator(1)]
    )
    warranty_km = models.PositiveIntegerField(
        _("vehicle warranty (km)"), default=100_000, validators=[MinValueValidator(1)]
    )
    # powertrain warranty (三大件 / 三电 for new-energy vehicles)
    powertrain_years = models.PositiveSmallIntegerField(
        _("powertrain warranty (years)"), default=5, validators=[MinValueValidator(1)]
    )
    powertrain_km = models.PositiveIntegerField(
        _("powertrain warranty (km)"), default=150_000, validators=[MinValueValidator(1)]
    )
    wear_part_exclusions = models.TextField(
        _("wear parts not under warranty"),
        blank=True,
        help_text=_("One per line, e.g. brake pads, wiper blades, tyres, bulbs."),
    )
    # maintenance intervals (保养周期)
    first_service_months = models.PositiveSmallIntegerField(
        _("first service after (months)"), default=6, validators=[MinValueValidator(1)]
    )
    first_service_km = models.PositiveIntegerField(
        _("first service after (km)"), default=5_000, validators=[MinValueValidator(1)]
    )
    service_interval_months = models.PositiveSmallIntegerField(
        _("regular service every (months)"), default=12, validators=[MinValueValidator(1)]
    )
    service_interval_km = models.PositiveIntegerField(
        _("regular service every (km)"), default=10_000, validators=[MinValueValidator(1)]
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("vehicle model")
        verbose_name_plural = _("vehicle models")
        ordering = ["brand__code", "code"]

    def __str__(self):
        return self.name

    @property
    def wear_parts(self) -> list[str]:
        return [line.strip() for line in self.wear_part_exclusions.splitlines() if line.strip()]


class Variant(models.Model):
    """A sellable configuration (车款) of a model: model year, engine or motor, fuel type."""

    vehicle_model = models.ForeignKey(
        VehicleModel,
        on_delete=models.PROTECT,
        related_name="variants",
        verbose_name=_("vehicle model"),
    )
    code = models.CharField(_("code"), max_length=30, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=80)
    model_year = models.PositiveSmallIntegerField(_("model year"))
    engine = models.CharField(
        _("engine / motor"), max_length=50, help_text=_("e.g. 1.5T, 2.0T, 150 kW motor")
    )
    fuel_type = models.CharField(_("fuel type"), max_length=10, choices=FuelType.choices)
    transmission = models.CharField(_("transmission"), max_length=30, blank=True)
    vin_prefix = models.CharField(
        _("VIN prefix"),
        max_length=8,
        blank=True,
        help_text=_("World manufacturer identifier and vehicle descriptor (VIN positions 1-8)."),
    )
    active = models.BooleanField(_("on sale"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["vehicle_model__code", "-model_year", "code"]

    def __str__(self):
        return f"{self.vehicle_model.name} {self.name}"

    @property
    def is_new_energy(self) -> bool:
        return self.fuel_type in FuelType.new_energy()
