"""`{% device_may "recording.play" device as allowed %}`: whether the member may act on a device.

For parts of the device pages shared by every tab (the tab bar), which cannot rely on each
view's context to say what the member may do.
"""

from django import template

from organizations import access

register = template.Library()


@register.simple_tag(takes_context=True)
def device_may(context: template.Context, action: str, device: object) -> bool:
    """Return whether the member of this request may do `action` on `device`."""
    request = context.get("request")
    return access.can(getattr(request, "membership", None), action, device)
