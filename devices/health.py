"""Health polling: ask each device how it is, record what changed, spread the work over time.

What a device's status means (`Device.Status`), as polling decides it:

- **unknown** — not polled yet (just onboarded, or its new certificate was just accepted).
- **online** — the device answered basic device info with the stored credentials over the
  pinned certificate. `last_seen_at` is the last such answer; a firmware or other identity
  change it reports is stored and audited (`device.identity_change`, before → after).
- **offline** — no answer: connection refused or reset, a timeout, or an answer that is not a
  working VAPIX one (an error page, broken JSON). Offline and unreachable are an outage: after
  `DEVICE_OFFLINE_ALERT_AFTER` the organization's owners and admins get one e-mail per outage.
- **auth_failed** — the device answers but refuses the stored user name or password (or the
  account's role is too low, or the stored password cannot be decrypted with the keys).
- **certificate_changed** — an HTTPS device presented a certificate other than the pinned one.
  Its fingerprint is kept in `presented_fingerprint` and no credentials are sent to the device
  until an administrator accepts it (`services.accept_certificate`). Meanwhile polling only
  looks at the certificate (a TLS handshake, no HTTP request): if the device is back on the
  pinned one, it is polled as usual again.
- **unreachable** — the service must not or cannot connect to the stored address: it is no
  longer inside the allowed device networks, the name does not resolve, or another device (a
  different serial number) answers there.

One poll (`poll_device`) reads the device row, talks to the device outside any transaction with
short timeouts and no retries (a single missed answer marks the device offline until the next
poll; alerts wait for a long outage, so a lost packet never mails anyone), then writes in short
transactions through the services. `dispatch_due_polls` (Celery beat, every `DEVICE_POLL_TICK`
seconds) claims the devices whose `next_poll_at` has come and moves it one interval on, so each
device keeps its own moment in the interval and is polled once per `DEVICE_POLL_INTERVAL`;
`poll_many` polls one batch with `DEVICE_POLL_CONCURRENCY` threads.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import connection as database_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from devices import connection, networks, services
from devices.errors import (
    AddressNotAllowed,
    CertificateChanged,
    CredentialsUnreadable,
    HostNotFound,
)
from devices.models import Device
from devices.vapix import (
    AuthFailed,
    CertificateMismatch,
    DeviceInfo,
    Timeouts,
    VapixClient,
    VapixError,
    fetch_certificate_fingerprint,
)

logger = logging.getLogger(__name__)

# Rows claimed per dispatcher transaction (one bulk UPDATE each).
CLAIM_CHUNK = 1000


def poll_timeouts() -> Timeouts:
    """Return the client timeouts of a poll: short, so one slow device costs seconds, not minutes.

    Settings DEVICE_POLL_CONNECT_TIMEOUT and DEVICE_POLL_READ_TIMEOUT; a whole exchange (Digest
    round included) ends within connect + 2 x read.
    """
    connect = settings.DEVICE_POLL_CONNECT_TIMEOUT
    read = settings.DEVICE_POLL_READ_TIMEOUT
    return Timeouts(connect=connect, read=read, probe=read, total=connect + 2 * read)


def poll_worst_case_seconds() -> float:
    """Return the longest one poll can take: a certificate check and two exchanges.

    Two exchanges: basic device info, and param.cgi on firmware that lacks it (no retries).
    """
    timeouts = poll_timeouts()
    return 2 * timeouts.connect + 2 * timeouts.total


@dataclass(frozen=True)
class PollResult:
    """What one poll found: the status, why, and what the device reported."""

    status: str
    reason: str = ""
    identity: services.DeviceIdentity | None = None
    presented_fingerprint: str = ""


def identity_from(info: DeviceInfo) -> services.DeviceIdentity:
    """Return the identity fields polling compares, mapped as onboarding maps them."""
    return services.DeviceIdentity(
        serial_number=info.serial_number,
        product_number=info.product_number,
        product_name=info.product_full_name or info.product_short_name,
        firmware_version=info.version,
        hardware_id=info.hardware_id,
        architecture=info.architecture or "",
    )


def _failure(error: VapixError) -> PollResult:
    """Return the status for what the client raised while polling with credentials."""
    message = str(connection.device_error(error).message)
    if isinstance(error, CertificateMismatch):
        return PollResult(
            Device.Status.CERTIFICATE_CHANGED,
            _(
                "The device presented a certificate that does not match the pinned one; no "
                "credentials are sent to it until an administrator accepts the new one."
            ),
            presented_fingerprint=error.presented,
        )
    if isinstance(error, AuthFailed):  # InsufficientPrivilege included
        return PollResult(Device.Status.AUTH_FAILED, message)
    return PollResult(Device.Status.OFFLINE, message)


def _read_identity(device: Device, client: VapixClient) -> PollResult:
    with client:
        try:
            info = client.get_device_info()
        except VapixError as error:
            return _failure(error)
    identity = identity_from(info)
    reported_serial = services.normalize_serial_number(identity.serial_number)
    if reported_serial != device.serial_number:
        return PollResult(
            Device.Status.UNREACHABLE,
            _(
                "Another device (serial number %(serial)s) answers at this address. Check "
                "whether the device moved to another address."
            )
            % {"serial": reported_serial[:64] or "?"},
        )
    return PollResult(Device.Status.ONLINE, _("The device answered the health check."), identity)


def _check_certificate_only(device: Device) -> PollResult:
    """Poll a device whose certificate changed: look at the certificate, send no credentials.

    Back on the pinned certificate → an ordinary poll, through a client pinned to it again
    (which re-checks the certificate before anything is sent).
    """
    try:
        address = networks.resolve_device_address(device.host, device.port)
    except (AddressNotAllowed, HostNotFound) as error:
        return PollResult(Device.Status.UNREACHABLE, str(error.message))
    try:
        presented = fetch_certificate_fingerprint(
            str(address.ip), address.port, timeout=poll_timeouts().connect
        )
    except VapixError as error:
        return PollResult(Device.Status.OFFLINE, str(connection.device_error(error).message))
    if presented != device.certificate_fingerprint:
        return PollResult(
            Device.Status.CERTIFICATE_CHANGED,
            _("The device still presents a certificate that is not the pinned one."),
            presented_fingerprint=presented,
        )
    client = connection.client_for(
        address,
        scheme=device.scheme,
        username=device.username,
        password=device.password,
        certificate_fingerprint=device.certificate_fingerprint,
        retries=0,
        timeouts=poll_timeouts(),
    )
    return _read_identity(device, client)


def check_device(device: Device) -> PollResult:
    """Talk to one device and return what its status is now; no database access.

    Call outside any transaction: it resolves the host and waits for the device.
    """
    if device.status == Device.Status.CERTIFICATE_CHANGED:
        return _check_certificate_only(device)
    try:
        client = connection.open_client(device, retries=0, timeouts=poll_timeouts())
    except (AddressNotAllowed, HostNotFound) as error:
        return PollResult(Device.Status.UNREACHABLE, str(error.message))
    except CredentialsUnreadable as error:
        return PollResult(Device.Status.AUTH_FAILED, str(error.message))
    except CertificateChanged as error:  # the status changed since the row was read
        return PollResult(Device.Status.CERTIFICATE_CHANGED, str(error.message))
    return _read_identity(device, client)


def _identity_differs(device: Device, identity: services.DeviceIdentity) -> bool:
    """Tell whether the device reports something other than the row holds (a quick check
    that spares the locking write on almost every poll; the service decides exactly)."""
    return any(
        getattr(identity, name) and getattr(identity, name) != getattr(device, name)
        for name in services.POLLED_IDENTITY_FIELDS
    )


def record_result(device: Device, result: PollResult) -> None:
    """Write what a poll found: presented certificate, identity changes, then the status."""
    if result.status == Device.Status.CERTIFICATE_CHANGED and result.presented_fingerprint:
        if result.presented_fingerprint != device.presented_fingerprint:
            services.record_presented_certificate(
                device_id=device.pk, fingerprint=result.presented_fingerprint
            )
    elif result.status == Device.Status.ONLINE:
        if device.presented_fingerprint:
            services.record_presented_certificate(device_id=device.pk, fingerprint="")
        if result.identity is not None and _identity_differs(device, result.identity):
            services.record_device_identity(device_id=device.pk, identity=result.identity)
    if result.status == device.status and services.confirm_device_status(
        device_id=device.pk, status=result.status
    ):
        return
    services.record_device_status(device_id=device.pk, status=result.status, reason=result.reason)


def poll_device(device_id: UUID | str) -> PollResult | None:
    """Poll one device and record the outcome; None when it no longer exists.

    Reasons are stored in the default language (polling acts for no one in particular).
    """
    device = Device.objects.filter(pk=device_id).first()
    if device is None:
        return None
    with translation.override(settings.LANGUAGE_CODE):
        result = check_device(device)
        record_result(device, result)
    return result


def run_bounded(
    items: Iterable[str],
    work: Callable[[str], object],
    *,
    concurrency: int,
    deadline: float | None = None,
) -> tuple[int, int]:
    """Run `work(item)` for every item on at most `concurrency` threads; return (done, skipped).

    No item waits for another one's device: each thread takes the next item when its own is
    done. After `deadline` (time.monotonic()) no item is started any more; those left are
    skipped (and counted), so the task ends within its time limit. Each thread closes its own
    database connection when it ends. An exception in one item is logged, not raised.
    """
    pending: queue.SimpleQueue[str] = queue.SimpleQueue()
    count = 0
    for item in items:
        pending.put(item)
        count += 1
    done = [0]
    lock = threading.Lock()

    def worker() -> None:
        try:
            while deadline is None or time.monotonic() < deadline:
                try:
                    item = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    work(item)
                except Exception:
                    logger.exception("Polling device %s failed", item)
                with lock:
                    done[0] += 1
        finally:
            database_connection.close()

    threads = [
        threading.Thread(target=worker, name=f"device-poll-{index}", daemon=True)
        for index in range(max(1, min(concurrency, count)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0], count - done[0]


def poll_batch_seconds() -> float:
    """Return the longest a batch of DEVICE_POLL_BATCH_SIZE polls can take on its threads."""
    rounds = math.ceil(settings.DEVICE_POLL_BATCH_SIZE / settings.DEVICE_POLL_CONCURRENCY)
    return rounds * poll_worst_case_seconds()


def poll_many(device_ids: Iterable[str], *, time_budget: float | None = None) -> tuple[int, int]:
    """Poll devices on DEVICE_POLL_CONCURRENCY threads; return (polled, skipped for time).

    With a `time_budget` (seconds), no poll starts once less than the worst case of one poll
    is left, so the batch ends within the budget whatever the devices do.
    """
    deadline = None
    if time_budget is not None:
        deadline = time.monotonic() + time_budget - poll_worst_case_seconds()
    return run_bounded(
        [str(device_id) for device_id in device_ids],
        poll_device,
        concurrency=settings.DEVICE_POLL_CONCURRENCY,
        deadline=deadline,
    )


def _phase(device_id: UUID) -> float:
    """Return the device's own moment in the interval, as a fraction in (0, 1]."""
    return (device_id.int % 10_000 + 1) / 10_000


