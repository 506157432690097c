"""Record real migrations of lab VMs as JSON-lines traces for the tests.

    .venv/bin/python tests/data/record_traces.py [converging|not-converging ...]

Each trace is what the dashboard saw through the real engine (a Fleet
polling at 2 Hz, woken by events) while one lab migration ran:

* line 1: ``{"kind": "settings", ...}``: the source's migration parameters
  and capabilities once the migration was set up, and how the guest dirties;
* then, in arrival order, ``{"kind": "sample", "at", "wall", "answer"}``
  (``answer`` is the ``query-migrate`` reply as QEMU spelled it) and
  ``{"kind": "event", "at", "wall", "event", "data"}``. ``at`` is seconds
  since recording began (monotonic), ``wall`` the time of day (QEMU's own
  timestamp for events).

``converging``: 64 MiB dirtied at 10 MiB/s, max-bandwidth 16 MiB/s,
downtime-limit 300 ms: about a dozen passes, then completed.
``not-converging``: 64 MiB dirtied as fast as the guest can, max-bandwidth
16 MiB/s, downtime-limit 50 ms: recorded for 40 s of passes that make no
headway, then cancelled.
``tiny-limit``: 8 MiB rewritten at 100 MiB/s, max-bandwidth 32 MiB/s,
downtime-limit 10 ms: a small working set that never fits; cancelled after 15 s.
``slow-writer``: 32 MiB dirtied at 8 MiB/s, max-bandwidth 16 MiB/s,
downtime-limit 5 ms: converges all the same (the last passes take milliseconds).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from migtui.inventory import load_inventory
from migtui.lab import FULL_SPEED, Lab
from migtui.lab.control import ControlClient
from migtui.qmp import migration
from migtui.model.status import FINAL_STATES as FINAL
from migtui.qmp.fleet import Fleet
from migtui.qmp.updates import EventReceived, SampleTaken, Update

HERE = Path(__file__).parent
MIB = 1024 * 1024
SCENARIOS = {
    "converging": dict(dirty_mib=64, rate=10, parameters={"max-bandwidth": 16 * MIB, "downtime-limit": 300},
                       give_up_after=60.0),
    "not-converging": dict(dirty_mib=64, rate=FULL_SPEED,
                           parameters={"max-bandwidth": 16 * MIB, "downtime-limit": 50}, give_up_after=40.0),
    "tiny-limit": dict(dirty_mib=8, rate=100, parameters={"max-bandwidth": 32 * MIB, "downtime-limit": 10},
                       give_up_after=15.0),
    "slow-writer": dict(dirty_mib=32, rate=8, parameters={"max-bandwidth": 16 * MIB, "downtime-limit": 5},
                        give_up_after=60.0),
}


async def record(name: str) -> Path:
    scenario = SCENARIOS[name]
    lines: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="migtui-rec-", dir="/tmp") as directory:
        async with Lab(directory) as lab:
            source = await lab.start_source("src", mem_mib=128, dirty_mib=scenario["dirty_mib"],
                                            dirty_rate_mib_s=scenario["rate"])
            await lab.start_destination("dst", like=source)
            inventory = load_inventory(lab.write_inventory(Path(directory) / "inventory.toml"))
            async with Fleet(inventory.vm) as fleet:
                await fleet.wait_connected(10)
                async with await ControlClient.connect(source.ctl_path) as control:
                    await control.wait_guest(passes=1)  # zero pages cost nothing: dirty the whole range once
                start = time.monotonic()
                # Set once the source's MIGRATION event said it ended and a sample
                # taken after it shows the final figures: the trace is complete.
                ended = asyncio.Event()
                final_event_seen = False

                def keep(update: Update) -> None:
                    nonlocal final_event_seen
                    if update.vm != "src":
                        return
                    if isinstance(update, SampleTaken):
                        lines.append({"kind": "sample", "at": round(update.sample.at - start, 4),
                                      "wall": update.sample.wall, "answer": update.sample.info.to_json()})
                        if final_event_seen and update.sample.status in FINAL:
                            ended.set()
                    elif isinstance(update, EventReceived):
                        if update.event.name == "MIGRATION" and update.event.data.get("status") in FINAL:
                            final_event_seen = True
                        lines.append({"kind": "event", "at": round(update.event.at - start, 4),
                                      "wall": update.event.wall, "event": update.event.name,
                                      "data": update.event.data})

                fleet.subscribe(keep)
                plan = migration.MigrationPlan(parameters=dict(scenario["parameters"]))
                await migration.start_migration(fleet.sessions["src"], fleet.sessions["dst"], plan)
                state = fleet.states["src"]
                state.parameters = await fleet.session("src").execute("query-migrate-parameters")
                capabilities = await fleet.session("src").execute("query-migrate-capabilities")
                header = {"kind": "settings", "vm": "src", "guest": source.guest.describe(), "mem_mib": 128,
                          "parameters": state.parameters,
                          "capabilities": {c["capability"]: c["state"] for c in capabilities}}
                try:
                    await asyncio.wait_for(ended.wait(), scenario["give_up_after"])
                except asyncio.TimeoutError:  # a migration that never converges: record its end by cancelling
                    await migration.cancel(fleet.sessions["src"])
                    await asyncio.wait_for(ended.wait(), 30)
    path = HERE / f"trace-{name}.jsonl"
    with path.open("w", encoding="utf-8") as file:
        for line in [header, *lines]:
            file.write(json.dumps(line) + "\n")
    return path


async def main(names: list[str]) -> None:
    for name in names or list(SCENARIOS):
        path = await record(name)
        print(f"{path}: {sum(1 for _ in path.open()) - 1} samples and events", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
