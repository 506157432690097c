"""Deleting what is older than the retention, a little at a time.

Rows go in chunks of a few thousand, one short transaction each, with the
event loop free in between: polling and recording never wait long. Samples
go a block at a time; the answer of an idle VM that still repeats is kept
(its block ends when it was last seen).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable

from migtui.errors import UsageError

CHUNK = 5000
BLOCK_CHUNK = 100
"""Blocks per transaction: a block holds up to a few hundred samples."""
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
        # Whole blocks go, found VM by VM through the (vm, first_ms) index; a block being filled stays
        # (the recorder rewrites it each second, and it ends within BLOCK_SPAN_MS of its start).
        vms = [row[0] for row in self.conn.execute("SELECT id FROM vms")]
        statements = [("DELETE FROM sample_blocks WHERE first_id IN (SELECT first_id FROM sample_blocks WHERE vm = :vm "
                       "AND first_ms < :cutoff AND last_ms < :cutoff LIMIT :blocks)", {"vm": vm}) for vm in vms]
        statements.append(("DELETE FROM entries WHERE id IN (SELECT id FROM entries WHERE wall_ms < :cutoff "
                           "LIMIT :chunk)", {}))
        deleted = 0
        for statement, args in statements:
            while True:
                with self.conn:
                    self.conn.execute("BEGIN IMMEDIATE")
                    count = self.conn.execute(statement, {"cutoff": cutoff, "chunk": CHUNK, "blocks": BLOCK_CHUNK,
                                                              **args}).rowcount
                deleted += count
                await asyncio.sleep(0)
                if count < (BLOCK_CHUNK if args else CHUNK):
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
