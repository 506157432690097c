"""Time to open the parameters screen on a real QEMU 7.2 lab VM (27 parameters).

From the call that opens the screen (``app.controls.open_params``, what its key
does) until the first frame that shows the VM's values is handed to the
terminal: the member list filled from the schema and the editor of the
first member mounted, rendered (the App's ``_display``, headless here). "cold" is the
first open on a freshly connected VM (its schema is asked for then, once
per QEMU); "warm" every later open (median of several).

Goal: under 200 ms. Figures and ratios are printed, nothing passes or fails.

    .venv/bin/python bench/bench_params.py [--opens 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from migtui.app import MigtuiApp
from migtui.inventory import load_inventory
from migtui.lab import Lab
from migtui.params.forms import forms_of
from migtui.qmp.fleet import Fleet
from migtui.screens.params import ParamsScreen

GOAL = 0.200


def shown(app: MigtuiApp) -> bool:
    screen = app.screen
    if not isinstance(screen, ParamsScreen) or screen.draft is None:
        return False
    box = screen.pane.box
    return box is not None and box.is_mounted and bool(screen.members.option_count)


class Frames:
    """When the App hands a frame of the parameters screen to the terminal."""

    def __init__(self, app: MigtuiApp) -> None:
        self.times: list[float] = []
        display = app._display

        def recorded(screen, renderable) -> None:
            display(screen, renderable)
            if isinstance(screen, ParamsScreen) and renderable is not None:
                self.times.append(time.perf_counter())

        app._display = recorded  # type: ignore[method-assign]


async def open_once(app: MigtuiApp, frames: Frames, pilot) -> float:
    start = time.perf_counter()
    app.controls.open_params("vm1")
    while not shown(app):
        await asyncio.sleep(0)
    ready = time.perf_counter()
    while not frames.times or frames.times[-1] < ready:
        await asyncio.sleep(0)
    took = frames.times[-1] - start
    await pilot.press("escape")
    while isinstance(app.screen, ParamsScreen):
        await asyncio.sleep(0.01)
    return took


async def main(opens: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bp-", dir="/tmp") as directory:
        async with Lab(Path(directory)) as lab:
            await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
            inventory = load_inventory(lab.write_inventory(Path(directory) / "inventory.toml"))
            app = MigtuiApp(Fleet(inventory.vm), theme="migtui-dark")
            async with app.run_test(size=(120, 40)) as pilot:
                state = app.fleet.states["vm1"]
                while not state.parameters:
                    await asyncio.sleep(0.02)
                frames = Frames(app)
                cold = await open_once(app, frames, pilot)
                warm = [await open_once(app, frames, pilot) for _ in range(opens)]
                forms = await forms_of(app.fleet.session("vm1"))
                members = len(forms.parameters)
                # The schema part of a cold open, asked again on its own (bypassing the cache).
                session = app.fleet.session("vm1")
                start = time.perf_counter()
                await session.query_list("query-qmp-schema")
                schema_read = time.perf_counter() - start
    median = statistics.median(warm)
    print(f"QEMU 7.2, {members} parameters, {len(forms.capabilities)} capabilities")
    print(f"open, cold (schema asked):  {cold * 1000:7.1f} ms   {cold / GOAL:5.2f}x the 200 ms goal")
    print(f"open, warm (median of {opens}): {median * 1000:7.1f} ms   {median / GOAL:5.2f}x the 200 ms goal"
          f"   (min {min(warm) * 1000:.1f}, max {max(warm) * 1000:.1f})")
    print(f"of which query-qmp-schema alone: {schema_read * 1000:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opens", type=int, default=7)
    args, _ = parser.parse_known_args()  # bench/run.py passes the names of the benches it runs
    asyncio.run(main(args.opens))
