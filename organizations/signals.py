"""Signals other apps listen to, so this app never imports them (DESIGN.md §1)."""

from django.dispatch import Signal

# Sent by `services.archive_organization` inside its transaction, holding the organization's
# row lock, with `organization` and `actor` (the owner who archives). A receiver that raises
# rolls the archive back: licensing voids the active subscription licenses here.
organization_archived = Signal()
