"""Which host is a libvirt domain's home when two hosts list it: the migration's source, whatever
order the hosts answered in (a process started mid-migration lists both at once)."""

from __future__ import annotations

import itertools

import pytest

from migtui.libvirt.host import DomainFacts
from migtui.libvirt.registry import home_of

UUID = "6f1c2a8e-0000-4000-8000-000000000001"


def place(state: int, reason: int) -> DomainFacts:
    return DomainFacts(UUID, "web-1", state, reason, persistent=True)


RUNNING_BOOTED = place(1, 1)
RUNNING_MIGRATED = place(1, 2)
RUNNING_POSTCOPY = place(1, 10)
PAUSED_USER = place(3, 1)
PAUSED_MIGRATION = place(3, 2)
PAUSED_POSTCOPY = place(3, 12)
PAUSED_POSTCOPY_FAILED = place(3, 13)
RUNNING_POSTCOPY_FAILED = place(1, 11)
SHUT_OFF = place(5, 2)


@pytest.mark.parametrize(("source", "destination"), [
    (RUNNING_BOOTED, PAUSED_MIGRATION),  # precopy: the destination waits paused
    (PAUSED_USER, PAUSED_MIGRATION),  # precopy of a guest its admin paused
    (PAUSED_POSTCOPY, RUNNING_POSTCOPY),  # postcopy: the destination runs, the source holds the job
    (PAUSED_POSTCOPY_FAILED, RUNNING_POSTCOPY_FAILED),  # a broken postcopy, to recover from the source
])
@pytest.mark.parametrize("current", [None, "hv1", "hv2"])
def test_a_migrating_domain_is_at_home_on_its_source_whatever_the_order_or_the_session(source, destination, current):
    for hosts in itertools.permutations([("hv1", source), ("hv2", destination)]):
        assert home_of(dict(hosts), current) == "hv1"
    for hosts in itertools.permutations([("hv2", source), ("hv1", destination)]):
        assert home_of(dict(hosts), current) == "hv2"


def test_once_migrated_it_is_at_home_where_it_runs():
    assert home_of({"hv1": SHUT_OFF, "hv2": RUNNING_MIGRATED}, "hv1") == "hv2"


def test_between_two_places_as_good_the_session_stays_where_it_is():
    assert home_of({"hv1": RUNNING_BOOTED, "hv2": RUNNING_BOOTED}, "hv2") == "hv2"
    assert home_of({"hv1": SHUT_OFF, "hv2": SHUT_OFF}, "hv2") == "hv2"
