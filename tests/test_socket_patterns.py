"""VMs found by a pattern of QMP sockets (``qmp = "/var/run/qemu-server/*.qmp"``), real QEMU:
on this machine and on a lab SSH host, VMs found, one that comes later appears, one that goes goes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cli_process import started_cli
from hosts_lab import host_pid, hosts_lab  # noqa: F401 - hosts_lab is the SSH test's fixture
from migtui.app import MigtuiApp
from migtui.inventory import VMEntry
from migtui.lab import Lab
from migtui.metrics.collector import FleetCollector
from migtui.qmp.fleet import Fleet
from migtui.record.reader import Recording
from migtui.record.writer import Recorder
from migtui.widgets.fleet_table import FleetTable
from waiting import settle, until
from watch_lines import Lines, stop

pytestmark = pytest.mark.qemu


def watch(inventory: Path) -> subprocess.Popen[bytes]:
    return started_cli("watch", "--interval", "0.5", "--config", str(inventory),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)


async def test_a_pattern_on_this_machine_finds_vms_as_they_come_and_go(lab_dir):
    # A directory of sockets as Proxmox VE keeps them (/var/run/qemu-server/ID.qmp); the
    # lab's own second sockets live elsewhere, so only QEMU's sockets for tools are there.
    sockets = lab_dir / "qemu-server"
    sockets.mkdir()
    inventory = lab_dir / "inventory.toml"
    inventory.write_text(f'''
[[vm]]
qmp = "{sockets}/*.qmp"
name = "pve-{{stem}}"
shared = true

[[vm]]
name = "pve-102"
qmp = "{sockets}/102.qmp"
group = "named"
''')
    async with Lab(lab_dir, qmp_dir=sockets) as lab:
        for name in ("101", "102"):
            await lab.start_source(name, mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
        with watch(inventory) as process:
            lines = Lines(process)
            await until(lambda: lines.of("pve-101", "none") and lines.of("pve-102", "none"), 30,
                        "samples of both VMs")
            await lab.start_source("103", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
            await until(lambda: lines.of("pve-103", "none"), 30, "the VM started later to be followed")
            await lab.stop("101")
            await until(lambda: lines.of("pve-101", "gone"), 30, "the stopped VM to go")
            gone_at = len(lines.seen)
            # The rest is still followed: a VM started after one went is found and sampled.
            await lab.start_source("104", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
            await until(lambda: [line for line in lines.seen[gone_at:] if "  pve-104  none" in line], 30,
                        "the VM started after one went to be followed")
            await stop(process)
    assert lines.of("pve-101", "found") and lines.of("pve-103", "found"), lines.seen
    assert lines.of("pve-103", "found")[0].endswith(f"found: {sockets}/103.qmp")
    # The [[vm]] of the same name is the one followed: the pattern adds no second pve-102.
    assert not lines.of("pve-102", "found"), lines.seen
    assert [line.split("  gone: ")[1] for line in lines.of("pve-101", "gone")] == [
        f"its socket is gone ({sockets}/*.qmp matches it no more)"], lines.seen
    assert not [line for line in lines.seen[gone_at:] if "  pve-101  " in line], lines.seen[gone_at:]


def on_host(state: dict, host: str, *argv: str) -> None:
    """Run a command in the lab host's own mount namespace (its /run is its own)."""
    subprocess.run(["nsenter", "-t", str(host_pid(state, host)), "-m", "--", *argv], check=True, timeout=10)


