"""The simulated servers' fault language and command line (no database, no network)."""

import pytest
from django.core.management import CommandError, call_command

from devices.servers.simulator import FaultSpecError, parse_faults


@pytest.mark.parametrize(
    "spec", ["explode@0", "never-back", "stops@9", "clock-skew@0:soon", "never-back@x"]
)
def test_a_fault_spec_that_is_not_understood_says_what_to_write(spec):
    with pytest.raises(FaultSpecError):
        parse_faults(spec, count=3)


def test_fault_specs_name_servers_by_index():
    assert parse_faults("never-back@0,stops@2:5,clock-skew@2", count=3) == {
        0: {"never-back": 0},
        2: {"stops": 5, "clock-skew": 7200},
    }


def test_the_command_refuses_more_servers_than_registration_tokens():
    with pytest.raises(CommandError, match="registration tokens"):
        call_command("simulate_servers", "--count", "3", "--registration-token", "a,b")
