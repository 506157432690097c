"""What the dashboard's figures are measured against, in the same run as they are.

* :func:`run_bare_loop`: the bare qemu.qmp loop, one QMPClient per VM asking
  ``query-migrate`` at the poller's fast rate (2 Hz) from the same replayed
  VMs, nothing else: the least any monitor of these VMs costs. The dashboard's
  CPU per sample divided by this loop's CPU per ``query-migrate`` is a ratio
  that does not depend on how fast the machine is.
* :func:`run_first_frame`: time from the dashboard's start (its imports
  included, the interpreter's start not) to its first frame, and to the first
  frame that lists every VM as up.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

WARM_UP = 5.0
FAST = 0.5


def run_bare_loop(directory: Path, count: int, seconds: float, results: Path) -> None:
    from qemu.qmp import QMPClient

    async def main() -> dict[str, float]:
        clients = []
        for n in range(count):
            client = QMPClient(f"bare{n}")
            await client.connect(str(directory / f"vm{n}.qmp"))
            clients.append(client)
        answered = 0

        async def poll(client: QMPClient) -> None:
            nonlocal answered
            while True:
                await client.execute("query-migrate")
                answered += 1
                await asyncio.sleep(FAST)

        tasks = [asyncio.create_task(poll(client)) for client in clients]
        await asyncio.sleep(WARM_UP)
        cpu, wall, before = time.process_time(), time.monotonic(), answered
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - wall
        figures = {"cpu": (time.process_time() - cpu) / elapsed, "queries_per_s": (answered - before) / elapsed}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients:
            await client.disconnect()
        return figures

    results.write_text(json.dumps(asyncio.run(main())))


def run_first_frame(directory: Path, count: int, seconds: float, results: Path) -> None:
    started = time.perf_counter()
    from migtui.app import MigtuiApp
    from migtui.inventory import VMEntry
    from migtui.qmp.fleet import Fleet
    from migtui.screens.fleet import FleetScreen
    from migtui.widgets.fleet_table import FleetTable

    figures: dict[str, float] = {"imported": time.perf_counter() - started}

    class TimedApp(MigtuiApp):
        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            now = time.perf_counter() - started
            figures.setdefault("first_frame", now)
            if "all_up" not in figures and isinstance(self.screen, FleetScreen):
                table = self.screen.query_one(FleetTable)
                cells = [table.get_cell(row.key, "link").plain for row in table.ordered_rows]
                if len(cells) == count and all(cell == "up" for cell in cells):
                    figures["all_up"] = now
                    self.exit()

    entries = [VMEntry(name=f"vm{n}", qmp=str(directory / f"vm{n}.qmp")) for n in range(count)]
    app = TimedApp(Fleet(entries, fast=FAST, slow=5.0), theme="migtui-dark")

    async def main() -> None:
        watchdog = asyncio.get_running_loop().call_later(seconds, app.exit)
        await app.run_async()
        watchdog.cancel()

    asyncio.run(main())
    results.write_text(json.dumps(figures))
