"""A fleet across hosts, for real: a lab of 2 hosts (namespaces, a bridge, one
sshd each), QMP only through SSH, migrations from one host to the other.

Figures are checked by tools independent of migtui: OpenSSH's ssh-keygen for
fingerprints and its client for logins, ss for the migration stream, the
lab's own ctl sockets for QEMU's state.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from textual.widgets import Button, OptionList

from hosts_lab import (  # noqa: F401 - hosts_lab is the module's fixture
    MIGTUI, boot_ticks, cli, host_pid, short_dir, hosts_lab, lab_down, lab_up, left_in, namespaces_of,
)
from migtui.inventory import load_inventory
from migtui.app import MigtuiApp
from migtui.lab.control import ControlClient
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.screens.migrate import MigrateDialog
from migtui.widgets.fleet_table import FleetTable
from waiting import settle, until_true, wait_for

pytestmark = pytest.mark.qemu


def test_watch_json_over_ssh_reads_every_vm_of_two_hosts(hosts_lab):
    directory, state = hosts_lab
    inventory = load_inventory(directory / "inventory.toml")
    assert {vm.host for vm in inventory.vm} == {"hv1", "hv2"}
    for vm in inventory.vm:  # only SSH reaches them: the host's /run is its own
        assert not Path(vm.qmp).exists()
    run = cli("watch", "--once", "--json", "--config", str(directory / "inventory.toml"))
    assert (run.returncode, run.stderr) == (0, "")  # asyncssh's own warnings never reach the terminal
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(line["vm"] for line in lines) == sorted(vm.name for vm in inventory.vm)
    assert all(line["sample"]["status"] == "none" for line in lines)


def test_a_host_reached_by_plain_tcp_is_read_through_migtuis_own_connection(hosts_lab, tmp_path):
    # Without the lab's ProxyCommand (run from inside the lab's network instead),
    # migtui opens the TCP connection under SSH itself (qmp/ssh_tcp.py).
    directory, state = hosts_lab
    direct = tmp_path / "ssh_config"
    direct.write_text(re.sub(r"\n  ProxyCommand .*", "", (directory / "ssh_config").read_text()))
    assert "ProxyCommand" not in direct.read_text()
    inventory = tmp_path / "inventory.toml"
    inventory.write_text((directory / "inventory.toml").read_text().replace(str(directory / "ssh_config"), str(direct)))
    run = subprocess.run(["nsenter", f"--net=/proc/{host_pid(state, 'admin')}/ns/net", *MIGTUI, "watch", "--once",
                          "--json", "--config", str(inventory)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(line["vm"] for line in lines) == sorted(vm.name for vm in load_inventory(inventory).vm)
    assert all(line["sample"]["status"] == "none" for line in lines)


def test_migrate_from_host_a_to_host_b_sends_the_stream_over_the_bridge(hosts_lab):
    directory, state = hosts_lab
    config = str(directory / "inventory.toml")
    # Slow enough (4 MiB/s) that the stream can be seen while it runs.
    migrate = subprocess.Popen([*MIGTUI, "migrate", "vm1", "vm1-dst", "--wait", "--set", "max-bandwidth=4M",
                                "--config", config], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        said = migrate.stderr.readline()
        uri = re.search(r"\((tcp:[^)]+)\)", said)
        assert uri and uri.group(1).startswith("tcp:198.51.100.2:"), said  # hv2's address, not loopback
        port = uri.group(1).rsplit(":", 1)[1]

        def stream_on_host_a() -> str:
            out = subprocess.run(["nsenter", "-t", str(host_pid(state, "hv1")), "-n", "ss", "-tnpH",
                                  "state", "established", "dst", f"198.51.100.2:{port}"],
                                 capture_output=True, text=True).stdout
            return out if "qemu-system" in out else ""

        assert "198.51.100.1:" in wait_for(stream_on_host_a, 20, "the source QEMU's connection to hv2")
        out, err = migrate.communicate(timeout=90)
    finally:
        if migrate.poll() is None:
            migrate.kill()
            migrate.wait()
    assert migrate.returncode == 0, err
    assert " completed " in out

    async def destination_runs() -> None:
        async with await ControlClient.connect(directory / "hv2" / "vm1-dst.ctl.qmp") as client:
            async def running() -> bool:
                return (await client.execute("query-status"))["status"] == "running"

            await until_true(running, 10, "vm1-dst to run on hv2")

    asyncio.run(destination_runs())


def test_lab_up_disk_on_hosts_gives_each_vm_a_disk_snapshots_are_saved_over_ssh(hosts_lab):
    directory, _ = hosts_lab  # started with --disk (and vm1 migrates to the other host with it, above)
    config = str(directory / "inventory.toml")
    saved = cli("snapshot", "vm2", "save", "over-ssh", "--wait", "--config", config, timeout=90)
    assert saved.returncode == 0, saved.stderr
    listed = cli("snapshot", "vm2", "list", "--json", "--config", config)
    assert [json.loads(line)["tag"] for line in listed.stdout.splitlines()] == ["over-ssh"]
    deleted = cli("snapshot", "vm2", "delete", "over-ssh", "--yes", "--wait", "--config", config, timeout=90)
    assert deleted.returncode == 0, deleted.stderr


def fingerprint(public_key: Path) -> str:
    """OpenSSH's own SHA256 fingerprint of a key file."""
    return subprocess.run(["ssh-keygen", "-l", "-f", str(public_key)], capture_output=True, text=True,
                          check=True).stdout.split()[1]


