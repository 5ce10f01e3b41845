"""Parts (SPEC §6): the OEM's part catalogue with VIN fitment, and each dealer's stock.

Stock is kept in two forms that always agree: an append-only ledger (``StockMove``: every
receipt, issue, return, adjustment, transfer and stocktake variance) and one balance row
per warehouse and part (``StockItem``, split by bin in ``BinStock``) that services change
in the same transaction, under a row lock, with database ``CHECK`` constraints that keep
quantities from going negative. ``manage.py parts_check`` proves the two agree.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.access import RestrictedQuerySet
from aftersales.parts.choices import (
    MoveKind,
    PurchaseOrderStatus,
    ReservationStatus,
    StocktakeStatus,
    TransferStatus,
    Unit,
)

QTY = {"max_digits": 12, "decimal_places": 2, "default": Decimal("0")}
MONEY = {"max_digits": 12, "decimal_places": 2}
COST = {"max_digits": 14, "decimal_places": 4}  # moving-average unit cost keeps 4 places


class AppendOnlyError(Exception):
    pass


# ------------------------------------------------------------------ catalogue (OEM level)


class PartCategory(models.Model):
    """A group of parts for reports and browsing (filters, brakes, engine, body…)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("part category")
        verbose_name_plural = _("part categories")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Part(models.Model):
    """A part number in the OEM's catalogue (配件), with its prices, its own warranty and,
    when it has been replaced, the number that supersedes it (替代件)."""

    number = models.CharField(_("part number"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    category = models.ForeignKey(
        PartCategory, on_delete=models.PROTECT, related_name="parts", verbose_name=_("category")
    )
    unit = models.CharField(_("unit"), max_length=5, choices=Unit.choices, default=Unit.PIECE)
    list_price = models.DecimalField(_("list price"), **MONEY)
    dealer_cost = models.DecimalField(_("dealer cost"), **MONEY)
    barcode = models.CharField(_("barcode"), max_length=40, unique=True, null=True, blank=True)
    warranty_months = models.PositiveSmallIntegerField(_("part warranty (months)"), default=12)
    warranty_km = models.PositiveIntegerField(_("part warranty (km)"), default=0)
    wear_part = models.BooleanField(
        _("wear part"), default=False, help_text=_("Excluded from the vehicle warranty.")
    )
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name=_("superseded by"),
    )
    universal = models.BooleanField(
        _("fits every vehicle"), default=False, help_text=_("Oils, fluids, bulbs, accessories.")
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(list_price__gte=0) & Q(dealer_cost__gte=0), name="parts_part_prices"
            ),
            models.CheckConstraint(
                condition=~Q(superseded_by=models.F("id")), name="parts_part_not_self_superseded"
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"


class Fitment(models.Model):
    """A part fits a vehicle model, optionally only one variant and a range of model years."""

    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="fitments")
    vehicle_model = models.ForeignKey(
        "catalogue.VehicleModel", on_delete=models.CASCADE, related_name="+"
    )
    variant = models.ForeignKey(
        "catalogue.Variant", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    year_from = models.PositiveSmallIntegerField(_("from model year"), null=True, blank=True)
    year_to = models.PositiveSmallIntegerField(_("to model year"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("fitment")
        verbose_name_plural = _("fitments")
        indexes = [
            # the VIN lookup reads fitments by model; on PostgreSQL the index alone answers
            models.Index(
                fields=["vehicle_model", "part"],
                include=["variant", "year_from", "year_to"],
                name="parts_fitment_model_cover",
            ),
            models.Index(fields=["variant", "part"]),
        ]

    def __str__(self):
        return f"{self.part_id} → {self.variant_id or self.vehicle_model_id}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.variant_id and self.variant.vehicle_model_id != self.vehicle_model_id:
            raise ValidationError({"variant": _("This variant belongs to another model.")})
        if self.year_from and self.year_to and self.year_from > self.year_to:
            raise ValidationError({"year_to": _("The last model year is before the first.")})


# ------------------------------------------------------------------ dealer stock


class Warehouse(models.Model):
    """A dealer's store of parts (main store, quick-service store, body-shop store)."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="warehouses")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=60)
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["dealer__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "code"], name="parts_warehouse_code")
        ]

    def __str__(self):
        return f"{self.dealer.code}/{self.code} {self.name}"


class Bin(models.Model):
    """A shelf location in a warehouse (货位), e.g. A-01-03; its label carries a barcode."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="bins")
    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=20)
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("bin")
        verbose_name_plural = _("bins")
        ordering = ["warehouse", "code"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "code"], name="parts_bin_code")]

    def __str__(self):
        return self.code

    @property
    def barcode(self) -> str:
        """What the bin label encodes: unique across the network."""
        return f"BIN:{self.pk}"


class StockItem(models.Model):
    """One part in one warehouse: the balance the ledger adds up to, what is reserved for
    open documents, the moving-average cost and the reorder points."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="items")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="stock_items")
    on_hand = models.DecimalField(_("on hand"), **QTY)
    reserved = models.DecimalField(_("reserved"), **QTY)
    in_transit = models.DecimalField(_("in transit to here"), **QTY)
    avg_cost = models.DecimalField(_("average cost"), default=Decimal("0"), **COST)
    min_qty = models.DecimalField(_("minimum"), **QTY)
    max_qty = models.DecimalField(_("maximum"), **QTY)
    default_bin = models.ForeignKey(
        Bin, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_moved_at = models.DateTimeField(_("last movement"), null=True, blank=True)
    low_alerted_at = models.DateTimeField(null=True, blank=True)  # cleared when restocked

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("stock item")
        verbose_name_plural = _("stock items")
        permissions = [
            ("issue_stockitem", "Issue parts and take returns"),
            ("adjust_stockitem", "Adjust stock by hand"),
        ]
        ordering = ["warehouse", "part__number"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "part"], name="parts_stockitem_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="parts_stock_on_hand_ge_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="parts_stock_reserved_ge_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("on_hand")),
                name="parts_stock_reserved_le_on_hand",
            ),
            models.CheckConstraint(condition=Q(avg_cost__gte=0), name="parts_stock_cost_ge_0"),
            models.CheckConstraint(
                condition=Q(min_qty__gte=0) & Q(max_qty__gte=models.F("min_qty")),
                name="parts_stock_min_max",
            ),
        ]
        indexes = [models.Index(fields=["dealer", "part"])]

    def __str__(self):
        return f"{self.warehouse.code} {self.part.number}"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class BinStock(models.Model):
    """How much of a stock item lies in one bin; the bins of an item add up to its on-hand."""

    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="bins")
    bin = models.ForeignKey(Bin, on_delete=models.PROTECT, related_name="stock")
    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    on_hand = models.DecimalField(_("on hand"), **QTY)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("bin stock")
        verbose_name_plural = _("bin stock")
        constraints = [
            models.UniqueConstraint(fields=["item", "bin"], name="parts_binstock_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="parts_binstock_ge_0"),
        ]

    def __str__(self):
        return f"{self.bin_id}: {self.on_hand}"


class StockMove(models.Model):
    """One line of the stock ledger (库存流水): immutable. Quantity is signed (+ in, − out);
    ``posting_key`` names the document line it posts, so a line cannot post twice."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="moves")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    bin = models.ForeignKey(Bin, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=15, choices=MoveKind.choices)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    unit_cost = models.DecimalField(_("unit cost"), **COST)
    on_hand_after = models.DecimalField(_("on hand after"), max_digits=12, decimal_places=2)
    avg_cost_after = models.DecimalField(_("average cost after"), **COST)
    doc_type = models.CharField(_("document"), max_length=20, blank=True)
    doc_id = models.BigIntegerField(null=True, blank=True)
    doc_number = models.CharField(_("document number"), max_length=40, blank=True)
    posting_key = models.CharField(max_length=100, unique=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("when"), default=timezone.now)  # bulk loads set past times

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock ledger")
        permissions = [("export_stockmove", "Export parts reports")]
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["item", "-at", "-id"]),
            models.Index(fields=["dealer", "kind", "at"]),
            models.Index(fields=["doc_type", "doc_id"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="parts_move_nonzero"),
        ]

    def __str__(self):
        return f"{self.kind} {self.quantity} {self.part_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("stock movements are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("stock movements are append-only")

    @property
    def value(self) -> Decimal:
        return (self.quantity * self.unit_cost).quantize(Decimal("0.01"))


