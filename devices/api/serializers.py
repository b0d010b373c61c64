"""Shapes of the device API: the device as scripts read it, the inputs of onboarding and changes.

The password is write-only everywhere: no answer carries it.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api import StrictCharField, StrictUUIDField
from devices import extensions
from devices.models import Device, DeviceImport, DeviceImportRow
from devices.onboarding import PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH

# The schema's names of the two state enums (settings SPECTACULAR_SETTINGS).
IMPORT_STATES = DeviceImport.State.choices
IMPORT_ROW_STATES = DeviceImportRow.State.choices


class UpgradeAdviceSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="The recommended release on the device's track.")
    reason = serializers.CharField(help_text='Why, in words: "Security fix CVE-…", …')


class DeviceSerializer(serializers.ModelSerializer):
    """One device: identity, address, status; `folder` is the folder's id.

    `upgrade_recommended` comes from the context's `upgrade_advice` (a list reads it once for
    its page, `devices.extensions.upgrade_advice`); without it, it is read for this device.
    """

    folder = serializers.UUIDField(source="folder_id", read_only=True)
    last_seen = serializers.DateTimeField(source="last_seen_at", read_only=True, allow_null=True)
    upgrade_recommended = serializers.SerializerMethodField()

    @extend_schema_field(UpgradeAdviceSerializer(allow_null=True))
    def get_upgrade_recommended(self, device: Device) -> dict | None:
        advice = self.context.get("upgrade_advice")
        if advice is None:
            advice = extensions.upgrade_advice([device])
        found = advice.get(device.pk)
        return {"version": found.version, "reason": found.reason} if found else None

    class Meta:
        model = Device
        fields = [
            "id",
            "name",
            "serial_number",
            "mac_address",
            "product_number",
            "product_name",
            "firmware_version",
            "hardware_id",
            "has_ptz",
            "status",
            "folder",
            "last_seen",
            "scheme",
            "host",
            "port",
            "username",
            "certificate_fingerprint",
            "created_at",
            "upgrade_recommended",
        ]
        read_only_fields = fields


class DeviceCreateSerializer(serializers.Serializer):
    host = StrictCharField(max_length=253)
    port = serializers.IntegerField(
        min_value=1, max_value=65535, required=False, help_text="Default: 80 (http), 443 (https)."
    )
    scheme = serializers.ChoiceField(choices=Device.Scheme.choices, default=Device.Scheme.HTTP)
    username = StrictCharField(max_length=USERNAME_MAX_LENGTH)
    password = StrictCharField(
        max_length=PASSWORD_MAX_LENGTH, write_only=True, trim_whitespace=False
    )
    folder = StrictUUIDField(help_text="The id of a folder the caller can see.")
    certificate_fingerprint = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=95,
        help_text="HTTPS: the SHA-256 fingerprint the device must present; empty trusts the "
        "certificate it presents now (and pins it).",
    )


class DeviceUpdateSerializer(serializers.Serializer):
    folder = StrictUUIDField(required=False, help_text="Move the device to this folder.")
    username = StrictCharField(max_length=USERNAME_MAX_LENGTH, required=False)
    password = StrictCharField(
        max_length=PASSWORD_MAX_LENGTH, write_only=True, required=False, trim_whitespace=False
    )

    def validate(self, attrs: dict) -> dict:
        if ("username" in attrs) != ("password" in attrs):
            raise serializers.ValidationError(
                {"password": [_("Send the user name and the password together.")]}
            )
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send a folder, or a user name and password.")]}
            )
        return attrs


class DeviceImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file (see the import page for its format).")
    folder = StrictUUIDField(help_text="The folder of rows that name none.")


class DeviceImportRowSerializer(serializers.ModelSerializer):
    folder = serializers.UUIDField(source="target_folder_id", read_only=True, allow_null=True)
    device = serializers.UUIDField(source="device_id", read_only=True, allow_null=True)

    class Meta:
        model = DeviceImportRow
        fields = [
            "line_number",
            "host",
            "port",
            "scheme",
            "username",
            "folder",
            "state",
            "code",
            "message",
            "serial_number",
            "product_number",
            "firmware_version",
            "certificate_fingerprint",
            "device",
        ]
        read_only_fields = fields


class DeviceImportSummarySerializer(serializers.ModelSerializer):
    """An import in the list: its state, without the rows (read its own URL for those)."""

    folder = serializers.UUIDField(source="default_folder_id", read_only=True, allow_null=True)

    class Meta:
        model = DeviceImport
        fields = [
            "id",
            "state",
            "file_name",
            "folder",
            "row_count",
            "created_at",
            "expires_at",
            "finished_at",
        ]
        read_only_fields = fields


class DeviceImportSerializer(serializers.ModelSerializer):
    folder = serializers.UUIDField(source="default_folder_id", read_only=True, allow_null=True)
    counts = serializers.SerializerMethodField()
    rows = serializers.SerializerMethodField()

    class Meta:
        model = DeviceImport
        fields = [
            "id",
            "state",
            "file_name",
            "folder",
            "row_count",
            "counts",
            "created_at",
            "expires_at",
            "finished_at",
            "rows",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "description": "Rows by state (pending, ready, refused, onboarding, onboarded, "
            "failed, skipped).",
            "additionalProperties": {"type": "integer"},
        }
    )
    def get_counts(self, device_import: DeviceImport) -> dict[str, int]:
        return self.context["progress"].counts

    @extend_schema_field(DeviceImportRowSerializer(many=True))
    def get_rows(self, device_import: DeviceImport) -> list[dict]:
        return DeviceImportRowSerializer(self.context["rows"], many=True).data