def one_host_inventory(directory: Path, tmp_path: Path, known_hosts: str | None,
                       host_keys: str = "strict") -> Path:
    """An inventory of hv1's vm2 whose known_hosts file holds ``known_hosts`` (None: there is no such file)."""
    known = tmp_path / "known_hosts"
    if known_hosts is None:
        known.unlink(missing_ok=True)
    else:
        known.write_text(known_hosts)
    config = tmp_path / "ssh_config"
    config.write_text(re.sub(r"UserKnownHostsFile .*", f"UserKnownHostsFile {known}",
                             (directory / "ssh_config").read_text()))
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(f'[[host]]\nname = "hv1"\nssh = "root@198.51.100.1"\nssh_config = "{config}"\n'
                         f'host_keys = "{host_keys}"\n\n'
                         '[[vm]]\nname = "vm2"\nhost = "hv1"\nqmp = "/run/qemu/vm2.qmp"\n')
    return inventory


def test_an_unknown_host_key_is_refused_with_its_fingerprint(hosts_lab, tmp_path):
    directory, _ = hosts_lab
    expected = fingerprint(directory / "hv1" / "ssh_host_ed25519_key.pub")
    run = cli("watch", "--once", "--config", str(one_host_inventory(directory, tmp_path, "")))
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "host key of root@198.51.100.1 is unknown" in run.stderr and expected in run.stderr


def test_accept_new_trusts_a_first_key_but_never_a_changed_one(hosts_lab, tmp_path):
    directory, _ = hosts_lab
    inventory = one_host_inventory(directory, tmp_path, "", host_keys="accept-new")
    run = cli("watch", "--once", "--config", str(inventory))
    assert run.returncode == 0, run.stderr
    hv1_key = (directory / "hv1" / "ssh_host_ed25519_key.pub").read_text().split()[1]
    assert hv1_key in (tmp_path / "known_hosts").read_text()

    hv2_key = " ".join((directory / "hv2" / "ssh_host_ed25519_key.pub").read_text().split()[:2])
    inventory = one_host_inventory(directory, tmp_path, f"198.51.100.1 {hv2_key}\n", host_keys="accept-new")
    run = cli("watch", "--once", "--config", str(inventory))
    assert run.returncode == 1
    assert "host key of root@198.51.100.1 changed" in run.stderr
    assert fingerprint(directory / "hv1" / "ssh_host_ed25519_key.pub") in run.stderr


def test_with_no_known_hosts_file_yet_a_key_is_refused_with_its_fingerprint_or_taken_by_accept_new(hosts_lab,
                                                                                                    tmp_path):
    directory, _ = hosts_lab  # a new account: no ~/.ssh/known_hosts at all
    expected = fingerprint(directory / "hv1" / "ssh_host_ed25519_key.pub")
    run = cli("watch", "--once", "--config", str(one_host_inventory(directory, tmp_path, None)))
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "host key of root@198.51.100.1 is unknown" in run.stderr, run.stderr
    assert expected in run.stderr
    assert not (tmp_path / "known_hosts").exists()

    run = cli("watch", "--once", "--config", str(one_host_inventory(directory, tmp_path, None, "accept-new")))
    assert run.returncode == 0, run.stderr
    hv1_key = (directory / "hv1" / "ssh_host_ed25519_key.pub").read_text().split()[1]
    assert hv1_key in (tmp_path / "known_hosts").read_text()


