"""The TCP connection under an SSH connection, made for QMP's small messages.

QMP over SSH is many small messages, each a round trip, on one connection
shared by a host's VMs. Two things made that slow:

* sshd leaves Nagle's algorithm on for a connection without a terminal, so
  a reply waits while an earlier one is not yet acknowledged, and the
  kernel here delays its acknowledgement by up to 40 ms. With 8 VMs on one
  host, one poll in ten took 40 ms (bench/bench_ssh.py) and the fleet fell
  behind its interval. Every receipt is acknowledged at once here
  (TCP_QUICKACK, which Linux resets, so it is set again each time).
* asyncssh writes each SSH packet to its transport as soon as it is made,
  and every channel write makes two: an SSH_MSG_IGNORE (a countermeasure
  for CBC ciphers that asyncssh applies to every cipher), then the data.
  asyncio sends each write at once: two segments, two system calls here
  and two wakeups of sshd per QMP command. Writes made in one turn of the
  event loop are joined here and leave at its end.

asyncssh takes this as its ``tunnel``: an object whose ``create_connection``
opens the stream the SSH connection runs on (as its own ProxyCommand
support does).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only; elsewhere the ACKs wait as before


class _JoiningTransport(asyncio.Transport):
    """What asyncssh's connection writes to: writes of one turn leave together at its end."""

    def __init__(self, tcp: asyncio.Transport) -> None:
        super().__init__()
        self._tcp = tcp
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending and not self._tcp.is_closing():
            self._tcp.write(b"".join(self._pending))
        self._pending.clear()

    def close(self) -> None:
        self._flush()  # the last packets (a disconnect message) still go out
        self._tcp.close()

    def abort(self) -> None:
        self._pending.clear()
        self._tcp.abort()

    def is_closing(self) -> bool:
        return self._tcp.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._tcp.get_extra_info(name, default)


class _Connection(asyncio.Protocol):
    """The TCP side: hands asyncssh's connection the joining transport, passes the rest through."""

    def __init__(self, ssh: asyncio.Protocol) -> None:
        self._ssh = ssh
        self._sock: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._sock = transport.get_extra_info("socket")
        self._ssh.connection_made(_JoiningTransport(transport))

    def data_received(self, data: bytes) -> None:
        if self._sock is not None and QUICKACK is not None:
            self._sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)  # the ACK, now
        self._ssh.data_received(data)

    def eof_received(self) -> bool | None:
        return self._ssh.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._ssh.connection_lost(exc)

    def pause_writing(self) -> None:
        self._ssh.pause_writing()

    def resume_writing(self) -> None:
        self._ssh.resume_writing()


class TunedTCP:
    """asyncssh's ``tunnel`` for a direct TCP connection (``family``, ``local_addr``:
    the ssh_config's AddressFamily and BindAddress, as asyncssh would use them)."""

    def __init__(self, family: int = socket.AF_UNSPEC, local_addr: tuple[str, int] | None = None) -> None:
        self._family = family
        self._local_addr = local_addr

    async def create_connection(self, session_factory: Any, remote_host: str,
                                remote_port: int) -> tuple[asyncio.BaseTransport, Any]:
        ssh = session_factory()
        transport, _ = await asyncio.get_running_loop().create_connection(
            lambda: _Connection(ssh), remote_host, remote_port, family=self._family, local_addr=self._local_addr)
        return transport, ssh

    def close(self) -> None:
        """Nothing to close: the connection closes its own transport."""

    async def wait_closed(self) -> None:
        """Nothing to wait for."""
