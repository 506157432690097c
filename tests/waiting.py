"""Waiting for a state in tests: poll with a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

Result = TypeVar("Result")
POLL = 0.05
"""Seconds between two looks at the state waited for (the deadline is each caller's)."""


async def until(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(POLL)


def wait_for(predicate: Callable[[], Result], timeout: float, what: str) -> Result:
    """:func:`until` for code outside an event loop (a fixture, a subprocess); returns the
    predicate's first true value."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(POLL)
    return value


async def settle(pilot: Any, condition: Callable[[], Any], timeout: float = 5.0, what: str = "the condition") -> None:
    """Let a Textual app run (``pilot.pause``) until ``condition`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"after {timeout:g} s: {what}"
        await pilot.pause(POLL)


async def until_true(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> None:
    """Like :func:`until` for a check that must be awaited (a QMP query)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(POLL)
