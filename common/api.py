"""The API's error mapping: every error answers with the same JSON body shape."""

from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import DomainError


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
