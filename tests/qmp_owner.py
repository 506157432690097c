"""The tool that owns a VM's QMP socket, as Proxmox VE's qemu-server uses it.

It connects for each batch of commands, reads the greeting, negotiates,
sends its commands, and closes at once; a batch that takes longer than its
limit fails (Proxmox VE aborts a migration after 5 such failures). Written on
raw asyncio streams, independent of migtui and of qemu.qmp, so that what it
measures is QEMU's socket and not the code under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIMIT = 2.0
"""Seconds a batch may take, greeting included."""


class OwnerFailed(Exception):
    """A batch did not end within its limit, or QEMU refused a command."""


async def _answer(reader: asyncio.StreamReader) -> Any:
    """The next reply (events that come first are skipped)."""
    while True:
        line = await reader.readline()
        if not line:
            raise OwnerFailed("QEMU closed the socket")
        message = json.loads(line)
        if "return" in message:
            return message["return"]
        if "error" in message:
            raise OwnerFailed(message["error"].get("desc", "error"))


@contextlib.asynccontextmanager
async def holding(path: Path | str, limit: float = LIMIT) -> AsyncIterator[
        tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Connected and negotiated within ``limit`` seconds; the socket is held until the block ends."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(limit):
            reader, writer = await asyncio.open_unix_connection(str(path))
            json.loads(await reader.readline())  # the greeting
            writer.write(b'{"execute": "qmp_capabilities"}\n')
            await _answer(reader)
    except TimeoutError:
        if writer is not None:
            writer.close()
        raise OwnerFailed(f"no greeting and negotiation within {limit:g} s") from None
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def batch(path: Path | str, *commands: tuple[str, dict[str, Any] | None],
                limit: float = LIMIT) -> list[Any]:
    """One batch: connect, negotiate, run ``commands`` in turn, close; fails past ``limit``."""
    start = time.monotonic()
    answers = []
    async with holding(path, limit) as (reader, writer):
        for command, arguments in commands:
            message: dict[str, Any] = {"execute": command}
            if arguments:
                message["arguments"] = arguments
            writer.write(json.dumps(message).encode() + b"\n")
            try:
                async with asyncio.timeout(max(0.0, limit - (time.monotonic() - start))):
                    answers.append(await _answer(reader))
            except TimeoutError:
                raise OwnerFailed(f"{command}: no answer within the batch's {limit:g} s") from None
    return answers


@dataclass
class OwnerLoop:
    """A batch (``query-status``) every ``period`` seconds; how long each took, and which failed."""

    path: Path | str
    period: float = 0.2
    waits: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            start = time.monotonic()
            try:
                await batch(self.path, ("query-status", None))
            except (OwnerFailed, OSError) as failure:
                self.failures.append(f"{type(failure).__name__}: {failure}")
            else:
                self.waits.append(time.monotonic() - start)
            await asyncio.sleep(max(0.0, self.period - (time.monotonic() - start)))

    @property
    def attempts(self) -> int:
        return len(self.waits) + len(self.failures)

    def p99(self) -> float:
        ranked = sorted(self.waits)
        return ranked[min(len(ranked) - 1, int(len(ranked) * 0.99))]


@contextlib.asynccontextmanager
async def owner_loop(path: Path | str, period: float = 0.2) -> AsyncIterator[OwnerLoop]:
    """An :class:`OwnerLoop` running for the block (stopped on the way out, pass or fail)."""
    loop = OwnerLoop(path, period)
    task = asyncio.create_task(loop.run())
    try:
        yield loop
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
