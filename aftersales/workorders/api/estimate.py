"""API of the estimate and authorization (routes under 'workorders/...').

``/api/workorders/estimate/<order id>/``: ``lines`` (GET the lines, POST a labour, part,
sublet or fee line by ``kind``), ``package``, ``terms``, ``totals``, ``send``, ``sign``
(JSON with a base64 PNG or multipart with a ``signature`` file);
``/api/workorders/estimate-lines/<line id>/``: PATCH, DELETE, POST ``decide``;
``/api/workorders/declined-recommendations/?vehicle=<id>``.
Writes carry the order's ``version`` (409 ``stale`` when someone changed it); a POST that
creates lines honours an ``Idempotency-Key`` header (a retry acts once)."""

import base64
import binascii

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.errors import ValidationFailed
from aftersales.core.idempotency import once, request_key
from aftersales.workorders import authorization, estimate
from aftersales.workorders.models import (
    LabourOperation,
    MaintenancePackage,
    RepairOrder,
    RepairOrderLine,
)


class LineSerializer(serializers.ModelSerializer):
    reserved = serializers.SerializerMethodField()
    to_order = serializers.SerializerMethodField()
    part_number = serializers.CharField(source="part.number", default=None, read_only=True)
    operation_code = serializers.CharField(source="operation.code", default=None, read_only=True)
    repair_order_version = serializers.IntegerField(source="repair_order.version", read_only=True)

    class Meta:
        model = RepairOrderLine
        fields = [
            "id",
            "repair_order",
            "repair_order_version",
            "kind",
            "position",
            "operation",
            "operation_code",
            "part",
            "part_number",
            "package",
            "description",
            "quantity",
            "standard_hours",
            "unit_price",
            "amount",
            "pay_type",
            "warranty_status",
            "warranty_reason",
            "fitment_warning",
            "additional",
            "approval",
            "approval_channel",
            "approved_by_name",
            "approval_recorded_by",
            "decided_at",
            "job_status",
            "issued_qty",
            "returned_qty",
            "reserved",
            "to_order",
        ]

    def get_reserved(self, line) -> str | None:
        return str(estimate.line_stock(line)["reserved"]) if line.kind == "part" else None

    def get_to_order(self, line) -> str | None:
        return str(estimate.line_stock(line)["to_order"]) if line.kind == "part" else None


def _totals(order):
    totals = estimate.estimate_totals(order)
    return {
        "by_pay_type": {
            pay: {k: str(v) for k, v in row.items()} for pay, row in totals["by_pay_type"].items()
        },
        "total": str(totals["total"]),
        "declined": str(totals["declined"]),
    }


def _version(request):
    value = request.data.get("version")
    if value in (None, ""):
        message = _("Send the order's version.")
        raise ValidationFailed(message, code="missing_version", fields={"version": [message]})
    try:
        return int(value)
    except (TypeError, ValueError):
        message = _("Not a number.")
        raise ValidationFailed(message, fields={"version": [message]}) from None


def _lines(order):
    return order.lines.select_related("repair_order", "part", "operation", "reservation").order_by(
        "position", "id"
    )


def _get(model, pk, field):
    if pk in (None, ""):
        raise ValidationFailed(_("This field is required."), fields={field: [_("Required.")]})
    try:
        return model.objects.get(pk=int(pk))
    except (model.DoesNotExist, TypeError, ValueError):
        raise ValidationFailed(_("Not found."), fields={field: [_("Not found.")]}) from None


def _part(value, known=None):
    """The part by id, number or barcode; ``known``: parts already read, by id."""
    from aftersales.parts.lookup import find_part
    from aftersales.parts.models import Part

    found = None
    if str(value or "").isdigit():
        if known is not None:
            found = known.get(int(value))
        else:
            # the category is read by the warranty determination (high-voltage parts)
            found = Part.objects.select_related("category").filter(pk=int(value)).first()
    found = found or find_part(str(value or ""))
    if found is None:
        message = _("No part with this number or barcode.")
        raise ValidationFailed(message, code="part_not_found", fields={"part": [message]})
    return found


def _ids(entries, kind, field):
    return {
        int(e[field])
        for e in entries
        if isinstance(e, dict) and e.get("kind") == kind and str(e.get(field) or "").isdigit()
    }


