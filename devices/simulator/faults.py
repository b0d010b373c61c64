"""Fault names, their arguments, and the ``--faults`` specification language.

A spec is a comma-separated list of ``name=share[:argument]`` items, e.g.
``offline=5%,never-returns=1%,slow-link=10%:65536,refuse-image=2:422``. ``share`` is a percentage
of the fleet (``5%``), an absolute number of cameras (``2``) or ``all``. Which cameras get a fault
is decided by the fleet's seed, so the same spec and seed always hit the same cameras.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# name -> (default argument, what the argument means). An argument of True means "no argument".
FAULTS: dict[str, tuple[object, str]] = {
    "offline": (True, "no listener: connections are refused"),
    "slow-link": (65536, "bytes per second, both directions"),
    "wrong-credentials": (True, "every credential is rejected with 401, even the right one"),
    "refuse-image": (421, "firmware upgrade answers this fwmgr error code"),
    "hang": (True, "connections are accepted but never answered"),
    "html-errors": (500, "every request answers an HTML error page with this HTTP status"),
    "never-returns": (True, "after the next reboot the camera stays down"),
    "comes-back-old": (True, "after an upgrade the new image fails to boot and rolls back"),
    "flapping": (30, "online/offline every N simulated seconds"),
    "answer-lost": (True, "upgrade accepted, but the device reboots without answering"),
    "latency": (200, "milliseconds added before every answer"),
    "flaky-errors": (20, "this percentage of requests answers a 500 HTML page"),
    "bad-json": (True, "JSON APIs answer 200 with a truncated JSON document"),
    "upload-reset": (50, "firmware upload connection is reset at this percentage"),
    "upload-stall": (50, "firmware upload stops being read at this percentage"),
    "swapped-serial": (True, "after the next boot the camera reports another serial"),
    "clock-skew": (3600, "seconds added to lastUpgradeAt"),
}


class FaultSpecError(ValueError):
    """A ``--faults`` specification that cannot be parsed."""


@dataclass(frozen=True)
class FaultRule:
    """One item of a spec: which fault, how many cameras, which argument."""

    name: str
    share: str
    argument: object

    def count(self, fleet_size: int) -> int:
        """Return how many cameras of a fleet of `fleet_size` this rule selects."""
        if self.share == "all":
            return fleet_size
        if self.share.endswith("%"):
            # Round half up so "5%" of 10 cameras is 1 camera, not 0: a fault asked for appears.
            return min(fleet_size, int(fleet_size * float(self.share[:-1]) / 100 + 0.5))
        return min(fleet_size, int(self.share))


def coerce_argument(name: str, value: object) -> object:
    """Return the fault argument in its canonical type, or raise FaultSpecError."""
    if name not in FAULTS:
        raise FaultSpecError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULTS))}")
    default = FAULTS[name][0]
    if value is None or value is True or value == "":
        return default
    if default is True:
        if value in (1, "1", "true", "yes", "on"):
            return True
        raise FaultSpecError(f"fault {name!r} takes no argument")
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise FaultSpecError(f"fault {name!r} needs an integer argument, got {value!r}") from exc
    if number <= 0:
        raise FaultSpecError(f"fault {name!r} needs a positive argument")
    return number


def parse_spec(spec: str | None) -> list[FaultRule]:
    """Parse a ``--faults`` spec into rules; raise FaultSpecError on any mistake."""
    rules: list[FaultRule] = []
    for raw in (spec or "").split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, rest = item.partition("=")
        name = name.strip()
        share, _, argument = (rest.strip() if sep else "all").partition(":")
        if share != "all":
            digits = share[:-1] if share.endswith("%") else share
            try:
                if float(digits) < 0:
                    raise ValueError(digits)
            except ValueError as exc:
                raise FaultSpecError(f"bad share {share!r} in {item!r}") from exc
        rules.append(FaultRule(name, share, coerce_argument(name, argument or None)))
    return rules


def assign(rules: list[FaultRule], fleet_size: int, seed: int) -> list[dict[str, object]]:
    """Return, per camera index, the faults the rules give it (deterministic for a seed)."""
    result: list[dict[str, object]] = [{} for _ in range(fleet_size)]
    for rule in rules:
        # Each fault name gets its own shuffle so two 5% faults do not always hit the same camera.
        order = list(range(fleet_size))
        random.Random(f"{seed}:{rule.name}").shuffle(order)  # noqa: S311 - reproducible
        for index in order[: rule.count(fleet_size)]:
            result[index][rule.name] = rule.argument
    return result
