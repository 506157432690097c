"""Closing a link ends it, whatever instant it comes at.

``migtui watch | head -3`` closes its fleet the moment a write fails, which
can be the very instant QEMU's answer to a link's ``qmp_capabilities`` or
``query-version`` arrives. Python 3.11's ``asyncio.wait_for`` then returned
the answer and dropped the cancellation: the link task went on as if nothing
had asked it to stop, and the close waited for it for good.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from migtui.model.link import LinkState
from migtui.qmp.session import VMSession
from waiting import until

pytestmark = pytest.mark.qemu


class AtAnswer(logging.Handler):
    """Calls ``act`` as QEMU's ``nth`` answer arrives, before whoever waits for it hears of it.

    qemu.qmp logs each message it receives (with debug on) as it reads it:
    that is the instant.
    """

    def __init__(self, nth: int, act: Callable[[], None]) -> None:
        super().__init__(logging.DEBUG)
        self.left = nth
        self.act = act

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("<-- ") and '"return"' in message:
            self.left -= 1
            if self.left == 0:
                self.act()


@pytest.mark.parametrize("nth", [1, 2], ids=["at-qmp_capabilities", "at-query-version"])
async def test_a_link_closed_as_an_answer_arrives_ends(lab, nth):
    vm = await lab.start_source("vm1", mem_mib=128)
    session = VMSession("vm1", str(vm.qmp_path))
    closing: list[asyncio.Task[None]] = []
    handler = AtAnswer(nth, lambda: closing.append(asyncio.get_running_loop().create_task(session.close())))
    logger = logging.getLogger("qemu.qmp")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        session.start()
        await until(lambda: closing, 10, "the answer")
        done, _ = await asyncio.wait(closing, timeout=5)
        assert done, "the close did not end: the link task lost its cancellation and runs on"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        for task in session._tasks:  # a lost cancellation, given again, so the test leaves nothing running
            task.cancel()
    assert session.state is LinkState.CLOSED
