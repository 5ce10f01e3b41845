from rest_framework import serializers

from aftersales.org.models import Dealer, Region, RoleAssignment, User


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name"]


class DealerSerializer(serializers.ModelSerializer):
    region = RegionSerializer(read_only=True)

    class Meta:
        model = Dealer
        fields = [
            "id",
            "code",
            "name",
            "city",
            "address",
            "phone",
            "opens_at",
            "closes_at",
            "active",
            "region",
            "updated_at",
        ]
        read_only_fields = ["id", "code", "region", "updated_at"]


class DealerUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    city = serializers.CharField(max_length=50, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    opens_at = serializers.TimeField(required=False)
    closes_at = serializers.TimeField(required=False)
    active = serializers.BooleanField(required=False)


class RoleAssignmentSerializer(serializers.ModelSerializer):
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ["id", "role", "role_display", "dealer", "region", "active"]


class StaffSerializer(serializers.ModelSerializer):
    roles = RoleAssignmentSerializer(source="active_roles", many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "mobile",
            "email",
            "dealer",
            "region",
            "is_active",
            "roles",
        ]
