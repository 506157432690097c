"""The recording's SQLite schema, its version, and the steps between versions.

A file says which schema it holds in ``meta.schema_version``. Opening a file
of an older version runs the missing steps of :data:`STEPS` in one
transaction; a file of a newer version is refused (an older migtui must not
write rows a newer one cannot read). docs/recording.md describes every table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from migtui.errors import MigtuiError
from migtui.record.hot_fields import HOT_COLUMNS
from migtui.record.upgrade_v2 import samples_into_blocks

SCHEMA_VERSION = 2

_V1 = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, started REAL NOT NULL, mono_origin REAL NOT NULL,
    host TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL, command TEXT NOT NULL);
CREATE TABLE vms (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, grp TEXT, notes TEXT, host TEXT);
CREATE TABLE shapes (id INTEGER PRIMARY KEY, json TEXT NOT NULL UNIQUE, last_ms INTEGER NOT NULL);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY, run INTEGER NOT NULL, vm INTEGER NOT NULL,
    wall_ms INTEGER NOT NULL, mono_ms INTEGER NOT NULL,
    until_ms INTEGER, repeats INTEGER NOT NULL DEFAULT 0,
    shape INTEGER NOT NULL, {", ".join(f"{c} NUMERIC" for c in HOT_COLUMNS)});
CREATE INDEX samples_by_vm ON samples (vm, wall_ms);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY, run INTEGER NOT NULL, vm INTEGER NOT NULL,
    wall_ms INTEGER NOT NULL, mono_ms INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX entries_by_time ON entries (wall_ms);
CREATE INDEX entries_by_vm ON entries (vm, kind, wall_ms);
"""

_V2 = """
CREATE TABLE sample_blocks (
    first_id INTEGER PRIMARY KEY, run INTEGER NOT NULL, vm INTEGER NOT NULL, last_id INTEGER NOT NULL,
    first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX sample_blocks_by_vm ON sample_blocks (vm);
CREATE INDEX sample_blocks_by_time ON sample_blocks (vm, first_ms);
CREATE TABLE open_blocks (
    vm INTEGER PRIMARY KEY, first_id INTEGER NOT NULL, run INTEGER NOT NULL, last_id INTEGER NOT NULL,
    first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, data BLOB NOT NULL);
"""
"""Version 2: samples of a VM in blocks, each sample as its difference from the one before
(:mod:`migtui.record.blocks`): about 20 bytes a migrating sample where version 1's row took 100.
A VM's block being filled is in ``open_blocks`` (rewritten each second), so ``sample_blocks``
only ever gets whole blocks."""


def _blocks_from_rows(conn: sqlite3.Connection) -> None:
    _run(conn, _V2)
    samples_into_blocks(conn)


STEPS: dict[int, str | Callable[[sqlite3.Connection], None]] = {1: _V1, 2: _blocks_from_rows}
"""``STEPS[n]`` turns a file of version n-1 (0: empty) into version n: SQL, or a function when rows
have to be rewritten. A new version adds its step here and never edits an old one."""


class RecordingError(MigtuiError):
    """A recording that cannot be opened, read or written."""


def connect(path: Path, *, write: bool) -> sqlite3.Connection:
    """Open ``path`` in WAL mode, creating or upgrading its schema when writing."""
    if not write and not path.exists():
        raise RecordingError(f"{path}: no such recording")
    try:
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                                   check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
    except (OSError, sqlite3.Error) as error:
        raise RecordingError(f"cannot open {path}: {getattr(error, 'strerror', None) or error}") from None
    try:
        version = schema_version(conn)  # before any pragma: someone else's file is left as it was
        if write:
            # auto_vacuum takes effect only on an empty file: retention can then hand pages back.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL: a commit survives the process being killed (not a power cut), at a fraction of FULL's fsyncs.
            conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.OperationalError as error:  # locked by another writer, unreadable: the file is fine
        conn.close()
        raise RecordingError(f"{path}: cannot {'write' if write else 'read'} the recording: {error}") from None
    except sqlite3.DatabaseError as error:
        conn.close()
        raise RecordingError(f"{path}: not a migtui recording ({error})") from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise RecordingError(f"{path}: recorded with schema {version}; this migtui reads up to {SCHEMA_VERSION}")
    if version < SCHEMA_VERSION:
        if not write:
            conn.close()
            if version == 0:
                raise RecordingError(f"{path}: not a migtui recording (no schema)")
            raise RecordingError(f"{path}: schema {version} is older than {SCHEMA_VERSION}; "
                                 "`migtui record --db FILE` upgrades it")
        upgrade(conn, version)
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if not has_meta:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise sqlite3.DatabaseError("it holds tables of something else")
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def upgrade(conn: sqlite3.Connection, version: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for step in range(version + 1, SCHEMA_VERSION + 1):
            _run(conn, STEPS[step])
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _run(conn: sqlite3.Connection, step: str | Callable[[sqlite3.Connection], None]) -> None:
    if callable(step):
        step(conn)
        return
    for statement in step.split(";"):
        if statement.strip():
            conn.execute(statement)
