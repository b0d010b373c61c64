"""Reads of the upgrades app: the catalog, recommendations, security exposure, schedules.

Recommendations and exposure are functions of (product number, running version) and the
catalog. The catalog is small (hundreds of releases), so it is read once per request
(`load_catalog`: three queries) and matched in Python; a list of devices costs the same few
queries whatever its length, and a filter over a whole fleet reads only its distinct
(product number, version) pairs — a fleet has dozens, not thousands.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from common.errors import NotFound
from devices.models import Device
from devices.selectors import visible_devices
from organizations import access
from organizations.models import Folder, Membership
from organizations.roles import Action
from upgrades.models import (
    Advisory,
    FirmwareRelease,
    TaskState,
    UpgradeJob,
    UpgradeSchedule,
    UpgradeTask,
)
from upgrades.versions import ACTIVE, is_version, track_label, track_of, version_key
from upgrades.windows import Window, current_or_next_window

# --- Catalog, recommendations, exposure ---------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """The release a device should get, and why."""

    release: FirmwareRelease
    track: str
    security_fixes: tuple[Advisory, ...] = ()

    @property
    def is_security(self) -> bool:
        return bool(self.security_fixes)

    @property
    def reason(self) -> str:
        """Why, in words: "Security fix CVE-…, CVE-…" or "Newer on your track (LTS 11.11)"."""
        if self.security_fixes:
            return _("Security fix %(cves)s") % {
                "cves": ", ".join(a.cve_id for a in self.security_fixes)
            }
        return _("Newer on your track (%(track)s)") % {"track": track_label(self.track)}


@dataclass(frozen=True)
class Exposure:
    """A known vulnerability a device still has, and the first release on its track fixing it."""

    advisory: Advisory
    fixed_in: FirmwareRelease


_SEVERITY_RANK = {s: i for i, s in enumerate(reversed(Advisory.Severity.values))}


def _severity_first(advisory: Advisory) -> tuple[int, str]:
    return (_SEVERITY_RANK[advisory.severity], advisory.cve_id)


class Catalog:
    """The whole catalog in memory, indexed by (product number, track), oldest first."""

    def __init__(self, releases: Iterable[FirmwareRelease]) -> None:
        self.releases = list(releases)
        self._by_product_track: dict[tuple[str, str], list[FirmwareRelease]] = defaultdict(list)
        for release in self.releases:
            for product in release.products.all():
                self._by_product_track[(product.product_number, release.track)].append(release)
        for line in self._by_product_track.values():
            line.sort(key=lambda r: r.version_key)
        active = [int(r.version.split(".")[0]) for r in self.releases if r.track == ACTIVE]
        # The active track's major is the newest major the catalog has active releases of.
        self.active_major = max(active) if active else None

    @cached_property
    def advisories(self) -> list[Advisory]:
        """Every CVE some release fixes, most severe first, then by CVE ID."""
        found = {a.pk: a for r in self.releases for a in r.fixes.all()}
        return sorted(found.values(), key=_severity_first)

    def _line(self, product_number: str, version: str) -> tuple[str | None, list]:
        track = track_of(version, active_major=self.active_major)
        if track is None:
            return None, []
        return track, self._by_product_track.get((product_number, track), [])

    def has_line(self, product_number: str, version: str) -> bool:
        """Return True when the catalog has releases for this product on this version's track."""
        return bool(self._line(product_number, version)[1])

    def exposures(self, product_number: str, version: str) -> list[Exposure]:
        """Return the CVEs a device of this product on this version still has.

        A CVE is exposed when a release on the device's track for its product fixes it and
        is newer than the device's version; `fixed_in` is the oldest such release. A device
        on a track no release of which names the CVE is not counted as exposed.
        """
        _track, line = self._line(product_number, version)
        if not line:
            return []
        current = version_key(version)
        first_fix: dict[int, tuple[Advisory, FirmwareRelease]] = {}
        for release in line:  # oldest first
            for advisory in release.fixes.all():
                first_fix.setdefault(advisory.pk, (advisory, release))
        return [
            Exposure(advisory, release)
            for advisory, release in first_fix.values()
            if release.version_key > current
        ]

    def recommendation(self, product_number: str, version: str) -> Recommendation | None:
        """Return the newest recommended release on the device's track newer than `version`."""
        track, line = self._line(product_number, version)
        current = version_key(version) if track else ""
        candidates = [r for r in line if r.recommended and r.version_key > current]
        if not candidates:
            return None
        newest = candidates[-1]
        fixes = sorted(
            (
                e.advisory
                for e in self.exposures(product_number, version)
                if e.fixed_in.version_key <= newest.version_key
            ),
            key=_severity_first,
        )
        return Recommendation(newest, track or ACTIVE, tuple(fixes))


