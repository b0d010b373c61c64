"""Test firmware images for the camera simulator: build them, and verify them while streaming.

The real AXIS OS image format is secret (VAPIX.md §11.4), so the simulator accepts only images of
our own format (VAPIX.md §14 item 17)::

    AXISSIM/1 product=<ProdNbr>[,<ProdNbr>...] version=<x.y.z> signed=<0|1>
        cert=<axis|custom:<id>|unknown> revoked=<0|1> boot=<ok|fail>\\n      (one line)
    <payload: arbitrary bytes>
    sha256=<64 lower-case hex digits of every byte before "sha256=">\\n   (the last 72 bytes)

The header is a single ASCII line (wrapped above for reading). ``product`` lists every compatible
product number. The trailer is exactly 72 bytes, so a verifier can hash the stream without knowing
its length in advance and never has to hold more than one chunk plus 72 bytes.

Command line (writes an image without holding it in memory)::

    python -m devices.simulator.firmware --product P3265-V --version 12.11.86 --size 30M -o x.bin
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAGIC = b"AXISSIM/1 "
TRAILER_PREFIX = b"sha256="
TRAILER_LENGTH = len(TRAILER_PREFIX) + 64 + 1
MAX_HEADER_LENGTH = 1024
_BLOCK_SIZE = 1 << 20
_VERSION_RE = re.compile(r"^\d+(\.\d+){1,3}$")
_PRODUCT_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,30}$")


class ImageError(Exception):
    """An image the simulator cannot accept; `reason` is one of the class constants."""

    GARBLED = "garbled"  # no or unreadable header: real devices answer 421 for junk
    CHECKSUM = "checksum"  # truncated or modified: 415

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class ImageHeader:
    """What an image's header promises."""

    products: tuple[str, ...]
    version: str
    signed: bool = True
    cert: str = "axis"
    revoked: bool = False
    boots: bool = True

    def to_line(self) -> bytes:
        """Return the header line, newline included."""
        fields = (
            f"product={','.join(self.products)} version={self.version} "
            f"signed={int(self.signed)} cert={self.cert} revoked={int(self.revoked)} "
            f"boot={'ok' if self.boots else 'fail'}"
        )
        return MAGIC + fields.encode("ascii") + b"\n"


def parse_header(line: bytes) -> ImageHeader:
    """Parse one header line (with or without its newline); raise ImageError(GARBLED) if bad."""
    if not line.startswith(MAGIC):
        raise ImageError(ImageError.GARBLED, "no AXISSIM/1 header")
    try:
        text = line[len(MAGIC) :].rstrip(b"\r\n").decode("ascii")
    except UnicodeDecodeError as exc:
        raise ImageError(ImageError.GARBLED, "header is not ASCII") from exc
    fields: dict[str, str] = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if not sep:
            raise ImageError(ImageError.GARBLED, f"header field without value: {item!r}")
        fields[key] = value
    try:
        products = tuple(p for p in fields["product"].split(",") if p)
        version = fields["version"]
        signed = fields.get("signed", "1")
        revoked = fields.get("revoked", "0")
        cert = fields.get("cert", "axis")
        boot = fields.get("boot", "ok")
    except KeyError as exc:
        raise ImageError(ImageError.GARBLED, f"header lacks {exc.args[0]}") from exc
    if (
        not products
        or not all(_PRODUCT_RE.match(p) for p in products)
        or not _VERSION_RE.match(version)
        or signed not in ("0", "1")
        or revoked not in ("0", "1")
        or boot not in ("ok", "fail")
        or not (cert in ("axis", "unknown") or cert.startswith("custom:"))
    ):
        raise ImageError(ImageError.GARBLED, "header field out of range")
    return ImageHeader(
        products=products,
        version=version,
        signed=signed == "1",
        cert=cert,
        revoked=revoked == "1",
        boots=boot == "ok",
    )


def image_filename(product_number: str, version: str) -> str:
    """Return the official-looking file name, e.g. ``P3265-V_12_11_77.bin`` (VAPIX.md §11.4)."""
    return f"{product_number}_{version.replace('.', '_')}.bin"


def _payload_blocks(header: ImageHeader, payload_size: int) -> Iterator[bytes]:
    """Yield `payload_size` deterministic bytes in blocks of at most 1 MiB."""
    # One pseudo-random block, repeated: cheap to make, but a byte flip anywhere changes the hash.
    seed = hashlib.sha256(header.to_line()).digest()
    block = hashlib.shake_256(seed).digest(min(payload_size, _BLOCK_SIZE) or 1)
    remaining = payload_size
    while remaining > 0:
        piece = block[: min(remaining, len(block))]
        remaining -= len(piece)
        yield piece


def iter_image(header: ImageHeader, payload_size: int, *, corrupt: bool = False) -> Iterator[bytes]:
    """Yield the bytes of an image in chunks of at most 1 MiB.

    With `corrupt`, one payload byte is flipped after the checksum is computed, so the
    device must refuse the image with 415.
    """
    digest = hashlib.sha256()
    line = header.to_line()
    digest.update(line)
    yield line
    flip_at = payload_size // 2
    offset = 0
    for block in _payload_blocks(header, payload_size):
        digest.update(block)
        if corrupt and offset <= flip_at < offset + len(block):
            index = flip_at - offset
            block = block[:index] + bytes([block[index] ^ 0xFF]) + block[index + 1 :]
        offset += len(block)
        yield block
    yield TRAILER_PREFIX + digest.hexdigest().encode("ascii") + b"\n"


