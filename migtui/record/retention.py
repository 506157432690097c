"""Deleting what is older than the retention, a little at a time.

Rows go in chunks of a few thousand, one short transaction each, with the
event loop free in between: polling and recording never wait long. A sample
row of an idle VM that still repeats is kept (its ``until_ms`` is recent).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable

from migtui.errors import UsageError

CHUNK = 5000
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """``48h``, ``7d``, ``90m``, ``3600`` (seconds) as seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"not a duration: {text!r} (e.g. 48h, 7d, 90m)")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


class Retention:
    def __init__(self, conn: sqlite3.Connection, keep: float, shapes_forgotten: Callable[[], None]) -> None:
        self.conn = conn
        self.keep = keep
        self.shapes_forgotten = shapes_forgotten
        self.every = min(max(keep / 20, 1.0), 600.0)

    async def run(self) -> None:
        while True:
            await self.once()
            await asyncio.sleep(self.every)

    async def once(self) -> int:
        """Delete one pass's worth; returns the rows deleted."""
        cutoff = round((time.time() - self.keep) * 1000)
        # Sample ids are in time order and samples have no index on time alone: bound the scan by
        # the last old id of each VM (found through the (vm, wall_ms) index).
        vms = [row[0] for row in self.conn.execute("SELECT id FROM vms")]
        last_old = max((self.conn.execute("SELECT coalesce(max(id), 0) FROM samples WHERE vm = ? AND wall_ms < ?",
                                          (vm, cutoff)).fetchone()[0] for vm in vms), default=0)
        deleted = 0
        for statement in (
            "DELETE FROM samples WHERE id IN (SELECT id FROM samples WHERE id <= :last AND wall_ms < :cutoff "
            "AND coalesce(until_ms, wall_ms) < :cutoff ORDER BY id LIMIT :chunk)",
            "DELETE FROM entries WHERE id IN (SELECT id FROM entries WHERE wall_ms < :cutoff LIMIT :chunk)",
        ):
            while True:
                with self.conn:
                    self.conn.execute("BEGIN IMMEDIATE")
                    count = self.conn.execute(statement, {"cutoff": cutoff, "chunk": CHUNK, "last": last_old}).rowcount
                deleted += count
                await asyncio.sleep(0)
                if count < CHUNK:
                    break
        if deleted:
            with self.conn:
                self.conn.execute("BEGIN IMMEDIATE")
                # a shape's last_ms is written once a minute: keep a margin of two
                gone = self.conn.execute("DELETE FROM shapes WHERE last_ms < ?", (cutoff - 120_000,)).rowcount
            if gone:
                self.shapes_forgotten()
            self.conn.execute("PRAGMA incremental_vacuum")
        return deleted
