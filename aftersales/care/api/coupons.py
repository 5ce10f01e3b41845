"""Coupon API (/api/care/coupons/...): the coupons the user may see (a dealer its own and
the OEM's coupons of its customers; another dealer's id answers 404), giving a goodwill
coupon, voiding one, checking a code (optionally against an invoice) and — at the
cashier — redeeming a code on an invoice and releasing it again. Every write accepts an
``Idempotency-Key``: a retry answers the first result and acts once."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.care import redeem, services
from aftersales.care.choices import CouponReason, CouponState
from aftersales.care.models import Coupon
from aftersales.core.api import ERROR, IDEMPOTENCY, validated
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.core.idempotency import once, request_key

INVALID = OpenApiResponse(ERROR, description="Invalid input; `fields` says what is wrong.")
REFUSED = OpenApiResponse(ERROR, description="Refused in the coupon's state (see `code`).")
WRITE = {400: INVALID, 403: ERROR, 404: ERROR, 409: REFUSED}


class CareCouponSerializer(serializers.ModelSerializer):
    display_code = serializers.CharField(read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    dealer_code = serializers.CharField(source="dealer.code", read_only=True, default=None)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", read_only=True, default=None)
    # plain strings, not enums: the names "state"/"reason" clash with other apps' enums
    state = serializers.CharField(read_only=True, help_text=", ".join(CouponState.values))
    reason = serializers.CharField(read_only=True, help_text=", ".join(CouponReason.values))

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "display_code",
            "customer",
            "customer_name",
            "dealer",
            "dealer_code",
            "amount",
            "percent",
            "min_spend",
            "valid_from",
            "valid_until",
            "reason",
            "note",
            "state",
            "state_label",
            "issued_at",
            "invoice",
            "invoice_number",
            "redeemed_at",
            "discount",
            "voided_at",
            "void_reason",
            "version",
        ]


class CareCouponIssueSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    dealer = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Empty: an OEM coupon."
    )
    amount = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    percent = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    min_spend = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None
    )
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(
        required=False, default=CouponReason.GOODWILL, help_text=", ".join(CouponReason.values)
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CareCouponVoidSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class CareCouponRedeemSerializer(serializers.Serializer):
    code = serializers.CharField(allow_blank=True)
    invoice = serializers.IntegerField()
    version = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="The invoice's version."
    )


class CareCouponCheckSerializer(serializers.Serializer):
    code = serializers.CharField()
    valid = serializers.BooleanField()
    refusal = serializers.CharField(allow_null=True, help_text="The refusal's code.")
    message = serializers.CharField(allow_blank=True)
    discount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    value = serializers.CharField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)


def _valid(serializer_class, request, data=None):
    return validated(serializer_class, request.data if data is None else data)


def _visible(model, request, pk):
    if pk is None:
        return None
    row = model.objects.restrict(request.user, "view").filter(pk=pk).first()
    if row is None:
        raise NotFound()
    return row


LIST_FILTERS = [
    OpenApiParameter("state", OpenApiTypes.STR, description=", ".join(CouponState.values)),
    OpenApiParameter("reason", OpenApiTypes.STR, description=", ".join(CouponReason.values)),
    OpenApiParameter("customer", OpenApiTypes.INT),
    OpenApiParameter("dealer", OpenApiTypes.INT),
    OpenApiParameter("code", OpenApiTypes.STR),
]


class CouponViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Coupons the user may see, and what is done with them."""

    queryset = Coupon.objects.select_related("customer", "dealer", "invoice").order_by(
        "-issued_at", "-id"
    )
    serializer_class = CareCouponSerializer
    action_verbs = {
        "create": "add",
        "void": "void",
        "check": "redeem",
        "redeem": "redeem",
        "release": "redeem",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            params = self.request.query_params
            if params.get("state"):
                queryset = queryset.filter(state__in=params["state"].split(","))
            if params.get("reason"):
                queryset = queryset.filter(reason__in=params["reason"].split(","))
            for name in ("customer", "dealer"):
                if params.get(name, "").isdigit():
                    queryset = queryset.filter(**{f"{name}_id": int(params[name])})
            if params.get("code"):
                queryset = queryset.filter(code=services.clean_code(params["code"]))
        return queryset

    def _once(self, scope, act):
        result, _acted = once(
            user=self.request.user,
            scope=scope,
            key=request_key(self.request),
            action=act,
            model=Coupon,
        )
        return result

    def _out(self, pk, code=status.HTTP_200_OK):
        fresh = self.queryset.get(pk=pk)
        return Response(CareCouponSerializer(fresh).data, status=code)

    @extend_schema(summary="Coupons the user may see", parameters=LIST_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One coupon")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Give a customer a coupon (goodwill; a dealer's, or the OEM's for all dealers)",
        request=CareCouponIssueSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: CareCouponSerializer, **WRITE},
    )
    def create(self, request):
        from aftersales.crm.models import Customer
        from aftersales.org.models import Dealer

        data = _valid(CareCouponIssueSerializer, request)
        customer = _visible(Customer, request, data.pop("customer"))
        dealer = _visible(Dealer, request, data.pop("dealer"))
        coupon = self._once(
            "care.coupon.issue",
            lambda: services.coupon_issue(
                actor=request.user, customer=customer, dealer=dealer, **data
            ),
        )
        return self._out(coupon.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Void an issued coupon",
        request=CareCouponVoidSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: CareCouponSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        coupon = self.get_object()
        data = _valid(CareCouponVoidSerializer, request)
        self._once(
            f"care.coupon.void:{coupon.pk}",
            lambda: services.coupon_void(actor=request.user, coupon=coupon, reason=data["reason"]),
        )
        return self._out(coupon.pk)

    @extend_schema(
        summary="Check a code: may it be used (on this invoice), and what would it give?",
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, required=True),
            OpenApiParameter("invoice", OpenApiTypes.INT, description="The customer invoice."),
        ],
        responses={200: CareCouponCheckSerializer, 403: ERROR, 404: ERROR},
    )
    @action(detail=False, methods=["get"])
    def check(self, request):
        code = services.clean_code(request.query_params.get("code", ""))
        invoice = request.query_params.get("invoice", "")
        if invoice and not invoice.isdigit():
            raise ValidationFailed(fields={"invoice": [_("An invoice id.")]})
        offer = redeem.coupon_check(
            actor=request.user, code=code, invoice=int(invoice) if invoice else None
        )
        coupon = offer.coupon
        return Response(
            {
                "code": code,
                "valid": offer.ok,
                "refusal": offer.refusal.code if offer.refusal else None,
                "message": str(offer.refusal.message) if offer.refusal else "",
                "discount": str(offer.discount) if offer.ok and invoice else None,
                "value": coupon.value_label if coupon else None,
                "valid_until": coupon.valid_until if coupon else None,
            }
        )

    @extend_schema(
        summary="Redeem a code on a customer invoice (the cashier, at settlement)",
        request=CareCouponRedeemSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: CareCouponSerializer, **WRITE},
    )
    @action(detail=False, methods=["post"])
    def redeem(self, request):
        data = _valid(CareCouponRedeemSerializer, request)
        coupon = self._once(
            f"care.coupon.redeem:{data['invoice']}",
            lambda: redeem.coupon_redeem(
                actor=request.user,
                code=data["code"],
                invoice=data["invoice"],
                version=data["version"],
            ),
        )
        return self._out(coupon.pk)

    @extend_schema(
        summary="Release a redeemed coupon (its draft invoice, or its invoice credited in full)",
        request=None,
        parameters=[IDEMPOTENCY],
        responses={200: CareCouponSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        coupon = self.get_object()
        self._once(
            f"care.coupon.release:{coupon.pk}",
            lambda: redeem.coupon_release(actor=request.user, coupon=coupon),
        )
        return self._out(coupon.pk)


def register(router):
    router.register("care/coupons", CouponViewSet, basename="care-coupon")
