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


async def until_async(read: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool], timeout: float,
                      what: str) -> None:
    """Poll an async ``read`` until ``accept`` takes its value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not accept(await read()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
