"""Onboarding many devices from a CSV file: upload, check every row, preview, onboard the good ones.

1. `start_device_import` (admin+) parses the file — refusing what is not a usable CSV with a
   message a person can act on — and stores the import and its rows (passwords encrypted with
   `devices.credentials`) in one transaction; one Celery task per row is queued on commit.
2. `check_device_import_row` (task) runs `onboarding.check_device` for one row, outside any
   transaction, and records the result: ready (with the identity the device reported) or
   refused with the onboarding code and message. The last row to finish moves the import to
   checked. Nothing is created in this phase.
3. `start_onboarding` (admin+) moves a checked import to onboarding with a conditional UPDATE:
   of two admins clicking Onboard at once, one wins and the other is told it already runs.
   `onboard_device_import` (task) then stores every ready row through `services.create_device`
   (no network I/O: the check read the identity), each row claimed by a conditional UPDATE, so
   a repeated task onboards nothing twice; the serial number constraint is the last guard.
4. A finished or expired import keeps its rows' results (downloadable as CSV) but no password.

Accepted files (UTF-8, comma- or semicolon-separated, a header line):
- the simulator's `--fleet-out x.csv` as is: host, port, username, password, serial,
  product_number, model, version (the last four are informational and ignored);
- the documented format: host, port, scheme, username, password, folder, and optionally
  certificate_fingerprint. `port` defaults by scheme (80/443), `scheme` to http, `folder` to
  the folder chosen on upload; a folder is its ID or its path of names ("Site A/Building A1",
  with or without the top folder's name).
"""

import csv
import io
import ipaddress
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.errors import Conflict, DomainError, Invalid, NotFound
from common.text import has_control_characters
from devices import onboarding, services
from devices.models import DeviceImport, DeviceImportRow
from devices.networks import CheckedAddress
from devices.services import DeviceIdentity
from organizations import access, audit
from organizations import selectors as organization_selectors
from organizations.models import Folder, Membership
from organizations.roles import Action
from organizations.services.locks import lock_organization

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 500
# How long checked rows (and their encrypted passwords) wait for Onboard.
IMPORT_TTL = timedelta(hours=1)

REQUIRED_COLUMNS = ("host", "username", "password")
OPTIONAL_COLUMNS = ("port", "scheme", "folder", "certificate_fingerprint")
# Columns of the simulator's --fleet-out file (and its JSON keys) that say nothing we use.
INFORMATIONAL_COLUMNS = (
    "serial",
    "product_number",
    "model",
    "version",
    "mac",
    "has_ptz",
    "https_port",
    "certificate_sha256",
)
RESULT_COLUMNS = (
    "line",
    "host",
    "port",
    "scheme",
    "username",
    "folder",
    "state",
    "code",
    "message",
    "serial_number",
    "product_number",
    "firmware_version",
    "certificate_fingerprint",
    "device_id",
)
DECIDED_ROW_STATES = (
    DeviceImportRow.State.REFUSED,
    DeviceImportRow.State.ONBOARDED,
    DeviceImportRow.State.FAILED,
    DeviceImportRow.State.SKIPPED,
)


def _refuse_file(code: str, message) -> Invalid:
    return Invalid(code, message, {"file": [message]})


@dataclass
class ParsedRow:
    """One line of the file after the checks that need no device."""

    line_number: int
    values: dict[str, str]
    folder: Folder | None = None
    code: str = ""
    message: str = ""