def load_catalog() -> Catalog:
    """Read the whole catalog (three queries)."""
    return Catalog(FirmwareRelease.objects.prefetch_related("products", "fixes").order_by())


def catalog_releases() -> QuerySet[FirmwareRelease]:
    """The catalog for people to read (it is the same for every organization), newest first."""
    return FirmwareRelease.objects.prefetch_related("products", "fixes").order_by(
        "-version_key", "image_name"
    )


def recommendations_for(
    devices: Iterable[Device], catalog: Catalog | None = None
) -> dict[uuid.UUID, Recommendation]:
    """Return the recommendation of each device that has one, by device id (bulk, no per-row
    queries): for a page of the device list, call with the page's devices."""
    catalog = catalog or load_catalog()
    found = {}
    for device in devices:
        if is_version(device.firmware_version):
            recommendation = catalog.recommendation(device.product_number, device.firmware_version)
            if recommendation is not None:
                found[device.pk] = recommendation
    return found


def _pairs_where(devices: QuerySet[Device], keep) -> Q | None:
    """Return a filter matching the (product number, version) pairs of `devices` that `keep`."""
    pairs = devices.order_by().values_list("product_number", "firmware_version").distinct()
    matching = Q()
    any_pair = False
    for product_number, version in pairs:
        if is_version(version) and keep(product_number, version):
            matching |= Q(product_number=product_number, firmware_version=version)
            any_pair = True
    return matching if any_pair else None


def with_upgrade_recommended(
    devices: QuerySet[Device], catalog: Catalog | None = None
) -> QuerySet[Device]:
    """Narrow a device queryset to the devices that have an upgrade recommended.

    For the device list's "upgrade recommended" filter: pass the visible devices (already
    narrowed by folder, model, …); one query reads their distinct (model, version) pairs.
    """
    catalog = catalog or load_catalog()
    where = _pairs_where(devices, lambda p, v: catalog.recommendation(p, v) is not None)
    return devices.filter(where) if where is not None else devices.none()


def exposed_devices(devices: QuerySet[Device], catalog: Catalog | None = None) -> QuerySet[Device]:
    """Narrow a device queryset to the devices exposed to at least one CVE of the catalog."""
    catalog = catalog or load_catalog()
    where = _pairs_where(devices, lambda p, v: bool(catalog.exposures(p, v)))
    return devices.filter(where) if where is not None else devices.none()


def exposed_device_count(membership: Membership) -> int:
    """Return "N devices exposed to known vulnerabilities" for the organization's overview."""
    return exposed_devices(visible_devices(membership)).count()


@dataclass
class CveExposure:
    """One CVE of the catalog and the member's visible devices that still have it."""

    advisory: Advisory
    devices: list[tuple[Device, FirmwareRelease]] = field(default_factory=list)
    count: int = 0


