"""Ending background tasks cleanly."""

from __future__ import annotations

import asyncio
import contextlib

CANCEL_AGAIN_AFTER = 2.0
"""Seconds a cancelled task may take to end before it is cancelled once more."""


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel every task and wait for each to end; empties the list.

    A task's own failure was already reported where it happened (or is the
    reason we are closing): here it must not stop the others from ending.
    A cancellation can be lost: Python 3.11's ``asyncio.wait_for``, in a
    library's code, drops one that comes in the same turn as the result it
    waited for, and the task runs on. A task still running after
    CANCEL_AGAIN_AFTER is cancelled again, so closing never waits for good.
    """
    for task in tasks:
        task.cancel()
    for task in tasks:
        while not task.done():
            await asyncio.wait([task], timeout=CANCEL_AGAIN_AFTER)
            if not task.done():
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    tasks.clear()
