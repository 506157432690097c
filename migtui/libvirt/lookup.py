"""One libvirt domain by its name, for a command that acts on one VM (``migtui migrate web-1 hv-b``)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

from migtui.errors import ConfigError
from migtui.host_entry import HostEntry
from migtui.libvirt.domain_session import DomainSession
from migtui.libvirt.host import CONNECT_TIMEOUT
from migtui.libvirt.registry import DomainRegistry
from migtui.qmp.gate import CommandGate


@contextlib.asynccontextmanager
async def open_domain(hosts: Iterable[HostEntry], name: str, gate: CommandGate,
                      timeout: float = CONNECT_TIMEOUT) -> AsyncIterator[DomainSession]:
    """The connected session of the domain called ``name`` on the inventory's libvirt hosts; closed on exit."""
    registry = DomainRegistry(hosts, gate, add=lambda _: None, remove=lambda *_: None, moved=lambda *_: None)
    for host in registry.hosts.values():
        host.announce = False  # the command's one line says it
    registry.start()
    try:
        await registry.wait_listed(timeout)
        session = registry.session_named(name)
        if session is None:
            found = sorted(s.name for s in registry.sessions.values())
            down = [host.describe_down() for host in registry.hosts.values() if not host.up]
            raise ConfigError(f"no VM named {name!r}: not in the inventory, and no libvirt host has a domain of "
                              f"that name (domains: {', '.join(found) or 'none'})"
                              + (f"; {'; '.join(down)}" if down else ""))
        await session.connect()
        yield session
    finally:
        await registry.close()
