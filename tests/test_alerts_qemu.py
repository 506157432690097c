"""Alerts on real lab migrations, run headless by ``migtui record`` as a service would.

One lab VM migrates with a guest that rewrites its working set faster than
QEMU may send it (it stalls), then its destination is killed (the migration
fails). The inventory's hooks are small shell scripts: one keeps every JSON
object it is given, one hangs, one fails. Every process is stopped, pass or fail.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from cli_process import read_line, started_cli
from waiting import until, wait_for

pytestmark = pytest.mark.qemu
MiB = 1 << 20


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def objects(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


async def test_a_stalled_then_failed_migration_runs_each_hook_once_and_a_bad_hook_is_cut_off(lab, ctl, lab_dir):
    src = await lab.start_source("vm1", mem_mib=64, dirty_mib=24, dirty_rate_mib_s=float("inf"))
    dst = await lab.start_destination("vm1-dst", like=src)
    kept = lab_dir / "alerts.jsonl"
    keep = script(lab_dir / "keep.sh", f"cat >> {kept}\n")
    hang_pid = lab_dir / "hang.pid"
    hang = script(lab_dir / "hang.sh", f"echo $$ > {hang_pid}\nexec sleep 600\n")
    fail = script(lab_dir / "fail.sh", "cat >/dev/null\necho 'pager unreachable' >&2\nexit 3\n")
    inventory = lab.write_inventory(lab_dir / "inventory.toml")
    with inventory.open("a") as toml:
        toml.write(f'\n[[alert]]\nwhen = "stalled"\nafter = "1s"\nrun = "{keep}"\n'
                   f'\n[[alert]]\nwhen = "failed"\nrun = "{keep}"\n'
                   f'\n[[alert]]\nwhen = "stalled"\nrun = "{hang}"\ntimeout = "1s"\n'
                   f'\n[[alert]]\nwhen = "failed"\nrun = "{fail}"\n')
    db = lab_dir / "fleet.db"
    with started_cli("record", "--db", str(db), "--config", str(inventory), "--interval", "0.2",
                     "--export", "127.0.0.1:0", stderr=subprocess.PIPE) as recorder:
        port = int(re.search(r"127\.0\.0\.1:(\d+)/metrics", await read_line(recorder.stderr, 30)).group(1))
        assert (await read_line(recorder.stderr, 30)).startswith("recording 2 VM(s)")
        async with ctl(dst) as client:
            await client.set_capabilities(events=True)
            await client.execute("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
            uri = f"tcp:127.0.0.1:{(await client.execute('query-migrate'))['socket-address'][0]['port']}"
        async with ctl(src) as client:
            await client.execute("migrate-set-parameters", {"max-bandwidth": 16 * MiB, "downtime-limit": 50})
            await client.execute("migrate", {"uri": uri})
        await until(lambda: objects(kept), 90, "the stalled alert's hook")
        [stalled] = objects(kept)
        assert stalled["when"] == "stalled" and stalled["vm"] == "vm1" and stalled["rule"] == 0
        assert (stalled["host"], stalled["group"]) == (socket.gethostname(), "lab")  # as the metrics label them
        assert stalled["migration"]["status"] == "active" and stalled["migration"]["downtime_limit_ms"] == 50
        assert "will not converge" in stalled["summary"], stalled["summary"]
        held = datetime.fromisoformat(stalled["time"]) - datetime.fromisoformat(stalled["since"])
        assert held.total_seconds() >= 1.0, stalled  # its after = "1s"
        # The hanging hook is killed after its 1 s, with one line saying so; migtui goes on.
        said = await read_line(recorder.stderr, 15)
        assert re.fullmatch(rf"migtui: alert stalled on vm1: {re.escape(str(hang))}: killed after 1 s .*\n", said), said
        pid = wait_for(lambda: hang_pid.exists() and hang_pid.read_text().strip(), 5, "the hanging hook's pid")
        assert not alive(int(pid))
        await lab.kill("vm1-dst")  # the source's migration fails
        await until(lambda: len(objects(kept)) == 2, 30, "the failed alert's hook")
        failed = objects(kept)[1]
        assert failed["when"] == "failed" and failed["vm"] == "vm1" and failed["migration"]["status"] == "failed"
        assert failed["summary"].startswith("migration failed")
        said = await read_line(recorder.stderr, 15)
        assert said == f"migtui: alert failed on vm1: {fail}: exit code 3: pager unreachable\n", said
        # Counted for Prometheus: one alert a rule, each rule once (the stall lasted until the failure).
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        counted = dict(re.findall(r'migtui_alerts_total\{[^}]*vm="vm1",when="([a-z-]+)"\} (\S+)', metrics))
        assert counted["stalled"] == "2.0" and counted["failed"] == "2.0" and counted["completed"] == "0.0", counted
        assert recorder.poll() is None
        recorder.terminate()
        assert recorder.wait(15) == 0
    assert objects(kept) == [stalled, failed]  # nothing fired twice, up to the recorder's end
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        entries = [json.loads(data) for (data,) in conn.execute("SELECT data FROM entries WHERE kind = 'alert' ORDER BY id")]
    assert [(e["when"], e["rule"]) for e in entries] == [("stalled", 2), ("stalled", 0), ("failed", 1), ("failed", 3)]


async def test_a_completed_migration_over_its_downtime_budget_and_a_vm_gone_away_each_alert_once(lab, ctl, lab_dir):
    src = await lab.start_source("vm1", mem_mib=64, dirty_mib=16, dirty_rate_mib_s=64)
    dst = await lab.start_destination("vm1-dst", like=src)
    kept = lab_dir / "alerts.jsonl"
    keep = script(lab_dir / "keep.sh", f"cat >> {kept}\n")
    inventory = lab.write_inventory(lab_dir / "inventory.toml")
    with inventory.open("a") as toml:
        for when, extra in (("completed", ""), ("downtime-over", "downtime_ms = 5\n"), ("host-down", 'after = "1s"\n'),
                            ("cancelled", "")):
            toml.write(f'\n[[alert]]\nwhen = "{when}"\n{extra}run = "{keep}"\n')
    with started_cli("record", "--db", str(lab_dir / "fleet.db"), "--config", str(inventory), "--interval", "0.2",
                     stderr=subprocess.PIPE) as recorder:
        assert (await read_line(recorder.stderr, 30)).startswith("recording 2 VM(s)")
        async with ctl(dst) as client:
            await client.execute("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
            uri = f"tcp:127.0.0.1:{(await client.execute('query-migrate'))['socket-address'][0]['port']}"
        async with ctl(src) as client:
            await client.wait_guest(passes=1, timeout=60)  # RAM the guest wrote: a migration with a downtime
            # A limit that lets QEMU switch over with up to 16 MiB left: tens of ms stopped, not 1 or 2.
            await client.execute("migrate-set-parameters", {"max-bandwidth": 8 << 20, "downtime-limit": 2000})
            await client.execute("migrate", {"uri": uri})
        await until(lambda: len(objects(kept)) >= 2, 60, f"the completed and downtime-over alerts in {kept}")
        assert len(objects(kept)) == 2, objects(kept)
        completed, over = sorted(objects(kept), key=lambda alert: alert["rule"])
        assert (completed["when"], completed["vm"], completed["migration"]["status"]) == ("completed", "vm1", "completed")
        downtime = over["migration"]["downtime_ms"]
        assert over["when"] == "downtime-over" and downtime > 5
        assert over["summary"] == f"downtime {downtime} ms, over the budget of 5 ms"
        await lab.stop("vm1")  # its QMP link drops for good
        await until(lambda: len(objects(kept)) == 3, 30, "the host-down alert")
        down = objects(kept)[2]
        assert (down["when"], down["vm"], down["link"]) == ("host-down", "vm1", "disconnected")
        held = datetime.fromisoformat(down["time"]) - datetime.fromisoformat(down["since"])
        assert held.total_seconds() >= 1.0 and down["summary"].startswith("cannot reach the VM")
        recorder.terminate()
        assert recorder.wait(15) == 0
    assert len(objects(kept)) == 3  # each once: the VM stayed down, the migration ended once, none was cancelled
