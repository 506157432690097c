"""Shorter garbage-collection pauses for the dashboard, a long-running process.

Python's full collection walks every object the collector tracks; once the
dashboard is up, most of those are its start-up's (modules, QAPI schemas,
pydantic models, widgets) and live as long as the process. With 50 VMs a
full collection held the event loop for about 110 ms (an event reached the
screen that much later) and the collector took about 2 % of a core.
Freezing what exists after the first frame takes those objects out of every
later collection: pauses of about 40 ms, a third less collector time.

What the dashboard allocates after that is mostly short-lived (the strips
and segments of a frame, a sample's parsed answer): with Python's default
threshold of 700 allocations the youngest generation was collected five
times a second, walking objects about to be freed anyway, with the odd
older collection behind. A threshold of YOUNG_THRESHOLD collects them a
tenth as often (about half the collector's time); a young collection then
pauses a few milliseconds, the middle generation's (once in half a minute
with 50 VMs) up to about 60 ms, as long as a full one.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Allocations (less deallocations) between two collections of the youngest generation."""


def freeze_start_up() -> None:
    """Collect the start-up's garbage once, then keep the survivors out of later collections.

    Once a process: an app started again in the same process (tests run many)
    would freeze the previous one's remains, which then could never be freed."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