def line_item(data, operations=None, parts=None) -> dict:
    """One line of a batch from request data, with its operation or part looked up
    (in ``operations`` and ``parts`` by id when the batch read them at once)."""
    kind = data.get("kind")
    item = {
        k: data.get(k) for k in ("kind", "pay_type", "hours", "description", "quantity", "amount")
    }
    if kind == "labour":
        pk = data.get("operation")
        found = operations.get(int(pk)) if operations and str(pk or "").isdigit() else None
        item["operation"] = found or _get(LabourOperation, pk, "operation")
    elif kind == "part":
        item["part"] = _part(data.get("part"), parts)
    return item


def line_items(data) -> list[dict]:
    """The lines of a batch (``{"lines": [...]}``) checked and looked up: operations and
    parts are read in one query each."""
    from aftersales.parts.models import Part

    raw = data.get("lines")
    if not isinstance(raw, list):
        message = _("Send a list of lines.")
        raise ValidationFailed(message, fields={"lines": [message]})
    operations = LabourOperation.objects.in_bulk(_ids(raw, "labour", "operation"))
    # the category is read by the warranty determination (high-voltage parts)
    parts = Part.objects.select_related("category").in_bulk(_ids(raw, "part", "part"))
    items = []
    for n, entry in enumerate(raw):
        if not isinstance(entry, dict):
            message = _("Send a list of lines.")
            raise ValidationFailed(message, fields={f"lines.{n}": [message]})
        try:
            items.append(line_item(entry, operations, parts))
        except ValidationFailed as error:
            error.fields = {f"lines.{n}.{k}": v for k, v in error.fields.items()}
            raise
    return items


def add_line(actor, order, data):
    """Add one line from request data (``kind`` labour/part/sublet/fee)."""
    kind = data.get("kind")
    version = data.get("version")
    common = {"actor": actor, "repair_order": order, "version": version}
    pay_type = data.get("pay_type") or None
    if kind == "labour":
        return estimate.line_add_labour(
            **common,
            operation=_get(LabourOperation, data.get("operation"), "operation"),
            pay_type=pay_type,
            hours=data.get("hours") or None,
            description=data.get("description") or "",
        )
    if kind == "part":
        return estimate.line_add_part(
            **common,
            part=_part(data.get("part")),
            quantity=data.get("quantity") or "1",
            pay_type=pay_type,
        )
    if kind in ("sublet", "fee"):
        adder = estimate.line_add_sublet if kind == "sublet" else estimate.line_add_fee
        return adder(
            **common,
            description=data.get("description") or "",
            amount=data.get("amount"),
            pay_type=pay_type or "customer",
        )
    message = _("Choose labour, part, sublet or fee.")
    raise ValidationFailed(message, fields={"kind": [message]})


