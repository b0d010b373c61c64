"""What the upgrades app tells the device list (registered in UpgradesConfig.ready).

The devices app may not import this one; it asks `devices.extensions` instead, which this
advisor fills: the "upgrade recommended" filter (page, CSV export and API) and the list's column.
"""

from django.db.models import QuerySet

from devices.extensions import Advise, UpgradeAdvice
from devices.models import Device
from upgrades import selectors
from upgrades.versions import is_version


class RecommendationAdvisor:
    """The catalog's recommendations as the device list reads them."""

    def narrow(self, devices: QuerySet[Device]) -> QuerySet[Device]:
        return selectors.with_upgrade_recommended(devices)

    def advise(self) -> Advise:
        catalog = selectors.load_catalog()

        def advise(product_number: str, version: str) -> UpgradeAdvice | None:
            if not is_version(version):
                return None
            recommendation = catalog.recommendation(product_number, version)
            if recommendation is None:
                return None
            return UpgradeAdvice(
                version=recommendation.release.version,
                # The reason reads after the version: "11.11.73 — security fix CVE-…".
                reason=recommendation.reason,
            )

        return advise
