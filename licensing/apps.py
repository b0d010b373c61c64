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
}


class LicensingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "licensing"

    def ready(self) -> None:
        from organizations import audit

        audit.register_event_types(LICENSING_EVENT_TYPES)
