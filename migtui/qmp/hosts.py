"""The SSH hosts of an inventory, one connection each, shared by their VMs' sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from migtui.host_entry import HostEntry
from migtui.inventory import VMEntry
from migtui.qmp.remote_socket import Address, RemoteSocket

if TYPE_CHECKING:
    from migtui.qmp.ssh_host import SSHHost


class Reachable(Protocol):
    """A host migtui keeps a connection to, as the fleet's header counts it."""

    name: str

    @property
    def up(self) -> bool: ...


class HostPool:
    """``address(entry)`` gives what a VMSession connects to; ``close()`` ends every SSH connection."""

    def __init__(self, hosts: Iterable[HostEntry] = ()) -> None:
        self.entries = {host.name: host for host in hosts}
        self.hosts: dict[str, SSHHost] = {}
        """The SSH hosts in use, by name (made when a VM on them is first asked for)."""
        self.others: dict[str, Reachable] = {}
        """Hosts reached another way, by name (libvirt's: the fleet adds them), counted with the SSH hosts."""
        self._started = False

    def every_host(self) -> list[Reachable]:
        """The SSH hosts in use and the others."""
        return [*self.hosts.values(), *self.others.values()]

    @property
    def libvirt(self) -> bool:
        """Whether a host of the inventory is a libvirt host."""
        return any(host.libvirt for host in self.entries.values())

    def entry_of(self, entry: VMEntry) -> HostEntry | None:
        """The inventory's host the VM runs on (None: this machine, no [[host]] for it)."""
        return self.entries.get(entry.host) if entry.host else None

    def address(self, entry: VMEntry) -> Address:
        host = self.entry_of(entry)
        if host is None or host.ssh is None:
            return entry.address
        return RemoteSocket(self.host(host.name), entry.qmp)

    def host(self, name: str) -> SSHHost:
        if name not in self.hosts:
            from migtui.qmp.ssh_host import SSHHost  # asyncssh only for a fleet that has SSH hosts

            self.hosts[name] = SSHHost(self.entries[name])
            if self._started:
                self.hosts[name].start()
        return self.hosts[name]

    def start(self) -> None:
        """Keep every host's connection up (the fleet's way); without it each connects once, when used."""
        self._started = True
        for host in self.hosts.values():
            host.start()

    async def close(self) -> None:
        await asyncio.gather(*(host.close() for host in self.hosts.values()))

    async def __aenter__(self) -> HostPool:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
