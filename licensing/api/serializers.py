"""Shapes of the licensing API (PRODUCT.md §8); scripts rely on them."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.api import StrictCharField, StrictUUIDField


class ProductStatusSerializer(serializers.Serializer):
    code = serializers.CharField(source="product.code")
    name = serializers.CharField(source="product.name")
    license_kinds = serializers.SerializerMethodField()
    is_started = serializers.BooleanField()
    trial_started_on = serializers.DateField(
        source="registration.trial_started_on", default=None, allow_null=True
    )
    subscription_started_on = serializers.DateField(
        source="registration.subscription_started_on", default=None, allow_null=True
    )
    year = serializers.IntegerField(allow_null=True)
    year_started_on = serializers.DateField(allow_null=True)
    grace_period_ends_on = serializers.DateField(allow_null=True)
    is_in_grace_period = serializers.BooleanField()
    need = serializers.IntegerField()
    allocated = serializers.IntegerField()
    is_fully_licensed = serializers.BooleanField()
    short_by = serializers.IntegerField()
    devices_in_use = serializers.IntegerField()
    growth_excess = serializers.IntegerField()

    def get_license_kinds(self, status) -> list[str]:
        product = status.product
        return [
            kind
            for kind, takes in (
                ("subscription", product.takes_subscription),
                ("hardware_extension", product.takes_hardware_extension),
                ("upgrade", product.takes_upgrade),
            )
            if takes
        ]


class StartSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["trial", "subscription"])


class RedeemSerializer(serializers.Serializer):
    key = StrictCharField(max_length=200, trim_whitespace=True)
    product = StrictCharField(max_length=40, required=False)


class AllocateSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=1, max_value=1000)
    count = serializers.IntegerField(min_value=1, max_value=1_000_000)


class TransferSerializer(serializers.Serializer):
    target_organization = StrictUUIDField()
    count = serializers.IntegerField(min_value=1, max_value=1_000_000)
    license_kind = serializers.ChoiceField(
        choices=["subscription", "hardware_extension", "upgrade"], default="subscription"
    )


class MovementSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    product = serializers.CharField(source="product.code")
    created_at = serializers.DateTimeField()
    by = serializers.CharField(source="actor_label")
    count = serializers.IntegerField(source="data.count", default=None, allow_null=True)
    details = serializers.DictField(source="data")


class CompensationSerializer(serializers.Serializer):
    license_days = serializers.IntegerField()
    licenses = serializers.IntegerField()
    carried_license_days = serializers.IntegerField()


class AllocationSerializer(serializers.Serializer):
    movement = MovementSerializer()
    compensation = CompensationSerializer()


class TransferResultSerializer(serializers.Serializer):
    movement = MovementSerializer()
    is_pending = serializers.BooleanField()


class WalletLotSerializer(serializers.Serializer):
    credited_on = serializers.DateField()
    count = serializers.IntegerField()
    expires_on = serializers.DateField()


class WalletLineSerializer(serializers.Serializer):
    product = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.name")
    license_kind = serializers.CharField()
    count = serializers.IntegerField()
    lots = WalletLotSerializer(many=True)


class HistoryFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            "redeem",
            "allocate",
            "compensate",
            "expire",
            "transfer",
            "transfer_land",
            "void",
            "activate",
            "upgrade",
        ],
        required=False,
    )
    product = serializers.CharField(max_length=40, required=False)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)

    def validate(self, attrs: dict) -> dict:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and until < since:
            raise serializers.ValidationError(
                {"until": [_("The end date is before the start date.")]}
            )
        return attrs


class HistoryItemSerializer(MovementSerializer):
    organization = serializers.CharField(source="organization.name")
    change = serializers.SerializerMethodField()

    def get_change(self, movement) -> dict[str, int]:
        from licensing import selectors

        return selectors.own_change(movement, self.context["organization_id"])
