"""Closing ends every task, also one whose first cancellation was lost (as Python 3.11's wait_for
loses one that arrives in the same turn as its result)."""

from __future__ import annotations

import asyncio

from migtui.qmp.tasks import cancel_all


async def test_a_task_that_lost_its_cancellation_is_cancelled_again_and_closing_ends():
    lost, started = asyncio.Event(), asyncio.Event()

    async def link() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # connecting, say
        except asyncio.CancelledError:
            lost.set()  # the cancellation is dropped, as wait_for drops one: the task runs on
        await asyncio.Event().wait()  # and waits for good, unless cancelled again

    async def quick() -> None:
        await asyncio.Event().wait()

    tasks = [asyncio.create_task(link()), asyncio.create_task(quick())]
    await started.wait()  # the link waits inside its try when it is cancelled
    watched = list(tasks)
    async with asyncio.timeout(10):
        await cancel_all(tasks)
    assert lost.is_set() and all(task.done() for task in watched) and tasks == []
