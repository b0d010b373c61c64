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
}


class LicensingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "licensing"

    def ready(self) -> None:
        from organizations import audit

        audit.register_event_types(LICENSING_EVENT_TYPES)
