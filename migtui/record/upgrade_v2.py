"""Schema 1 to 2: a row a sample becomes blocks of a VM's samples, each the difference from the one before."""

from __future__ import annotations

import sqlite3

from migtui.record.blocks import OpenBlock, Record
from migtui.record.hot_fields import HOT_COLUMNS

_INSERT = "INSERT INTO sample_blocks (first_id, run, vm, last_id, first_ms, last_ms, data) VALUES (?, ?, ?, ?, ?, ?, ?)"


def samples_into_blocks(conn: sqlite3.Connection) -> None:
    """Fill the (new) ``sample_blocks`` from the rows of ``samples``, then drop those."""
    filling: dict[tuple[int, int], OpenBlock] = {}
    cur = conn.execute(f"SELECT id, run, vm, wall_ms, mono_ms, until_ms, repeats, shape, {', '.join(HOT_COLUMNS)} "
                       "FROM samples ORDER BY id")
    while rows := cur.fetchmany(5000):
        for ident, run, vm, wall_ms, mono_ms, until_ms, repeats, shape, *hot in rows:
            block = filling.get((run, vm))
            if block is not None and block.full(wall_ms):
                conn.execute(_INSERT, block.row())
                block = None
            if block is None:
                block = filling[(run, vm)] = OpenBlock(run, vm)
            block.add(Record(ident, wall_ms, mono_ms, shape, tuple(hot), until_ms, repeats))
    # No recorder holds them: every block is whole.
    conn.executemany(_INSERT, [block.row() for block in filling.values()])
    conn.execute("DROP INDEX samples_by_vm")
    conn.execute("DROP TABLE samples")
