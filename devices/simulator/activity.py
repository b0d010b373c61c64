"""Upgrade work as the fleet sees it: how much happens at once, and how often each camera installs.

A management system promises "at most N upgrades at a time" and "never upgrade a device twice";
these counters let tests and benchmarks check both from the devices' side, whatever the system
under test believes it did. Counts start when the fleet is created; a camera reset leaves them
alone (like boot counts); `clear` starts them again.

- uploads: fwmgr/legacy upgrade requests receiving or verifying an image right now.
- upgrades: cameras between the start of an upload and the end of the boot that follows the
  install (or the end of an upload that installed nothing). A camera that never returns stays
  counted, as it would stay busy for whoever waits for it.
- installs: images each camera switched to (per original serial), including images that then
  failed to boot and rolled back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Gauge:
    """A number of things in progress and the most there ever were at once."""

    now: int = 0
    peak: int = 0

    def enter(self) -> None:
        """Count one more thing in progress."""
        self.now += 1
        self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        """Count one thing fewer in progress."""
        self.now = max(0, self.now - 1)

    def as_dict(self) -> dict[str, int]:
        """Return ``{"now": n, "peak": m}``."""
        return {"now": self.now, "peak": self.peak}


@dataclass
class Activity:
    """The fleet-wide counters (one per fleet; cameras report to it through their host)."""

    uploads: Gauge = field(default_factory=Gauge)
    upgrades: Gauge = field(default_factory=Gauge)
    installs: Counter[str] = field(default_factory=Counter)

    def clear(self) -> None:
        """Forget past peaks and installs; what is in progress stays counted."""
        self.uploads.peak = self.uploads.now
        self.upgrades.peak = self.upgrades.now
        self.installs.clear()

    def as_dict(self) -> dict[str, object]:
        """Return the counters as the control API shows them."""
        return {
            "uploads": self.uploads.as_dict(),
            "upgrades": self.upgrades.as_dict(),
            "installs": dict(self.installs),
        }
