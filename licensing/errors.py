"""Licensing's own refusal: too many wrong keys (the other refusals are common.errors)."""

from common.errors import DomainError


class Throttled(DomainError):
    """Too many wrong license keys in a short time; the person may try again later."""

    http_status = 429
    default_code = "key_throttled"
