"""A small QMP client for the lab's own checks, on a VM's ``ctl`` socket.

Each VM has two QMP sockets because a QMP socket serves one client at a
time: ``NAME.qmp`` is migtui's, ``NAME.ctl.qmp`` is for this client, so the
tests and the demo can look at a VM (read the guest's counters, wait for a
MIGRATION event) independently of the code under test. Every call is
bounded by a timeout: qemu.qmp has none of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from qemu.qmp import ConnectError, EventListener, QMPClient
from qemu.qmp.qmp_client import NegotiationError

from migtui.lab.errors import LabError
from migtui.lab.guest import PASSES_ADDR, TICKS_ADDR
from migtui.model.status import MigrationStatus

DEFAULT_TIMEOUT = 10.0
_XP_VALUE = re.compile(r":\s*0x([0-9a-fA-F]+)")


class ControlClient:
    """QMP on one socket; use ``async with await ControlClient.connect(path)``
    or call :meth:`close`."""

    def __init__(self, path: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._client = QMPClient(self.path.name)
        # The built-in listener (which cannot be removed) keeps every event for
        # ever: ours is the one read, the built-in one is emptied as we go.
        self._events = EventListener()
        self._client.register_listener(self._events)

    @classmethod
    async def connect(cls, path: str | Path, timeout: float = DEFAULT_TIMEOUT) -> ControlClient:
        """Connected, within ``timeout``. A failed capabilities negotiation is tried again: seen once in
        a full run, on a destination's socket just after its incoming migration completed (QEMU's reply
        to qmp_capabilities was no plain return)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self = cls(Path(path), timeout)
            try:
                async with asyncio.timeout_at(deadline):
                    await self._client.connect(str(self.path))
                return self
            except ConnectError as error:
                await self.close()
                if not isinstance(error.exc, NegotiationError) or asyncio.get_running_loop().time() >= deadline:
                    raise LabError(f"cannot connect to {path}: {error}") from None
                await asyncio.sleep(0.1)  # then a fresh connection, while the deadline allows
            except (OSError, TimeoutError) as error:
                await self.close()
                raise LabError(f"cannot connect to {path}: {error or 'no greeting within the timeout'}") from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._client.disconnect()

    async def execute(self, command: str, arguments: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        """Run a QMP command; raises qemu.qmp's ExecuteError when QEMU refuses."""
        async with asyncio.timeout(timeout or self.timeout):
            return await self._client.execute(command, arguments)

    async def hmp(self, command_line: str) -> str:
        """Run a human monitor command and return its text."""
        return str(await self.execute("human-monitor-command", {"command-line": command_line}))

    async def read_u32(self, address: int) -> int:
        """A 32-bit word of guest physical memory."""
        text = await self.hmp(f"xp /1wx {address:#x}")
        match = _XP_VALUE.search(text)
        if not match:
            raise LabError(f"unexpected answer to xp: {text!r}")
        return int(match.group(1), 16)

    async def guest_ticks(self) -> int:
        """The guest's loop counter (one per timer tick for a pacing guest)."""
        return await self.read_u32(TICKS_ADDR)

    async def guest_passes(self) -> int:
        """How many times the guest has swept its whole dirty range."""
        return await self.read_u32(PASSES_ADDR)

    async def wait_guest(self, *, ticks: int = 0, passes: int = 0, timeout: float = 30.0) -> tuple[int, int]:
        """Poll until the guest's counters reach ``ticks`` and ``passes``
        (e.g. ``passes=1``: it has dirtied its whole range once); returns them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            now = (await self.guest_ticks(), await self.guest_passes())
            if now[0] >= ticks and now[1] >= passes:
                return now
            if asyncio.get_running_loop().time() > deadline:
                raise LabError(
                    f"{self.path.name}: guest counters at {now[0]} ticks, {now[1]} passes after "
                    f"{timeout:g} s (waited for {ticks}, {passes})"
                )
            await asyncio.sleep(0.02)

    async def set_capabilities(self, **capabilities: bool) -> None:
        """``migrate-set-capabilities`` with Python names (``postcopy_ram=True``)."""
        caps = [{"capability": k.replace("_", "-"), "state": v} for k, v in capabilities.items()]
        await self.execute("migrate-set-capabilities", {"capabilities": caps})

    async def wait_event(
        self, name: str, where: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 60.0
    ) -> dict[str, Any]:
        """The next event ``name`` whose data satisfies ``where``; events
        received before it are dropped. LabError after ``timeout`` seconds."""

        async def next_match() -> dict[str, Any]:
            while True:
                event: dict[str, Any] = dict(await self._events.get())
                self._client.events.clear()
                if event["event"] == name and (where is None or where(dict(event.get("data", {})))):
                    return event

        try:
            async with asyncio.timeout(timeout):
                return await next_match()
        except TimeoutError:
            raise LabError(f"{self.path.name}: no {name} event within {timeout:g} s") from None

    async def wait_migration(self, status: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for a MIGRATION event with ``status`` (needs the ``events``
        capability); LabError at once if the migration fails or is cancelled."""
        ends = {status, MigrationStatus.FAILED, MigrationStatus.CANCELLED}
        event = await self.wait_event("MIGRATION", lambda data: data.get("status") in ends, timeout)
        if (reached := event["data"]["status"]) != status:
            raise LabError(f"{self.path.name}: migration {reached} while waiting for {status!r}")
        return event


def free_migration_uri(host: str = "127.0.0.1") -> str:
    """``tcp:HOST:PORT`` on a port that is free now, for ``migrate-incoming``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return f"tcp:{host}:{probe.getsockname()[1]}"
