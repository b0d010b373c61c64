"""What each app declares to the cross-tenant probe and the role table.

Each app's tests hold a `tests/<app>/declarations.py` that calls

- `declare_route_ids(RouteId("device_id", make=…, in_folder=True), …)`: how the probe in
  tests/test_tenancy.py makes a real object of a tenant for each URL parameter its routes take;
- `declare_role_rows({Action.DEVICE_CONTROL: (ALL, ALL, GRANTED, NO), …})`: the PRODUCT.md §3
  rows of its actions (owner, admin, operator, viewer), checked in
  tests/organizations/test_access.py.

Routes are still discovered from the URL resolver; a parameter or an action nobody declared
fails those tests with a message that says what to declare, and where.
"""

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

TESTS = Path(__file__).resolve().parent.parent

# Role table cells: allowed everywhere, only inside granted folders, or not at all.
ALL, GRANTED, NO = "all", "granted", "no"

# Declarations are looked for here; the message for an undeclared name points to it.
DECLARATIONS = "tests/<app>/declarations.py"


@dataclass(frozen=True)
class RouteId:
    """How the probe fills the URL parameter `name` with the id of a tenant's real object.

    `make(tenant, folder)` returns the id; objects filed in folders are made in `folder`, and
    `in_folder=True` adds the routes to the "viewer outside their grants" probe;
    `is_shared=True` says the id names no tenant's object (a catalogue entry every tenant
    shares), so "another tenant's object under my organization" does not apply to it.
    `tenant` is the shared cast (`tests/support/cast.py`) plus what the probe adds in
    `tests/test_tenancy.py`: site, sibling, blind_viewer, token.
    """

    name: str
    make: Callable[[SimpleNamespace, Any], Any]
    in_folder: bool = False
    is_shared: bool = False


_route_ids: dict[str, RouteId] = {}
_role_rows: dict[str, tuple[str, str, str, str]] = {}


def declare_route_ids(*route_ids: RouteId) -> None:
    """Teach the cross-tenant probe the URL parameters of an app's routes."""
    for route_id in route_ids:
        if route_id.name in _route_ids and _route_ids[route_id.name] != route_id:
            raise ValueError(f"The URL parameter {route_id.name!r} is declared twice.")
        _route_ids[route_id.name] = route_id


def declare_role_rows(rows: Mapping[str, tuple[str, str, str, str]]) -> None:
    """Declare PRODUCT.md §3 rows: action → (owner, admin, operator, viewer), ALL/GRANTED/NO."""
    for action, row in rows.items():
        if action in _role_rows and _role_rows[action] != tuple(row):
            raise ValueError(f"The role table row of {action!r} is declared twice.")
        _role_rows[action] = tuple(row)


@cache
def load_declarations() -> None:
    """Import every app's tests/<app>/declarations.py once."""
    for path in sorted(TESTS.glob("*/declarations.py")):
        importlib.import_module(f"tests.{path.parent.name}.declarations")


def route_ids() -> dict[str, RouteId]:
    """Return every declared URL parameter, by name."""
    load_declarations()
    return dict(_route_ids)


def role_table() -> dict[str, tuple[str, str, str, str]]:
    """Return every declared role table row, by action."""
    load_declarations()
    return dict(_role_rows)