async def test_a_pattern_on_an_ssh_host_finds_its_vms_as_sockets_come_and_go(hosts_lab, tmp_path):
    directory, state = hosts_lab
    lab_inventory = (directory / "inventory.toml").read_text()
    hosts = lab_inventory[:lab_inventory.index("[[vm]]")]  # the lab's [[host]] tables, with their SSH logins
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(hosts + '\n[[vm]]\nhost = "hv1"\nqmp = "/run/qemu/vm*.qmp"\nshared = true\n')
    with watch(inventory) as process:
        lines = Lines(process)
        # hv1 runs vm1 and vm2, and the destinations of hv2's VMs (vm3-dst, vm4-dst).
        await until(lambda: all(lines.of(vm, "none") for vm in ("vm1", "vm2", "vm3-dst", "vm4-dst")), 60,
                    "samples of every VM on hv1")
        # A socket that goes away is a VM that stopped, to anyone listing the directory; one that
        # appears, a VM that started (the lab's QEMU keeps running behind the renamed socket).
        on_host(state, "hv1", "mv", "/run/qemu/vm2.qmp", "/run/qemu/stopped-vm2")
        await until(lambda: lines.of("vm2", "gone"), 30, "vm2 to go")
        gone_at = len(lines.seen)
        on_host(state, "hv1", "mv", "/run/qemu/stopped-vm2", "/run/qemu/vm2.qmp")
        await until(lambda: [line for line in lines.seen[gone_at:] if "  vm2  none" in line], 30,
                    "vm2 to be found and followed again")
        await stop(process)
    assert len(lines.of("vm2", "found")) == 2, lines.seen
    assert not lines.of("vm3", "found") and not lines.of("vm1-dst", "found"), lines.seen  # they are on hv2


async def test_the_dashboard_gives_a_found_vm_a_row_and_takes_a_gone_ones_away(lab_dir):
    sockets = lab_dir / "qemu-server"
    sockets.mkdir()
    entries = [VMEntry(name="pve-{stem}", qmp=f"{sockets}/*.qmp", shared=True)]
    async with Lab(lab_dir, qmp_dir=sockets) as lab:
        await lab.start_source("101", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
        app = MigtuiApp(Fleet(entries, find_interval=0.5), theme="migtui-dark")
        async with app.run_test(size=(120, 30)) as pilot:
            table = lambda: app.screen.query_one(FleetTable)  # noqa: E731
            rows = lambda: [row.key.value for row in table().ordered_rows]  # noqa: E731
            await settle(pilot, lambda: rows() == ["pve-101"] and table().get_cell("pve-101", "link").plain == "up",
                         30, "the VM found, its row up")
            await lab.start_source("102", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
            await settle(pilot, lambda: rows() == ["pve-101", "pve-102"], 30, "the second VM's row")
            await settle(pilot, lambda: table().get_cell("pve-102", "run").plain == "running", 30,
                         "the second VM's row filled in")
            await lab.stop("101")
            await settle(pilot, lambda: rows() == ["pve-102"], 30, "the stopped VM's row gone")
            assert "pve-101" not in app.fleet.states


async def test_the_recorder_and_the_metrics_follow_vms_that_come_and_go(lab_dir):
    sockets = lab_dir / "qemu-server"
    sockets.mkdir()
    db = lab_dir / "fleet.db"
    async with Lab(lab_dir, qmp_dir=sockets) as lab:
        await lab.start_source("101", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
        fleet = Fleet([VMEntry(name="{stem}", qmp=f"{sockets}/*.qmp")], fast=0.2, slow=0.2, find_interval=0.5)
        collector = FleetCollector(fleet)
        fleet.subscribe(collector)
        series = lambda: {s.labels["vm"] for m in collector.collect() if m.name == "migtui_vm_link_up"  # noqa: E731
                          for s in m.samples}
        async with fleet, Recorder(db, fleet):
            await until(lambda: fleet.states.get("101") and fleet.states["101"].latest, 30, "a sample of 101")
            await lab.start_source("102", mem_mib=64, dirty_mib=1, dirty_rate_mib_s=0)
            await until(lambda: fleet.states.get("102") and fleet.states["102"].latest, 30, "a sample of 102")
            assert series() == {"101", "102"}
            await lab.stop("101")
            await until(lambda: "101" not in fleet.states, 30, "101 to go")
            assert series() == {"102"}
    with Recording(db) as recording:
        assert set(recording.vms) == {"101", "102"}
        told = [(e.vm, e.kind) for e in recording.entries(kinds=["found", "gone"])]
        assert told == [("101", "found"), ("102", "found"), ("101", "gone")]
        assert list(recording.iter_samples("101")) and list(recording.iter_samples("102"))