def test_a_missing_socket_on_a_reachable_host_is_one_line_and_the_others_answer(hosts_lab, tmp_path):
    directory, _ = hosts_lab
    inventory = tmp_path / "inventory.toml"
    inventory.write_text((directory / "inventory.toml").read_text()
                         + '\n[[vm]]\nname = "ghost"\nhost = "hv1"\nqmp = "/run/qemu/ghost.qmp"\n')
    run = cli("watch", "--once", "--json", "--config", str(inventory))
    assert run.returncode == 1
    assert run.stderr.strip() == ("migtui: ghost: QMP socket /run/qemu/ghost.qmp cannot be opened on host hv1 "
                                  "(sshd: open failed: no such socket, or not allowed)")
    assert len(run.stdout.splitlines()) == 8  # every real VM still answered


def test_an_interrupted_lab_of_hosts_leaves_nothing_behind():
    directory = short_dir("hosts")
    state = lab_up(directory, "--hosts", "1")
    try:
        made = namespaces_of(state)
        pids = [state["supervisor_pid"], *(vm["pid"] for vm in state["vms"]),
                *(h.get("sshd_pid") for h in state["hosts"] if h.get("sshd_pid"))]
        before = boot_ticks()
        os.kill(state["supervisor_pid"], signal.SIGKILL)  # no chance to clean up
        wait_for(lambda: not left_in(made, before), 10, "the namespaces of a killed lab to vanish")
        wait_for(lambda: not any(Path(f"/proc/{pid}").exists() and
                                 "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
                                 for pid in pids), 10, "every process of the killed lab to exit")
    finally:
        lab_down(directory, state)
    shutil.rmtree(directory, ignore_errors=True)


def read_only_ssh(directory: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """OpenSSH's client with the lab's read-only key (its authorized_keys entry forces `migtui login`)."""
    return subprocess.run(["ssh", "-F", str(directory / "ssh_config"), "-i", str(directory / "readonly_key"),
                           "198.51.100.1", *command], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_a_read_only_login_gets_migtui_on_the_hosts_vms_and_nothing_else(hosts_lab, tmp_path):
    directory, _ = hosts_lab
    watch = read_only_ssh(directory, "watch", "--once", "--json")
    assert watch.returncode == 0, watch.stderr
    assert sorted(json.loads(line)["vm"] for line in watch.stdout.splitlines()) == \
        ["vm1", "vm2", "vm3-dst", "vm4-dst"]  # hv1's own VMs

    change = read_only_ssh(directory, "params", "vm4-dst", "--set", "max-bandwidth=1M", "--config", "/dev/null")
    assert change.returncode != 0
    assert change.stderr.strip() == ("migtui: vm4-dst: migrate-set-parameters refused: migtui runs read-only "
                                     "(nothing was sent)")
    refused = [json.loads(line) for line in (directory / "hv1" / "audit.jsonl").read_text().splitlines()]
    assert refused[-1]["command"] == "migrate-set-parameters" and refused[-1]["outcome"] == "refused"

    async def bandwidth() -> int:
        async with await ControlClient.connect(directory / "hv1" / "vm4-dst.ctl.qmp") as client:
            return (await client.execute("query-migrate-parameters"))["max-bandwidth"]

    assert asyncio.run(bandwidth()) != 2**20  # QEMU never got it

    for writes in (["dashboard", "--record", str(tmp_path / "taken.db")], ["dashboard", "--export", "0.0.0.0:9778"]):
        refused_option = read_only_ssh(directory, *writes)
        assert refused_option.returncode != 0 and f"login: {writes[1]} is not allowed here" in refused_option.stderr
    assert not (tmp_path / "taken.db").exists()
    cancel = read_only_ssh(directory, "cancel", "vm1", "--yes")  # a command of the login: it runs, and cancels nothing
    assert cancel.returncode != 0 and cancel.stderr.startswith("migtui: vm1: ") and "not allowed" not in cancel.stderr

    shell = read_only_ssh(directory, "bash", "-c", "id")
    assert shell.returncode != 0 and "'bash' is not allowed here" in shell.stderr and "uid=" not in shell.stdout

    # Nor can the key reach a QMP socket past migtui: its entry says no-port-forwarding.
    config = tmp_path / "ssh_config"
    config.write_text(re.sub(r"IdentityFile .*", f"IdentityFile {directory / 'readonly_key'}",
                             (directory / "ssh_config").read_text()))
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(f'[[host]]\nname = "hv1"\nssh = "root@198.51.100.1"\nssh_config = "{config}"\n\n'
                         '[[vm]]\nname = "vm2"\nhost = "hv1"\nqmp = "/run/qemu/vm2.qmp"\n')
    direct = cli("watch", "--once", "--config", str(inventory))
    assert direct.returncode == 1 and "cannot be opened on host hv1" in direct.stderr


async def test_a_migration_started_in_the_dashboard_goes_to_the_other_host(hosts_lab, tmp_path):
    directory, _ = hosts_lab
    inventory = load_inventory(directory / "inventory.toml")
    entries = [inventory.get("vm2"), inventory.get("vm2-dst")]  # hv1 -> hv2
    audit = tmp_path / "audit.jsonl"
    app = MigtuiApp(Fleet(entries, CommandGate(AuditLog(audit)), hosts=inventory.host), theme="migtui-dark")
    states = app.fleet.states
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: states["vm2"].run_state == "running" and states["vm2-dst"].run_state == "inmigrate",
                     20, "both VMs connected over SSH")
        await settle(pilot, lambda: app.screen.sub_title.startswith("2 VMs · 2 hosts ·"), 5, "the hosts counted")
        await app.fleet.session("vm2").execute("migrate-set-parameters", {"max-bandwidth": 64 * 2**20})
        app.screen.query_one(FleetTable).select_vm("vm2")
        await pilot.press("m")
        await settle(pilot, lambda: isinstance(app.screen, MigrateDialog), 5, "the migrate dialog")
        dialog = app.screen
        offered = dialog.query_one("#migrate-destinations", OptionList).get_option_at_index(0)
        assert str(offered.prompt) == "vm2-dst  on hv2  (waiting for an incoming migration)"
        await settle(pilot, lambda: not dialog.query_one("#migrate-go", Button).disabled, 30,
                     "the pre-flight checks passing")
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: states["vm2-dst"].run_state == "running", 60, "vm2-dst running on hv2")
    started = [json.loads(line) for line in audit.read_text().splitlines() if '"migrate"' in line]
    assert started[-1]["arguments"]["uri"].startswith("tcp:198.51.100.2:")  # hv2's address, not loopback

    async def status() -> str:
        async with await ControlClient.connect(directory / "hv2" / "vm2-dst.ctl.qmp") as client:
            return (await client.execute("query-status"))["status"]

    assert await status() == "running"


