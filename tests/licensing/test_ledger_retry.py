"""A deadlock victim is run again, a few times, then refused cleanly with `ledger_busy`."""

import pytest
from django.db import OperationalError

from common.errors import Conflict
from licensing import ledger


class _PostgresError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _database_error(sqlstate: str) -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = _PostgresError(sqlstate)
    return error


def test_a_deadlock_victim_is_run_again_until_it_succeeds():
    calls = []

    @ledger.retry_on_deadlock
    def movement():
        calls.append(1)
        if len(calls) < 3:
            raise _database_error("40P01")
        return "moved"

    assert movement() == "moved"
    assert len(calls) == 3


def test_a_lasting_deadlock_is_refused_with_ledger_busy():
    calls = []

    @ledger.retry_on_deadlock
    def movement():
        calls.append(1)
        raise _database_error("40P01")

    with pytest.raises(Conflict) as refusal:
        movement()
    assert refusal.value.code == "ledger_busy"
    assert len(calls) == ledger.ATTEMPTS


def test_other_database_errors_are_not_retried():
    calls = []

    @ledger.retry_on_deadlock
    def movement():
        calls.append(1)
        raise _database_error("23505")

    with pytest.raises(OperationalError):
        movement()
    assert len(calls) == 1
