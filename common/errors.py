"""Domain errors raised by services; HTML views turn them into messages, the API into JSON."""

from django.utils.functional import Promise


class DomainError(Exception):
    """A refusal a person can act on, with a stable machine-readable code."""

    http_status = 400
    default_code = "invalid"

    def __init__(
        self, code: str | None = None, message: str | Promise = "", fields: dict | None = None
    ) -> None:
        self.code = code or self.default_code
        self.message = message
        self.fields = fields or {}
        super().__init__(str(message))


class NotFound(DomainError):
    http_status = 404
    default_code = "not_found"


class Forbidden(DomainError):
    http_status = 403
    default_code = "forbidden"


class Conflict(DomainError):
    http_status = 409
    default_code = "conflict"


class Invalid(DomainError):
    http_status = 400
    default_code = "invalid"
