"""Running a headless service (record, export) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import signal


async def until_stopped(*failures: asyncio.Event, duration: float | None = None) -> None:
    """Return on SIGTERM/SIGINT, after ``duration`` seconds, or when one of ``failures`` is set."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waits = [asyncio.ensure_future(event.wait()) for event in (stop, *failures)]
    try:
        await asyncio.wait(waits, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        for wait in waits:
            wait.cancel()
