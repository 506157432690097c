"""A unix socket on an SSH host, as the stream reader and writer qemu.qmp uses.

qemu.qmp reads and writes an asyncio ``StreamReader`` and ``StreamWriter``.
Over SSH those are driven here by the SSH channel itself, a direct stream
to the remote path (what ``ssh -L local:/remote`` does without a local
file): what QEMU sends is fed to the reader in asyncssh's callback, and
what qemu.qmp writes goes straight into the channel. Joining the channel to
one end of a local socket pair instead (qemu.qmp's ``connect()`` wants a
socket) costs two system calls and two event-loop wakeups each way, on
every QMP command (bench/bench_ssh.py). Flow control is passed across in
both directions, as asyncio's own transports do.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncssh

from migtui.qmp.client import Streams

DEFAULT_HIGH_WATER = 64 * 1024  # asyncssh's and asyncio's default


class _ChannelTransport(asyncio.Transport):
    """The SSH channel as the transport of an asyncio stream."""

    def __init__(self, channel: asyncssh.SSHUNIXChannel[bytes]) -> None:
        super().__init__()
        self._channel = channel
        self._limits = (DEFAULT_HIGH_WATER // 4, DEFAULT_HIGH_WATER)
        channel.set_write_buffer_limits(DEFAULT_HIGH_WATER, DEFAULT_HIGH_WATER // 4)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._channel.write(bytes(data))

    def can_write_eof(self) -> bool:
        return self._channel.can_write_eof()

    def write_eof(self) -> None:
        self._channel.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._channel.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._limits

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        # qemu.qmp's flush() sets both to 0 and waits for the buffer to empty.
        high = DEFAULT_HIGH_WATER if high is None else high
        low = high // 4 if low is None else low
        self._limits = (low, high)
        self._channel.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self._channel.pause_reading()

    def resume_reading(self) -> None:
        self._channel.resume_reading()

    def is_reading(self) -> bool:
        return True

    def is_closing(self) -> bool:
        return self._channel.is_closing()

    def close(self) -> None:
        self._channel.close()

    def abort(self) -> None:
        self._channel.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._channel.get_extra_info(name, default)


class _ChannelSession(asyncssh.SSHUNIXSession[bytes]):
    """asyncssh's side of the channel: each callback goes to the stream's protocol."""

    def __init__(self, limit: int) -> None:
        self.reader = asyncio.StreamReader(limit=limit)
        self.protocol = asyncio.StreamReaderProtocol(self.reader)
        self.writer: asyncio.StreamWriter | None = None

    def connection_made(self, chan: Any) -> None:
        # Called before any data: QEMU greets as soon as the channel opens.
        transport = _ChannelTransport(chan)
        self.protocol.connection_made(transport)
        self.writer = asyncio.StreamWriter(transport, self.protocol, self.reader, asyncio.get_running_loop())

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.protocol.data_received(data)

    def eof_received(self) -> bool:
        self.protocol.eof_received()
        return False  # asyncssh closes the channel: QEMU is done with this connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.connection_lost(exc)

    def pause_writing(self) -> None:  # the SSH window is full
        self.protocol.pause_writing()

    def resume_writing(self) -> None:
        self.protocol.resume_writing()


async def open_streams(conn: asyncssh.SSHClientConnection, path: str, limit: int) -> Streams:
    """Open the unix socket ``path`` on the connection's host; ``limit`` is the
    reader's line limit. Raises asyncssh's ``ChannelOpenError`` when sshd cannot."""
    session = _ChannelSession(limit)
    await conn.create_unix_connection(lambda: session, path)
    assert session.writer is not None
    return Streams(session.reader, session.writer)
