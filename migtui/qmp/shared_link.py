"""A shared link's connection: opened for each exchange, let go when the last one ends.

The strategy a :class:`~migtui.qmp.session.VMSession` uses for a socket
another tool uses too (``shared = true``): QEMU serves one client per QMP
socket, so migtui must not hold it. An exchange (a poll, a command) opens
the connection, nested and concurrent exchanges share it, and the last one
out closes it. Opening waits for QEMU's greeting at most ``budget`` seconds:
a socket that stays silent that long is another client's for now, and the
link is busy, not down. The session keeps the gate, the audit log and the
link's state; here is only how the socket is held.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from migtui.model.link import LinkState
from migtui.qmp.client import Streams
from migtui.qmp.errors import (
    BUSY_REASON,
    SocketBusy,
    Unreachable,
    describe_connect_error,
    describe_link_error,
    socket_busy,
)
from migtui.qmp.exchange_link import READ_LIMIT, ExchangeLink
from migtui.qmp.remote_socket import Address, RemoteSocket

EXCHANGE_BUDGET = 1.0
"""How long a shared link waits for QEMU's greeting (the owner to let go) before it calls the socket busy."""
DERIVED_EVENTS = frozenset({"MIGRATION", "MIGRATION_PASS"})
"""What a shared link derives from its polls instead of hearing (heard ones are dropped: told once)."""

SetLink = Callable[[LinkState, str | None], None]


class SharedLink:
    def __init__(self, name: str, address: Address, *, hear: Callable[[dict[str, Any]], None],
                 set_link: SetLink, budget: float = EXCHANGE_BUDGET) -> None:
        self.name = name
        self.address = address
        self.budget = budget
        self._hear = hear
        self._set_link = set_link
        self._connection = ExchangeLink(self._heard)
        """The connection, open while exchanges are under way."""
        self._exchanges = 0
        self._opening = asyncio.Lock()
        """One connection at a time: opened by the first exchange, closed by the last."""

    @property
    def up(self) -> bool:
        return self._connection.up

    async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> object:
        return await self._connection.execute(command, arguments)

    @contextlib.asynccontextmanager
    async def exchange(self) -> AsyncIterator[None]:
        """The connection for a batch of commands; raises :class:`SocketBusy` or
        :class:`Unreachable` when it cannot open (the link says so too)."""
        async with self._opening:
            if self._exchanges == 0:
                await self._open()
            self._exchanges += 1
        try:
            yield
        finally:
            self._exchanges -= 1
            if self._exchanges == 0:
                self._let_go()

    def close(self) -> None:
        self._connection.close()

    async def _open(self) -> None:
        try:
            async with asyncio.timeout(self.budget):
                await self._connection.open(self._streams)
        except Exception as error:
            self._connection.close()
            busy = socket_busy(error)
            reason = BUSY_REASON if busy else describe_connect_error(self.address, error)
            self._set_link(LinkState.BUSY if busy else LinkState.DISCONNECTED, reason)
            if busy:
                raise SocketBusy(self.name, f"busy: {reason}") from None
            raise Unreachable(self.name, reason) from None

    async def _streams(self) -> Streams:
        """A new connection to the socket (over the host's SSH connection if it is remote)."""
        if isinstance(self.address, RemoteSocket):
            return await self.address.host.open_streams(self.address.path, READ_LIMIT)
        if isinstance(self.address, tuple):
            return Streams(*await asyncio.open_connection(*self.address, limit=READ_LIMIT))
        return Streams(*await asyncio.open_unix_connection(self.address, limit=READ_LIMIT))

    def _let_go(self) -> None:
        """Close the connection; one that fell during the exchange takes the link down."""
        fell = self._connection.fell
        self._connection.close()
        if fell is not None:
            self._set_link(LinkState.DISCONNECTED, describe_link_error(fell))

    def _heard(self, record: dict[str, Any]) -> None:
        """An event QEMU sent during an exchange: told, unless the poller derives its kind."""
        if record.get("event") not in DERIVED_EVENTS:
            self._hear(record)
