"""Catalog releases for tests: real (small) simulator images, added through the service."""

import hashlib
import io
from datetime import date

from devices.simulator.firmware import build_image, image_filename
from upgrades.services import ReleaseSpec, SecurityNote, add_release


def add_test_release(
    version: str,
    products: tuple[str, ...] | str = ("P3265-V",),
    *,
    recommended: bool = True,
    fixes: tuple[tuple[str, str], ...] = (),
    released: date = date(2026, 1, 1),
    payload_size: int = 256,
):
    """Add a release with a real image; `fixes` are (CVE ID, severity) pairs."""
    products = (products,) if isinstance(products, str) else tuple(products)
    image = build_image(products, version, payload_size=payload_size)
    spec = ReleaseSpec(
        version=version,
        product_numbers=products,
        release_date=released,
        file_name=image_filename(products[0], version),
        sha256=hashlib.sha256(image).hexdigest(),
        recommended=recommended,
        security_notes=tuple(SecurityNote(cve, severity) for cve, severity in fixes),
    )
    return add_release(spec=spec, image=io.BytesIO(image)).release
