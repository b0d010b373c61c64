"""Set or clear the upgrade schedule of a selection of folders and devices, in one action.

One call is one transaction: every target is checked first (visible, allowed), then each
target's schedule is written and audited; a refusal for any target changes nothing. The
organization row is locked first, so two admins setting schedules at once apply one after the
other, each on what the other left.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.errors import Invalid, NotFound
from devices.models import Device
from devices.selectors import visible_devices
from organizations import access, audit
from organizations import selectors as organization_selectors
from organizations.models import Folder, Membership
from organizations.roles import Action
from organizations.services.locks import lock_organization
from upgrades.models import UpgradeSchedule

# The audit actions of this app, in words for the activity page (registered in apps.py).
UPGRADE_EVENT_TYPES = {"upgrade.schedule_set": gettext_lazy("Software schedule changed")}

INHERIT = "inherit"
MODES = (INHERIT, *UpgradeSchedule.Mode.values)
MAX_DURATION_MINUTES = 24 * 60
MAX_BLACKOUT_DATES = 366
MAX_SELECTION = 1000


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule to set: a mode, and for a window its days, start, duration and blackouts.

    `mode` INHERIT removes the target's own schedule, so it follows its folder again.
    Weekdays are 0 (Monday) … 6 (Sunday); the start is a wall time in the folder's zone.
    """

    mode: str
    weekdays: frozenset[int] = frozenset()
    start_time: time | None = None
    duration_minutes: int | None = None
    blackout_dates: tuple[date, ...] = field(default_factory=tuple)


def spec_problems(spec: ScheduleSpec) -> dict[str, list[str]]:
    """Return what is wrong with a schedule, by field (empty when it is fine)."""
    problems: dict[str, list[str]] = {}
    if spec.mode not in MODES:
        problems["mode"] = [
            _("Choose one of: %(modes)s.") % {"modes": ", ".join(MODES)},
        ]
        return problems
    if spec.mode != UpgradeSchedule.Mode.WINDOW:
        return problems
    if not spec.weekdays:
        problems["weekdays"] = [_("Choose at least one day of the week.")]
    elif not spec.weekdays <= set(range(7)):
        problems["weekdays"] = [_("Days of the week are 0 (Monday) to 6 (Sunday).")]
    if spec.start_time is None:
        problems["start_time"] = [_("Give the time the window starts, e.g. 02:00.")]
    elif (
        spec.start_time.tzinfo is not None or spec.start_time.second or spec.start_time.microsecond
    ):
        problems["start_time"] = [_("Give the start as hours and minutes, e.g. 02:00.")]
    if spec.duration_minutes is None or not 1 <= spec.duration_minutes <= MAX_DURATION_MINUTES:
        problems["duration_minutes"] = [
            _("A window lasts from 1 minute to 24 hours (1440 minutes).")
        ]
    if len(set(spec.blackout_dates)) > MAX_BLACKOUT_DATES:
        problems["blackout_dates"] = [
            _("At most %(count)s blackout dates.") % {"count": MAX_BLACKOUT_DATES}
        ]
    return problems


def describe(schedule: UpgradeSchedule | None) -> dict[str, Any]:
    """Return a schedule as plain data, for the audit log and the API (None: inherits)."""
    if schedule is None:
        return {"mode": INHERIT}
    data: dict[str, Any] = {"mode": schedule.mode}
    if schedule.mode == UpgradeSchedule.Mode.WINDOW:
        data.update(
            weekdays=[day for day in range(7) if schedule.weekdays & (1 << day)],
            start_time=schedule.start_time.strftime("%H:%M"),
            duration_minutes=schedule.duration_minutes,
            blackout_dates=list(schedule.blackout_dates),
        )
    return data


def _fields(spec: ScheduleSpec) -> dict[str, Any]:
    window = spec.mode == UpgradeSchedule.Mode.WINDOW
    return {
        "mode": spec.mode,
        "weekdays": sum(1 << day for day in spec.weekdays) if window else 0,
        "start_time": spec.start_time if window else None,
        "duration_minutes": spec.duration_minutes if window else None,
        "blackout_dates": sorted({d.isoformat() for d in spec.blackout_dates}) if window else [],
    }


def _targets(
    actor: Membership, folder_ids: Sequence[UUID], device_ids: Sequence[UUID]
) -> list[Folder | Device]:
    """Load every target through the visibility selectors; NotFound for any out of reach."""
    folders = [
        organization_selectors.get_visible_folder(actor, f) for f in dict.fromkeys(folder_ids)
    ]
    wanted = list(dict.fromkeys(device_ids))
    devices = list(visible_devices(actor).select_related("folder").filter(pk__in=wanted))
    if len(devices) != len(wanted):
        raise NotFound("device_not_found", _("Device not found."))
    return [*folders, *devices]


@transaction.atomic(durable=True)
def apply_schedule(
    *,
    actor: Membership,
    spec: ScheduleSpec,
    folder_ids: Iterable[UUID] = (),
    device_ids: Iterable[UUID] = (),
) -> int:
    """Give every selected folder and device the schedule `spec` (INHERIT clears theirs).

    Returns how many targets changed; a target that already has this schedule is left alone
    and not audited again.
    """
    access.require(actor, Action.UPGRADE_MANAGE)
    folder_ids, device_ids = list(folder_ids), list(device_ids)
    if not folder_ids and not device_ids:
        raise Invalid("empty_selection", _("Select at least one folder or device."))
    if len(folder_ids) + len(device_ids) > MAX_SELECTION:
        raise Invalid(
            "selection_too_large",
            _("Set schedules for at most %(count)s folders and devices at once.")
            % {"count": MAX_SELECTION},
        )
    if problems := spec_problems(spec):
        raise Invalid("invalid_schedule", next(iter(problems.values()))[0], problems)
    organization = lock_organization(actor.organization_id)
    targets = _targets(actor, folder_ids, device_ids)
    for target in targets:
        access.require(actor, Action.UPGRADE_MANAGE, target)
    folder_pks = [t.pk for t in targets if isinstance(t, Folder)]
    device_pks = [t.pk for t in targets if isinstance(t, Device)]
    existing = {
        (schedule.folder_id or schedule.device_id): schedule
        for schedule in UpgradeSchedule.objects.select_for_update().filter(
            Q(folder_id__in=folder_pks) | Q(device_id__in=device_pks)
        )
    }
    wanted = _fields(spec)
    changed = 0
    for target in targets:
        schedule = existing.get(target.pk)
        before = describe(schedule)
        if spec.mode == INHERIT:
            if schedule is None:
                continue
            schedule.delete()
            after = describe(None)
        else:
            if schedule is not None and all(
                getattr(schedule, name) == value for name, value in wanted.items()
            ):
                continue
            if schedule is None:
                target_field = "folder" if isinstance(target, Folder) else "device"
                schedule = UpgradeSchedule(organization=organization, **{target_field: target})
            for name, value in wanted.items():
                setattr(schedule, name, value)
            schedule.updated_at = timezone.now()
            schedule.updated_by = actor.user
            schedule.save()
            after = describe(schedule)
        audit.record(
            actor, organization, "upgrade.schedule_set", target, {"from": before, "to": after}
        )
        changed += 1
    return changed