def next_poll_time(
    previous: datetime | None, device_id: UUID, *, now: datetime, interval: timedelta
) -> datetime:
    """Return when a device that is due now is polled next.

    A device polled for the first time gets a moment of its own in the interval (from its id),
    so devices onboarded together do not stay together. Afterwards it keeps that moment: one
    interval on, skipping rounds the dispatcher missed while it was down (no burst of polls).
    """
    if previous is None:
        return now + interval * _phase(device_id)
    upcoming = previous + interval
    if upcoming <= now:
        upcoming = previous + interval * ((now - previous) // interval + 1)
    return upcoming


def claim_due_devices(*, now: datetime | None = None) -> list[str]:
    """Claim every device whose poll is due and move its `next_poll_at` on; return their ids.

    Short transactions of CLAIM_CHUNK rows; rows another dispatcher holds are skipped (it polls
    them), so two overlapping ticks never poll a device twice.
    """
    now = now or timezone.now()
    interval = timedelta(seconds=settings.DEVICE_POLL_INTERVAL)
    claimed: list[str] = []
    while True:
        with transaction.atomic(durable=True):
            due = list(
                Device.objects.filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
                .order_by(F("next_poll_at").asc(nulls_first=True), "pk")
                .select_for_update(skip_locked=True)
                .only("pk", "next_poll_at")[:CLAIM_CHUNK]
            )
            if not due:
                return claimed
            for device in due:
                device.next_poll_at = next_poll_time(
                    device.next_poll_at, device.pk, now=now, interval=interval
                )
            Device.objects.bulk_update(due, ["next_poll_at"])
        claimed.extend(str(device.pk) for device in due)


def batches(items: list[str], size: int) -> list[list[str]]:
    """Return `items` cut into lists of at most `size`."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def offline_alert_delay() -> timedelta:
    """Return how long an outage lasts before its alert (setting DEVICE_OFFLINE_ALERT_AFTER)."""
    return timedelta(seconds=settings.DEVICE_OFFLINE_ALERT_AFTER)
