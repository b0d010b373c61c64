"""Video through the service: the per-user stream limit and the proxied MJPEG bodies.

The browser only ever talks to the service; the service opens the device's MJPEG (live or
recording playback) with the device's credentials and copies frame by frame into a
`multipart/x-mixed-replace` answer, holding one frame at a time.

Limit: each person may have `DEVICE_STREAMS_PER_USER` streams open at once, counted in the
Django cache (Redis in production) so every web process sees the same count. A stream holds one
numbered slot key, taken with `cache.add` (atomic: SET NX in Redis) and kept alive with
`cache.touch` while frames flow. The key expires `STREAM_SLOT_TTL` seconds after the last
refresh, so a process that dies mid-stream leaks its slot for at most that long.

Closing: Django calls `close()` on the body when the response ends, also when the viewer went
away and the server failed to write. `ProxiedStream.close()` closes the frame iterator (which
closes the device connection), the client, and gives the slot back — also when the body was
never iterated at all.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.errors import DomainError
from devices.vapix import MjpegFrame, VapixClient, VapixError

logger = logging.getLogger(__name__)

BOUNDARY = "camfleetframe"
MJPEG_CONTENT_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
# A slot expires this long after its last refresh (a crashed process frees it by then).
STREAM_SLOT_TTL = 60
# How often a running stream refreshes its slot (well inside the TTL).
STREAM_SLOT_REFRESH = 15
SLOT_KEY = "camfleet:device-stream:{user_id}:{index}"


class StreamLimitReached(DomainError):
    """The person already has as many streams open as the setting allows (HTTP 429)."""

    http_status = 429
    default_code = "stream_limit"


def streams_per_user() -> int:
    """Return the setting DEVICE_STREAMS_PER_USER (at least 1)."""
    return max(1, int(getattr(settings, "DEVICE_STREAMS_PER_USER", 4)))


@dataclass
class StreamSlot:
    """One of a person's concurrent stream slots, held while a stream runs."""

    key: str
    token: str
    refreshed_at: float = field(default_factory=time.monotonic)
    released: bool = False

    def refresh(self) -> None:
        """Keep the slot alive; cheap to call per frame (touches the cache every 15 s)."""
        now = time.monotonic()
        if now - self.refreshed_at < STREAM_SLOT_REFRESH:
            return
        self.refreshed_at = now
        if not cache.touch(self.key, STREAM_SLOT_TTL):
            # Expired meanwhile (a very long stall): take it again if nobody else did.
            cache.add(self.key, self.token, timeout=STREAM_SLOT_TTL)

    def release(self) -> None:
        """Give the slot back (once); a slot that expired and went to another stream stays."""
        if self.released:
            return
        self.released = True
        if cache.get(self.key) == self.token:
            cache.delete(self.key)


def acquire_slot(user_id: object) -> StreamSlot:
    """Take a free stream slot of this person, or raise StreamLimitReached."""
    limit = streams_per_user()
    token = secrets.token_hex(8)
    for index in range(limit):
        key = SLOT_KEY.format(user_id=user_id, index=index)
        if cache.add(key, token, timeout=STREAM_SLOT_TTL):
            return StreamSlot(key=key, token=token)
    raise StreamLimitReached(
        message=ngettext(
            "You already have %(count)d live stream open, the most allowed at once. Close it "
            "(leave its page or tab) and try again.",
            "You already have %(count)d live streams open, the most allowed at once. Close one "
            "(leave its page or tab) and try again.",
            limit,
        )
        % {"count": limit}
    )


def open_slots(user_id: object) -> int:
    """Return how many stream slots this person holds now (for tests and the page)."""
    keys = [SLOT_KEY.format(user_id=user_id, index=index) for index in range(streams_per_user())]
    return len(cache.get_many(keys))


def multipart_part(jpeg: bytes) -> bytes:
    """Return one JPEG as a part of our multipart/x-mixed-replace answer."""
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode("ascii") + jpeg + b"\r\n"


class ProxiedStream:
    """The body of a proxied MJPEG answer: frames from the device, one at a time.

    Takes ownership of the client, the device's frame iterator (already started: `first` is
    its first frame, read before the answer's status was chosen) and the slot; `close()`
    releases all three, once, whether or not the body was ever read.
    """

    def __init__(
        self,
        *,
        client: VapixClient,
        frames: Iterator[MjpegFrame],
        first: MjpegFrame,
        slot: StreamSlot,
        label: str,
    ) -> None:
        self._client = client
        self._frames = frames
        self._first: MjpegFrame | None = first
        self._slot = slot
        self._label = label
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        if self._first is not None:
            frame, self._first = self._first, None
            return multipart_part(frame.jpeg)
        try:
            frame = next(self._frames)
        except StopIteration:
            self.close()
            raise
        except VapixError as error:
            # The status line went out with the first frame: all we can do is end the body.
            logger.info("Stream %s ended by the device: %s", self._label, type(error).__name__)
            self.close()
            raise StopIteration from None
        self._slot.refresh()
        return multipart_part(frame.jpeg)

    def close(self) -> None:
        """End the stream: the device connection, the client and the slot."""
        if self._closed:
            return
        self._closed = True
        try:
            close_frames = getattr(self._frames, "close", None)
            if close_frames is not None:
                close_frames()
        finally:
            try:
                self._client.close()
            finally:
                self._slot.release()


class NoFrames(DomainError):
    """The device answered the stream request with no frame at all."""

    http_status = 502
    default_code = "device_unavailable"

    def __init__(self) -> None:
        super().__init__(self.default_code, _("The device sent no picture. Try again in a moment."))


def open_proxied_stream(
    client: VapixClient, frames: Iterator[MjpegFrame], slot: StreamSlot, *, label: str
) -> ProxiedStream:
    """Read the first frame (so device errors still choose the answer) and wrap the stream.

    On any failure the client is closed and the slot released before the error propagates.
    """
    try:
        first = next(frames)
    except StopIteration:
        client.close()
        slot.release()
        raise NoFrames from None
    except BaseException:
        close_frames = getattr(frames, "close", None)
        if close_frames is not None:
            close_frames()
        client.close()
        slot.release()
        raise
    return ProxiedStream(client=client, frames=frames, first=first, slot=slot, label=label)