class Reservation(models.Model):
    """Quantity held in a warehouse for a document (a repair-order line, a counter sale):
    issuing consumes it, cancelling or expiry releases it."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.DecimalField(_("reserved"), max_digits=12, decimal_places=2)
    issued = models.DecimalField(_("issued"), **QTY)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReservationStatus.choices,
        default=ReservationStatus.ACTIVE,
    )
    doc_type = models.CharField(_("document"), max_length=20)
    doc_id = models.BigIntegerField(null=True, blank=True)
    doc_number = models.CharField(_("document number"), max_length=40, blank=True)
    key = models.CharField(max_length=100, unique=True)  # the document line; reserves once
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0)
                & Q(issued__gte=0)
                & Q(issued__lte=models.F("quantity")),
                name="parts_reservation_quantities",
            )
        ]

    def __str__(self):
        return f"{self.doc_number or self.key}: {self.quantity}"

    @property
    def open_quantity(self) -> Decimal:
        return self.quantity - self.issued if self.status == ReservationStatus.ACTIVE else 0


class PartDemand(models.Model):
    """A document line asking for a part (a repair-order line, a counter sale): whether
    stock could serve all of it at the first request. The fill-rate report reads these;
    ``stock.reserve`` writes the served ones, ``stock.record_shortage`` the others."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="demands")
    key = models.CharField(max_length=100, unique=True)  # the document line
    quantity = models.DecimalField(_("asked"), max_digits=12, decimal_places=2)
    available = models.DecimalField(_("available then"), max_digits=12, decimal_places=2)
    served = models.BooleanField(_("served from stock"))
    at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("part demand")
        verbose_name_plural = _("part demand")
        indexes = [models.Index(fields=["dealer", "at"])]

    def __str__(self):
        return f"{self.key}: {self.quantity}"