class EstimateViewSet(ScopedByActionMixin, viewsets.GenericViewSet):
    queryset = RepairOrder.objects.all()
    serializer_class = LineSerializer
    action_verbs = {"sign": "authorize"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.method == "POST":
            # a step: the scope check; the service reads the order again under its lock
            return queryset.only("id", "dealer_id")
        return queryset

    @extend_schema(operation_id="workorders_estimate_order_lines", methods=["GET"])
    @extend_schema(operation_id="workorders_estimate_order_lines_add", methods=["POST"])
    @action(detail=True, methods=["get", "post"])
    def lines(self, request, pk=None):
        order = self.get_object()
        if request.method == "GET":
            return Response(LineSerializer(_lines(order), many=True).data)
        _version(request)
        if "lines" in request.data:  # a batch: answered with every line of the order
            items = line_items(request.data)  # looked up before the transaction begins
            first, _acted = once(
                user=request.user,
                scope=f"ro-estimate-lines:{order.pk}",
                key=request_key(request),
                action=lambda: estimate.estimate_add_lines(
                    actor=request.user,
                    repair_order=order,
                    version=request.data.get("version"),
                    lines=items,
                )[0],
                model=RepairOrderLine,
            )
            order.refresh_from_db(fields=["version"])
            return Response(
                {"version": order.version, "lines": LineSerializer(_lines(order), many=True).data},
                status=status.HTTP_201_CREATED,
            )
        line, _acted = once(
            user=request.user,
            scope=f"ro-estimate-line:{order.pk}",
            key=request_key(request),
            action=lambda: add_line(request.user, order, request.data),
            model=RepairOrderLine,
        )
        return Response(LineSerializer(line).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def package(self, request, pk=None):
        order = self.get_object()
        lines = estimate.package_apply(
            actor=request.user,
            repair_order=order,
            version=_version(request),
            package=_get(MaintenancePackage, request.data.get("package"), "package"),
        )
        return Response(LineSerializer(lines, many=True).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def terms(self, request, pk=None):
        order = self.get_object()
        order = estimate.estimate_set_terms(
            actor=request.user,
            repair_order=order,
            version=_version(request),
            payment_method=request.data.get("payment_method"),
            old_parts=request.data.get("old_parts"),
            free_wash=str(request.data.get("free_wash", "true")).lower() in ("1", "true", "on"),
            promised_at=request.data.get("promised_at") or None,
        )
        return Response(self._summary(order))

    @action(detail=True, methods=["get"])
    def totals(self, request, pk=None):
        order = self.get_object()
        return Response(
            {**_totals(order), "promised_suggestion": estimate.promised_time(order).isoformat()}
        )

    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        order = self.get_object()
        order = authorization.repair_order_send_for_approval(
            actor=request.user, repair_order=order, version=_version(request)
        )
        return Response(self._summary(order))

    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        order = self.get_object()
        data = request.data
        png = None
        upload = request.FILES.get("signature") if hasattr(request, "FILES") else None
        if upload is not None:
            png = upload.read(authorization.MAX_SCAN_BYTES + 1)
        elif data.get("signature_png"):
            raw = str(data.get("signature_png"))
            if raw.startswith("data:"):
                raw = raw.partition(",")[2]
            try:
                png = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                message = _("The signature is not a readable PNG image.")
                raise ValidationFailed(
                    message, code="invalid_signature", fields={"signature": [message]}
                ) from None
        order = authorization.repair_order_sign(
            actor=request.user,
            repair_order=order,
            version=_version(request),
            kind=data.get("kind"),
            signed_by_name=data.get("signed_by_name"),
            signature_png=png,
        )
        return Response(self._summary(order))

    def _summary(self, order):
        return {
            "id": order.pk,
            "number": order.number,
            "status": order.status,
            "version": order.version,
            "payment_method": order.payment_method,
            "old_parts": order.old_parts,
            "free_wash": order.free_wash,
            "promised_at": order.promised_at.isoformat() if order.promised_at else None,
            "estimate_total": str(order.estimate_total),
            "signature_kind": order.signature_kind,
            "signed_by_name": order.signed_by_name,
            "signed_at": order.signed_at.isoformat() if order.signed_at else None,
        }


class EstimateLineViewSet(mixins.RetrieveModelMixin, ScopedByActionMixin, viewsets.GenericViewSet):
    queryset = RepairOrderLine.objects.all()
    serializer_class = LineSerializer
    action_verbs = {"decide": "authorize"}

    def required_permission(self):
        return f"workorders.{self.permission_verb()}_repairorder"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RepairOrderLine.objects.none()
        orders = RepairOrder.objects.restrict(self.request.user, self.permission_verb())
        return RepairOrderLine.objects.filter(repair_order__in=orders).select_related(
            "repair_order", "part", "operation", "reservation"
        )

    def partial_update(self, request, pk=None):
        line = self.get_object()
        line = estimate.line_update(
            actor=request.user,
            line=line,
            version=_version(request),
            quantity=request.data.get("quantity"),
            pay_type=request.data.get("pay_type"),
            unit_price=request.data.get("unit_price"),
            description=request.data.get("description"),
        )
        return Response(LineSerializer(line).data)

    def destroy(self, request, pk=None):
        line = self.get_object()
        estimate.line_remove(actor=request.user, line=line, version=_version(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        line = self.get_object()
        line = authorization.line_decide(
            actor=request.user,
            line=line,
            version=_version(request),
            decision=request.data.get("decision"),
            channel=request.data.get("channel"),
            customer_name=request.data.get("customer_name"),
            remarks=request.data.get("remarks") or "",
        )
        return Response(LineSerializer(line).data)


class DeclinedViewSet(mixins.ListModelMixin, ScopedByActionMixin, viewsets.GenericViewSet):
    """Declined recommendations the user may see, newest first (``?vehicle=<id>``)."""

    queryset = RepairOrderLine.objects.all()
    serializer_class = LineSerializer

    def required_permission(self):
        return "workorders.view_repairorder"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RepairOrderLine.objects.none()
        vehicle = self.request.query_params.get("vehicle")
        if vehicle is not None and not str(vehicle).isdigit():
            return RepairOrderLine.objects.none()
        return authorization.declined_recommendations(
            self.request.user, int(vehicle) if vehicle else None
        ).select_related("repair_order", "part", "operation", "reservation")


def register(router):
    router.register("workorders/estimate", EstimateViewSet, basename="ro-estimate")
    router.register("workorders/estimate-lines", EstimateLineViewSet, basename="ro-estimate-line")
    router.register("workorders/declined-recommendations", DeclinedViewSet, basename="ro-declined")