async def test_the_demo_as_root_runs_on_two_hosts_and_migrates_between_them(tmp_path, capsys):
    from migtui.cli.demo import _start_migrations, demo_lab

    directory = short_dir("demo")
    async with demo_lab(directory, hosts=True) as inventory:
        assert "on 2 hosts" in capsys.readouterr().err
        for source in ("web-1", "db-1", "batch-1"):
            assert inventory.get(source).host != inventory.get(f"{source}-dst").host
            assert (directory / inventory.get(source).host / f"{source}.qcow2").exists()  # snapshots can be tried
        app = MigtuiApp(Fleet(inventory.vm, CommandGate(AuditLog(tmp_path / "audit.jsonl")), hosts=inventory.host))
        async with app.run_test(size=(120, 40)) as pilot:
            await _start_migrations(app)
            await settle(pilot, lambda: all(app.fleet.states[vm].latest is not None and
                                            app.fleet.states[vm].latest.status in ("active", "completed")
                                            for vm in ("web-1", "db-1", "batch-1")), 30, "the three migrations")
    shutil.rmtree(directory, ignore_errors=True)


def test_schema_of_a_vm_on_a_host_is_read_through_its_ssh_connection(hosts_lab):
    directory, _ = hosts_lab
    run = cli("schema", "vm3", "--json", "--config", str(directory / "inventory.toml"))  # vm3 is on hv2
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)

    async def qemu_says() -> tuple[dict, list[str]]:
        async with await ControlClient.connect(directory / "hv2" / "vm3.ctl.qmp") as client:
            version = (await client.execute("query-version"))["qemu"]
            parameters = await client.execute("query-migrate-parameters")
            return version, list(parameters)

    version, parameters = asyncio.run(qemu_says())
    release = f"{version['major']}.{version['minor']}.{version['micro']}"
    assert summary["version"] == release and summary["origin"].startswith(f"VM vm3 (QEMU {release})")
    assert set(parameters) <= set(summary["parameters"])  # every parameter that QEMU has, and can be set


def test_the_recorder_records_the_vms_of_ssh_hosts(hosts_lab, tmp_path):
    from migtui.record.reader import Recording

    directory, _ = hosts_lab
    db = tmp_path / "fleet.db"
    run = cli("record", "--db", str(db), "--config", str(directory / "inventory.toml"), "--interval", "0.2",
              "--duration", "3", "--audit-log", str(tmp_path / "audit.jsonl"))
    assert run.returncode == 0, run.stderr
    with Recording(db) as recording:
        sampled = {sample.vm for sample in recording.samples()}
    assert {"vm1", "vm3"} <= sampled  # one VM of each host, each reached over its host's SSH connection
