"""The recordings a process reads past migrations' figures from, read once, off the event loop.

The files are the recording the process writes (``--record``, ``record --db``,
``serve``) and the inventory's ``[settings] history`` (a recording a
``migtui record`` service writes). Only migrations started before this
process began count: those since, it watches itself (the path finder's
"seen"). Reading decodes samples, so it runs in a thread with its own
read-only connection (SQLite's WAL lets it read while a recorder writes);
a file that cannot be read only leaves its figures out.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from migtui.host_entry import HostEntry
from migtui.model.path import RecordedReach
from migtui.record.route_history import Route, RouteBest, reached_by_route
from migtui.record.schema import RecordingError
from migtui.units import human_rate

log = logging.getLogger(__name__)


class PathHistory:
    def __init__(self, files: list[Path] | None = None) -> None:
        self.files: list[Path] = []
        self.began = time.time()
        """Migrations started from now on are this process's own to see."""
        self._read: asyncio.Future[dict[Route, tuple[RouteBest, Path]]] | None = None
        self.names: dict[str, str] = {}
        """The inventory's hosts by the address their destinations listen at: 'to hv2', not 'to 10.0.0.2'."""
        for file in files or []:
            self.add(file)

    def name_hosts(self, hosts: Iterable[HostEntry]) -> None:
        """Say a destination by its ``[[host]]`` where exactly one host listens at its address."""
        by_address: dict[str, list[str]] = {}
        for host in hosts:
            by_address.setdefault(host.listen_address, []).append(host.name)
        self.names = {address: names[0] for address, names in by_address.items() if len(names) == 1}

    def add(self, file: Path | None) -> None:
        """Read ``file`` too (None: nothing to add)."""
        if file is not None and file not in self.files:
            self.files.append(file)
            self._read = None

    async def reach(self, place: str, destination: str) -> RecordedReach | None:
        """What recorded migrations from ``place`` to ``destination`` reached (None: none recorded)."""
        if not self.files or destination == "?":
            return None
        if self._read is None:  # once for every migration asking: one read of each file
            self._read = asyncio.ensure_future(asyncio.to_thread(self._read_files, list(self.files)))
        known = (await asyncio.shield(self._read)).get((place, destination))
        if known is None:
            return None
        best, file = known
        count = f"{best.migrations} migration{'s' if best.migrations != 1 else ''}"
        return RecordedReach(best.bandwidth, f"migrations from {place} to {self.names.get(destination, destination)} "
                                             f"reached "
                                             f"{human_rate(best.bandwidth)} before (recordings: {count} "
                                             f"in {file.name})")

    def _read_files(self, files: list[Path]) -> dict[Route, tuple[RouteBest, Path]]:
        found: dict[Route, tuple[RouteBest, Path]] = {}
        for file in files:
            try:
                routes = reached_by_route(file, before=self.began)
            except (RecordingError, sqlite3.Error, OSError) as error:  # a hint, not a need: say it in the log and go on
                log.warning("past migrations not read: %s", error)
                continue
            except Exception:  # an answer a recording holds that migtui cannot read: the probed path stays
                log.exception("past migrations not read from %s", file)
                continue
            for route, best in routes.items():
                if route not in found or best.bandwidth > found[route][0].bandwidth:
                    found[route] = (best, file)
        return found
