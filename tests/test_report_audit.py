"""``report --last`` on a migration steered by another migtui process than the recorder:
its changes are found in the audit log, and the verdict's actions read as words."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli_process import run_cli
from migtui.lab.control import ControlClient
from migtui.record.reader import Recording
from waiting import until, until_true

pytestmark = pytest.mark.qemu


def samples_of(db: Path, status: str) -> int:
    try:
        with Recording(db) as recording:
            return sum(1 for s in recording.samples("vm1") if s.status == status)
    except Exception:
        return 0  # not written yet


async def test_report_finds_migrate_set_in_the_audit_log_and_says_the_advice_in_words(lab, lab_dir):
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=16, dirty_rate_mib_s=64)
    destination = await lab.start_destination("vm1-dst", like=source)
    async with await ControlClient.connect(source.ctl_path) as client:
        await client.wait_guest(passes=1, timeout=60)
    db, audit = lab_dir / "lab.db", lab_dir / "audit.jsonl"
    recorder = subprocess.Popen(
        [sys.executable, "-m", "migtui", "record", "--db", str(db), "--interval", "0.2", "--audit-log", str(audit),
         "--config", str(lab.write_inventory(lab_dir / "inventory.toml"))],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await until(lambda: db.exists() and samples_of(db, "none") > 0, 30, "the recorder's first sample")
        # Another migtui process, on the lab's second sockets (the recorder holds the first ones).
        other = ["--vm", f"vm1={source.ctl_path}", "--vm", f"vm1-dst={destination.ctl_path}",
                 "--audit-log", str(audit)]
        code, _, err = await run_cli("migrate", "vm1", "vm1-dst", "--set", "max-bandwidth=4M",
                                     "--set", "downtime-limit=20", *other)
        assert code == 0, err
        # It rewrites 16 MiB at 64 MiB/s against 4 MiB/s: it will not converge; the advice is recorded.
        await until(lambda: samples_of(db, "active") >= 25, 60, "five seconds of the migration recorded")
        code, _, err = await run_cli("cancel", "vm1", "--yes", *other)
        assert code == 0, err
        await until(lambda: samples_of(db, "cancelled") > 0, 30, "the cancel recorded")
    finally:
        recorder.send_signal(signal.SIGTERM)
        recorder.wait(10)
    code, out, err = await run_cli("report", str(db), "--vm", "vm1", "--last", "--audit-log", str(audit))
    assert code == 0, err
    lines = out.splitlines()
    changes = [line for line in lines if "max-bandwidth:" in line or "downtime-limit:" in line]
    assert len(changes) == 2, out
    assert all("migtui (migrate-set-parameters at" in line and "no audit entry" not in line for line in changes)
    advice = [line.strip() for line in lines if line.strip().startswith("- ")]
    assert advice and all("{" not in line for line in advice), out
    assert any(line.startswith("- raise downtime-limit to") for line in advice), out
    assert any('migrate-set-parameters {"max-bandwidth": 4194304' in line for line in lines), out
