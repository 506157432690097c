"""qemu.qmp's client, without the debug text nobody reads.

``qemu.qmp`` turns every message into indented JSON for its debug log
before the logger decides to drop it (``logger.debug("<-- %s", str(msg))``):
for ``query-qmp-schema``'s 1,000 entries that is about 60 ms of CPU on the
event loop, and a share of every poll. Here the text is only made when
debug logging is on for the client's logger.
"""

from __future__ import annotations

import logging

from qemu.qmp import QMPClient
from qemu.qmp.message import Message


class QuietQMPClient(QMPClient):
    def _cb_outbound(self, msg: Message) -> Message:
        if self.logger.isEnabledFor(logging.DEBUG):
            return super()._cb_outbound(msg)
        return msg

    def _cb_inbound(self, msg: Message) -> Message:
        if self.logger.isEnabledFor(logging.DEBUG):
            return super()._cb_inbound(msg)
        return msg
