"""A remote unix socket over SSH, as a local socket qemu.qmp can connect to.

qemu.qmp wants a connected socket with a real file descriptor, so each QMP
socket on a host is one end of a socket pair; the other end and the SSH
channel (a direct stream to the remote path) are joined here at the
protocol level: bytes from one side are written to the other in the same
callback, with no stream reader, task or copy loop in between. That path is
taken twice per QMP command, so it is most of what QMP over SSH costs
beyond the cipher. Flow control is passed across: a side whose writes back
up pauses reading on the other.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import asyncssh


class _Remote(asyncssh.SSHUNIXSession[bytes]):
    """The SSH channel's side: what QEMU sends goes to the local socket."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    def connection_made(self, chan: Any) -> None:
        self._bridge.channel = chan

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self._bridge.local is not None:
            self._bridge.local.write(data)

    def eof_received(self) -> bool:
        if self._bridge.local is not None and self._bridge.local.can_write_eof():
            self._bridge.local.write_eof()
        return False  # asyncssh closes the channel once both sides have sent EOF

    def connection_lost(self, exc: Exception | None) -> None:
        self._bridge.close()

    def pause_writing(self) -> None:  # the SSH window is full: stop reading what qemu.qmp writes
        if self._bridge.local is not None:
            self._bridge.local.pause_reading()

    def resume_writing(self) -> None:
        if self._bridge.local is not None and not self._bridge.local.is_closing():
            self._bridge.local.resume_reading()


class _Local(asyncio.Protocol):
    """The socket pair's side: what qemu.qmp sends goes into the SSH channel."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._bridge.local = transport

    def data_received(self, data: bytes) -> None:
        if self._bridge.channel is not None:
            self._bridge.channel.write(data)

    def eof_received(self) -> bool:
        return False  # qemu.qmp closed its end: it is done with the VM, so the bridge closes

    def connection_lost(self, exc: Exception | None) -> None:
        self._bridge.close()

    def pause_writing(self) -> None:  # qemu.qmp reads slower than QEMU sends
        if self._bridge.channel is not None:
            self._bridge.channel.pause_reading()

    def resume_writing(self) -> None:
        if self._bridge.channel is not None:
            self._bridge.channel.resume_reading()


class Bridge:
    """One remote socket joined to one end of a local socket pair; :meth:`close` ends both."""

    def __init__(self) -> None:
        self.channel: Any = None
        """asyncssh's channel (an ``SSHUNIXChannel``) once open."""
        self.local: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    @classmethod
    async def open(cls, conn: asyncssh.SSHClientConnection, path: str) -> tuple[Bridge, socket.socket]:
        """Open ``path`` on the host; returns the bridge and the socket for qemu.qmp.

        Raises asyncssh's ``ChannelOpenError`` when sshd cannot open it.
        """
        bridge = cls()
        ours, theirs = socket.socketpair()
        try:
            # The local side first: QEMU greets as soon as the channel opens.
            await asyncio.get_running_loop().create_connection(lambda: _Local(bridge), sock=ours)
            await conn.create_unix_connection(lambda: _Remote(bridge), path)
        except BaseException:
            bridge.close()
            theirs.close()
            raise
        return bridge, theirs

    def close(self) -> None:
        """Close both sides (either side's end closes the other, so both ends see it)."""
        if self.channel is not None:
            self.channel.close()
        if self.local is not None and not self.local.is_closing():
            self.local.close()
        if not self.closed.done():
            self.closed.set_result(None)
