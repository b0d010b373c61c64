"""Signals other apps listen to, so this app never imports them (DESIGN.md §1)."""

from django.dispatch import Signal

# Sent by `services.create_device` inside its transaction, with `device`, once the device is
# stored (onboarding, CSV import). Receivers queue their work on commit: licensing checks the
# organization's growth allowance.
device_created = Signal()
