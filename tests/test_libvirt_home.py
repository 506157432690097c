"""Which host is a libvirt domain's home when two hosts list it: the migration's source, whatever
order the hosts answered in (a process started mid-migration lists both at once), until the domain
is gone from it."""

from __future__ import annotations

import pytest

from migtui.libvirt.host import DomainFacts
from migtui.libvirt.registry import home_of

UUID = "6f1c2a8e-0000-4000-8000-000000000001"


def place(state: int, reason: int) -> DomainFacts:
    return DomainFacts(UUID, "web-1", state, reason, persistent=True)


RUNNING_BOOTED = place(1, 1)
RUNNING_MIGRATED = place(1, 2)
RUNNING_POSTCOPY = place(1, 10)
RUNNING_POSTCOPY_FAILED = place(1, 11)
PAUSED_USER = place(3, 1)
PAUSED_MIGRATION = place(3, 2)
PAUSED_POSTCOPY = place(3, 12)
PAUSED_POSTCOPY_FAILED = place(3, 13)
SHUT_OFF = place(5, 2)


@pytest.mark.parametrize(("source", "destination", "seen_running"), [
    (RUNNING_BOOTED, PAUSED_MIGRATION, True),  # precopy: the destination waits paused
    (RUNNING_MIGRATED, PAUSED_MIGRATION, True),  # precopy of a domain that came here by migration before
    (PAUSED_USER, PAUSED_MIGRATION, False),  # precopy of a guest its admin paused
    (PAUSED_POSTCOPY, RUNNING_POSTCOPY, True),  # postcopy: the destination runs, the source holds the job
    (PAUSED_POSTCOPY_FAILED, RUNNING_POSTCOPY_FAILED, True),  # a broken postcopy, to recover from the source
])
def test_a_process_started_mid_migration_takes_the_source_whichever_host_answered_first(source, destination,
                                                                                       seen_running):
    places = {"hv1": source, "hv2": destination}
    ran = {"hv1"} if seen_running else set()
    for first in ("hv1", "hv2"):
        home = home_of({first: places[first]}, None, ran & {first})  # the first listing made the session
        assert home_of(places, home, ran) == "hv1", first  # the other host's listing came after


def test_the_source_stays_home_through_the_switchover_until_the_domain_is_gone_from_it():
    ran = {"hv1"}
    assert home_of({"hv1": RUNNING_BOOTED, "hv2": PAUSED_MIGRATION}, "hv1", ran) == "hv1"
    ran.add("hv2")  # the switchover: the destination runs
    assert home_of({"hv1": PAUSED_MIGRATION, "hv2": RUNNING_MIGRATED}, "hv1", ran) == "hv1"
    assert home_of({"hv1": SHUT_OFF, "hv2": RUNNING_MIGRATED}, "hv1", ran) == "hv2"
    assert home_of({"hv2": RUNNING_MIGRATED}, "hv1", ran) == "hv2"


def test_between_two_places_as_good_the_session_stays_where_it_is():
    assert home_of({"hv1": RUNNING_BOOTED, "hv2": RUNNING_BOOTED}, "hv2", {"hv1", "hv2"}) == "hv2"
    assert home_of({"hv1": SHUT_OFF, "hv2": SHUT_OFF}, "hv2", set()) == "hv2"
