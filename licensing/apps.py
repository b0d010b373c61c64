from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Words for licensing's audit actions on the activity page.
LICENSING_EVENT_TYPES = {
    "license.start_trial": _("Product trial started"),
    "license.start_subscription": _("Product subscription started"),
    "license.redeem": _("License key redeemed"),
    "license.allocate": _("Licenses allocated"),
    "license.compensate": _("Late allocation compensated"),
    "license.transfer_out": _("Licenses transferred out"),
    "license.transfer_in": _("Licenses transferred in"),
    "license.transfer_land": _("Transferred licenses landed"),
    "license.expire": _("Wallet licenses expired"),
    "license.register_hardware": _("Hardware registered"),
    "license.register_offline_system": _("Offline system registered"),
    "license.upload_system_file": _("System file uploaded"),
    "license.allocate_system": _("Licenses allocated to a system"),
    "license.issue_license_file": _("License file issued"),
    "license.apply_upgrade": _("Upgrade license applied"),
    "license.void": _("Subscription licenses voided"),
    "license.growth_exceeded": _("Devices beyond the growth allowance"),
}


class LicensingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "licensing"

    def ready(self) -> None:
        from devices.signals import device_created
        from organizations import audit
        from organizations.signals import organization_archived

        audit.register_event_types(LICENSING_EVENT_TYPES)
        organization_archived.connect(_void_on_archive, dispatch_uid="licensing.void_on_archive")
        device_created.connect(_check_growth_on_new_device, dispatch_uid="licensing.growth")


def _void_on_archive(sender, *, organization, actor, **kwargs) -> None:
    """Void the archived organization's active subscription licenses (same transaction)."""
    from licensing import services

    services.void_active_subscription_licenses(actor=actor, organization=organization)


def _check_growth_on_new_device(sender, *, device, **kwargs) -> None:
    """Check the organization's growth allowances once the new device is committed."""
    from licensing import tasks

    tasks.check_organization_growth.delay_on_commit(str(device.organization_id))
