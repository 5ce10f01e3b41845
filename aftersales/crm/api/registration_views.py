"""Owner registration API (the owner's side; pages come later): ask for a code, confirm it.

Any signed-in login may call these; staff roles are not needed (an owner has none)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.core.api import service_error_response
from aftersales.crm.registration import TooManyCodes, registration_confirm, registration_start


class RegistrationStartSerializer(serializers.Serializer):
    vin_last8 = serializers.CharField(help_text="The last 8 characters of the VIN.")
    id_number = serializers.CharField(help_text="The owner's 18-character resident ID number.")
    mobile = serializers.CharField(help_text="The mobile number the dealer registered.")


class RegistrationStartedSerializer(serializers.Serializer):
    message = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds a code stays valid.")
    resend_after = serializers.IntegerField(help_text="Seconds before another code may be sent.")


class RegistrationConfirmSerializer(serializers.Serializer):
    mobile = serializers.CharField()
    code = serializers.CharField(help_text="The 6-digit code from the SMS.")


class RegistrationLinkedSerializer(serializers.Serializer):
    message = serializers.CharField()
    customer = serializers.IntegerField(help_text="The customer record the login is linked to.")
    name = serializers.CharField()


class RegistrationErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


_ERRORS = {
    400: OpenApiResponse(
        RegistrationErrorSerializer, description="Malformed input (see `fields`)."
    ),
    401: OpenApiResponse(RegistrationErrorSerializer, description="Not signed in."),
}


class RegistrationStartView(APIView):
    """Step 1: ask for a code. The answer is the same whether or not the details match a
    vehicle's owner, and the send limits count for every number asked about."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="owner_registration_start",
        tags=["owner registration"],
        request=RegistrationStartSerializer,
        responses={
            202: RegistrationStartedSerializer,
            **_ERRORS,
            429: OpenApiResponse(
                RegistrationErrorSerializer,
                description="A code went to this number less than 60 s ago, or 10 today. "
                "The Retry-After header says when to ask again.",
            ),
        },
        examples=[
            OpenApiExample(
                "request",
                request_only=True,
                value={
                    "vin_last8": "RB123456",
                    "id_number": "110105198506151234",
                    "mobile": "13912345678",
                },
            )
        ],
    )
    def post(self, request):
        payload = RegistrationStartSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            answer = registration_start(user=request.user, **payload.validated_data)
        except TooManyCodes as exc:
            response = service_error_response(exc)
            response["Retry-After"] = str(exc.retry_after)
            return response
        return Response(
            {
                "message": answer.message,
                "expires_in": answer.expires_in,
                "resend_after": answer.resend_after,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class RegistrationConfirmView(APIView):
    """Step 2: confirm the code; the login is then linked to the customer. Repeating a
    successful confirm with the same code answers the same success again."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="owner_registration_confirm",
        tags=["owner registration"],
        request=RegistrationConfirmSerializer,
        responses={
            200: RegistrationLinkedSerializer,
            **_ERRORS,
            409: OpenApiResponse(
                RegistrationErrorSerializer,
                description="The customer is linked to another login, or this login to "
                "another customer.",
            ),
        },
    )
    def post(self, request):
        payload = RegistrationConfirmSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        customer = registration_confirm(user=request.user, **payload.validated_data)
        return Response(
            {
                "message": _("Your login is now linked to your vehicle records."),
                "customer": customer.pk,
                "name": customer.name,
            }
        )
