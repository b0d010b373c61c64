"""Generated JPEG frames: different per camera, with the camera's name and the time drawn on.

Rendering costs a few milliseconds, so frames are cached per (camera, size, quality, second):
a camera renders at most one frame per second per size however many clients ask. The cache is a
small bounded LRU shared by the fleet, so 1,000 idle cameras hold no images at all.
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from datetime import UTC, datetime

from PIL import Image, ImageDraw, ImageFont

_CACHE_SIZE = 256
_cache: OrderedDict[tuple[str, int, int, int, str], bytes] = OrderedDict()
_fonts: dict[int, ImageFont.ImageFont | ImageFont.FreeTypeFont] = {}


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    if size not in _fonts:
        _fonts[size] = ImageFont.load_default(size=size)
    return _fonts[size]


def _palette(serial: str) -> tuple[tuple[int, int, int], tuple[int, int, int], bytes]:
    """Return a background colour, an accent colour and shape seeds derived from the serial."""
    digest = hashlib.sha256(serial.encode()).digest()
    background = (40 + digest[0] % 150, 40 + digest[1] % 150, 40 + digest[2] % 150)
    accent = (255 - background[0], 255 - background[1], 255 - background[2])
    return background, accent, digest[3:]


def render_jpeg(
    serial: str,
    title: str,
    width: int,
    height: int,
    quality: int,
    moment: datetime | None = None,
) -> bytes:
    """Return a JPEG of `width` x `height` showing `title`, the serial and the time (UTC)."""
    moment = moment or datetime.now(UTC)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
    key = (serial, width, height, quality, stamp)
    cached = _cache.get(key)
    if cached is not None:
        _cache.move_to_end(key)
        return cached
    background, accent, seeds = _palette(serial)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    # A few serial-dependent shapes make cameras tell apart at a glance, even as thumbnails.
    for i in range(4):
        x0 = seeds[i * 4] * width // 256
        y0 = seeds[i * 4 + 1] * height // 256
        size = max(8, seeds[i * 4 + 2] * min(width, height) // 512)
        box = (x0, y0, x0 + size, y0 + size)
        if seeds[i * 4 + 3] % 2:
            draw.ellipse(box, fill=accent)
        else:
            draw.rectangle(box, outline=accent, width=max(2, size // 10))
    # A moving bar shows that successive MJPEG frames differ.
    bar_x = (moment.second * width) // 60
    draw.rectangle((bar_x, height - height // 12, bar_x + width // 30, height), fill=accent)
    font_size = max(10, height // 14)
    font = _font(font_size)
    margin = font_size // 2
    for line_number, text in enumerate((title, serial, stamp)):
        y = margin + line_number * (font_size + margin // 2)
        draw.text((margin + 1, y + 1), text, fill=(0, 0, 0), font=font)
        draw.text((margin, y), text, fill=(255, 255, 255), font=font)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    data = buffer.getvalue()
    _cache[key] = data
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return data


def quality_from_compression(compression: int) -> int:
    """Map VAPIX ``compression`` (0..100, higher = smaller) to a Pillow quality."""
    return max(5, min(95, 100 - compression))
