"""One simulated camera's state: identity, users, firmware slots, boot cycle and faults.

Nothing here speaks HTTP. The camera asks its `CameraHost` (the fleet) to schedule timers and to
open or close its listener; the fleet does the I/O. Durations are simulated seconds; the host
multiplies them by the time scale.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from asyncio import TimerHandle
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from .activity import Activity
from .applications import Application, initial_applications
from .catalog import PRODUCTS, TRACKS, ApiProfile, Product, api_profile, parse_version
from .faults import coerce_argument

if TYPE_CHECKING:
    from .tls import Certificate

ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "viewer": ("viewer",),
    "operator": ("operator", "viewer"),
    "admin": ("admin", "operator", "viewer"),
}
LEVELS = ("anonymous", "viewer", "operator", "admin")

RUNNING = "running"
BOOTING = "booting"
DOWN = "down"


@dataclass(frozen=True)
class Timing:
    """Simulated durations in seconds (VAPIX.md §14.6 defaults)."""

    verify: float = 10.0
    pre_reboot: float = 5.0
    down: float = 60.0
    boot: float = 30.0


@dataclass
class Knobs:
    """Per-camera behaviour switches for things VAPIX.md marks as unknown or configurable."""

    # recommended = Digest offered on HTTP, Basic on HTTPS (VAPIX.md §2.1); both = two challenges
    auth_policy: str = "recommended"
    digest_qop: bool = True
    privilege_status: int = 401  # what a valid but too weak user gets on non-JSON CGIs
    reject_json_filename: bool = False  # 400 "Only string objects allowed." (VAPIX.md §6.3)
    # none | length | complex (VAPIX.md §9.5)
    passphrase_policy: str = "none"  # noqa: S105 - a policy name, not a password
    purge_before_validation: bool = True  # VAPIX.md §14 item 19
    nonce_max_uses: int = 0  # >0: a nonce used more often (nc above it) is answered stale=TRUE
    lockout_after: int = 0  # >0: that many failed logins lock the camera for lockout_seconds
    lockout_seconds: int = 60  # simulated seconds
    down_mode: str = "refuse"  # refuse (TCP refused) | blackhole (accepted, never answered)
    hard_reset_changes_ip: bool = False  # hard factory default: unreachable at this address
    answer_after_flash: bool = False  # upgrade answer after the pre-reboot (flash) time
    upload_stall_seconds: int = 0  # upload-stall fault: simulated seconds, 0 = until cleared

    def update(self, values: dict[str, object]) -> None:
        """Set knobs from a dict, rejecting unknown names and wrong values with ValueError."""
        allowed: dict[str, tuple[object, ...]] = {
            "auth_policy": ("digest", "basic", "both", "recommended"),
            "digest_qop": (True, False),
            "privilege_status": (401, 403),
            "reject_json_filename": (True, False),
            "passphrase_policy": ("none", "length", "complex"),
            "purge_before_validation": (True, False),
            "down_mode": ("refuse", "blackhole"),
            "hard_reset_changes_ip": (True, False),
            "answer_after_flash": (True, False),
        }
        counts = ("nonce_max_uses", "lockout_after", "lockout_seconds", "upload_stall_seconds")
        for name, value in values.items():
            if name in counts:
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"bad knob {name}={value!r}")
            elif name not in allowed or value not in allowed[name]:
                raise ValueError(f"bad knob {name}={value!r}")
        for name, value in values.items():
            setattr(self, name, value)


@dataclass
class User:
    """A local account: secondary groups are a subset of admin/operator/viewer/ptz."""

    name: str
    password: str
    groups: frozenset[str]
    comment: str = ""
    primary: str = "users"

    @property
    def level(self) -> str:
        """Return the highest role the account holds."""
        for level in ("admin", "operator", "viewer"):
            if level in self.groups:
                return level
        return "anonymous"

    def has_level(self, level: str) -> bool:
        """Return whether the account holds `level` or more."""
        return LEVELS.index(self.level) >= LEVELS.index(level)


@dataclass
class PtzPreset:
    """A server preset position."""

    name: str
    pan: float
    tilt: float
    zoom: float


@dataclass
class Settings:
    """What a rollback restores: the configuration snapshot taken when an upgrade starts."""

    users: dict[str, User]
    params: dict[str, str]
    presets: dict[int, PtzPreset]

    def copy(self) -> Settings:
        """Return an independent copy (users and presets are replaced, never mutated)."""
        return Settings(dict(self.users), dict(self.params), dict(self.presets))


@dataclass
class PendingUpgrade:
    """How an installed image must behave at its first boot."""

    auto_commit: str  # never | boot | started
    auto_rollback_minutes: int | None
    boots: bool
    factory_default: str  # none | soft | hard


class CameraHost(Protocol):
    """What a camera needs from the fleet that runs it."""

    time_scale: float
    timing: Timing
    running: bool  # False once the fleet is stopping
    activity: Activity  # fleet-wide upgrade counters (activity.py)

    def schedule(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        """Call `callback` after `seconds` simulated seconds; return a cancellable handle."""

    def monotonic(self) -> float:
        """Return the loop's monotonic time in real seconds."""

    def sync_listener(self, camera: Camera) -> None:
        """Open or close the camera's listener to match `camera.should_listen()`."""


