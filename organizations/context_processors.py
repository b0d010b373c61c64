"""Template context for the organization menu and the side navigation."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from organizations import access, selectors
from organizations.roles import Action
from organizations.tenancy import remembered_membership

# What the side navigation and the settings tabs offer; role checks only, no queries.
_NAVIGATION_ACTIONS = {
    "change_settings": Action.ORGANIZATION_CHANGE,
    "archive": Action.ORGANIZATION_ARCHIVE,
    "audit": Action.AUDIT_VIEW,
    "invite": Action.MEMBER_INVITE,
    "manage_folders": Action.FOLDER_MANAGE,
    "manage_devices": Action.DEVICE_MANAGE,
    "monitor_servers": Action.SERVER_MONITOR,
    "manage_licenses": Action.LICENSE_MANAGE,
}


def navigation(request: HttpRequest) -> dict:
    """Return the signed-in person's organizations and, inside one, the current organization.

    The list is loaded at most once per page, and only when a template uses it. The account
    pages (Security, Profile, password) keep the organization the person last worked in.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context: dict = {
        "member_organizations": SimpleLazyObject(lambda: list(selectors.member_organizations(user)))
    }
    membership = getattr(request, "membership", None)
    match = getattr(request, "resolver_match", None)
    if membership is None and match is not None and match.namespace == "accounts":
        membership = remembered_membership(request)
    if membership is not None:
        context["current_organization"] = membership.organization
        context["current_membership"] = membership
        context["organization_can"] = {
            name: access.can(membership, action) for name, action in _NAVIGATION_ACTIONS.items()
        }
    return context
