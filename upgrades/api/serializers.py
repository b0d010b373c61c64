"""Serializers of the upgrades API: schedules in and out."""

from rest_framework import serializers

from upgrades.services import INHERIT
from upgrades.services.schedules import MAX_BLACKOUT_DATES, MODES


class ScheduleInputSerializer(serializers.Serializer):
    """PUT body: a mode ("inherit", "none", "asap", "window") and, for a window, its fields."""

    mode = serializers.ChoiceField(choices=MODES)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        max_length=7,
        help_text="Days the window starts on: 0 is Monday, 6 is Sunday.",
    )
    start_time = serializers.TimeField(
        required=False, allow_null=True, format="%H:%M", input_formats=["%H:%M"]
    )
    duration_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=24 * 60
    )
    blackout_dates = serializers.ListField(
        child=serializers.DateField(), required=False, max_length=MAX_BLACKOUT_DATES
    )


class WindowSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ScheduleSerializer(serializers.Serializer):
    """A schedule as plain data: `services.describe` plus, in force, where it comes from."""

    mode = serializers.CharField(help_text=f"{INHERIT!r} when the target has none of its own")
    weekdays = serializers.ListField(child=serializers.IntegerField(), required=False)
    start_time = serializers.CharField(required=False)
    duration_minutes = serializers.IntegerField(required=False)
    blackout_dates = serializers.ListField(child=serializers.CharField(), required=False)


class EffectiveScheduleSerializer(ScheduleSerializer):
    source_type = serializers.CharField(allow_null=True)
    source_id = serializers.CharField(allow_null=True)
    time_zone = serializers.CharField()
    next_window = WindowSerializer(allow_null=True)


class ScheduleStateSerializer(serializers.Serializer):
    schedule = ScheduleSerializer(help_text="Set on this folder or device itself.")
    effective = EffectiveScheduleSerializer(help_text="In force: own, else inherited.")


class ExposedDeviceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    product_number = serializers.CharField()
    firmware_version = serializers.CharField()
    fixed_in = serializers.CharField(
        help_text="The first version on the device's track that fixes it."
    )


class VulnerabilitySerializer(serializers.Serializer):
    cve_id = serializers.CharField()
    severity = serializers.CharField()
    summary = serializers.CharField()
    exposed_count = serializers.IntegerField()
    devices = ExposedDeviceSerializer(many=True, help_text="At most 100, by name.")


class SecurityExposureSerializer(serializers.Serializer):
    exposed_devices = serializers.IntegerField(
        help_text="Visible devices exposed to at least one known vulnerability."
    )
    vulnerabilities = VulnerabilitySerializer(many=True)
