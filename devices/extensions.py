"""Extension points of the device list that a later app fills from its `AppConfig.ready`.

`devices` may not import `upgrades` (the layers in pyproject.toml), yet the list shows which
devices have an upgrade recommended and filters on it. The upgrades app registers its answer
here (`register_upgrade_advisor`); without it the list has neither the column nor the filter's
effect (the filter then selects nothing, rather than pretending every device qualifies).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.db.models import QuerySet

from devices.models import Device


@dataclass(frozen=True)
class UpgradeAdvice:
    """The version a device should run and why, in words ("Security fix CVE-…")."""

    version: str
    reason: str


# (product number, running version) → the advice, or None.
Advise = Callable[[str, str], UpgradeAdvice | None]


class UpgradeAdvisor(Protocol):
    def narrow(self, devices: QuerySet[Device]) -> QuerySet[Device]:
        """Narrow a device queryset to the devices with an upgrade recommended."""

    def advise(self) -> Advise:
        """Read what advice needs once (a few queries), and return the per-device answer."""


_upgrade_advisor: UpgradeAdvisor | None = None


def register_upgrade_advisor(advisor: UpgradeAdvisor) -> None:
    global _upgrade_advisor  # one provider, set once at start-up
    _upgrade_advisor = advisor


def with_upgrade_recommended(devices: QuerySet[Device]) -> QuerySet[Device]:
    """The devices of `devices` with an upgrade recommended (none without a provider)."""
    advisor = _upgrade_advisor
    return advisor.narrow(devices) if advisor is not None else devices.none()


def upgrade_advisor_function() -> Advise:
    """Return the per-device advice (one catalog read now), or one that never advises."""
    if _upgrade_advisor is None:
        return lambda product_number, version: None
    return _upgrade_advisor.advise()


def upgrade_advice(devices: list[Device]) -> dict:
    """Return the advice of each device that has one, by device id, for a page of the list."""
    if not devices:
        return {}
    advise = upgrade_advisor_function()
    found = {}
    for device in devices:
        advice = advise(device.product_number, device.firmware_version)
        if advice is not None:
            found[device.pk] = advice
    return found