@dataclass
class Identity:
    """What never changes for a camera: who it is and where it listens."""

    index: int
    serial: str
    product: Product
    host: str
    port: int
    admin_password: str
    operator_password: str
    viewer_password: str
    initial_version: str
    soc_serial: str
    https_port: int | None = None  # set by the fleet when it serves HTTPS
    applications: tuple[Application, ...] = ()  # installed when the fleet starts

    @property
    def mac(self) -> str:
        """Return the MAC (upper case, colons): the serial, as on real cameras (VAPIX.md §12)."""
        return ":".join(self.serial[i : i + 2] for i in range(0, 12, 2))

    @property
    def realm(self) -> str:
        """Return the Digest realm ``AXIS_<SERIAL>``."""
        return f"AXIS_{self.serial}"

    @property
    def hostname(self) -> str:
        """Return the default host name ``axis-<serial lower>``."""
        return f"axis-{self.serial.lower()}"


_OUIS = ("ACCC8E", "B8A44F", "E82725", "00408C")


def make_identities(
    count: int,
    seed: int,
    hosts: list[str],
    ports: list[int],
    products: list[str] | None = None,
) -> list[Identity]:
    """Return `count` deterministic identities (same seed, same fleet)."""
    rng = random.Random(f"camfleet-sim:{seed}")  # noqa: S311 - reproducible, not secret
    weights = [product.weight for product in PRODUCTS.values()]
    seen: set[str] = set()
    identities: list[Identity] = []
    for index in range(count):
        if products:
            product = PRODUCTS[products[index % len(products)]]
        else:
            product = rng.choices(list(PRODUCTS.values()), weights=weights)[0]
        serial = ""
        while not serial or serial in seen:
            serial = rng.choice(_OUIS) + f"{rng.randrange(1 << 24):06X}"
        seen.add(serial)
        releases = TRACKS[product.track].releases
        # Start below the newest release where possible so every camera has an upgrade target.
        version = releases[rng.randrange(max(1, len(releases) - 1))]
        token = hashlib.sha256(f"{seed}:{serial}".encode()).hexdigest()
        soc_hex = token[:16].upper()
        soc_serial = {
            "long": f"00000000-00000000-{soc_hex[:8]}-{soc_hex[8:16]}",
            "medium": f"{soc_hex[:8]}-{soc_hex[8:16]}",
            "short": soc_hex,
        }.get(product.soc_serial_format, "")
        identities.append(
            Identity(
                index=index,
                serial=serial,
                product=product,
                host=hosts[index],
                port=ports[index],
                # Mixed case, digits and a dash: valid under every passphrase policy except
                # "length" (15+), which the passwords also satisfy.
                admin_password=f"Adm-{token[16:24]}-{token[24:28].upper()}",
                operator_password=f"Op-{token[28:36]}-{token[36:40].upper()}x",
                viewer_password=f"View-{token[40:48]}-{token[48:52].upper()}",
                initial_version=version,
                soc_serial=soc_serial,
                applications=initial_applications(seed, serial, version),
            )
        )
    return identities


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Camera:
    """A camera's live state; the HTTP layer reads and changes it through these methods."""

    identity: Identity
    host: CameraHost
    phase: str = RUNNING
    active_version: str = ""
    inactive_version: str | None = None
    is_committed: bool = True
    last_upgrade_at: str | None = None
    pending: PendingUpgrade | None = None
    pending_commit: bool = False
    rollback_deadline: float | None = None  # loop monotonic time, real seconds
    fwmgr_busy: str | None = None  # receiving | verifying | pre-reboot
    boot_id: str = ""
    booted_at: float = 0.0
    reset_source: str = "power"
    settings: Settings = field(default_factory=lambda: Settings({}, {}, {}))
    snapshot: Settings | None = None  # configuration before the most recent upgrade
    faults: dict[str, object] = field(default_factory=dict)
    initial_faults: dict[str, object] = field(default_factory=dict)
    knobs: Knobs = field(default_factory=Knobs)
    ptz_position: tuple[float, float, float] = (0.0, 0.0, 1.0)
    # Not part of Settings: a rollback leaves applications as they are (VAPIX.md §6.4).
    applications: tuple[Application, ...] = ()
    flap_down: bool = False
    moved: bool = False  # hard factory default with hard_reset_changes_ip: gone from here
    failed_logins: int = 0
    locked_until: float = 0.0  # loop monotonic time
    certificate: Certificate | None = None  # when the fleet serves HTTPS
    log: deque[dict[str, object]] = field(default_factory=lambda: deque(maxlen=200))
    boots: int = 0  # boots since the fleet was created; a reset does not restart the count
    # MJPEG and playback answers being sent right now: tests watch it return to 0 after a viewer
    # leaves. A reset leaves it alone (it counts connections, not state).
    open_streams: int = 0
    # Between an upload's start and the end of the boot after its install (activity.py).
    upgrading: bool = False
    _rng: random.Random | None = None
    _timers: list[TimerHandle] = field(default_factory=list)
    _flap_timer: TimerHandle | None = None

    def __post_init__(self) -> None:
        self.active_version = self.identity.initial_version
        self.original_identity = self.identity

    # ----- identity shortcuts --------------------------------------------------------------

    @property
    def serial(self) -> str:
        """Return the serial number (12 upper-case hex digits)."""
        return self.identity.serial

    @property
    def product(self) -> Product:
        """Return the catalog product."""
        return self.identity.product

    @property
    def profile(self) -> ApiProfile:
        """Return the API profile of the running firmware."""
        return api_profile(self.active_version)

    # ----- lifecycle ------------------------------------------------------------------------

    def reset(self) -> None:
        """Return to the state the fleet created: initial firmware, users, faults, knobs."""
        self._cancel_timers()
        self._end_upgrade()
        ident = self.identity
        self.phase = RUNNING
        self.active_version = ident.initial_version
        self.inactive_version = None
        self.is_committed = True
        self.last_upgrade_at = None
        self.pending = None
        self.pending_commit = False
        self.rollback_deadline = None
        self.fwmgr_busy = None
        self.reset_source = "power"
        self.snapshot = None
        self.knobs = Knobs()
        self.ptz_position = (0.0, 0.0, 1.0)
        self.applications = ident.applications
        self.flap_down = False
        self.moved = False
        self.failed_logins = 0
        self.locked_until = 0.0
        self.identity = ident = self.original_identity
        root_groups = frozenset(("admin", "operator", "viewer", "ptz"))
        users = {
            "root": User("root", ident.admin_password, root_groups, primary="root"),
            "operator": User(
                "operator", ident.operator_password, frozenset(ROLE_GROUPS["operator"])
            ),
            "viewer": User("viewer", ident.viewer_password, frozenset(ROLE_GROUPS["viewer"])),
        }
        self.settings = Settings(users, {}, self._default_presets())
        self._rng = None
        self.log.clear()
        self._new_boot()
        self.faults = {}
        self.set_faults(dict(self.initial_faults))
        self.record("reset")

    def _new_boot(self) -> None:
        # Random-looking but seeded: the serial comes from the fleet's seed, the count from
        # the camera's history, so the same seed and the same events give the same boot IDs.
        self.boots += 1
        digest = hashlib.sha256(f"boot:{self.original_identity.serial}:{self.boots}".encode())
        self.boot_id = str(uuid.UUID(bytes=digest.digest()[:16], version=4))
        self.booted_at = self.host.monotonic()

    def _cancel_timers(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        if self._flap_timer is not None:
            self._flap_timer.cancel()
            self._flap_timer = None

    def _later(self, seconds: float, callback: Callable[[], None]) -> None:
        if len(self._timers) > 32:
            # Forget handles that already fired so a long-running camera does not accumulate them.
            now = self.host.monotonic()
            self._timers = [h for h in self._timers if h.when() > now]
        self._timers.append(self.host.schedule(seconds, callback))

    def record(self, event: str, **details: object) -> None:
        """Append a timestamped state transition to the camera's log (control API reads it)."""
        self.log.append({"at": _now_iso(), "event": event, **details})

    def should_listen(self) -> bool:
        """Return whether the camera accepts TCP connections right now."""
        if "offline" in self.faults or self.flap_down or self.moved:
            return False
        # A "blackhole" reboot keeps accepting connections but never answers them.
        return self.phase != DOWN or self.knobs.down_mode == "blackhole"

    def chance(self, percent: int) -> bool:
        """Return True with `percent` % probability, reproducibly per camera serial."""
        if self._rng is None:
            self._rng = random.Random(self.original_identity.serial)  # noqa: S311 - reproducible
        return self._rng.random() * 100 < percent

    def is_served(self) -> bool:
        """Return whether requests may still be answered: listening and the fleet running.

        Handlers that wait (hang, stall, long poll) check this so a stopping fleet never
        waits for them.
        """
        return self.should_listen() and self.host.running

    def uptime(self) -> int:
        """Return simulated seconds since the last boot."""
        return int((self.host.monotonic() - self.booted_at) / self.host.time_scale)

    def time_to_rollback(self) -> int | None:
        """Return simulated seconds until automatic rollback, or None without a timer."""
        if self.rollback_deadline is None:
            return None
        left = (self.rollback_deadline - self.host.monotonic()) / self.host.time_scale
        return max(0, int(left))

    @property
    def needs_setup(self) -> bool:
        """Return whether no admin account exists (systemready ``needsetup``)."""
        return not any(user.level == "admin" for user in self.settings.users.values())

    # ----- faults ---------------------------------------------------------------------------

    def set_faults(self, faults: dict[str, object]) -> None:
        """Set (value) or clear (None/False) faults; raise FaultSpecError for unknown ones."""
        updates = {
            name: None if value in (None, False) else coerce_argument(name, value)
            for name, value in faults.items()
        }
        for name, value in updates.items():
            if value is None:
                self.faults.pop(name, None)
            else:
                self.faults[name] = value
        if updates:
            self.record("faults", faults=dict(self.faults))
        if "flapping" in updates:
            if self._flap_timer is not None:
                self._flap_timer.cancel()
                self._flap_timer = None
            self.flap_down = False
            if "flapping" in self.faults:
                self._flap_timer = self.host.schedule(float(self.faults["flapping"]), self._flap)
        if "never-returns" in updates and "never-returns" not in self.faults and self.phase == DOWN:
            # The "bricked" camera is repaired: it finishes the reboot it was stuck in.
            self._later(self.host.timing.down, self._begin_boot)
        self.host.sync_listener(self)

    def _flap(self) -> None:
        if "flapping" not in self.faults:
            return
        self.flap_down = not self.flap_down
        self.record("flap", online=not self.flap_down)
        self.host.sync_listener(self)
        self._flap_timer = self.host.schedule(float(self.faults["flapping"]), self._flap)

    # ----- boot cycle -----------------------------------------------------------------------

    def reboot(self, reason: str, *, delay: float = 0.0) -> None:
        """Go down after `delay` simulated seconds, then boot the active image."""
        if delay > 0:
            self._later(delay, lambda: self.reboot(reason))
            return
        self.fwmgr_busy = None
        self.phase = DOWN
        self.reset_source = "software" if reason != "power-cycle" else "power"
        self.record("down", reason=reason)
        self.host.sync_listener(self)
        if "never-returns" in self.faults:
            self.record("bricked")
            return
        self._later(self.host.timing.down, self._begin_boot)

    def _begin_boot(self) -> None:
        if self.phase != DOWN:
            return
        self.phase = BOOTING
        self._new_boot()
        if "swapped-serial" in self.faults and self.identity is self.original_identity:
            # Swapped hardware: same address, another unit (VAPIX.md §14 item 33).
            old = self.identity.serial
            new = old[:6] + hashlib.sha256(old.encode()).hexdigest()[:6].upper()
            self.identity = replace(self.identity, serial=new)
            self.record("serial-swapped", serial=new)
        self.record("booting", version=self.active_version)
        pending = self.pending
        if pending is not None:
            if not pending.boots or "comes-back-old" in self.faults:
                # The new image fails to start: the bootloader falls back to the old one
                # (VAPIX.md §14 item 22), which takes a second reboot.
                self.record("boot-failed", version=self.active_version)
                self._roll_back("boot-failed")
                return
            if pending.factory_default != "none":
                self._factory_reset()
            if pending.auto_commit == "boot":
                self._commit("auto-commit-boot")
            elif pending.auto_commit == "started":
                self.pending_commit = True
        self.host.sync_listener(self)
        self._later(self.host.timing.boot, self._finish_boot)

    def _finish_boot(self) -> None:
        if self.phase != BOOTING:
            return
        self.phase = RUNNING
        self._end_upgrade()
        pending, self.pending = self.pending, None
        if pending is not None:
            if self.pending_commit:
                self._commit("auto-commit-started")
            elif pending.auto_rollback_minutes is not None and not self.is_committed:
                seconds = pending.auto_rollback_minutes * 60.0
                self.rollback_deadline = self.host.monotonic() + seconds * self.host.time_scale
                self._later(seconds, self._rollback_timer_fired)
        elif self.rollback_deadline is not None:
            # A plain reboot keeps a pending rollback timer (VAPIX.md §6.4).
            left = max(0.0, self.rollback_deadline - self.host.monotonic())
            self._later(left / self.host.time_scale, self._rollback_timer_fired)
        self.record("ready", version=self.active_version, committed=self.is_committed)

    def _rollback_timer_fired(self) -> None:
        if self.rollback_deadline is None or self.is_committed:
            return
        if self.host.monotonic() + 1e-6 < self.rollback_deadline:
            return  # a stale timer from before a reboot; the current one fires later
        if self.phase != RUNNING:
            return  # rebooting: _finish_boot re-arms the timer
        self.record("auto-rollback", version=self.active_version)
        self._roll_back("auto-rollback")

    def _roll_back(self, reason: str) -> None:
        """Switch to the inactive image and its settings, then reboot into it."""
        assert self.inactive_version is not None  # noqa: S101 - callers check
        self.active_version, self.inactive_version = self.inactive_version, None
        self.is_committed = True
        self.pending = None
        self.pending_commit = False
        self.rollback_deadline = None
        if self.snapshot is not None:
            self.settings, self.snapshot = self.snapshot, None
        self.reboot(reason)

    def _commit(self, reason: str) -> None:
        self.is_committed = True
        self.pending_commit = False
        self.rollback_deadline = None
        self.record("committed", version=self.active_version, reason=reason)

    def _factory_reset(self) -> None:
        self.settings = Settings({}, {}, self._default_presets())
        # A factory default removes installed applications and keeps the preinstalled ones.
        self.applications = tuple(app for app in self.applications if app.preinstalled)
        self.record("factory-defaulted")

    def _default_presets(self) -> dict[int, PtzPreset]:
        return {1: PtzPreset("Home", 0.0, 0.0, 1.0)} if self.product.has_ptz else {}

    # ----- firmware management operations (called by the HTTP layer) ----------------------

    def upload_began(self) -> None:
        """Count an image upload, and the upgrade it starts, in the fleet's activity."""
        self.host.activity.uploads.enter()
        if not self.upgrading:
            self.upgrading = True
            self.host.activity.upgrades.enter()

    def upload_ended(self, *, installed: bool) -> None:
        """Count the end of an upload; one that installed nothing ends its upgrade too."""
        self.host.activity.uploads.leave()
        if not installed:
            self._end_upgrade()

    def _end_upgrade(self) -> None:
        if self.upgrading:
            self.upgrading = False
            self.host.activity.upgrades.leave()

    def _reboot_later(self, reason: str, before_down: Callable[[], None]) -> None:
        """Keep running for the pre-reboot time, then apply `before_down` and reboot.

        Until then the device still runs (and reports) its old state; a power cut in between
        cancels the change, as it would on a real device.
        """

        def go_down() -> None:
            before_down()
            self.reboot(reason)

        self.fwmgr_busy = "pre-reboot"
        self._later(self.host.timing.pre_reboot, go_down)

    def install(self, new_version: str, pending: PendingUpgrade, *, now: bool = False) -> None:
        """Flash `new_version` (uncommitted, old one kept as rollback) and reboot into it.

        By default the device keeps running for the pre-reboot time first; with `now` the
        caller has already waited (answer-after-flash) and the reboot starts at once.
        """
        self.snapshot = self.settings.copy()
        self.record("installing", version=new_version, previous=self.active_version)

        def switch() -> None:
            self.inactive_version = self.active_version
            self.active_version = new_version
            self.is_committed = False
            self.pending = pending
            skew = timedelta(seconds=int(self.faults.get("clock-skew", 0)))  # type: ignore[call-overload]
            self.last_upgrade_at = (datetime.now(UTC) + skew).isoformat(timespec="seconds")
            self.host.activity.installs[self.original_identity.serial] += 1
            self.record("installed", version=new_version, previous=self.inactive_version)

        if now:
            switch()
            self.reboot("upgrade")
        else:
            self._reboot_later("upgrade", switch)

    def commit(self) -> None:
        """Commit the running image and stop any rollback timer (idempotent)."""
        if not self.is_committed or self.rollback_deadline is not None:
            self._commit("commit")

    def rollback(self) -> None:
        """Return to the previous image and settings and reboot (caller checks inactive)."""
        self.record("rollback", version=self.active_version)
        self._roll_back("rollback")

    def purge(self) -> None:
        """Delete the inactive image."""
        self.inactive_version = None
        self.snapshot = None
        self.record("purged")

    def stop_auto(self) -> None:
        """Stop the rollback timer without committing."""
        self.rollback_deadline = None
        self.record("stop-auto")

    def factory_default(self, mode: str) -> None:
        """Reset settings (users gone: needsetup) and reboot (VAPIX.md §6.4)."""
        self.record("factory-default", mode=mode)

        def reset_settings() -> None:
            if self.is_committed or self.rollback_deadline is None:
                self.is_committed = True
                self.inactive_version = None
                self.snapshot = None
            self._factory_reset()
            if mode == "hard" and self.knobs.hard_reset_changes_ip:
                # It comes back on another (DHCP) address: gone from this one until reset.
                self.moved = True

        self._reboot_later("factory-default", reset_settings)

    def set_applications(self, applications: tuple[Application, ...]) -> None:
        """Replace the installed applications (control API)."""
        self.applications = applications
        self.record("applications", names=[app.name for app in applications])

    def power_cycle(self) -> None:
        """Cut the power: an uncommitted image rolls back, otherwise a plain reboot."""
        self._cancel_timers()
        self.fwmgr_busy = None
        if not self.is_committed and self.inactive_version is not None:
            self.record("power-cycle", rollback=True)
            self._roll_back("power-cycle")
        else:
            self.pending = None
            self.record("power-cycle", rollback=False)
            self.reboot("power-cycle")
        if "flapping" in self.faults:
            self._flap_timer = self.host.schedule(float(self.faults["flapping"]), self._flap)

    def legacy_upgrade(self, new_version: str, factory_default: bool) -> None:
        """Install an image the pre-fwmgr way: no rollback slot, committed, reboot."""

        def switch() -> None:
            self.active_version = new_version
            self.inactive_version = None
            self.is_committed = True
            if factory_default:
                self._factory_reset()
            self.host.activity.installs[self.original_identity.serial] += 1
            self.record("legacy-upgrade", version=new_version)

        self._reboot_later("legacy-upgrade", switch)

    # ----- read models ----------------------------------------------------------------------

    def fleet_entry(self) -> dict[str, object]:
        """Return the ``--fleet-out`` record of this camera."""
        ident = self.identity
        return {
            "host": ident.host,
            "port": ident.port,
            "username": "root",
            "password": ident.admin_password,
            "serial": ident.serial,
            "product_number": ident.product.number,
            "model": ident.product.short_name,
            "version": self.active_version,
            "mac": ident.mac,
            "has_ptz": ident.product.has_ptz,
            **(
                {"https_port": ident.https_port, "certificate_sha256": self.certificate.sha256}
                if self.certificate is not None
                else {}
            ),
        }

    def state(self) -> dict[str, object]:
        """Return everything the control API shows about this camera."""
        return {
            **self.fleet_entry(),
            "phase": self.phase,
            "listening": self.should_listen(),
            "active_version": self.active_version,
            "inactive_version": self.inactive_version,
            "is_committed": self.is_committed,
            "time_to_rollback": self.time_to_rollback(),
            "boot_id": self.boot_id,
            "uptime": self.uptime(),
            "fwmgr_busy": self.fwmgr_busy,
            "needs_setup": self.needs_setup,
            "users": sorted(self.settings.users),
            "applications": [app.as_dict() for app in self.applications],
            "faults": dict(self.faults),
            "knobs": dict(vars(self.knobs)),
            "open_streams": self.open_streams,
            "upgrading": self.upgrading,
            "installs": self.host.activity.installs[self.original_identity.serial],
            "track": TRACKS[self.product.track].name,
            "original_serial": self.original_identity.serial,
            "moved": self.moved,
            "operator_password": self.identity.operator_password,
            "viewer_password": self.identity.viewer_password,
        }

    def is_downgrade(self, version: str) -> bool:
        """Return whether `version` is older than the running one."""
        return parse_version(version) < parse_version(self.active_version)
