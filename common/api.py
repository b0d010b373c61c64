"""The API's error mapping: every error answers with the same JSON body shape, and the schema
says so for every operation."""

from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import DomainError


class StrictCharField(serializers.CharField):
    """Text input that refuses numbers and booleans instead of quietly turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as text, not as an integer DRF would turn into some UUID."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def is_api_request(request: HttpRequest) -> bool:
    """Tell whether a request is for the JSON API (its errors answer in JSON, not pages)."""
    return request.path.startswith("/api/")


def error_response(*, status: int, code: str, message: str) -> JsonResponse:
    """Answer outside DRF (no route, a crash) with the API's error body."""
    body = {"error": {"code": code, "message": message, "fields": {}}}
    return JsonResponse(body, status=status)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Answer domain and DRF errors with {"error": {"code", "message", "fields"}}."""
    if isinstance(exc, DomainError):
        body = {"error": {"code": exc.code, "message": str(exc.message), "fields": exc.fields}}
        return Response(body, status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        body = {
            "error": {"code": "invalid", "message": "The request is not valid.", "fields": fields}
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = {"error": {"code": code, "message": str(detail), "fields": {}}}
    response.data = body
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = "Token"
    return response


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer: a stable code, a message a person can act on, and the "
    "input fields at fault with their messages.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "invalid"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"anyOf": [{"type": "array"}, {"type": "object"}]},
                },
            },
        }
    },
}
# Answers any operation may give, whatever its view declares.
COMMON_ERRORS = {
    "401": "Not signed in, or the API token is missing, invalid, expired or revoked.",
    "429": "Too many requests: wait and try again.",
}
BODY_ERRORS = {"415": "The body is not JSON (send Content-Type: application/json)."}


class ApiSchema(AutoSchema):
    """drf-spectacular's schema, minus pagination of lists that are not GET answers."""

    def _get_paginator(self) -> Any:
        # A POST that creates several rows answers them all in a plain array.
        if self.method != "GET":
            return None
        return super()._get_paginator()


def document_error_bodies(result: dict, generator: Any, **kwargs: Any) -> dict:
    """Give every 4xx/5xx answer the error body and document 401, 429 (and 415 for bodies)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            extra = {**COMMON_ERRORS, **(BODY_ERRORS if "requestBody" in operation else {})}
            for status_code, description in extra.items():
                responses.setdefault(status_code, {"description": description})
            for status_code, response in responses.items():
                if status_code[0] in "45":
                    response["content"] = content
            operation["responses"] = dict(sorted(responses.items()))
    return result
