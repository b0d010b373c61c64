"""Streaming bodies: the multipart firmware upload (sent from disk) and MJPEG frame parsing."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from devices.vapix.errors import AnswerTooLarge, UnexpectedResponse
from devices.vapix.models import MjpegFrame

UPLOAD_CHUNK_SIZE = 64 * 1024
MAX_PART_HEADER_BYTES = 64 * 1024
ProgressCallback = Callable[[int, int], None]


class MultipartFileUpload:
    """A ``multipart/form-data`` body of one JSON part and one file part, read from disk.

    The body is a file-like object with a known length, so ``requests`` sends it with a
    ``Content-Length`` header and reads it piece by piece: only one chunk of the image is ever
    in memory. ``on_progress(sent, total)`` reports bytes handed to the socket. One instance is
    sent once; ``reopen()`` gives a fresh instance for a repeated request (a new Digest nonce).
    """

    def __init__(
        self,
        *,
        json_part: bytes | None,
        file_path: Path,
        filename: str | None = None,
        boundary: str | None = None,
        json_field: str = "json",
        file_field: str = "file",
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.file_path = Path(file_path)
        self.filename = filename or self.file_path.name
        self.boundary = boundary or f"fw-{secrets.token_hex(12)}"
        self._json_part = json_part
        self._json_field = json_field
        self._file_field = file_field
        self._on_progress = on_progress
        safe_name = self.filename.replace('"', "").replace("\r", "").replace("\n", "")
        # The JSON part carries no filename: some AXIS OS versions reject that (VAPIX.md §6.3).
        # Without a JSON part the body is the legacy firmwareupgrade.cgi upload (one file part).
        self._head = b""
        if json_part is not None:
            self._head = (
                (
                    f"--{self.boundary}\r\n"
                    f'Content-Disposition: form-data; name="{json_field}"\r\n'
                    "Content-Type: application/json\r\n\r\n"
                ).encode()
                + json_part
                + b"\r\n"
            )
        self._head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{file_field}"; filename="{safe_name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.file_size = os.stat(self.file_path).st_size
        self._length = len(self._head) + self.file_size + len(self._tail)
        self._sent = 0
        self._file: BinaryIO | None = None
        self._closed = False

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def reopen(self) -> MultipartFileUpload:
        """Return a new, unread body with the same content and boundary."""
        self.close()
        return MultipartFileUpload(
            json_part=self._json_part,
            file_path=self.file_path,
            filename=self.filename,
            boundary=self.boundary,
            json_field=self._json_field,
            file_field=self._file_field,
            on_progress=self._on_progress,
        )

    def read(self, size: int = -1) -> bytes:
        """Return up to ``size`` bytes of the body (never more than one chunk of the image)."""
        if self._closed:
            return b""
        if size is None or size < 0:
            size = UPLOAD_CHUNK_SIZE
        head_end = len(self._head)
        file_end = head_end + self.file_size
        position = self._sent
        if position < head_end:
            piece = self._head[position : position + size]
        elif position < file_end:
            if self._file is None:
                self._file = open(self.file_path, "rb")  # noqa: SIM115 - closed at the end
                self._file.seek(position - head_end)
            piece = self._file.read(min(size, file_end - position))
            if not piece:
                raise UnexpectedResponse("firmware image shrank while it was being uploaded")
        elif position < self._length:
            if self._file is not None:
                self._file.close()
                self._file = None
            offset = position - file_end
            piece = self._tail[offset : offset + size]
        else:
            self.close()
            return b""
        self._sent += len(piece)
        if self._on_progress is not None:
            self._on_progress(self._sent, self._length)
        return piece

    def __iter__(self) -> Iterator[bytes]:
        while piece := self.read(UPLOAD_CHUNK_SIZE):
            yield piece

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._closed = True


def boundary_from_content_type(content_type: str) -> str:
    """Return the boundary token of a ``multipart/...; boundary=...`` content type."""
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key.strip().lower() == "boundary" and value.strip():
            return value.strip().strip('"')
    raise UnexpectedResponse(f"multipart answer without a boundary: {content_type!r}")


def iter_mjpeg_frames(
    chunks: Iterable[bytes],
    boundary: str,
    *,
    max_frame_bytes: int = 16 * 1024 * 1024,
    max_header_bytes: int = MAX_PART_HEADER_BYTES,
) -> Iterator[MjpegFrame]:
    """Yield the JPEG frames of a ``multipart/x-mixed-replace`` body.

    Uses each part's ``Content-Length`` when present and otherwise the next boundary line.
    Tolerates a boundary parameter that already includes the leading ``--``. A part larger
    than ``max_frame_bytes`` raises ``AnswerTooLarge``, part headers longer than
    ``max_header_bytes`` ``UnexpectedResponse``. Linear in the stream's length: every search
    resumes where the previous one stopped.
    """
    token = boundary.removeprefix("--")
    marker = b"--" + token.encode("latin-1")
    buffer = bytearray()
    source = iter(chunks)
    exhausted = False

    def too_large() -> AnswerTooLarge:
        return AnswerTooLarge(
            f"MJPEG part larger than the frame limit of {max_frame_bytes} bytes",
            limit=max_frame_bytes,
        )

    def fill() -> bool:
        nonlocal exhausted
        if exhausted:
            return False
        for chunk in source:
            if chunk:
                buffer.extend(chunk)
                return True
        exhausted = True
        return False

    while True:
        start = buffer.find(marker)
        while start < 0:
            # Keep a tail in case the marker is split between two chunks.
            del buffer[: max(0, len(buffer) - len(marker))]
            if not fill():
                return
            start = buffer.find(marker)
        del buffer[:start]
        searched = 0
        while True:
            header_end = buffer.find(b"\r\n\r\n", searched)
            separator_length = 4
            if header_end < 0:
                header_end = buffer.find(b"\n\n", searched)
                separator_length = 2
            if header_end >= 0:
                break
            if len(buffer) > max_header_bytes:
                raise UnexpectedResponse("MJPEG part headers longer than the header limit")
            searched = max(0, len(buffer) - 3)
            if not fill():
                return
        header_lines = bytes(buffer[len(marker) : header_end]).decode("latin-1").splitlines()
        if header_lines and header_lines[0].startswith("--"):
            return  # closing boundary
        headers: dict[str, str] = {}
        for line in header_lines:
            key, separator, value = line.partition(":")
            if separator:
                headers[key.strip().lower()] = value.strip()
        del buffer[: header_end + separator_length]
        length_text = headers.get("content-length", "")
        if length_text.isdecimal():
            length = int(length_text)
            if length > max_frame_bytes:
                raise too_large()
            while len(buffer) < length:
                if not fill():
                    return
            frame = bytes(buffer[:length])
            del buffer[:length]
        else:
            searched = 0
            end = buffer.find(marker)
            while end < 0:
                if len(buffer) > max_frame_bytes + len(marker) + 4:
                    raise too_large()
                searched = max(0, len(buffer) - len(marker) + 1)
                if not fill():
                    end = len(buffer)
                    break
                end = buffer.find(marker, searched)
            frame = bytes(buffer[:end]).rstrip(b"\r\n")
            del buffer[:end]
            if len(frame) > max_frame_bytes:
                raise too_large()
        content_type = headers.get("content-type", "image/jpeg").split(";")[0].strip().lower()
        if content_type != "image/jpeg" or not frame.startswith(b"\xff\xd8"):
            raise UnexpectedResponse("MJPEG part is not a JPEG image")
        yield MjpegFrame(jpeg=frame, headers=headers)
        if exhausted and not buffer:
            return
