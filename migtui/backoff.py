"""Waits between tries of a connection that doubles from the first to the longest, jittered.

Jitter: a fleet whose host came back, or hosts that went down together, must not retry in
lockstep (every link trying at the same instant).
"""

from __future__ import annotations

import asyncio
import random


class Backoff:
    def __init__(self, first: float, longest: float) -> None:
        self.first = first
        self.longest = longest
        self._delay = first
        self._jitter = random.Random()  # seeded from the OS: each link its own spread

    async def wait(self, longest: float | None = None) -> None:
        """Sleep between half the delay and the delay, which then doubles, up to ``longest`` (or its own)."""
        await asyncio.sleep(self._jitter.uniform(self._delay / 2, self._delay))
        self._delay = min(self._delay * 2, self.longest if longest is None else longest)

    def reset(self) -> None:
        """A try succeeded: the next failure waits the first delay again."""
        self._delay = self.first
