"""Pages that belong to no single app: the dashboard and the error pages."""

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from common.api import error_response, is_api_request


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The landing page after sign-in: the person's organizations."""
    return render(request, "dashboard.html")


def health(request: HttpRequest) -> HttpResponse:
    """Answer 200 when the database answers, for load balancers; 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    # An API path no route matches (an id that is not a UUID) still answers the API's error body.
    if is_api_request(request):
        return error_response(status=404, code="not_found", message=_("Not found."))
    return render(request, "404.html", status=404)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # A request Django refuses before any view (too many fields, a body too large).
    if is_api_request(request):
        return error_response(
            status=400, code="bad_request", message=_("The request is not valid.")
        )
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception) if exception else ""}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return error_response(
            status=500,
            code="server_error",
            message=_(
                "Something went wrong. The error was recorded; please try again in a moment."
            ),
        )
    return render(request, "500.html", status=500)
