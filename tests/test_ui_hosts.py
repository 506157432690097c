"""The dashboard on a real lab of 2 hosts: a host going down and coming back,
a link taken down mid-migration, and the read-only login as a real terminal.

Every wait is on a condition with a deadline; the module's lab is taken down
after it, pass or fail.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios

import pytest

from cli_process import Terminal
from hosts_lab import host_pid, hosts_lab  # noqa: F401 - hosts_lab is the module's fixture
from migtui.app import MigtuiApp
from migtui.inventory import load_inventory
from migtui.lab.control import ControlClient
from migtui.lab.netns import processes_in
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.qmp.migration import MigrationPlan, start_migration
from migtui.screens.fleet import FleetScreen
from migtui.widgets.fleet_table import FleetTable
from migtui.widgets.vm_brief import VMBrief
from terminal_output import dashboard_leftovers
from waiting import settle, wait_for

pytestmark = pytest.mark.qemu


def dashboard(directory, tmp_path, *vms: str) -> MigtuiApp:
    inventory = load_inventory(directory / "inventory.toml")
    gate = CommandGate(AuditLog(tmp_path / "audit.jsonl"))
    return MigtuiApp(Fleet([inventory.get(vm) for vm in vms], gate, hosts=inventory.host), theme="migtui-dark")


def cell(app: MigtuiApp, vm: str, column: str) -> str:
    fleet_screen = next(s for s in app.screen_stack if isinstance(s, FleetScreen))
    return fleet_screen.query_one(FleetTable).get_cell(vm, column).plain


async def brief_of(app: MigtuiApp, pilot, vm: str) -> str:
    """The brief under the table once ``vm`` is highlighted."""
    app.screen.query_one(FleetTable).select_vm(vm)
    brief = app.screen.query_one(VMBrief)
    await settle(pilot, lambda: str(brief.render()).startswith(f"{vm} "), 5, f"the brief of {vm}")
    return str(brief.render())


def sshd_processes(state: dict, host: str) -> list[int]:
    """The host's sshd and its per-login children (found by the host's network namespace)."""
    net = os.readlink(f"/proc/{host_pid(state, host)}/ns/net")
    return [pid for pid in processes_in(net) if open(f"/proc/{pid}/comm").read().startswith("sshd")]


def start_sshd(directory, state: dict, host: str) -> None:
    started = subprocess.run(["nsenter", "-t", str(host_pid(state, host)), "-m", "-n", "/usr/sbin/sshd",
                              "-f", str(directory / host / "sshd_config")], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr


async def test_a_host_whose_sshd_dies_shows_its_vms_host_down_and_back_the_rest_untouched(hosts_lab, tmp_path):
    directory, state = hosts_lab
    on_hv1, on_hv2 = ("vm1", "vm4-dst"), ("vm3", "vm2-dst")
    app = dashboard(directory, tmp_path, *on_hv1, *on_hv2)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, lambda: all(cell(app, vm, "link") == "up" for vm in on_hv1 + on_hv2), 20,
                     "every VM up over SSH")
        try:
            for pid in sshd_processes(state, "hv2"):
                os.kill(pid, signal.SIGKILL)
            await settle(pilot, lambda: all(cell(app, vm, "link") == "down" for vm in on_hv2), 20,
                         "hv2's VMs down")
            for vm in on_hv2:
                assert cell(app, vm, "host") == "hv2"
                assert "host hv2 " in await brief_of(app, pilot, vm)  # the host's reason, not each VM's own timeout
            for vm in on_hv1:  # the rest of the fleet is unaffected
                assert cell(app, vm, "link") == "up"
                assert "host hv" not in await brief_of(app, pilot, vm)
        finally:
            if not sshd_processes(state, "hv2"):
                start_sshd(directory, state, "hv2")
        await settle(pilot, lambda: all(cell(app, vm, "link") == "up" for vm in on_hv2), 30,
                     "hv2's VMs up again once its sshd is back")
        assert cell(app, "vm3", "run") == "running" and cell(app, "vm2-dst", "run") == "inmigrate"
        assert "host hv2" not in await brief_of(app, pilot, "vm3")


def admin_link(state: dict, port: str, up: bool) -> None:
    subprocess.run(["nsenter", "-t", str(host_pid(state, "admin")), "-n", "ip", "link", "set", port,
                    "up" if up else "down"], check=True)


async def test_a_link_down_mid_migration_is_told_as_no_progress_in_the_dashboard(hosts_lab, tmp_path):
    directory, state = hosts_lab
    app = dashboard(directory, tmp_path, "vm3", "vm3-dst")  # hv2 -> hv1
    tracker = app.fleet.states["vm3"].tracker
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, lambda: cell(app, "vm3", "link") == "up" and cell(app, "vm3-dst", "link") == "up", 20,
                     "both VMs up over SSH")
        await app.fleet.session("vm3").execute("migrate-set-parameters", {"max-bandwidth": 2**20})
        await start_migration(app.fleet.session("vm3"), app.fleet.session("vm3-dst"), MigrationPlan())
        await settle(pilot, lambda: cell(app, "vm3", "status") == "active", 20, "vm3 migrating")
        try:
            admin_link(state, "port1", up=False)  # hv1, the destination's host
            await settle(pilot, lambda: tracker.frozen_for() >= 6, 20, "6 s with nothing sent")
            await settle(pilot, lambda: cell(app, "vm3", "outlook") == "no progress", 10,
                         "the outlook to say no progress")
            brief = await brief_of(app, pilot, "vm3")
            assert "no progress: nothing sent for " in brief, brief
            admin_link(state, "port1", up=True)
            await settle(pilot, lambda: cell(app, "vm3", "outlook") != "no progress", 60,
                         "the outlook to leave no progress once the stream moves again")
        finally:
            admin_link(state, "port1", up=True)
            async with await ControlClient.connect(directory / "hv2" / "vm3.ctl.qmp") as client:
                await client.execute("migrate_cancel")


def test_the_dashboard_on_ssh_hosts_leaves_the_terminal_as_it_found_it(hosts_lab):
    directory, _ = hosts_lab
    migtui = (sys.executable, "-m", "migtui")
    left = dashboard_leftovers(migtui, "--config", str(directory / "inventory.toml"), shows="vm4-dst", size=(40, 120))
    assert left == ""  # asyncssh's warnings would stay here after quitting


def logins_on(state: dict, host: str) -> list[str]:
    """The command lines of migtui processes the host's sshd started for logins."""
    net = os.readlink(f"/proc/{host_pid(state, host)}/ns/net")
    found = []
    for pid in processes_in(net):
        try:
            line = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "migtui login" in line:
            found.append(line)
    return found


