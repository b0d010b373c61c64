"""The licensing rules (PRODUCT.md §8) as pure functions, with examples and properties."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from licensing import rules

START = date(2026, 3, 1)
days = st.integers(min_value=0, max_value=20 * 365)
counts = st.integers(min_value=0, max_value=10_000)


def test_subscription_years_are_365_days_each():
    assert rules.subscription_year_start(START, 1) == START
    assert rules.subscription_year_start(START, 2) == START + timedelta(days=365)
    assert rules.subscription_year_end(START, 1) == START + timedelta(days=365)
    with pytest.raises(ValueError, match="start at 1"):
        rules.subscription_year_start(START, 0)


@given(offset=days)
def test_today_always_falls_inside_its_current_year(offset):
    today = START + timedelta(days=offset)
    year = rules.current_year(START, today)
    assert rules.subscription_year_start(START, year) <= today
    assert today < rules.subscription_year_end(START, year)


def test_the_grace_period_is_30_days_including_its_last_day():
    assert rules.grace_period_end(START) == date(2026, 3, 31)
    assert rules.is_in_grace_period(START, date(2026, 3, 31))
    assert not rules.is_in_grace_period(START, date(2026, 4, 1))


def test_current_need_counts_devices_present_at_the_start_of_the_period():
    onboarded = [
        datetime(2026, 1, 5, 12, 0),
        date(2026, 3, 1),  # on the first day: counts
        date(2026, 3, 2),  # added mid-year: joins next year's need
    ]
    assert rules.current_need(onboarded, START) == 2
    assert rules.current_need(onboarded, rules.subscription_year_start(START, 2)) == 3


def test_an_allocation_within_the_grace_period_is_not_compensated():
    result = rules.compensation(count=10, year_started_on=START, allocated_on=date(2026, 3, 31))
    assert result == rules.Compensation(license_days=0, licenses=0, carried_license_days=0)


def test_a_late_allocation_credits_license_days_in_whole_licenses_every_365():
    late = START + timedelta(days=100)
    result = rules.compensation(count=4, year_started_on=START, allocated_on=late)
    assert result == rules.Compensation(license_days=400, licenses=1, carried_license_days=35)
    carried = rules.compensation(
        count=4, year_started_on=START, allocated_on=late, carried_license_days=330
    )
    assert carried == rules.Compensation(license_days=400, licenses=2, carried_license_days=0)


@given(count=counts, offset=days, carried=st.integers(0, 364))
def test_compensation_never_credits_more_than_the_days_already_passed(count, offset, carried):
    on = START + timedelta(days=offset)
    result = rules.compensation(
        count=count, year_started_on=START, allocated_on=on, carried_license_days=carried
    )
    # Nothing is made or lost: licenses x 365 + what is carried == all license-days owed.
    assert result.licenses * 365 + result.carried_license_days == carried + result.license_days
    assert 0 <= result.carried_license_days < 365
    # Never more than a whole year per license; nothing within the grace period.
    assert result.license_days <= count * 365
    if rules.is_in_grace_period(START, on):
        assert result.license_days == 0


def test_growth_up_to_double_the_allocation_needs_nothing_now():
    assert rules.growth_allowance(10) == 20
    assert rules.growth_excess(allocated=10, devices_in_use=20) == 0
    assert rules.growth_excess(allocated=10, devices_in_use=23) == 3
    assert rules.growth_excess(allocated=0, devices_in_use=2) == 2


@given(allocated=counts, devices=counts)
def test_allocating_the_excess_brings_devices_back_within_the_allowance(allocated, devices):
    excess = rules.growth_excess(allocated=allocated, devices_in_use=devices)
    assert excess >= 0
    assert devices <= rules.growth_allowance(allocated + excess)


def test_years_may_be_paid_up_to_five_ahead_and_past_years_are_closed():
    assert rules.may_allocate_to_year(year=3, current=3)
    assert rules.may_allocate_to_year(year=8, current=3)
    assert not rules.may_allocate_to_year(year=9, current=3)
    assert not rules.may_allocate_to_year(year=2, current=3)


def test_wallet_licenses_expire_five_years_after_they_entered():
    assert rules.wallet_expiry(date(2026, 3, 1)) == date(2031, 3, 1)
    assert rules.wallet_expiry(date(2028, 2, 29)) == date(2033, 2, 28)


def test_wallet_lots_use_the_oldest_licenses_first():
    credits = [(date(2027, 1, 1), 4), (date(2026, 1, 1), 6)]
    lots = rules.wallet_lots(credits, debited=7)
    assert lots == [rules.WalletLot(date(2027, 1, 1), 3)]
    assert rules.expired_count(lots, date(2031, 12, 31)) == 0
    assert rules.expired_count(lots, date(2032, 1, 1)) == 3
    with pytest.raises(ValueError, match="more left"):
        rules.wallet_lots(credits, debited=11)


@given(
    credits=st.lists(st.tuples(st.dates(), st.integers(0, 500)), max_size=12),
    share=st.floats(0, 1),
    today=st.dates(),
)
def test_wallet_lots_keep_exactly_what_was_not_debited(credits, share, today):
    total = sum(count for _, count in credits)
    debited = int(total * share)
    lots = rules.wallet_lots(credits, debited)
    assert sum(lot.count for lot in lots) == total - debited
    assert all(lot.count > 0 for lot in lots)
    assert 0 <= rules.expired_count(lots, today) <= total - debited


def test_rules_read_no_clock():
    """The same inputs give the same answers whatever today is (services pass the date)."""
    late = START + timedelta(days=40)
    expected = rules.compensation(count=3, year_started_on=START, allocated_on=late)
    with time_machine.travel(datetime(2040, 1, 1), tick=False):
        assert rules.compensation(count=3, year_started_on=START, allocated_on=late) == expected
        assert rules.current_year(START, late) == 1
