"""qemu.qmp's client, with two changes: no debug text nobody reads, and streams it did not open.

``qemu.qmp`` turns every message into indented JSON for its debug log
before the logger decides to drop it (``logger.debug("<-- %s", str(msg))``):
for ``query-qmp-schema``'s 1,000 entries that is about 60 ms of CPU on the
event loop, and a share of every poll. Here the text is only made when
debug logging is on for the client's logger.

``connect()`` also takes :class:`Streams`, an asyncio stream reader and
writer already connected (QMP over SSH, :mod:`migtui.qmp.ssh_stream`).
qemu.qmp opens its streams in ``_do_connect``; that one step is replaced,
and everything after it (the greeting, capabilities negotiation, the
reader and writer tasks, disconnect) is qemu.qmp's own.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from ssl import SSLContext

from qemu.qmp import QMPClient, Runstate
from qemu.qmp.message import Message
from qemu.qmp.protocol import SocketAddrT


@dataclass(frozen=True)
class Streams:
    """A connection qemu.qmp reads and writes but did not open."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


class Client(QMPClient):
    def _cb_outbound(self, msg: Message) -> Message:
        if self.logger.isEnabledFor(logging.DEBUG):
            return super()._cb_outbound(msg)
        return msg

    def _cb_inbound(self, msg: Message) -> Message:
        if self.logger.isEnabledFor(logging.DEBUG):
            return super()._cb_inbound(msg)
        return msg

    async def _do_connect(self, address: SocketAddrT | socket.socket | Streams,
                          ssl: SSLContext | None = None) -> None:
        if not isinstance(address, Streams):
            await super()._do_connect(address, ssl)
            return
        self._set_state(Runstate.CONNECTING)
        await asyncio.sleep(0)  # as qemu.qmp does: runstate watchers see CONNECTING
        self._reader, self._writer = address.reader, address.writer
