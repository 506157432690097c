"""The threads libvirt's blocking calls run in: daemon threads, so that a call libvirtd never answers
holds up neither the event loop nor the end of the process.

asyncio's default executor joins its threads when the loop and the interpreter end: a CLI command
whose last call waits for a daemon that went silent would never exit. These threads are daemons;
the call's caller stops waiting at its timeout, and the process ends whatever the thread does.

Handing a call to a thread and its answer back to the loop costs a thread's wake-up and a turn of the
event loop, as much CPU as a quick libvirt call itself (bench/bench_libvirt.py). :class:`Together`
gathers quick calls made in one turn of the loop (every VM is polled at the same instants) into one
worker, one after another, and hands their answers back in one turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

Result = TypeVar("Result")
Call = tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]
"""A call's future (on the caller's loop), its function and its arguments."""

WORKERS = 32
"""Enough for a fleet's polls and a change while calls wait: a call libvirt keeps waiting (a domain's job
lock, up to libvirt's 30 s) holds its thread until libvirt answers, even after its caller gave up on it."""

_jobs: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, list[Call]]] = queue.SimpleQueue()
_started = threading.Lock()
_threads: list[threading.Thread] = []


def run(fn: Callable[..., Result], *args: Any) -> asyncio.Future[Result]:
    """``fn(*args)`` in a daemon worker of its own; its outcome on the returned future of the running loop."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Result] = loop.create_future()
    _send(loop, [(answer, fn, args)])
    return answer


class Together:
    """Calls made in one turn of the event loop, run one after another in one worker.

    Only for calls that answer at once: one that waits (for QEMU, or for a domain's job lock) holds up
    the calls after it. A caller that stops waiting (its timeout) leaves the others' answers alone.
    """

    def __init__(self) -> None:
        self._gathering: list[Call] = []

    def run(self, fn: Callable[..., Result], *args: Any) -> asyncio.Future[Result]:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Result] = loop.create_future()
        if not self._gathering:
            loop.call_soon(self._send, loop)  # after every call this turn of the loop makes
        self._gathering.append((answer, fn, args))
        return answer

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        calls, self._gathering = self._gathering, []
        _send(loop, calls)


def _send(loop: asyncio.AbstractEventLoop, calls: list[Call]) -> None:
    with _started:
        if not _threads:
            for number in range(WORKERS):
                thread = threading.Thread(target=_work, name=f"libvirt-{number}", daemon=True)
                thread.start()
                _threads.append(thread)
    _jobs.put((loop, calls))


def _work() -> None:
    while True:
        loop, calls = _jobs.get()
        outcomes: list[tuple[asyncio.Future[Any], bool, Any]] = []
        for answer, fn, args in calls:
            try:
                outcomes.append((answer, True, fn(*args)))
            except BaseException as error:  # handed to the caller, as an executor would
                outcomes.append((answer, False, error))
        with contextlib.suppress(RuntimeError):  # the loop ended meanwhile: nobody waits for these answers
            loop.call_soon_threadsafe(_settle, outcomes)


def _settle(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for answer, succeeded, value in outcomes:
        if answer.done():
            continue  # its caller stopped waiting (a timeout)
        if succeeded:
            answer.set_result(value)
        else:
            answer.set_exception(value)