def security_exposure(membership: Membership, *, per_cve: int = 100) -> list[CveExposure]:
    """Return every CVE in the catalog with the visible devices still exposed to it.

    Each CVE lists at most `per_cve` devices (by name) with the release that fixes it for
    them; `CveExposure.count` has the full number.
    """
    catalog = load_catalog()
    rows = {a.pk: CveExposure(a) for a in catalog.advisories}
    counts: dict[int, int] = defaultdict(int)
    devices = exposed_devices(visible_devices(membership), catalog).select_related("folder")
    for device in devices.order_by("name", "id"):
        for exposure in catalog.exposures(device.product_number, device.firmware_version):
            counts[exposure.advisory.pk] += 1
            if len(rows[exposure.advisory.pk].devices) < per_cve:
                rows[exposure.advisory.pk].devices.append((device, exposure.fixed_in))
    for pk, row in rows.items():
        row.count = counts[pk]
    return list(rows.values())


# --- Schedules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveSchedule:
    """The schedule that applies to a folder or device, where it comes from, and its zone."""

    schedule: UpgradeSchedule | None  # None: nobody set one (manual only)
    source: Folder | Device | None
    time_zone: str  # the IANA name windows are read in ("UTC" when no folder sets one)
    inherited: bool

    @property
    def mode(self) -> str:
        return self.schedule.mode if self.schedule else UpgradeSchedule.Mode.NONE

    def window(self) -> Window | None:
        """Return the maintenance window as a pure `Window`, or None for other modes."""
        if self.schedule is None or self.mode != UpgradeSchedule.Mode.WINDOW:
            return None
        return window_of(self.schedule, self.time_zone)


def zone(name: str) -> ZoneInfo:
    """Return the ZoneInfo of a folder's zone name, UTC when empty or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def window_of(schedule: UpgradeSchedule, time_zone: str) -> Window:
    """Return a window schedule as a pure `Window` in the given zone."""
    return Window(
        weekdays=frozenset(d for d in range(7) if schedule.weekdays & (1 << d)),
        start=schedule.start_time,
        duration=timedelta(minutes=schedule.duration_minutes),
        time_zone=zone(time_zone),
        blackout_dates=frozenset(date.fromisoformat(d) for d in schedule.blackout_dates),
    )


def _ancestor_ids(folder: Folder) -> list[uuid.UUID]:
    """The folder's own id and its ancestors' ids, nearest first (from its materialized path)."""
    return [uuid.UUID(part) for part in reversed(folder.path.split("/")) if part]


def _effective(
    chain: list[uuid.UUID],
    folders: dict[uuid.UUID, Folder],
    schedules: dict[uuid.UUID, UpgradeSchedule],
    device: Device | None = None,
    device_schedule: UpgradeSchedule | None = None,
) -> EffectiveSchedule:
    time_zone = next((folders[f].time_zone for f in chain if folders[f].time_zone), "") or "UTC"
    if device_schedule is not None:
        return EffectiveSchedule(device_schedule, device, time_zone, inherited=False)
    for position, folder_id in enumerate(chain):
        if folder_id in schedules:
            inherited = device is not None or position > 0
            return EffectiveSchedule(
                schedules[folder_id], folders[folder_id], time_zone, inherited=inherited
            )
    return EffectiveSchedule(None, None, time_zone, inherited=True)


def _folders_and_schedules(
    folder_ids: set[uuid.UUID],
) -> tuple[dict[uuid.UUID, Folder], dict[uuid.UUID, UpgradeSchedule]]:
    folders = {
        f.pk: f for f in Folder.objects.filter(pk__in=folder_ids).only("id", "name", "time_zone")
    }
    schedules = {s.folder_id: s for s in UpgradeSchedule.objects.filter(folder_id__in=folder_ids)}
    return folders, schedules


def effective_folder_schedule(folder: Folder) -> EffectiveSchedule:
    """Return what applies to a folder: its own schedule, else the nearest ancestor's."""
    chain = _ancestor_ids(folder)
    folders, schedules = _folders_and_schedules(set(chain))
    return _effective(chain, folders, schedules)


