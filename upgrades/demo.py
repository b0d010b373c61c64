"""The demo catalog `seed_demo` loads: AXIS OS releases for the simulator's models.

Several models on the active track (12.x) and three LTS lines (10.12, 11.11, 12.11), the same
versions the camera simulator runs (devices/simulator/catalog.py), and one security release.
Images are small test images of the simulator's format; they are the same bytes every time, so
loading the catalog again changes nothing.
"""

import tempfile
from datetime import date
from pathlib import Path

from devices.simulator.firmware import image_filename, write_image
from upgrades.services import ReleaseSpec, SecurityNote, add_release
from upgrades.storage import digest_of

CVE_2025_0324 = SecurityNote(
    "CVE-2025-0324",
    "critical",
    "VAPIX Device Configuration framework: privilege escalation to administrator.",
)
CVE_2025_9524 = SecurityNote(
    "CVE-2025-9524", "medium", "port.cgi input validation: a crafted request crashes a process."
)

# (version, products, release date, security notes)
DEMO_RELEASES = [
    ("12.7.61", ("Q1961-TE", "Q6135-LE"), date(2025, 9, 2), ()),
    ("12.8.49", ("Q1961-TE", "Q6135-LE"), date(2025, 11, 18), ()),
    ("12.9.57", ("Q1961-TE", "Q6135-LE"), date(2026, 2, 3), ()),
    ("12.11.61", ("P3265-V",), date(2026, 6, 2), ()),
    ("12.11.77", ("P3265-V",), date(2026, 8, 25), ()),
    ("12.11.86", ("P3265-V",), date(2026, 10, 27), ()),
    ("11.11.135", ("M1075-L", "M5075"), date(2025, 3, 11), ()),
    ("11.11.160", ("M1075-L", "M5075"), date(2025, 7, 8), (CVE_2025_0324, CVE_2025_9524)),
    ("11.11.192", ("M1075-L", "M5075"), date(2026, 4, 14), ()),
    ("10.12.299", ("M3066-V",), date(2025, 5, 6), ()),
    ("10.12.323", ("M3066-V",), date(2025, 12, 9), ()),
    ("10.12.338", ("M3066-V",), date(2026, 5, 19), ()),
]
_PAYLOAD_BYTES = 16 * 1024


def seed_catalog() -> list[str]:
    """Load the demo releases (idempotent); return a line per release and what happened."""
    lines = []
    with tempfile.TemporaryDirectory(prefix="camfleet-demo-firmware-") as folder:
        for version, products, released, notes in DEMO_RELEASES:
            path = write_image(
                Path(folder) / image_filename(products[0], version),
                products,
                version,
                _PAYLOAD_BYTES,
            )
            with path.open("rb") as image:
                digest = digest_of(image, max_bytes=_PAYLOAD_BYTES * 2)
                result = add_release(
                    spec=ReleaseSpec(
                        version=version,
                        product_numbers=products,
                        release_date=released,
                        file_name=path.name,
                        sha256=digest.sha256,
                        notes="Security release." if notes else "",
                        security_notes=notes,
                    ),
                    image=image,
                )
            lines.append(f"{result.outcome:9} {result.release}")
    return lines
