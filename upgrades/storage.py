"""Where firmware images are kept: a storage backend from settings, read at each use.

`FIRMWARE_STORAGE` names an entry of STORAGES (an object store in production); without it,
images are files under `FIRMWARE_ROOT`. Read on every call, so tests can point it elsewhere.
"""

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage, storages

_CHUNK = 1 << 20


def firmware_storage() -> Storage:
    """Return the storage firmware images are saved in."""
    if settings.FIRMWARE_STORAGE:
        return storages[settings.FIRMWARE_STORAGE]
    return FileSystemStorage(location=settings.FIRMWARE_ROOT)


@dataclass(frozen=True)
class Digest:
    """What reading a whole image told: its SHA-256 (lower-case hex) and its size in bytes."""

    sha256: str
    size: int


def digest_of(stream: IO[bytes], *, max_bytes: int) -> Digest | None:
    """Return the SHA-256 and size of a stream read from its start, or None above `max_bytes`.

    Reads one chunk at a time, so the size of the image does not matter for memory.
    """
    stream.seek(0)
    sha256 = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            return None
        sha256.update(chunk)
    stream.seek(0)
    return Digest(sha256.hexdigest(), size)


def save_image(stream: IO[bytes], *, sha256: str, file_name: str) -> str:
    """Store a verified image under "<sha256>/<file name>" and return its storage name.

    The name is content-addressed, so storing the same image twice keeps one file.
    """
    storage = firmware_storage()
    name = f"{sha256}/{file_name}"
    if storage.exists(name):
        return name
    stream.seek(0)
    return storage.save(name, File(stream, name=file_name))


def delete_image(name: str) -> None:
    """Remove a stored image (after its release was deleted)."""
    firmware_storage().delete(name)


@contextmanager
def local_image(name: str) -> Iterator[Path]:
    """Yield a local file of a stored image, for uploading it to a device.

    Files of the file system storage are used in place; an image in an object store is copied
    to a temporary file (one chunk in memory at a time), removed afterwards.
    """
    storage = firmware_storage()
    try:
        path = storage.path(name)
    except NotImplementedError:
        path = None
    if path is not None:
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix="camfleet-image-") as folder:
        copy = Path(folder) / Path(name).name
        with storage.open(name, "rb") as source, copy.open("wb") as target:
            shutil.copyfileobj(source, target, _CHUNK)
        yield copy
