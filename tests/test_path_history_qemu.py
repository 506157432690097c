"""What the path carried before, from a recording: a real lab migration recorded, a new process told.

A migration recorded the way the dashboard with ``--record`` records one
(the fleet started it, so the recording holds its ``migrate`` and where it
went) reaches some throughput. A new ``migtui migrate --wait --json``
process, whose inventory names that recording as its ``history``, must say
in its advice that migrations from this host to the same destination
reached that figure before, with the figure the recording process itself
saw live (the same rule: the best median of 10 readings).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from cli_process import exit_code, read_line, started_cli
from migtui.units import human_rate
from recorded_route import LOOPBACK_ROUTE, record_a_migration

pytestmark = pytest.mark.qemu


async def test_a_new_process_says_what_recorded_migrations_between_the_same_hosts_reached(lab, ctl, tmp_path):
    db = tmp_path / "fleet.db"
    seen = await record_a_migration(lab, db)

    # Another process, later: a guest that will not converge behind a low cap, advised with the path.
    src2 = await lab.start_source("vm2", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=100)
    await lab.start_destination("vm2-dst", like=src2)
    async with ctl(src2) as client:
        await client.wait_guest(passes=1, timeout=60)
    inventory = lab.write_inventory(tmp_path / "inventory.toml")
    inventory.write_text(inventory.read_text().replace("[settings]\n", f'[settings]\nhistory = "{db}"\n', 1))
    told = f"migrations from {LOOPBACK_ROUTE[0]} to {LOOPBACK_ROUTE[1]} reached {human_rate(seen)} before " \
           f"(recordings: 1 migration in fleet.db)"
    with started_cli("migrate", "vm2", "vm2-dst", "--config", str(inventory), "--set", "max-bandwidth=8M",
                     "--set", "downtime-limit=100", "--wait", "--json", stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE) as process:
        advice = None
        while advice is None:
            line = json.loads(await read_line(process.stdout, 90))
            if line.get("advice", {}).get("path"):
                advice = line["advice"]
        async with ctl(src2) as client:
            await client.execute("migrate_cancel")
        assert await exit_code(process, 30) == 1
    path = advice["path"]
    assert path["recorded"] == {"bandwidth": int(seen), "source": told}, path
    # On a host's loopback the CPU, not a link, bounds the path: the past is said beside it, or raises it.
    assert path["kind"] == "same-host", path
    assert told in advice["reasons"] or told in path["source"], advice["reasons"]
