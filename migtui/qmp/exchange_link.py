"""One exchange of a shared QMP link: connect, greeting, capabilities, commands, close.

A shared link (:mod:`migtui.qmp.session`) connects for every poll. qemu.qmp's
client can connect and disconnect again and again, but each round costs it
about twenty turns of the event loop (its runstate machine, reader and
writer tasks, bottom halves, a flush and a close waited for): 600 µs of CPU
per exchange here, against 260 µs for the same bytes on a bare stream, and
that made a shared poll 2.7 times a held one (bench/bench_shared.py). This
link does only what an exchange needs: it reads the greeting, sends
``qmp_capabilities`` without waiting for its answer (QEMU reads its input
in order, so the commands after it find the capabilities negotiated), matches
answers to commands by id, hands events to its caller, and closes without
waiting. It raises what qemu.qmp raises (``ExecuteError`` with QEMU's class and
words, ``GreetingError``, ``EOFError``), so a session reports both alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from qemu.qmp import ExecuteError
from qemu.qmp.message import Message
from qemu.qmp.models import ErrorResponse
from qemu.qmp.qmp_client import GreetingError, NegotiationError

from migtui.qmp.client import Streams

READ_LIMIT = 10 * 1024 * 1024
"""The longest line read (query-qmp-schema's answer is one line of a few hundred KiB), as qemu.qmp's."""
_CAPABILITIES = b'{"execute": "qmp_capabilities", "id": "caps"}\n'

EventSink = Callable[[dict[str, Any]], None]


class ExchangeLink:
    """A connection for one exchange; :meth:`open` it, :meth:`execute` on it, :meth:`close` it."""

    def __init__(self, on_event: EventSink) -> None:
        self._on_event = on_event
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 0
        self.fell: BaseException | None = None
        """Why the connection ended before :meth:`close` (None while it is up, or closed by us)."""

    @property
    def up(self) -> bool:
        return self._writer is not None and self.fell is None

    async def open(self, connect: Callable[[], Awaitable[Streams]]) -> None:
        """Connect (``connect`` opens the streams), read the greeting, send the capabilities."""
        streams = await connect()
        self._writer, self.fell = streams.writer, None
        try:
            line = await streams.reader.readline()
            if not line:
                raise EOFError("the socket closed before QEMU's greeting")
            greeting = json.loads(line)
            if not isinstance(greeting, dict) or "QMP" not in greeting:
                raise GreetingError("this is not a QMP greeting", ValueError(line[:80].decode(errors="replace")))
        except BaseException:
            self._hang_up()
            raise
        streams.writer.write(_CAPABILITIES)
        self._reading = asyncio.create_task(self._read(streams.reader), name="qmp-exchange")

    async def execute(self, command: str, arguments: dict[str, Any] | None = None) -> object:
        if self._writer is None or self.fell is not None:
            raise EOFError("the exchange's connection is closed")
        self._next_id += 1
        call = self._next_id
        message: dict[str, Any] = {"execute": command, "id": call}
        if arguments:
            message["arguments"] = arguments
        answer = asyncio.get_running_loop().create_future()
        self._waiting[call] = answer
        try:
            self._writer.write(json.dumps(message).encode() + b"\n")
            reply = await answer
        finally:
            self._waiting.pop(call, None)
        if "error" in reply:
            raise ExecuteError(ErrorResponse(reply), Message(message), Message(reply))
        return reply.get("return")

    def close(self) -> None:
        """Let go at once (the transport closes on the loop's next turn; nothing to wait for)."""
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None
        self._hang_up()
        self._fail_waiting(EOFError("the exchange ended"))

    def _hang_up(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while line := await reader.readline():
                self._take(json.loads(line))
            raise EOFError("QEMU closed the socket")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # EOF, a reset, bytes that are not QMP: the exchange is over
            self.fell = error
            self._fail_waiting(error)

    def _take(self, message: Any) -> None:
        if not isinstance(message, dict):
            raise ValueError(f"not a QMP message: {str(message)[:80]}")
        if "event" in message:
            self._on_event(message)
            return
        call = message.get("id")
        if call == "caps":
            if "error" in message:
                raise NegotiationError("QEMU refused qmp_capabilities", ValueError(message["error"]))
            return
        answer = self._waiting.get(call) if isinstance(call, int) else None
        if answer is not None and not answer.done():
            answer.set_result(message)

    def _fail_waiting(self, error: BaseException) -> None:
        for answer in self._waiting.values():
            if not answer.done():
                answer.set_exception(error)
                with contextlib.suppress(BaseException):
                    answer.exception()  # retrieved: a caller that stopped waiting leaves no warning
