"""docs/prometheus-alerts.yml: valid for promtool, right on made-up series, and firing in a real
Prometheus that scrapes ``migtui export`` while a real lab migration stalls and then fails."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from test_metrics_prometheus import PromAPI, free_port, stop
from waiting import until

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "prometheus-alerts.yml"
MiB = 1 << 20


def test_promtool_checks_the_rules_and_their_unit_tests():
    check = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and "SUCCESS: 9 rules found" in check.stdout, check.stdout + check.stderr
    test = subprocess.run(["promtool", "test", "rules", "prometheus-alerts.test.yml"], cwd=ROOT / "tests" / "data",
                          capture_output=True, text=True, timeout=30)
    assert test.returncode == 0 and "SUCCESS" in test.stdout, test.stdout + test.stderr


def firing(api: PromAPI, alert: str, vm: str) -> bool:
    try:
        alerts = api.get("/api/v1/alerts")["data"]["alerts"]
    except OSError:
        return False  # not up yet
    return any(a["labels"].get("alertname") == alert and a["labels"].get("vm") == vm and a["state"] == "firing"
               for a in alerts)


@pytest.mark.qemu
async def test_the_rules_fire_in_prometheus_on_a_stalled_then_failed_lab_migration(lab, ctl, lab_dir: Path):
    src = await lab.start_source("vm1", mem_mib=64, dirty_mib=24, dirty_rate_mib_s=float("inf"))
    dst = await lab.start_destination("vm1-dst", like=src)
    inventory = lab.write_inventory(lab_dir / "inventory.toml")
    # The shipped rules with every `for:` cut to a second: what is tested is each expression on real
    # metrics; how long to wait before paging is the admin's choice.
    rules = lab_dir / "rules.yml"
    rules.write_text(re.sub(r"(?m)^(\s+for:) \S+$", r"\1 1s", RULES.read_text()))
    exporter = subprocess.Popen(
        [sys.executable, "-m", "migtui", "export", "--listen", "127.0.0.1:0", "--config", str(inventory),
         "--interval", "0.2"], stderr=subprocess.PIPE, text=True)
    prometheus = None
    try:
        line = await asyncio.wait_for(asyncio.to_thread(exporter.stderr.readline), 20)
        port = int(re.search(r"127\.0\.0\.1:(\d+)/metrics", line).group(1))
        prom_port = free_port()
        config = lab_dir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          f"rule_files: ['{rules}']\n"
                          "scrape_configs:\n  - job_name: migtui\n"
                          f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={lab_dir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=open(lab_dir / "prometheus.log", "w"))
        api = PromAPI(prom_port)
        await until(lambda: api.value('migtui_vm_link_up{vm="vm1"}') == 1, 30, "vm1 connected, as scraped")
        assert not firing(api, "MigtuiMigrationStalled", "vm1")
        async with ctl(dst) as client:
            await client.execute("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
            uri = f"tcp:127.0.0.1:{(await client.execute('query-migrate'))['socket-address'][0]['port']}"
        async with ctl(src) as client:
            await client.wait_guest(passes=1, timeout=60)  # dirtying: a guest still booting would converge
            await client.execute("migrate-set-parameters", {"max-bandwidth": 16 * MiB, "downtime-limit": 50})
            await client.execute("migrate", {"uri": uri})
        await until(lambda: firing(api, "MigtuiMigrationStalled", "vm1"), 60, "MigtuiMigrationStalled firing")
        assert not firing(api, "MigtuiMigrationFailed", "vm1")
        await lab.kill("vm1-dst")  # the source's migration fails
        await until(lambda: firing(api, "MigtuiMigrationFailed", "vm1"), 30, "MigtuiMigrationFailed firing")
        await until(lambda: not firing(api, "MigtuiMigrationStalled", "vm1"), 15, "the stall resolved by the failure")
    finally:
        if prometheus is not None:
            stop(prometheus)
        stop(exporter)
