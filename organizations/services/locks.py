"""Row locks for the organization services, one small function per lockable queryset.

Lock order, to keep concurrent services free of deadlocks: the owner memberships (pk order, in
member services), then the organization row, then anything else (invitations, folders, tokens).
Every write service takes the organization row before touching other rows, and `audit.record`
takes it again (a no-op by then), so the writes of one organization run one after another.
Call these inside a transaction.
"""

from uuid import UUID

from django.utils.translation import gettext_lazy as _

from common.errors import NotFound
from organizations.models import Membership, Organization
from organizations.roles import Role


def lock_organization(organization_id: UUID) -> Organization:
    """Lock and return the organization row; serializes folder-tree changes and audit writes."""
    return Organization.objects.select_for_update(of=("self",)).get(pk=organization_id)


def reload_actor(actor: Membership) -> Membership:
    """Re-read the acting membership after taking locks: its role may have changed meanwhile."""
    fresh = Membership.objects.select_related("organization", "user").filter(pk=actor.pk)
    fresh_actor = fresh.first()
    if fresh_actor is None or fresh_actor.organization.is_archived:
        raise NotFound("organization_not_found", _("Organization not found."))
    return fresh_actor


def lock_owners(organization_id: UUID) -> list[Membership]:
    """Lock and return the organization's owner memberships, in pk order.

    PostgreSQL re-checks `role = 'owner'` after waiting for a lock, so a second transaction
    sees the owners as the first one left them.
    """
    return list(
        Membership.objects.filter(organization_id=organization_id, role=Role.OWNER)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
