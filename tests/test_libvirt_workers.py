"""libvirt's blocking calls in worker threads: quick calls of one turn of the event loop share one
worker, each still gets its own answer, and one caller's failure or impatience is nobody else's."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from migtui.libvirt import workers


def where(tag: str) -> tuple[str, int]:
    return tag, threading.get_ident()


def held_until(release: threading.Event, started: threading.Event | None = None) -> Callable[[str], str]:
    """A call libvirt keeps waiting (a domain's job lock) until ``release``; ``started`` is set once it runs."""
    def held(tag: str) -> str:
        if started is not None:
            started.set()
        release.wait(10)
        return tag
    return held


async def test_the_quick_calls_of_one_turn_run_in_one_worker_and_each_gets_its_answer():
    together = workers.Together()
    answers = await asyncio.gather(*(together.run(where, f"web-{n}") for n in range(5)))
    assert [tag for tag, _ in answers] == [f"web-{n}" for n in range(5)]
    assert len({thread for _, thread in answers}) == 1
    assert answers[0][1] != threading.get_ident()  # never on the event loop's thread


async def test_a_call_that_fails_fails_only_its_own_caller():
    def refuse() -> None:
        raise RuntimeError("Domain not found: no domain with matching uuid")

    together = workers.Together()
    first, refused, last = together.run(where, "web-1"), together.run(refuse), together.run(where, "web-3")
    assert (await first)[0] == "web-1" and (await last)[0] == "web-3"
    with pytest.raises(RuntimeError, match="no domain with matching uuid"):
        await refused


async def test_a_caller_that_stops_waiting_leaves_the_others_answers_alone():
    release = threading.Event()
    slow = held_until(release)
    together = workers.Together()
    impatient, patient = together.run(slow, "web-1"), together.run(slow, "web-2")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await impatient
    release.set()
    async with asyncio.timeout(10):
        assert await patient == "web-2"
    assert impatient.cancelled()


async def test_a_later_turns_calls_do_not_wait_for_an_earlier_batch_still_running():
    release, started = threading.Event(), threading.Event()
    slow = held_until(release, started)
    together = workers.Together()
    blocked = together.run(slow, "web-1")
    assert await asyncio.to_thread(started.wait, 10), "the first batch running in its worker"
    async with asyncio.timeout(10):
        assert (await together.run(where, "web-2"))[0] == "web-2"
    assert not blocked.done()
    release.set()
    async with asyncio.timeout(10):
        assert await blocked == "web-1"
