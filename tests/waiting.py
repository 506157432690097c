"""Waiting for a state in tests: poll with a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def until(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)



async def settle(pilot: Any, condition: Callable[[], Any], timeout: float = 5.0, what: str = "the condition") -> None:
    """Let a Textual app run (``pilot.pause``) until ``condition`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"after {timeout:g} s: {what}"
        await pilot.pause(0.05)


async def until_true(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> None:
    """Like :func:`until` for a check that must be awaited (a QMP query)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
