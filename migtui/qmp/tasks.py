"""Ending background tasks cleanly."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel every task and wait for each to end; empties the list.

    A task's own failure was already reported where it happened (or is the
    reason we are closing): here it must not stop the others from ending.
    """
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    tasks.clear()
