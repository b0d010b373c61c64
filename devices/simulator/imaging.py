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


_labels: OrderedDict[tuple[str, int], Image.Image] = OrderedDict()


def _label(text: str, size: int) -> Image.Image:
    """Return `text` as white-on-transparent RGBA with a 1-pixel shadow, cached (LRU)."""
    key = (text, size)
    cached = _labels.get(key)
    if cached is not None:
        _labels.move_to_end(key)
        return cached
    font = _font(size)
    _left, _top, right, bottom = font.getbbox(text)
    label = Image.new("RGBA", (max(1, right) + 2, max(1, bottom) + 2), (0, 0, 0, 0))
    draw = ImageDraw.Draw(label)
    draw.text((1, 1), text, fill=(0, 0, 0, 255), font=font)
    draw.text((0, 0), text, fill=(255, 255, 255, 255), font=font)
    _labels[key] = label
    if len(_labels) > 4 * _CACHE_SIZE:
        _labels.popitem(last=False)
    return label


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
    margin = font_size // 2
    for line_number, text in enumerate((title, serial, stamp)):
        y = margin + line_number * (font_size + margin // 2)
        # The time changes every second: compose it from cached glyphs instead of asking
        # FreeType to render the whole string again (rendering dominated the frame cost).
        pieces = (
            [_label(char, font_size) for char in text]
            if text is stamp
            else [_label(text, font_size)]
        )
        x = margin
        for piece in pieces:
            image.paste(piece, (x, y), piece)
            x += piece.width - 1
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
