"""The growth allowance (PRODUCT.md §8): when devices outgrow a year's allocation, say so once.

Devices in use may grow during a subscription year up to 100 % of the allocated count
(`rules.growth_excess`); beyond it the extra must be allocated now. `check_growth_allowance`
compares the two for one registration and keeps the result on it: the staff flag
(`growth_exceeded_year`, `growth_excess`, shown in the admin) and, once per crossing, an
audit event and an e-mail to the organization's owners and admins. A crossing ends when the
devices are back within the allowance or the year ends; the next one notifies again.

It runs when a device is stored (`devices.signals.device_created`, through a task queued on
commit) and every day for every subscription (`licensing.tasks.run_daily`).
"""

import logging
from datetime import date
from uuid import UUID

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from common.mail import describe_failure, is_permanent_failure
from licensing import ledger, rules, selectors, tasks
from licensing.models import LedgerAccount, ProductRegistration
from organizations import audit
from organizations.models import Membership
from organizations.roles import ALL_FOLDERS_ROLES

logger = logging.getLogger(__name__)


@ledger.retry_on_deadlock
@transaction.atomic(durable=True)
def check_growth_allowance(*, registration_id: UUID, on: date | None = None) -> bool:
    """Record whether a subscription's devices exceed this year's allowance; True on a crossing.

    Nothing is flagged during the year's grace period: allocating the need is expected then,
    and the product's status already shows what is short. Takes the organization's lock and
    then the registration's (steps 1 and 3 of `licensing.ledger`); running it twice changes
    nothing the second time.
    """
    on = on or timezone.now().date()
    found = ProductRegistration.objects.filter(
        pk=registration_id, subscription_started_on__isnull=False
    ).values_list("organization_id", "product_id")
    if not found:
        return False
    [(organization_id, product_id)] = found
    organization = ledger.lock_organizations([organization_id])[organization_id]
    registration = (
        ProductRegistration.objects.select_related("product")
        .select_for_update(of=("self",))
        .get(pk=registration_id)
    )
    product = registration.product
    year = rules.current_year(registration.subscription_started_on, on)
    year_started_on = rules.subscription_year_start(registration.subscription_started_on, year)
    excess = 0
    if not rules.is_in_grace_period(year_started_on, on):
        allocated = (
            LedgerAccount.objects.filter(
                organization_id=organization_id,
                product_id=product_id,
                kind=LedgerAccount.Kind.SUBSCRIPTION_YEAR,
                year=year,
            )
            .values_list("balance", flat=True)
            .first()
        )
        excess = rules.growth_excess(
            allocated=allocated or 0,
            devices_in_use=selectors.counted_devices(organization_id, product).count(),
        )
    is_crossing = bool(excess) and registration.growth_exceeded_year != year
    if excess:
        registration.growth_exceeded_year, registration.growth_excess = year, excess
        if is_crossing:
            registration.growth_exceeded_at = timezone.now()
    else:
        registration.growth_exceeded_year, registration.growth_excess = None, 0
        registration.growth_exceeded_at = None
    registration.save(update_fields=["growth_exceeded_year", "growth_excess", "growth_exceeded_at"])
    if is_crossing:
        audit.record(
            "system",
            organization,
            "license.growth_exceeded",
            product,
            {"year": year, "licenses_to_allocate": excess},
            head_locked=True,
        )
        tasks.send_growth_alerts.delay_on_commit(str(registration.pk), year)
    return is_crossing


def check_organization_growth(*, organization_id: UUID) -> int:
    """Check every subscription of one organization; return how many crossed just now."""
    registrations = ProductRegistration.objects.filter(
        organization_id=organization_id,
        subscription_started_on__isnull=False,
        organization__archived_at__isnull=True,
    ).values_list("pk", flat=True)
    return sum(check_growth_allowance(registration_id=pk) for pk in list(registrations))


def check_all_growth(*, on: date | None = None) -> int:
    """Check every subscription of every organization not archived; return the crossings."""
    registrations = ProductRegistration.objects.filter(
        subscription_started_on__isnull=False, organization__archived_at__isnull=True
    ).values_list("pk", flat=True)
    return sum(check_growth_allowance(registration_id=pk, on=on) for pk in list(registrations))


def growth_alert_recipients(registration: ProductRegistration) -> list:
    """Return the active owners and admins of the registration's organization."""
    memberships = Membership.objects.filter(
        organization_id=registration.organization_id,
        role__in=ALL_FOLDERS_ROLES,
        user__is_active=True,
    ).select_related("user")
    return [membership.user for membership in memberships.order_by("pk")]


def deliver_growth_alerts(*, registration_id: UUID, year: int) -> int:
    """E-mail the owners and admins, each in their language; return how many went out.

    Nothing is sent when the crossing is over (the flag was cleared, or a new year began) or
    the organization was archived meanwhile. A refusal the mail server calls final is logged;
    any other failure is raised again for the task to retry.
    """
    registration = (
        ProductRegistration.objects.select_related("product", "organization")
        .filter(
            pk=registration_id,
            growth_exceeded_year=year,
            organization__archived_at__isnull=True,
        )
        .first()
    )
    if registration is None:
        return 0
    path = reverse(
        "licensing:product-licensing",
        args=[registration.organization_id, registration.product.code],
    )
    context = {
        "organization": registration.organization,
        "product": registration.product,
        "year": year,
        "excess": registration.growth_excess,
        "link": f"{settings.SITE_ORIGIN}{path}",
    }
    messages = []
    for user in growth_alert_recipients(registration):
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = gettext("%(product)s: devices beyond the growth allowance (%(name)s)") % {
                "product": registration.product.name,
                "name": " ".join(registration.organization.name.split()),
            }
            body = render_to_string("licensing/emails/growth_exceeded.txt", context)
        messages.append(mail.EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    if not messages:
        return 0
    try:
        with mail.get_connection() as connection:
            return connection.send_messages(messages) or 0
    except (OSError, ValueError) as error:
        if not is_permanent_failure(error):
            raise
        logger.warning("Growth allowance alert not delivered: %s", describe_failure(error))
        return 0
