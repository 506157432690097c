"""A scripted QMP server for faults real QEMU cannot be made to produce on demand.

Only for: a greeting that never comes, garbage instead of QMP, a reply that
stalls. Everything else is tested against real QEMU.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fake"},
                    "capabilities": []}}


class FakeQMPServer:
    """Listens on a unix socket and misbehaves in one chosen way.

    ``mode``: 'silent' (accepts, never greets), 'garbage' (sends non-JSON),
    'stall' (greets, answers qmp_capabilities and query-version, then never
    answers again), 'vanish' (like stall, but answers the next command with
    ``{}`` and then hangs up, as a QEMU that dies mid-job looks to a client).
    """

    def __init__(self, path: Path, mode: str) -> None:
        self.path = path
        self.mode = mode
        self.server: asyncio.base_events.Server | None = None
        self.received: list[dict] = []
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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
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
        async for request in _requests(reader):
            self.received.append(request)
            command = request.get("execute")
            if command == "qmp_capabilities":
                answer = {}
            elif command == "query-version":
                answer = GREETING["QMP"]["version"]
            elif self.mode == "vanish":
                writer.write(json.dumps({"return": {}, "id": request.get("id")}).encode() + b"\n")
                await writer.drain()
                writer.close()
                return
            else:
                continue  # 'stall': never answer anything else
            reply = {"return": answer}
            if "id" in request:
                reply["id"] = request["id"]
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()


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
