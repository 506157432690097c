"""The guest's dirty rate measured before a migration, with QEMU's ``calc-dirty-rate``.

Only ``page-sampling`` is ever sent: the ``dirty-bitmap`` and ``dirty-ring``
modes crash QEMU 7.2 under TCG. Sampling hashes pages and compares them
after ``calc-time`` seconds; it neither stops nor slows the guest.
"""

from __future__ import annotations

import asyncio
import time

from migtui.errors import MigtuiError
from migtui.qmp.queries import Queries

SAMPLE_PAGES = 4096
"""Pages sampled per GiB: QEMU's most (its default, 512, samples 64 pages of a 128 MiB guest)."""
MB = 1 << 20  # QEMU's "MB/s" here is MiB a second (it shifts by 20)


async def measure_guest(session: Queries) -> tuple[float, int | None]:
    """(dirty rate in bytes a second, working set in bytes or None).

    Sampling counts pages that changed, once each: over 1 s and over 2 s a
    guest with a real rate D reads D both times, while one that rewrites a
    working set W within a second reads W, then W/2. The two readings tell
    them apart, and give W.
    """
    one = await measure_dirty_rate(session, 1)
    two = await measure_dirty_rate(session, 2)
    if one > 0 and two * 2 < one * 1.3:  # about the same pages in twice the time: a working set
        return one, int(one)
    return max(one, two), None


async def measure_dirty_rate(session: Queries, seconds: int = 1) -> float:
    """Bytes a second the guest dirties, as sampled over ``seconds``."""
    await session.query("calc-dirty-rate", {"calc-time": seconds, "sample-pages": SAMPLE_PAGES,
                                              "mode": "page-sampling"})
    deadline = time.monotonic() + seconds + 10
    while time.monotonic() < deadline:
        info = await session.query("query-dirty-rate")
        if info.get("status") == "measured":
            return float(info.get("dirty-rate", 0)) * MB
        await asyncio.sleep(0.2)  # QEMU measures for calc-time seconds; nothing to wait on but the answer
    raise MigtuiError(f"{session.name}: calc-dirty-rate gave no result within {seconds + 10} s")
