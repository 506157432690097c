"""Faults of a fleet across hosts, on a real lab of 2 hosts: a host's sshd
killed mid-migration, a link taken down, the migration stream killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cli_process import read_line, started_cli
from hosts_lab import cli, host_pid, hosts_lab  # noqa: F401 - hosts_lab is the module's fixture
from migtui.inventory import load_inventory
from migtui.lab.control import ControlClient
from migtui.lab.netns import processes_in
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.qmp.migration import MigrationPlan, start_migration
from waiting import until, until_true

pytestmark = pytest.mark.qemu


def sshd_processes(state: dict, host: str) -> list[int]:
    """The host's sshd and its per-login children (found by the host's network namespace)."""
    net = os.readlink(f"/proc/{host_pid(state, host)}/ns/net")
    return [pid for pid in processes_in(net) if Path(f"/proc/{pid}/comm").read_text().strip().startswith("sshd")]


async def test_a_host_whose_sshd_dies_mid_migration_is_down_then_back_and_the_outcome_shown(hosts_lab, tmp_path):
    directory, state = hosts_lab
    inventory = load_inventory(directory / "inventory.toml")
    entries = [inventory.get(name) for name in ("vm2", "vm2-dst", "vm3")]  # vm2 on hv1; vm2-dst, vm3 on hv2
    fleet = Fleet(entries, CommandGate(AuditLog(tmp_path / "audit.jsonl")), fast=0.2, slow=0.5, hosts=inventory.host)
    states = fleet.states
    async with fleet, await ControlClient.connect(directory / "hv1" / "vm2.ctl.qmp") as source_ctl:
        await until(lambda: all(s.link == "connected" for s in states.values()), 20, "every VM connected")
        await start_migration(fleet.session("vm2"), fleet.session("vm2-dst"),
                              MigrationPlan(parameters={"max-bandwidth": 2 * 2**20}))
        for pid in sshd_processes(state, "hv2"):
            os.kill(pid, signal.SIGKILL)
        await until(lambda: "host hv2" in (states["vm2-dst"].link_error or ""), 10, "vm2-dst to say host hv2")
        await until(lambda: "host hv2" in (states["vm3"].link_error or ""), 10, "vm3 to say host hv2")
        assert states["vm2"].link == "connected"  # the other host is not affected
        assert fleet.hosts.hosts["hv2"].state.value in ("down", "reconnecting")
        # QEMU goes on migrating without migtui's SSH link to the destination
        before = (await source_ctl.execute("query-migrate"))["ram"]["transferred"]
        await until_true(lambda: _moved(source_ctl, before), 10, "the migration to go on")

        restart = subprocess.run(["nsenter", "-t", str(host_pid(state, "hv2")), "-m", "-n", "/usr/sbin/sshd",
                                  "-f", str(directory / "hv2" / "sshd_config")], capture_output=True, text=True)
        assert restart.returncode == 0, restart.stderr
        await until(lambda: states["vm2-dst"].link == "connected" and states["vm3"].link == "connected", 30,
                    "hv2's VMs to reconnect")
        await fleet.session("vm2").execute("migrate-set-parameters", {"max-bandwidth": 256 * 2**20})
        await until(lambda: states["vm2-dst"].run_state == "running" and states["vm2"].run_state == "postmigrate",
                    60, "the outcome: vm2-dst running on hv2, vm2 done on hv1")


async def _moved(client: ControlClient, before: int) -> bool:
    info = await client.execute("query-migrate")
    return info.get("status") == "completed" or info.get("ram", {}).get("transferred", 0) > before


def admin_run(state: dict, *argv: str) -> None:
    subprocess.run(["nsenter", "-t", str(host_pid(state, "admin")), "-n", *argv], check=True)


async def vm_lines(process: subprocess.Popen, vm: str, key: str, timeout: float) -> dict:
    """The next JSON line of ``watch`` about ``vm`` that has ``key``."""
    deadline = time.monotonic() + timeout
    while True:
        line = json.loads(await read_line(process.stdout, max(0.1, deadline - time.monotonic())))
        if line["vm"] == vm and key in line:
            return line


async def test_a_link_down_mid_migration_is_told_as_no_progress_and_its_end_too(hosts_lab):
    directory, state = hosts_lab
    config = str(directory / "inventory.toml")
    start = cli("migrate", "vm3", "vm3-dst", "--set", "max-bandwidth=1M", "--config", config)  # hv2 -> hv1
    assert start.returncode == 0, start.stderr
    try:
        with started_cli("watch", "--json", "--interval", "0.3", "--config", config, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL) as watch:
            await vm_lines(watch, "vm3", "sample", 20)
            admin_run(state, "ip", "link", "set", "port1", "down")  # hv1, the destination's host
            told = await vm_lines(watch, "vm3", "no-progress", 30)
            assert told["no-progress"].startswith("nothing sent for ")
            admin_run(state, "ip", "link", "set", "port1", "up")
            again = await vm_lines(watch, "vm3", "no-progress", 60)
            assert again["no-progress"] == "the migration stream moves again"
    finally:
        admin_run(state, "ip", "link", "set", "port1", "up")
        async with await ControlClient.connect(directory / "hv2" / "vm3.ctl.qmp") as client:
            await client.execute("migrate_cancel")


async def test_a_killed_migration_stream_fails_both_sides_and_watch_says_why(hosts_lab):
    directory, state = hosts_lab
    config = str(directory / "inventory.toml")
    start = cli("migrate", "vm4", "vm4-dst", "--set", "max-bandwidth=1M", "--config", config)  # hv2 -> hv1
    assert start.returncode == 0, start.stderr
    port = re.search(r"tcp:198\.51\.100\.1:(\d+)", start.stderr).group(1)
    with started_cli("watch", "--json", "--interval", "0.3", "--config", config, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL) as watch:
        await vm_lines(watch, "vm4", "sample", 20)
        await vm_lines(watch, "vm4-dst", "sample", 20)  # both sides watched before the stream dies
        kill = subprocess.run(["nsenter", "-t", str(host_pid(state, "hv2")), "-n", "ss", "-K", "dst",
                               "198.51.100.1", "dport", "=", f":{port}"], capture_output=True, text=True)
        assert kill.returncode == 0, kill.stderr
        # The destination says so as it goes (QEMU exits after a failed incoming migration) ...
        event = await vm_lines(watch, "vm4-dst", "event", 20)
        assert (event["event"], event["data"]["status"]) == ("MIGRATION", "failed")
        gone = await vm_lines(watch, "vm4-dst", "link", 20)
        assert gone["link"] in ("disconnected (connection closed by QEMU (exited?))",
                                "disconnected (connection reset by QEMU (exited?))")
        # ... and the source, which runs on, gives QEMU's reason.
        while (sample := (await vm_lines(watch, "vm4", "sample", 20))["sample"])["status"] != "failed":
            pass
        assert sample["error-desc"].startswith("Unable to write to socket: ")


def test_a_host_whose_sshd_never_answers_is_down_within_the_configs_connect_timeout(hosts_lab, tmp_path):
    # hv1's sshd stopped: the kernel still takes the TCP connection, but nobody speaks SSH on it.
    directory, state = hosts_lab
    config = tmp_path / "ssh_config"
    config.write_text("ConnectTimeout 1\n" + (directory / "ssh_config").read_text())
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(f'[[host]]\nname = "hv1"\nssh = "root@198.51.100.1"\nssh_config = "{config}"\n\n'
                         '[[vm]]\nname = "vm2"\nhost = "hv1"\nqmp = "/run/qemu/vm2.qmp"\n')
    stopped = sshd_processes(state, "hv1")
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        run = cli("watch", "--once", "--config", str(inventory))
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):  # a login's own sshd may have ended meanwhile
                os.kill(pid, signal.SIGCONT)
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
    assert "no SSH answer from root@198.51.100.1 within 1 s" in run.stderr, run.stderr
