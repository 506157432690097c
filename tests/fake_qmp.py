"""A scripted QMP server for faults real QEMU cannot be made to produce on demand.

Only for: a greeting that never comes, garbage instead of QMP, a reply that
stalls, an answer migtui cannot read, a reply cut in the middle, a reply
with an id nobody asked for, invalid JSON, oversized events and floods.
Everything else is tested against real QEMU.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fake"},
                    "capabilities": []}}

SERVE_ANSWERS: dict[str, list[Any]] = {
    "query-status": [{"status": "running", "running": True}],
    "query-migrate-parameters": [{"downtime-limit": 300, "max-bandwidth": 134217728}],
    "query-migrate-capabilities": [[{"capability": "events", "state": False}]],
    "query-migrate": [{}],
    "query-jobs": [[]],
}
"""What an idle QEMU answers the poller."""


class FakeQMPServer:
    """Listens on a unix socket and misbehaves in one chosen way.

    ``mode``: 'silent' (accepts, never greets), 'garbage' (sends non-JSON),
    'stall' (greets, answers qmp_capabilities and query-version, then never
    answers again), 'vanish' (like stall, but answers the next command with
    ``{}`` and then hangs up, as a QEMU that dies mid-job looks to a client),
    'serve' (answers the poller's queries like an idle QEMU; ``answers`` maps
    a command to the answers it gets in turn, the last one repeated;
    :meth:`send` writes raw bytes to every client, :meth:`cut_next` cuts
    a reply in half and hangs up; clients may reconnect).
    """

    def __init__(self, path: Path, mode: str, answers: dict[str, list[Any]] | None = None) -> None:
        self.path = path
        self.mode = mode
        self.server: asyncio.base_events.Server | None = None
        self.received: list[dict] = []
        self.connections = 0
        self.answers = {**SERVE_ANSWERS, **(answers or {})}
        self._cut: dict[str, set[asyncio.StreamWriter]] = {}
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> "FakeQMPServer":
        self.server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers:
            writer.close()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def send(self, data: bytes) -> None:
        """Write raw bytes to every client connected now (events, garbage, stray replies)."""
        for writer in self._writers:
            if not writer.is_closing():
                writer.write(data)
        for writer in self._writers:
            if not writer.is_closing():
                try:
                    await writer.drain()
                except ConnectionError:
                    pass  # that client hung up (e.g. on the invalid JSON just sent)

    def cut_next(self, command: str) -> None:
        """To every client connected now: send only the first half of its next reply to ``command``, then hang up."""
        self._cut[command] = {writer for writer in self._writers if not writer.is_closing()}

    def _answer(self, command: str) -> Any:
        queue = self.answers.get(command)
        if not queue:
            return None
        return queue.pop(0) if len(queue) > 1 else queue[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        self.connections += 1
        if self.mode == "silent":
            await reader.read()  # hold the connection open, say nothing
            return
        if self.mode == "garbage":
            writer.write(b"\x00\xffHTTP/1.1 200 OK this is not QMP\r\n{{{{\n")
            await writer.drain()
            await reader.read()
            return
        writer.write(json.dumps(GREETING).encode() + b"\n")
        await writer.drain()
        try:
            await self._answer_requests(reader, writer)
        except ConnectionError:
            pass  # the client went away mid-reply

    async def _answer_requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for request in _requests(reader):
            self.received.append(request)
            command = request.get("execute")
            reply: dict[str, Any]
            if command == "qmp_capabilities":
                reply = {"return": {}}
            elif command == "query-version":
                reply = {"return": GREETING["QMP"]["version"]}
            elif self.mode == "vanish":
                writer.write(json.dumps({"return": {}, "id": request.get("id")}).encode() + b"\n")
                await writer.drain()
                writer.close()
                return
            elif self.mode == "serve":
                answer = self._answer(str(command))
                if answer is None:
                    reply = {"error": {"class": "CommandNotFound", "desc": f"The command {command} has not been found"}}
                else:
                    reply = {"return": answer}
            else:
                continue  # 'stall': never answer anything else
            if "id" in request:
                reply["id"] = request["id"]
            whole = json.dumps(reply).encode() + b"\n"
            if writer in self._cut.get(str(command), ()):
                self._cut[str(command)].discard(writer)
                writer.write(whole[:len(whole) // 2])
                await writer.drain()
                writer.close()
                return
            writer.write(whole)
            await writer.drain()


def event(name: str, data: dict[str, Any] | None = None, pad: int = 0) -> bytes:
    """One QMP event as QEMU frames it; ``pad`` bytes of filler make it large."""
    body: dict[str, Any] = {"event": name, "data": dict(data or {}),
                            "timestamp": {"seconds": 1700000000, "microseconds": 0}}
    if pad:
        body["data"]["filler"] = "x" * pad
    return json.dumps(body).encode() + b"\n"


async def _requests(reader: asyncio.StreamReader):
    """JSON objects from the stream: clients need not end them with a newline."""
    decoder = json.JSONDecoder()
    buffer = ""
    while chunk := await reader.read(4096):
        buffer += chunk.decode()
        while buffer.strip():
            try:
                request, end = decoder.raw_decode(buffer.lstrip())
            except json.JSONDecodeError:
                break  # incomplete: read more
            buffer = buffer.lstrip()[end:]
            yield request
