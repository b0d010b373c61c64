"""Upgrades on the organization's Overview page: `{% security_overview %}`.

A template tag for the same reason as `{% fleet_overview %}`: the Overview belongs to
`organizations`, which may not import `upgrades`, so the page pulls the panel in by name.
"""

from django import template

from organizations import access
from organizations.roles import Action
from upgrades import selectors

register = template.Library()


@register.inclusion_tag("upgrades/partials/security_overview.html", takes_context=True)
def security_overview(context) -> dict:
    """Render "N devices exposed to known vulnerabilities", linking to the exposure page."""
    membership = context["request"].membership
    if not access.can(membership, Action.DEVICE_VIEW):
        return {"can_view": False}
    return {
        "can_view": True,
        "current_organization": context.get("current_organization"),
        "exposed_count": selectors.exposed_device_count(membership),
    }