def build_image(
    product_numbers: Iterable[str] | str,
    version: str,
    payload_size: int = 4096,
    corrupt: bool = False,
    **header_fields: object,
) -> bytes:
    """Return a whole test image in memory (use `write_image` for large ones).

    `header_fields` may set `signed`, `cert`, `revoked` and `boots` (see ImageHeader).
    """
    header = make_header(product_numbers, version, **header_fields)
    return b"".join(iter_image(header, payload_size, corrupt=corrupt))


def write_image(
    path: str | Path,
    product_numbers: Iterable[str] | str,
    version: str,
    payload_size: int,
    corrupt: bool = False,
    **header_fields: object,
) -> Path:
    """Write a test image to `path` one block at a time and return the path."""
    header = make_header(product_numbers, version, **header_fields)
    target = Path(path)
    with target.open("wb") as stream:
        for chunk in iter_image(header, payload_size, corrupt=corrupt):
            stream.write(chunk)
    return target


def make_header(
    product_numbers: Iterable[str] | str, version: str, **header_fields: object
) -> ImageHeader:
    """Return an ImageHeader for the given products and version plus optional fields."""
    products = (product_numbers,) if isinstance(product_numbers, str) else tuple(product_numbers)
    return ImageHeader(products=products, version=version, **header_fields)  # type: ignore[arg-type]


class StreamingVerifier:
    """Check an image fed chunk by chunk, keeping at most the header and 72 trailing bytes.

    Feed every chunk with `feed`, then call `finish`, which returns the header or raises
    ImageError. Memory use is independent of the image size.
    """

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._head = bytearray()
        self._header_done = False
        self._tail = b""
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        """Account for the next chunk of the image."""
        self.size += len(chunk)
        if not self._header_done:
            need = MAX_HEADER_LENGTH - len(self._head)
            self._head += chunk[:need]
            if b"\n" in self._head or len(self._head) >= MAX_HEADER_LENGTH:
                self._header_done = True
        data = self._tail + chunk if self._tail else chunk
        if len(data) > TRAILER_LENGTH:
            cut = len(data) - TRAILER_LENGTH
            self._digest.update(memoryview(data)[:cut])
            self._tail = bytes(data[cut:])
        else:
            self._tail = bytes(data)

    def header(self) -> ImageHeader:
        """Return the parsed header (available once the first line has arrived)."""
        line, newline, _ = bytes(self._head).partition(b"\n")
        if not newline:
            raise ImageError(ImageError.GARBLED, "header line missing or too long")
        return parse_header(line)

    def finish(self) -> ImageHeader:
        """Return the header if the checksum matches; raise ImageError otherwise."""
        header = self.header()
        tail = self._tail
        if (
            len(tail) != TRAILER_LENGTH
            or not tail.startswith(TRAILER_PREFIX)
            or not tail.endswith(b"\n")
        ):
            raise ImageError(ImageError.CHECKSUM, "checksum trailer missing (truncated image?)")
        expected = tail[len(TRAILER_PREFIX) : -1].decode("ascii", "replace")
        if expected != self._digest.hexdigest():
            raise ImageError(ImageError.CHECKSUM, "checksum mismatch")
        return header


def verify_stream(stream: BinaryIO, chunk_size: int = _BLOCK_SIZE) -> ImageHeader:
    """Verify an image read from a binary file object; return its header or raise ImageError."""
    verifier = StreamingVerifier()
    while chunk := stream.read(chunk_size):
        verifier.feed(chunk)
    return verifier.finish()


def _parse_size(text: str) -> int:
    """Parse '30M', '512k' or '1000' into a byte count."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower()
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def main(argv: list[str] | None = None) -> None:
    """Write one test image as the command line asks."""
    parser = argparse.ArgumentParser(description="Write a simulated AXIS OS image.")
    parser.add_argument("--product", action="append", required=True, help="ProdNbr; repeatable")
    parser.add_argument("--version", required=True)
    parser.add_argument("--size", default="1M", help="payload size, e.g. 30M")
    parser.add_argument("--corrupt", action="store_true")
    parser.add_argument("--unsigned", action="store_true")
    parser.add_argument("--revoked", action="store_true")
    parser.add_argument("--cert", default="axis")
    parser.add_argument("--boot-fail", action="store_true")
    parser.add_argument("-o", "--output", help="file (default: official-looking name)")
    args = parser.parse_args(argv)
    output = args.output or image_filename(args.product[0], args.version)
    write_image(
        output,
        args.product,
        args.version,
        _parse_size(args.size),
        corrupt=args.corrupt,
        signed=not args.unsigned,
        revoked=args.revoked,
        cert=args.cert,
        boots=not args.boot_fail,
    )
    print(output)  # noqa: T201 - the command's only output


if __name__ == "__main__":
    main()