def test_the_read_only_login_is_the_dashboard_in_a_terminal_and_refuses_a_change(hosts_lab):
    directory, state = hosts_lab
    with Terminal() as terminal:
        fcntl.ioctl(terminal.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        ssh = subprocess.Popen(["ssh", "-t", "-F", str(directory / "ssh_config"), "-i",
                                str(directory / "readonly_key"), "198.51.100.1"],
                               stdin=terminal.slave, stdout=terminal.slave, stderr=terminal.slave,
                               env=dict(os.environ, TERM="xterm-256color"), start_new_session=True)
        try:
            terminal.read_until("migtui (read-only)", 30)
            for vm in ("vm1", "vm2", "vm3-dst", "vm4-dst"):  # hv1's own VMs, in the fleet table
                terminal.read_until(vm, 20)
            terminal.type(b"m")  # migrate the highlighted VM
            terminal.read_until("migtui runs read-only: no migrate", 10)
            terminal.type(b"q")
            assert terminal.wait_exit(ssh, 30) == 0
        finally:
            if ssh.poll() is None:
                ssh.kill()
                ssh.wait()
    # Nothing of the login is left on the host: its migtui and sshd session exited with the client.
    wait_for(lambda: not logins_on(state, "hv1"), 10, "the login's migtui to exit")

    async def migration_status() -> str:
        async with await ControlClient.connect(directory / "hv1" / "vm1.ctl.qmp") as client:
            return (await client.execute("query-migrate")).get("status", "none")

    assert asyncio.run(migration_status()) == "none"  # QEMU never got a migrate