# ------------------------------------------------------------------ purchasing


class PurchaseOrder(models.Model):
    """An order to the OEM parts centre (采购订单) for one warehouse."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=40, unique=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PurchaseOrderStatus.choices,
        default=PurchaseOrderStatus.DRAFT,
    )
    urgent = models.BooleanField(_("urgent"), default=False)
    allow_over_receipt = models.BooleanField(_("over-receipt allowed"), default=False)
    expected_on = models.DateField(_("expected"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        permissions = [("receive_purchaseorder", "Receive goods against purchase orders")]
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["dealer", "status"])]

    def __str__(self):
        return self.number


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("ordered"), max_digits=12, decimal_places=2)
    unit_cost = models.DecimalField(_("unit cost"), **MONEY)
    received = models.DecimalField(_("received"), **QTY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "part"], name="parts_poline_unique"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(received__gte=0) & Q(unit_cost__gte=0),
                name="parts_poline_quantities",
            ),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.part_id}: {self.quantity}"

    @property
    def open_quantity(self) -> Decimal:
        return max(self.quantity - self.received, Decimal("0"))


class GoodsReceipt(models.Model):
    """One delivery booked against a purchase order (入库单); a PO may have several."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="receipts")
    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("goods receipt")
        verbose_name_plural = _("goods receipts")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return self.number


class GoodsReceiptLine(models.Model):
    receipt = models.ForeignKey(GoodsReceipt, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="+")
    bin = models.ForeignKey(Bin, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    unit_cost = models.DecimalField(_("unit cost"), **MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="parts_receiptline_qty")
        ]

    def __str__(self):
        return f"{self.receipt_id}: {self.quantity}"


# ------------------------------------------------------------------ stocktake


class Stocktake(models.Model):
    """A count of a warehouse or some of its bins (盘点). Expected quantities are snapshotted
    when it starts; stock keeps moving while people count, and each line's variance is
    reconciled with the movements posted between the snapshot and the moment it was
    counted, so no unit issued or received meanwhile is lost or double-counted."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=40, unique=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=StocktakeStatus.choices,
        default=StocktakeStatus.COUNTING,
    )
    bins = models.ManyToManyField(Bin, blank=True, related_name="+", verbose_name=_("bins"))
    blind = models.BooleanField(
        _("blind count"), default=True, help_text=_("Counters do not see the expected quantity.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("stocktake")
        verbose_name_plural = _("stocktakes")
        permissions = [
            ("count_stocktake", "Enter stocktake counts"),
            ("approve_stocktake", "Approve stocktake variances"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.number


class StocktakeLine(models.Model):
    """One part in one bin on the count sheet."""

    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="+")
    bin = models.ForeignKey(Bin, on_delete=models.PROTECT, related_name="+")
    expected = models.DecimalField(_("expected"), **QTY)  # the bin's on-hand at the snapshot
    snapshot_move_id = models.BigIntegerField(default=0)  # the ledger's last id at snapshot
    counted = models.DecimalField(
        _("counted"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    moved_since = models.DecimalField(_("moved since snapshot"), **QTY)
    counted_at = models.DateTimeField(null=True, blank=True)
    counted_move_id = models.BigIntegerField(null=True, blank=True)  # ledger's last id at count
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    variance = models.DecimalField(
        _("variance"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["bin__code", "item__part__number"]
        constraints = [
            models.UniqueConstraint(fields=["stocktake", "item", "bin"], name="parts_countline"),
            models.CheckConstraint(
                condition=Q(counted__isnull=True) | Q(counted__gte=0), name="parts_count_ge_0"
            ),
        ]

    def __str__(self):
        return f"{self.stocktake_id}/{self.bin_id}/{self.item_id}"


# ------------------------------------------------------------------ transfers


class TransferQuerySet(RestrictedQuerySet):
    def scope_condition(self, scope):
        """Both ends of a transfer see it."""
        return Q(from_dealer_id__in=scope.dealer_ids) | Q(to_dealer_id__in=scope.dealer_ids)


class Transfer(models.Model):
    """Parts moved between two warehouses (调拨): of one dealer, or of two dealers, where the
    sending dealer approves first. Shipped units are in transit until received."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    from_dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    from_warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    to_dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    to_warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=TransferStatus.choices,
        default=TransferStatus.REQUESTED,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = TransferQuerySet.as_manager()
    access_dealer_field = "from_dealer_id"

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        permissions = [("approve_transfer", "Approve transfers to another dealer")]
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_warehouse=models.F("to_warehouse")), name="parts_transfer_ends"
            )
        ]

    def __str__(self):
        return self.number

    @property
    def between_dealers(self) -> bool:
        return self.from_dealer_id != self.to_dealer_id


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    unit_cost = models.DecimalField(_("unit cost"), default=Decimal("0"), **COST)  # at shipping
    received = models.DecimalField(_("received"), **QTY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "part"], name="parts_transferline_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="parts_transferline_qty"),
        ]

    def __str__(self):
        return f"{self.transfer_id}/{self.part_id}: {self.quantity}"
