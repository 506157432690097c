"""The migration events a shared link cannot hear, derived from two successive polls.

A shared QMP link is connected only for its exchanges, so QEMU's MIGRATION
and MIGRATION_PASS events mostly go to no one. What they would have said can
be read from two ``query-migrate`` answers in a row: the status changed (or
a new migration ended in the same status as the last one: its total time
differs), or the pass count grew. The events made here have QEMU's shape
(``{"event": ..., "data": ...}``), so the fleet takes them as it takes
QEMU's own: the same lines, chart marks, recordings and status re-reads.
"""

from __future__ import annotations

from typing import Any

from migtui.model.sample import Sample
from migtui.model.status import FINAL_STATES, MigrationStatus

MAX_PASS_EVENTS = 10
"""At most this many MIGRATION_PASS events for one gap between polls (the last ones)."""


def derived_events(before: Sample | None, now: Sample) -> list[dict[str, Any]]:
    """What QEMU would have sent between the answers ``before`` and ``now``.

    Nothing for the first answer: what was under way when migtui started
    watching is told by the sample, as it is on a held link.
    """
    if before is None:
        return []
    status, ended = now.status, now.status in FINAL_STATES
    idle_before = before.status in FINAL_STATES or before.status == MigrationStatus.NONE
    another_end = ended and idle_before and now.info.total_time != before.info.total_time
    new_migration = another_end or (idle_before and not ended and status != MigrationStatus.NONE)
    first_pass = 1 if new_migration else before.passes + 1
    passes = [{"event": "MIGRATION_PASS", "data": {"pass": number}}
              for number in range(max(first_pass, now.passes - MAX_PASS_EVENTS + 1), now.passes + 1)]
    if status == before.status and not another_end:
        return passes
    if status == MigrationStatus.NONE:
        return []
    change = {"event": "MIGRATION", "data": {"status": status}}
    # As QEMU tells them: a migration's passes after its start, its last passes before its end.
    return [*passes, change] if ended else [change, *passes]