def effective_device_schedules(devices: Iterable[Device]) -> dict[uuid.UUID, EffectiveSchedule]:
    """Return the schedule each device follows, by device id, in three queries for any number.

    Devices need their `folder` loaded (select_related).
    """
    devices = list(devices)
    chains = {d.pk: _ancestor_ids(d.folder) for d in devices}
    folder_ids = {f for chain in chains.values() for f in chain}
    folders, schedules = _folders_and_schedules(folder_ids)
    own = {
        s.device_id: s
        for s in UpgradeSchedule.objects.filter(device_id__in=[d.pk for d in devices])
    }
    return {d.pk: _effective(chains[d.pk], folders, schedules, d, own.get(d.pk)) for d in devices}


def own_schedule(*, folder: Folder | None = None, device: Device | None = None):
    """Return the schedule set on exactly this folder or device, or None (it inherits)."""
    if folder is not None:
        return UpgradeSchedule.objects.filter(folder=folder).first()
    return UpgradeSchedule.objects.filter(device=device).first()


def upcoming_window(
    effective: EffectiveSchedule, now: datetime
) -> tuple[datetime, datetime] | None:
    """Return (start, end) of the window open at `now`, else the next one, or None."""
    window = effective.window()
    return current_or_next_window(window, now) if window else None


def source_visible_to(membership: Membership, effective: EffectiveSchedule) -> bool:
    """Tell whether the member may see where an inherited schedule comes from.

    An operator or viewer granted a subfolder follows its ancestors' schedule but does not see
    those folders; pages and the API then say "a folder above" without naming it.
    """
    source = effective.source
    if source is None or isinstance(source, Device) or access.sees_all_folders(membership):
        return source is not None
    return access.visible_folders(membership).filter(pk=source.pk).exists()


# --- Upgrade jobs and tasks -----------------------------------------------------------------


def visible_tasks(membership: Membership) -> QuerySet[UpgradeTask]:
    """Return the upgrade tasks the member may see: all of the organization for admins and
    owners, the tasks of the devices they can see for operators and viewers."""
    tasks = UpgradeTask.objects.filter(organization_id=membership.organization_id)
    if not access.can(membership, Action.DEVICE_VIEW):
        return tasks.none()
    if access.sees_all_folders(membership):
        return tasks
    return tasks.filter(device_id__in=visible_devices(membership).values("pk"))


def visible_jobs(membership: Membership) -> QuerySet[UpgradeJob]:
    """Return the upgrade jobs the member may see: all for admins and owners, else the jobs
    with at least one task of a device they can see."""
    jobs = UpgradeJob.objects.filter(organization_id=membership.organization_id)
    if not access.can(membership, Action.DEVICE_VIEW):
        return jobs.none()
    if access.sees_all_folders(membership):
        return jobs
    return jobs.filter(pk__in=visible_tasks(membership).values("job_id"))


def get_visible_job(membership: Membership, job_id: uuid.UUID | str) -> UpgradeJob:
    """Return one visible job, or NotFound."""
    job = visible_jobs(membership).filter(pk=job_id).first()
    if job is None:
        raise NotFound("job_not_found", _("Upgrade job not found."))
    return job


def get_visible_task(membership: Membership, task_id: uuid.UUID | str) -> UpgradeTask:
    """Return one visible task (with its job and device), or NotFound."""
    task = visible_tasks(membership).select_related("job", "device").filter(pk=task_id).first()
    if task is None:
        raise NotFound("task_not_found", _("Upgrade task not found."))
    return task


def job_counts(job: UpgradeJob, membership: Membership | None = None) -> dict[str, int]:
    """Return how many of the job's tasks are in each state (every state, zeros included).

    With `membership`, only the tasks that member may see are counted.
    """
    tasks = visible_tasks(membership) if membership is not None else UpgradeTask.objects
    counts = dict.fromkeys(TaskState.values, 0)
    rows = tasks.filter(job_id=job.pk).order_by().values_list("state").annotate(n=Count("pk"))
    for state, number in rows:
        counts[state] = number
    return counts