def _decode(content: bytes) -> str:
    if len(content) > MAX_IMPORT_BYTES:
        raise _refuse_file(
            "file_too_large",
            _("The file is larger than %(limit)d KB. Split it into smaller files.")
            % {"limit": MAX_IMPORT_BYTES // 1024},
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse_file(
            "file_encoding",
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."),
        ) from None
    if "\x00" in text:
        raise _refuse_file("not_csv", _("The file is not a CSV text file."))
    if not text.strip():
        raise _refuse_file("no_rows", _("The file is empty."))
    return text


def _header(fields: list[str]) -> list[str]:
    columns = [field.strip().lower().replace(" ", "_") for field in fields]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | set(INFORMATIONAL_COLUMNS)
    unknown = [column for column in columns if column not in known]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if unknown or missing or len(set(columns)) != len(columns):
        raise _refuse_file(
            "wrong_header",
            _(
                "The first line must name the columns: host, port, scheme, username, password, "
                "folder (port, scheme and folder may be left out), or be the simulator's "
                "--fleet-out header. Found: %(found)s."
            )
            % {"found": ", ".join(column or "(empty)" for column in columns)[:300]},
        )
    return columns


def _folder_paths(membership: Membership) -> dict[str, Folder]:
    """Return every visible folder by lower-case name path, with and without the top folder."""
    tree = organization_selectors.folder_tree(membership)
    by_id = {folder.pk: folder for folder in tree}
    paths: dict[str, Folder] = {}
    for folder in tree:
        names = []
        node: Folder | None = folder
        while node is not None:
            names.append(node.name)
            node = by_id.get(node.parent_id) if node.parent_id else None
        names.reverse()
        full = "/".join(names).lower()
        paths.setdefault(full, folder)
        if len(names) > 1:
            paths.setdefault("/".join(names[1:]).lower(), folder)
        paths.setdefault(str(folder.pk), folder)
    return paths


def _check_static(row: ParsedRow, folders: dict[str, Folder], default: Folder) -> None:
    """Refuse what needs no device to refuse: empty fields, bad port, scheme, folder."""
    values = row.values
    try:
        scheme = onboarding.clean_scheme(values.get("scheme") or "http")
        values["scheme"] = scheme
        onboarding.clean_credentials(values.get("username", ""), values.get("password", ""))
        onboarding.clean_expected_fingerprint(values.get("certificate_fingerprint", ""))
        host = values.get("host", "")
        if not host or len(host) > 253 or has_control_characters(host):
            message = _("Enter the device's host name or IP address.")
            raise Invalid("invalid_host", message)
        port = values.get("port") or str(onboarding.default_port(scheme))
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise Invalid("invalid_port", _("The port must be a number from 1 to 65535."))
        values["port"] = port
    except Invalid as error:
        row.code, row.message = error.code, str(error.message)
        return
    folder_name = (values.get("folder") or "").strip().strip("/")
    if not folder_name:
        row.folder = default
        return
    row.folder = folders.get(folder_name.lower()) or folders.get(
        "/".join(part.strip() for part in folder_name.split("/")).lower()
    )
    if row.folder is None:
        row.code = "folder_not_found"
        row.message = str(
            _("There is no folder “%(folder)s”. Write its path, e.g. “Site A/Building A1”.")
            % {"folder": folder_name[:120]}
        )


def parse_import_file(
    content: bytes, *, membership: Membership, default: Folder
) -> list[ParsedRow]:
    """Return the rows of an import file, each refused or not; raise Invalid for a bad file."""
    text = _decode(content)
    first_line = text.splitlines()[0] if text else ""
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        lines = [(reader.line_num, fields) for fields in reader]
    except csv.Error:
        raise _refuse_file(
            "not_csv", _("The file is not a valid CSV file (check the quotes in it).")
        ) from None
    columns = _header(lines[0][1])
    data = [(number, fields) for number, fields in lines[1:] if any(f.strip() for f in fields)]
    if not data:
        raise _refuse_file("no_rows", _("The file has a header but no devices."))
    if len(data) > MAX_IMPORT_ROWS:
        raise _refuse_file(
            "too_many_rows",
            _("The file has %(count)d devices; at most %(limit)d are imported at once.")
            % {"count": len(data), "limit": MAX_IMPORT_ROWS},
        )
    folders = _folder_paths(membership)
    rows: list[ParsedRow] = []
    seen_addresses: dict[tuple[str, str], int] = {}
    for number, fields in data:
        if len(fields) != len(columns):
            values = dict(zip(columns, fields, strict=False))
            row = ParsedRow(number, {key: value.strip() for key, value in values.items()})
            row.code = "wrong_field_count"
            row.message = str(
                _("This line has %(found)d fields; the header has %(expected)d.")
                % {"found": len(fields), "expected": len(columns)}
            )
            rows.append(row)
            continue
        # The password is taken as written: spaces may be part of it.
        values = {
            key: (value if key == "password" else value.strip())
            for key, value in zip(columns, fields, strict=True)
        }
        row = ParsedRow(number, values)
        _check_static(row, folders, default)
        if not row.code:
            address = (values["host"].lower(), values["port"])
            if address in seen_addresses:
                row.code = "duplicate_row"
                row.message = str(
                    _("The same address is on line %(line)d already.")
                    % {"line": seen_addresses[address]}
                )
            else:
                seen_addresses[address] = number
        rows.append(row)
    return rows


@transaction.atomic(durable=True)
def _store_import(
    *, actor: Membership, folder_id: UUID, file_name: str, rows: list[ParsedRow]
) -> DeviceImport:
    access.require(actor, Action.DEVICE_MANAGE)
    organization = lock_organization(actor.organization_id)
    folder = organization_selectors.get_visible_folder(actor, folder_id)
    now = timezone.now()
    device_import = DeviceImport.objects.create(
        organization=organization,
        default_folder=folder,
        created_by=actor,
        file_name=file_name[:200],
        row_count=len(rows),
        created_at=now,
        expires_at=now + IMPORT_TTL,
    )
    stored = []
    for row in rows:
        values = row.values
        stored_row = DeviceImportRow(
            device_import=device_import,
            line_number=row.line_number,
            host=values.get("host", "")[:253],
            port=values.get("port", "")[:16],
            scheme=values.get("scheme", "")[:8],
            username=values.get("username", "")[:64],
            target_folder=row.folder,
            expected_fingerprint=(
                onboarding.clean_expected_fingerprint(values.get("certificate_fingerprint", ""))
                if not row.code
                else ""
            ),
            state=DeviceImportRow.State.REFUSED if row.code else DeviceImportRow.State.PENDING,
            code=row.code,
            message=row.message,
        )
        if not row.code:
            stored_row.password = values["password"]
        stored.append(stored_row)
    DeviceImportRow.objects.bulk_create(stored)
    audit.record(
        actor,
        organization,
        "device.import",
        device_import,
        {"file_name": device_import.file_name, "rows": len(rows), "folder": str(folder.pk)},
    )
    from devices import import_tasks  # which imports this module

    pending = [row.pk for row in stored if row.state == DeviceImportRow.State.PENDING]
    for row_id in pending:
        import_tasks.check_device_import_row.delay_on_commit(row_id)
    if not pending:
        transaction.on_commit(lambda: _finish_check(device_import.pk))
    return device_import


def start_device_import(
    *, actor: Membership, folder_id: UUID | str, file_name: str, content: bytes
) -> DeviceImport:
    """Parse a CSV of devices and queue the check of every row (admin+).

    `folder_id` is the folder of rows that name none. A file that cannot be used is refused
    with a message on the `file` field and stores nothing.
    """
    access.require(actor, Action.DEVICE_MANAGE)
    folder = organization_selectors.get_visible_folder(actor, folder_id)
    rows = parse_import_file(content, membership=actor, default=folder)
    return _store_import(actor=actor, folder_id=folder.pk, file_name=file_name, rows=rows)


def _finish_check(import_id: UUID) -> None:
    """Move the import to checked once no row waits for its check (the last row's task)."""
    pending = DeviceImportRow.objects.filter(
        device_import=OuterRef("pk"), state=DeviceImportRow.State.PENDING
    )
    DeviceImport.objects.filter(pk=import_id, state=DeviceImport.State.CHECKING).filter(
        ~Exists(pending)
    ).update(state=DeviceImport.State.CHECKED)


def check_import_row(*, row_id: int) -> None:
    """Check one pending row against its device and record the result (the task's body).

    Safe to run twice: a row that is no longer pending is left alone.
    """
    row = (
        DeviceImportRow.objects.select_related("device_import")
        .filter(pk=row_id, state=DeviceImportRow.State.PENDING)
        .first()
    )
    if row is None or row.device_import.state != DeviceImport.State.CHECKING:
        return
    try:
        checked = onboarding.check_device(
            host=row.host,
            port=row.port,
            scheme=row.scheme,
            username=row.username,
            password=row.password,
            expected_fingerprint=row.expected_fingerprint,
        )
    except DomainError as error:
        _decide_row(row, DeviceImportRow.State.REFUSED, error.code, str(error.message))
    except Exception:
        # Whatever went wrong (a device answer nobody foresaw, the task's soft time limit), the
        # row is decided, so the import does not wait for it until it expires.
        logger.exception(
            "checking line %s of import %s failed", row.line_number, row.device_import_id
        )
        message = _("The device could not be checked. Try this line again in a new import.")
        _decide_row(row, DeviceImportRow.State.REFUSED, "device_unavailable", str(message))
    else:
        _record_check(row, checked)
    _finish_check(row.device_import_id)


def _decide_row(row: DeviceImportRow, state: str, code: str, message: str, **extra) -> None:
    DeviceImportRow.objects.filter(pk=row.pk, state=DeviceImportRow.State.PENDING).update(
        state=state, code=code, message=message[:1000], encrypted_password="", **extra
    )


def _record_check(row: DeviceImportRow, checked: onboarding.CheckedDevice) -> None:
    identity = checked.identity
    serial_number = services.normalize_serial_number(identity.serial_number)
    with transaction.atomic():
        # One row per serial number in a file: the first one checked keeps it.
        DeviceImport.objects.select_for_update().filter(pk=row.device_import_id).first()
        earlier = (
            DeviceImportRow.objects.filter(
                device_import_id=row.device_import_id,
                serial_number=serial_number,
                state=DeviceImportRow.State.READY,
            )
            .exclude(pk=row.pk)
            .values_list("line_number", flat=True)
            .first()
        )
        if earlier is not None:
            message = _("The same device (serial number %(serial)s) is on line %(line)d.") % {
                "serial": serial_number,
                "line": earlier,
            }
            _decide_row(row, DeviceImportRow.State.REFUSED, "duplicate_row", str(message))
            return
        DeviceImportRow.objects.filter(pk=row.pk, state=DeviceImportRow.State.PENDING).update(
            state=DeviceImportRow.State.READY,
            code="",
            message="",
            ip=str(checked.address.ip),
            port=str(checked.address.port),
            scheme=checked.scheme,
            username=checked.username,
            serial_number=serial_number[:64],
            mac_address=services.normalize_mac_address(identity.mac_address)[:17],
            product_number=identity.product_number[:64],
            product_name=identity.product_name[:200],
            firmware_version=identity.firmware_version[:64],
            hardware_id=identity.hardware_id[:64],
            architecture=identity.architecture[:32],
            has_ptz=identity.has_ptz,
            certificate_fingerprint=checked.certificate_fingerprint,
        )


@transaction.atomic(durable=True)
def start_onboarding(*, actor: Membership, import_id: UUID) -> DeviceImport:
    """Start onboarding the ready rows of a checked import (admin+); refuse a second start.

    The conditional UPDATE (checked → onboarding, not expired) decides between two admins
    clicking at once: the second gets a Conflict and nothing runs twice.
    """
    access.require(actor, Action.DEVICE_MANAGE)
    device_import = get_device_import(actor, import_id)
    claimed = DeviceImport.objects.filter(
        pk=device_import.pk, state=DeviceImport.State.CHECKED, expires_at__gt=timezone.now()
    ).update(state=DeviceImport.State.ONBOARDING)
    if not claimed:
        device_import.refresh_from_db()
        if device_import.state in (DeviceImport.State.ONBOARDING, DeviceImport.State.FINISHED):
            message = _("This import is already being onboarded (or was); nothing was repeated.")
            raise Conflict("import_already_onboarding", message)
        if device_import.state == DeviceImport.State.CHECKING:
            raise Conflict("import_not_checked", _("Wait until every row is checked."))
        raise Conflict("import_expired", _("This import expired; upload the file again."))
    from devices import import_tasks

    import_tasks.onboard_device_import.delay_on_commit(str(device_import.pk), str(actor.pk))
    device_import.state = DeviceImport.State.ONBOARDING
    return device_import


def _identity(row: DeviceImportRow) -> DeviceIdentity:
    return DeviceIdentity(
        serial_number=row.serial_number,
        product_number=row.product_number,
        product_name=row.product_name,
        firmware_version=row.firmware_version,
        mac_address=row.mac_address,
        hardware_id=row.hardware_id,
        architecture=row.architecture,
        has_ptz=row.has_ptz,
    )


def onboard_import_rows(*, import_id: UUID, actor_id: UUID) -> None:
    """Store every ready row of an import that is onboarding, then destroy the passwords.

    Each row is claimed (ready → onboarding) before it is stored, so a repeated task stores
    nothing twice. The actor is the admin who clicked Onboard; if they lost the right meanwhile,
    every row fails with the refusal.
    """
    device_import = DeviceImport.objects.filter(
        pk=import_id, state=DeviceImport.State.ONBOARDING
    ).first()
    if device_import is None:
        return
    actor = Membership.objects.select_related("organization", "user").filter(pk=actor_id).first()
    for row in DeviceImportRow.objects.filter(
        device_import=device_import, state=DeviceImportRow.State.READY
    ).select_related("target_folder"):
        claimed = DeviceImportRow.objects.filter(
            pk=row.pk, state=DeviceImportRow.State.READY
        ).update(state=DeviceImportRow.State.ONBOARDING)
        if not claimed:
            continue
        try:
            if actor is None or row.target_folder is None:
                raise NotFound("folder_not_found", _("The folder or the admin is gone."))
            device = services.create_device(
                actor=actor,
                folder=row.target_folder,
                identity=_identity(row),
                address=CheckedAddress(
                    host=row.host, ip=ipaddress.ip_address(row.ip), port=int(row.port)
                ),
                scheme=row.scheme,
                username=row.username,
                password=row.password,
                certificate_fingerprint=row.certificate_fingerprint,
            )
        except DomainError as error:
            state, code, message, device = (
                DeviceImportRow.State.FAILED,
                error.code,
                str(error.message),
                None,
            )
        else:
            state, code, message = DeviceImportRow.State.ONBOARDED, "", ""
        DeviceImportRow.objects.filter(pk=row.pk).update(
            state=state, code=code, message=message[:1000], device=device, encrypted_password=""
        )
    _close(device_import.pk, DeviceImport.State.ONBOARDING, DeviceImport.State.FINISHED)


def _close(import_id: UUID, expected: str, state: str) -> bool:
    """Move an import from `expected` to `state` and destroy every password it still holds."""
    with transaction.atomic():
        closed = DeviceImport.objects.filter(pk=import_id, state=expected).update(
            state=state, finished_at=timezone.now()
        )
        if closed:
            rows = DeviceImportRow.objects.filter(device_import_id=import_id)
            rows.filter(
                state__in=[DeviceImportRow.State.PENDING, DeviceImportRow.State.READY]
            ).update(state=DeviceImportRow.State.SKIPPED)
            rows.exclude(encrypted_password="").update(encrypted_password="")
    return bool(closed)


def expire_device_imports() -> int:
    """Expire imports nobody onboarded in time and destroy their passwords; return how many."""
    expired = 0
    due = DeviceImport.objects.filter(
        state__in=[DeviceImport.State.CHECKING, DeviceImport.State.CHECKED],
        expires_at__lte=timezone.now(),
    ).values_list("pk", "state")
    for import_id, state in due:
        expired += _close(import_id, state, DeviceImport.State.EXPIRED)
    return expired


# --- Reads --------------------------------------------------------------------------------


def device_imports(membership: Membership) -> QuerySet[DeviceImport]:
    """Return the organization's imports, newest first (for admins: DEVICE_MANAGE)."""
    if not access.can(membership, Action.DEVICE_MANAGE):
        return DeviceImport.objects.none()
    return DeviceImport.objects.for_organization(membership.organization_id)


def get_device_import(membership: Membership, import_id: UUID | str) -> DeviceImport:
    """Return one import of the member's organization, or NotFound (also another tenant's).

    Visible to every member of the organization, so that operators and viewers get 403 from
    the action check, not 404, like the other organization-wide objects.
    """
    try:
        import_uuid = import_id if isinstance(import_id, uuid.UUID) else uuid.UUID(str(import_id))
        return (
            DeviceImport.objects.for_organization(membership.organization_id)
            .select_related("default_folder")
            .get(pk=import_uuid)
        )
    except (DeviceImport.DoesNotExist, ValueError, TypeError, AttributeError):
        raise NotFound("import_not_found", _("Import not found.")) from None


def import_rows(device_import: DeviceImport) -> QuerySet[DeviceImportRow]:
    """Return the rows of an import loaded through `get_device_import`, in file order."""
    return device_import.rows.select_related("target_folder").order_by("line_number", "id")


@dataclass(frozen=True)
class ImportProgress:
    """How far an import is: rows by state, and the share decided for the progress bar."""

    total: int
    counts: dict[str, int]

    @property
    def checked(self) -> int:
        return self.total - self.counts.get(DeviceImportRow.State.PENDING, 0)

    @property
    def ready(self) -> int:
        return self.counts.get(DeviceImportRow.State.READY, 0)

    @property
    def refused(self) -> int:
        return self.counts.get(DeviceImportRow.State.REFUSED, 0)

    @property
    def onboarded(self) -> int:
        return self.counts.get(DeviceImportRow.State.ONBOARDED, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(DeviceImportRow.State.FAILED, 0) + self.counts.get(
            DeviceImportRow.State.SKIPPED, 0
        )

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.checked / self.total)


def import_progress(device_import: DeviceImport) -> ImportProgress:
    """Return the rows of an import counted by state (one query)."""
    counts = dict(device_import.rows.values_list("state").annotate(count=Count("id")).order_by())
    return ImportProgress(total=device_import.row_count, counts=counts)


def result_rows(device_import: DeviceImport):
    """Yield the import's results as CSV rows (no password), header first."""
    yield list(RESULT_COLUMNS)
    for row in import_rows(device_import):
        yield [
            row.line_number,
            row.host,
            row.port,
            row.scheme,
            row.username,
            row.target_folder.name if row.target_folder else "",
            row.state,
            row.code,
            row.message,
            row.serial_number,
            row.product_number,
            row.firmware_version,
            row.certificate_fingerprint,
            str(row.device_id or ""),
        ]
