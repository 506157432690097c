"""The threads libvirt's blocking calls run in: daemon threads, so that a call libvirtd never answers
holds up neither the event loop nor the end of the process.

asyncio's default executor joins its threads when the loop and the interpreter end: a CLI command
whose last call waits for a daemon that went silent would never exit. These threads are daemons;
the call's caller stops waiting at its timeout, and the process ends whatever the thread does.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

Result = TypeVar("Result")

WORKERS = 32
"""Enough for a fleet's polls and a change while calls wait: a call libvirt keeps waiting (a domain's job
lock, up to libvirt's 30 s) holds its thread until libvirt answers, even after its caller gave up on it."""

_jobs: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]]
_jobs = queue.SimpleQueue()
_started = threading.Lock()
_threads: list[threading.Thread] = []


def run(fn: Callable[..., Result], *args: Any) -> asyncio.Future[Result]:
    """``fn(*args)`` in a daemon worker; its outcome on the returned future of the running loop."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Result] = loop.create_future()
    with _started:
        if not _threads:
            for number in range(WORKERS):
                thread = threading.Thread(target=_work, name=f"libvirt-{number}", daemon=True)
                thread.start()
                _threads.append(thread)
    _jobs.put((loop, answer, fn, args))
    return answer


def _work() -> None:
    while True:
        loop, answer, fn, args = _jobs.get()
        try:
            outcome: tuple[bool, Any] = (True, fn(*args))
        except BaseException as error:  # handed to the caller, as an executor would
            outcome = (False, error)
        with contextlib.suppress(RuntimeError):  # the loop ended meanwhile: nobody waits for this answer
            loop.call_soon_threadsafe(_settle, answer, outcome)


def _settle(answer: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if answer.done():
        return  # its caller stopped waiting (a timeout)
    succeeded, value = outcome
    if succeeded:
        answer.set_result(value)
    else:
        answer.set_exception(value)
