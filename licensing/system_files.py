"""The offline system description file: its format (a JSON Schema) and its validation.

The on-premises software writes it; an admin uploads it ("Upload system file"). Version 1:

    {
      "schema_version": 1,
      "system_id": "ACS-7F3A-0042",          # letters, digits, . _ - ; 1 to 64 characters
      "product": "camera-station",           # the product's code
      "name": "Warehouse recorder",          # optional, up to 120 characters
      "generated_at": "2026-12-01T09:30:00Z",# when the software wrote the file (ISO 8601)
      "devices": [{"serial": "ACCC8E012345", "model": "AXIS M3086-V"}, …]   # up to 10,000
    }

No other keys are allowed, serials are unique within the file. Every problem is reported with
the place it was found (`devices[3].serial`), so a person can fix the file.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 512 * 1024
MAX_DEVICES = 10_000

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://camfleet.example/schemas/offline-system-file-1.json",
    "title": "camfleet offline system description, version 1",
    "type": "object",
    "required": ["schema_version", "system_id", "product", "generated_at", "devices"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "system_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
        "product": {"type": "string", "pattern": "^[a-z0-9_-]{1,40}$"},
        "name": {"type": "string", "maxLength": 120},
        # Checked in `parse` (jsonschema checks formats only with optional packages).
        "generated_at": {"type": "string", "maxLength": 40},
        "devices": {
            "type": "array",
            "maxItems": MAX_DEVICES,
            "items": {
                "type": "object",
                "required": ["serial", "model"],
                "additionalProperties": False,
                "properties": {
                    "serial": {"type": "string", "pattern": "^[A-Za-z0-9]{1,32}$"},
                    "model": {"type": "string", "minLength": 1, "maxLength": 80},
                },
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class SystemDescription:
    """A valid system file's content."""

    system_id: str
    product_code: str
    name: str
    generated_at: datetime
    devices: list[dict[str, str]]


class SystemFileInvalid(Exception):
    """The file is not a valid system description; `problems` maps each place to its reasons."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in problems.items()))


def _path_order(error: Any) -> list[tuple[int, str]]:
    # Places in file order: list indexes by number, keys by name.
    return [(part, "") if isinstance(part, int) else (-1, str(part)) for part in error.path]


def _place(path: Any) -> str:
    place = ""
    for part in path:
        place += f"[{part}]" if isinstance(part, int) else (f".{part}" if place else str(part))
    return place or "file"


def _reason(error: Any) -> str:
    """Say in words what is wrong at one place (jsonschema's own messages are not translated)."""
    validator, value = error.validator, error.validator_value
    if validator == "required":
        missing = [name for name in value if name not in error.instance]
        return _("Missing: %(names)s.") % {"names": ", ".join(missing)}
    if validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return _("Not part of the format: %(names)s.") % {"names": ", ".join(extra)}
    if validator == "const":
        return _("Must be %(value)s.") % {"value": json.dumps(value)}
    if validator == "type":
        return _("Must be of type %(type)s.") % {"type": value}
    if validator == "pattern":
        return _("Contains characters that are not allowed, or is too long or empty.")
    if validator in ("maxLength", "minLength"):
        return _("Must be from %(min)d to %(max)d characters long.") % {
            "min": error.schema.get("minLength", 0),
            "max": error.schema.get("maxLength", 0),
        }
    if validator == "maxItems":
        return _("Lists at most %(max)d devices.") % {"max": value}
    return _("Is not valid here.")


def _date_time(value: Any) -> datetime | None:
    """Return an ISO 8601 date and time with its offset (RFC 3339), else None."""
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def load(content: bytes) -> Any:
    """Return the JSON document in a system file's bytes, or raise SystemFileInvalid."""
    if len(content) > MAX_FILE_BYTES:
        raise SystemFileInvalid({"file": [too_large()]})
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SystemFileInvalid(
            {"file": [_("The file is not JSON text (UTF-8). Upload the file the system wrote.")]}
        ) from None


def too_large() -> str:
    """Say that a file is over the size cap."""
    return _("The file is larger than %(size)d KB.") % {"size": MAX_FILE_BYTES // 1024}


def validate(document: Any) -> SystemDescription:
    """Return the description in a parsed system file, or raise SystemFileInvalid naming each
    problem by where it is."""
    problems: dict[str, list[str]] = {}
    for error in sorted(_VALIDATOR.iter_errors(document), key=_path_order):
        problems.setdefault(_place(error.absolute_path), []).append(_reason(error))
    generated_at = None
    if "generated_at" not in problems and isinstance(document, dict):
        generated_at = _date_time(document.get("generated_at"))
        if generated_at is None and "generated_at" in document:
            problems["generated_at"] = [_("Must be a date and time such as 2026-12-01T09:30:00Z.")]
    if not problems:
        seen: set[str] = set()
        for index, device in enumerate(document["devices"]):
            serial = device["serial"].upper()
            if serial in seen:
                problems[f"devices[{index}].serial"] = [_("This serial is listed twice.")]
            seen.add(serial)
    if problems:
        raise SystemFileInvalid(problems)
    return SystemDescription(
        system_id=document["system_id"],
        product_code=document["product"],
        name=document.get("name", ""),
        generated_at=generated_at,
        devices=[
            {"serial": device["serial"].upper(), "model": device["model"]}
            for device in document["devices"]
        ],
    )
