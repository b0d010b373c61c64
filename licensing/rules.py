"""The licensing rules of PRODUCT.md §8 as pure functions: dates and counts in, answers out.

Nothing here touches the database or the clock; services pass today's date and apply the
answers to the ledger. A subscription year is 365 days, so year N of a subscription started on
day S runs from S + 365 * (N - 1) for 365 days.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

GRACE_PERIOD_DAYS = 30
YEAR_DAYS = 365
# License-days of late allocations are credited back as one whole license every 365.
LICENSE_DAYS_PER_LICENSE = 365
WALLET_KEEP_YEARS = 5
# Years may be paid ahead up to five beyond the current one.
RENEW_AHEAD_YEARS = 5
# Devices in use may grow during a year up to 100 % of the allocated count (i.e. double).
GROWTH_ALLOWANCE_PERCENT = 100


def subscription_year_start(started_on: date, year: int) -> date:
    """Return the first day of subscription year `year` (1-based)."""
    if year < 1:
        raise ValueError("subscription years start at 1")
    return started_on + timedelta(days=YEAR_DAYS * (year - 1))


def subscription_year_end(started_on: date, year: int) -> date:
    """Return the first day after subscription year `year`."""
    return subscription_year_start(started_on, year + 1)


def current_year(started_on: date, today: date) -> int:
    """Return the subscription year `today` falls in (1 before or on the first day)."""
    if today <= started_on:
        return 1
    return (today - started_on).days // YEAR_DAYS + 1


def grace_period_end(year_started_on: date) -> date:
    """Return the last day of the grace period that opens a subscription year."""
    return year_started_on + timedelta(days=GRACE_PERIOD_DAYS)


def is_in_grace_period(year_started_on: date, today: date) -> bool:
    """Return True while allocating to the year that started on `year_started_on` is on time."""
    return today <= grace_period_end(year_started_on)


def current_need(device_onboarded_at: Iterable[datetime | date], period_start: date) -> int:
    """Return the number of devices that use the product at the start of the period.

    A device added mid-year joins the next year's need (PRODUCT.md §8).
    """
    count = 0
    for onboarded in device_onboarded_at:
        onboarded_on = onboarded.date() if isinstance(onboarded, datetime) else onboarded
        if onboarded_on <= period_start:
            count += 1
    return count


def is_fully_licensed(allocated: int, need: int) -> bool:
    """Return True when the allocated licenses cover the current need."""
    return allocated >= need


@dataclass(frozen=True)
class Compensation:
    """What a late allocation credits: whole licenses now, license-days carried to the next."""

    license_days: int
    licenses: int
    carried_license_days: int


def compensation(
    *, count: int, year_started_on: date, allocated_on: date, carried_license_days: int = 0
) -> Compensation:
    """Return the compensation for allocating `count` licenses to a year on `allocated_on`.

    Within the grace period nothing is owed. After it, the period's dates do not move; each late
    license credits the days of the period already passed, and the license-days (plus those
    carried from earlier late allocations) turn into whole licenses every 365.
    """
    if count < 0 or carried_license_days < 0:
        raise ValueError("count and carried license-days are never negative")
    if is_in_grace_period(year_started_on, allocated_on):
        days_passed = 0
    else:
        days_passed = min((allocated_on - year_started_on).days, YEAR_DAYS)
    license_days = count * days_passed
    total = carried_license_days + license_days
    return Compensation(
        license_days=license_days,
        licenses=total // LICENSE_DAYS_PER_LICENSE,
        carried_license_days=total % LICENSE_DAYS_PER_LICENSE,
    )


def growth_allowance(allocated: int) -> int:
    """Return how many devices may be in use during the year without allocating more."""
    return allocated + allocated * GROWTH_ALLOWANCE_PERCENT // 100


def growth_excess(*, allocated: int, devices_in_use: int) -> int:
    """Return the licenses to allocate now: the devices beyond the growth allowance (0 if none)."""
    return max(0, devices_in_use - growth_allowance(allocated))


def latest_allocatable_year(current: int) -> int:
    """Return the furthest year that may be paid ahead from the current year."""
    return current + RENEW_AHEAD_YEARS


def may_allocate_to_year(*, year: int, current: int) -> bool:
    """Return True for the current year and up to five years ahead; past years are closed."""
    return current <= year <= latest_allocatable_year(current)


def add_years(day: date, years: int) -> date:
    """Return the same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def wallet_expiry(credited_on: date) -> date:
    """Return the first day licenses credited to a wallet on `credited_on` are expired."""
    return add_years(credited_on, WALLET_KEEP_YEARS)


@dataclass(frozen=True)
class WalletLot:
    """Licenses credited to a wallet on one day and still there, with their expiry date."""

    credited_on: date
    count: int

    @property
    def expires_on(self) -> date:
        return wallet_expiry(self.credited_on)


def wallet_lots(credits: Sequence[tuple[date, int]], debited: int) -> list[WalletLot]:
    """Return the wallet's remaining lots, oldest first, taking every debit from the oldest.

    `credits` are (day, count) of everything that entered the wallet; `debited` is everything
    that left it (allocations, transfers, expiries). First in, first out: allocating uses the
    licenses that would expire first.
    """
    if debited < 0:
        raise ValueError("debits are counted as a positive total")
    remaining = debited
    lots: list[WalletLot] = []
    for credited_on, count in sorted(credits):
        if count <= 0:
            continue
        used = min(count, remaining)
        remaining -= used
        if count - used:
            lots.append(WalletLot(credited_on, count - used))
    if remaining:
        raise ValueError("more left the wallet than ever entered it")
    return lots


def expired_count(lots: Iterable[WalletLot], today: date) -> int:
    """Return how many of the wallet's licenses have expired by `today`."""
    return sum(lot.count for lot in lots if lot.expires_on <= today)
