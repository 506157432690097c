"""The VMs of a pattern entry (``qmp = "/var/run/qemu-server/*.qmp"``), looked up again and again.

A finder lists the sockets that match its entry's pattern, on this machine
or on the entry's SSH host, every :data:`FIND_INTERVAL` seconds, and tells
the fleet which VMs came and which went. A name the fleet has from
elsewhere (a ``[[vm]]`` of its own, another pattern's) is left to that.
A listing that fails (the host is down) changes nothing: the VMs found
stay, their links say what is wrong.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import stat
from collections.abc import Callable

from pydantic import ValidationError

from migtui.errors import MigtuiError
from migtui.inventory import VMEntry
from migtui.qmp.hosts import HostPool
from migtui.socket_pattern import is_pattern, name_for

log = logging.getLogger(__name__)

FIND_INTERVAL = 3.0
"""Seconds between two listings of a pattern's sockets."""


def local_sockets(pattern: str) -> list[str]:
    """The unix sockets on this machine whose paths match ``pattern``."""
    found = []
    for path in sorted(glob.glob(pattern)):
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                found.append(path)
        except OSError:
            continue  # gone between the listing and the look
    return found


async def find_vms(entry: VMEntry, hosts: HostPool, told: set[str] | None = None) -> dict[str, VMEntry]:
    """One listing: the VMs ``entry``'s pattern makes now, by name (``told``: the sockets
    already said to make no VM, not said again)."""
    host = hosts.entry_of(entry)
    if host is not None and host.ssh is not None:
        paths = sorted(await hosts.host(host.name).list_sockets(entry.qmp))
    else:
        paths = local_sockets(entry.qmp)
    found: dict[str, VMEntry] = {}
    for path in paths:
        name = name_for(entry.name, path, entry.host)
        try:
            if is_pattern(path):
                raise ValueError("a wildcard in the path")
            vm = VMEntry.model_validate({**entry.model_dump(), "name": name, "qmp": path})
        except (ValidationError, ValueError):
            if told is not None:
                if path in told:
                    continue
                told.add(path)
            log.warning("%s: no VM for %s: its name %r or its path is not one migtui takes", entry.qmp, path, name)
            continue
        found.setdefault(name, vm)
    return found


class SocketFinder:
    """Keeps the fleet's VMs of one pattern entry in step with the sockets found."""

    def __init__(self, entry: VMEntry, hosts: HostPool, *, add: Callable[[VMEntry], None],
                 remove: Callable[[str, str], None], taken: Callable[[str], bool],
                 interval: float = FIND_INTERVAL) -> None:
        self.entry = entry
        self.hosts = hosts
        self._add, self._remove, self._taken = add, remove, taken
        self.interval = interval
        self.mine: set[str] = set()
        """The VMs this finder added (and may remove)."""
        self._failing: str | None = None
        self._told: set[str] = set()
        self._looked = False

    async def run(self) -> None:
        while True:
            await self.look()
            await asyncio.sleep(self.interval)

    async def look(self) -> None:
        """List the sockets once; add the VMs that came, remove those that went."""
        try:
            found = await find_vms(self.entry, self.hosts, self._told)
        except (MigtuiError, OSError) as error:
            reason = getattr(error, "reason", None) or str(error)
            if reason != self._failing:  # said once, not every few seconds
                log.warning("%s: cannot list the sockets: %s", self.entry.qmp, reason)
            self._failing = reason
            return
        if not found and not self._looked:
            log.warning("%s: no socket matches it yet (looked for again every %g s)", self.entry.qmp, self.interval)
        self._failing, self._looked = None, True
        for name in sorted(self.mine - found.keys()):
            self.mine.discard(name)
            self._remove(name, f"its socket is gone ({self.entry.qmp} matches it no more)")
        for name, vm in found.items():
            if name not in self.mine and not self._taken(name):
                self.mine.add(name)
                self._add(vm)
