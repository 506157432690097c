"""A real Prometheus server scrapes ``migtui export`` during a real lab migration.

The test writes Prometheus's config (1 s scrape interval), starts Debian's
``prometheus`` on a free loopback port, and reads the series back through
Prometheus's HTTP API. Every process it starts is stopped, pass or fail.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.qmp.session import VMSession
from waiting import until, until_true

pytestmark = pytest.mark.qemu
MiB = 1 << 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class PromAPI:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str, **params: object) -> dict:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return json.load(answer)

    def value(self, query: str) -> float | None:
        try:
            result = self.get("/api/v1/query", query=query)["data"]["result"]
        except OSError:
            return None  # not up yet
        return float(result[0]["value"][1]) if result else None


async def test_prometheus_scrapes_a_migration_through_migtui_export(lab, ctl, lab_dir: Path):
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=2)
    dst = await lab.start_destination("vm1-dst", like=src)
    async with ctl(src) as client:
        await client.wait_guest(passes=1, timeout=60)
    inventory = lab.write_inventory(lab_dir / "inventory.toml")
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
                          "scrape_configs:\n  - job_name: migtui\n"
                          f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")
        prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={lab_dir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=open(lab_dir / "prometheus.log", "w"))
        api = PromAPI(prom_port)
        await until(lambda: api.value('up{job="migtui"}') == 1, 30, "Prometheus scraping migtui")
        await until(lambda: api.value('migtui_vm_link_up{vm="vm1"}') == 1, 15, "vm1 connected, as scraped")
        assert api.value('migtui_migration_succeeded_total{vm="vm1"}') == 0
        started = time.time()
        async with VMSession("vm1", str(src.ctl_path)) as source, VMSession("vm1-dst", str(dst.ctl_path)) as target:
            await start_migration(source, target, MigrationPlan({"max-bandwidth": 4 * MiB, "downtime-limit": 50}))
            async def completed() -> bool:
                status = (await source.execute("query-migrate")).get("status")
                assert status in ("setup", "active", "completed"), status
                return status == "completed"

            await until_true(completed, 120, "the migration to complete")
        await until(lambda: api.value('migtui_migration_succeeded_total{vm="vm1"}') == 1, 15,
                    "succeeded counting one")
        series = api.get("/api/v1/query_range", query='migtui_migration_data_remaining_bytes{vm="vm1"}',
                         start=started - 2, end=time.time(), step="1s")["data"]["result"]
        remaining = [float(v) for _, v in series[0]["values"]]
        during = [v for v in remaining if v > 0]
        assert len(set(during)) >= 2, remaining  # several scrapes while it migrated
        assert during[0] > during[-1], remaining
        assert api.value('migtui_migration_data_remaining_bytes{vm="vm1"}') == 0
        assert api.value('migtui_migration_failed_total{vm="vm1"}') == 0
        assert api.value('migtui_migration_downtime_limit_seconds{vm="vm1"}') == 0.05
        assert api.value('migtui_migration_succeeded_total{vm="vm1-dst"}') == 0  # one migration, counted once
    finally:
        if prometheus is not None:
            stop(prometheus)
        stop(exporter)
