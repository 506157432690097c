"""The lab of libvirt hosts against real libvirtd, QEMU and sshd: hosts in their
own namespaces, domains reached from the root namespace over qemu+ssh and
qemu+tcp, real live migrations between the hosts, and nothing left behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest
from hosts_lab import boot_ticks, cli, left_in
from waiting import until

from migtui.lab.errors import LabError
from migtui.lab.libvirt_lab import LibvirtLab
from migtui.lab.netns import processes_in
from migtui.lab.state import read_state

# libvirt takes one event loop for a process's life (migtui.libvirt.binding): every libvirt test runs on one.
pytestmark = [pytest.mark.qemu, pytest.mark.asyncio(loop_scope="session")]
libvirt.registerErrorHandler(lambda *_: None, None)  # else libvirt prints every error on stderr


def virsh(uri: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["virsh", "-q", "-c", uri, *argv], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def lab_namespaces(state: list[dict]) -> set[str]:
    return {os.readlink(f"/proc/{host['holder_pid']}/ns/net") for host in state}


def everything_in(namespaces: set[str]) -> list[int]:
    return [pid for net in namespaces for pid in processes_in(net) if running(pid)]


def root_namespace_untouched() -> None:
    """The root namespace never joins the lab's network, and no libvirt daemon ran in it."""
    assert not Path("/run/libvirt").exists()
    addresses = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    assert "198.51.100." not in addresses


def domains(conn: libvirt.virConnect) -> dict[str, tuple[int, bool]]:
    """name -> (state, persistent) of every domain of a connection."""
    return {d.name(): (d.state()[0], bool(d.isPersistent())) for d in conn.listAllDomains()}


async def test_two_hosts_and_a_domain_reached_from_the_root_namespace_over_ssh_and_tcp(libvirt_lab, tmp_path):
    lab = libvirt_lab
    assert [(h.name, h.address) for h in lab.hosts.values()] == [("hv1", "198.51.100.1"), ("hv2", "198.51.100.2")]
    started = time.monotonic()
    uuid = await lab.define_domain("hv1", "web-1", mem_mib=128, dirty_mib=16, dirty_rate_mib_s=8, start=True)
    print(f"define and start: {time.monotonic() - started:.2f} s")
    assert lab.ssh_uri("hv1").startswith("qemu+ssh://root@198.51.100.1/system?command=/")
    assert lab.tcp_uri("hv1").startswith("qemu+tcp://127.0.0.1:")
    assert lab.peer_tcp_uri("hv2") == "qemu+tcp://198.51.100.2/system"
    for uri in (lab.ssh_uri("hv1"), lab.tcp_uri("hv1")):
        listing = await asyncio.to_thread(virsh, uri, "list", "--all")
        assert listing.returncode == 0, listing.stderr
        assert [line.split()[1:] for line in listing.stdout.splitlines()] == [["web-1", "running"]]
        uuid_seen = await asyncio.to_thread(virsh, uri, "domuuid", "web-1")
        assert uuid_seen.stdout.strip() == uuid
    for uri in (lab.ssh_uri("hv2"), lab.tcp_uri("hv2")):  # the other host has its own libvirtd
        assert (await asyncio.to_thread(virsh, uri, "list", "--all")).stdout.strip() == ""
    # each host its own /run: libvirtd's socket is no file of the root namespace
    root_namespace_untouched()

    ssh = tomllib.loads(lab.write_inventory(tmp_path / "ssh.toml").read_text())
    assert ssh["host"] == [{"name": "hv1", "libvirt": lab.ssh_uri("hv1"), "migration_address": "198.51.100.1"},
                           {"name": "hv2", "libvirt": lab.ssh_uri("hv2"), "migration_address": "198.51.100.2"}]
    assert "vm" not in ssh
    tcp = tomllib.loads(lab.write_inventory(tmp_path / "tcp.toml", transport="tcp", read_only=True,
                                            audit_log=tmp_path / "audit.jsonl").read_text())
    assert tcp["host"][1] == {"name": "hv2", "libvirt": lab.tcp_uri("hv2"), "migration_address": "198.51.100.2",
                              "peer_libvirt": "qemu+tcp://198.51.100.2/system", "read_only": True}
    assert tcp["settings"]["audit_log"] == str(tmp_path / "audit.jsonl")


async def test_ssh_checks_host_keys_against_the_labs_known_hosts(libvirt_lab):
    known = libvirt_lab.directory / "known_hosts"
    known.write_text(known.read_text().replace("198.51.100.1 ", "198.51.100.7 "))
    listing = await asyncio.to_thread(virsh, libvirt_lab.ssh_uri("hv1"), "list")
    assert listing.returncode != 0 and "Host key verification failed" in listing.stderr


@pytest.mark.parametrize("transport", ["ssh", "tcp"])
async def test_a_live_migration_from_hv1_to_hv2(libvirt_lab, transport):
    lab = libvirt_lab
    await lab.define_domain("hv1", "web-1", mem_mib=128, dirty_mib=16, dirty_rate_mib_s=8)
    client_uri = {"ssh": lab.ssh_uri, "tcp": lab.tcp_uri}[transport]
    peer_uri = {"ssh": lab.ssh_uri, "tcp": lab.peer_tcp_uri}[transport]("hv2")
    source = await asyncio.to_thread(libvirt.open, client_uri("hv1"))
    destination = await asyncio.to_thread(libvirt.open, client_uri("hv2"))
    try:
        domain = await asyncio.to_thread(source.lookupByName, "web-1")
        flags = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_PERSIST_DEST
                 | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)
        params = {libvirt.VIR_MIGRATE_PARAM_URI: "tcp://198.51.100.2"}
        started = time.monotonic()
        await asyncio.to_thread(domain.migrateToURI3, peer_uri, params, flags)
        print(f"migration over {transport}: {time.monotonic() - started:.2f} s")
        assert await asyncio.to_thread(domains, destination) == {"web-1": (libvirt.VIR_DOMAIN_RUNNING, True)}
        assert await asyncio.to_thread(domains, source) == {}
    finally:
        for conn in (source, destination):
            await asyncio.to_thread(conn.close)


async def test_libvirtd_killed_and_started_again_finds_its_running_domain(libvirt_lab):
    lab = libvirt_lab
    await lab.define_domain("hv2", "web-2", dirty_mib=4, dirty_rate_mib_s=1)
    qemu = [pid for pid in processes_in(lab.hosts["hv2"].ns.net_id()) if comm(pid).startswith("qemu-system")]
    assert len(qemu) == 1
    await lab.stop_libvirtd("hv2")
    assert (await asyncio.to_thread(virsh, lab.tcp_uri("hv2"), "list")).returncode != 0
    assert running(qemu[0])  # QEMU runs on without its libvirtd
    await lab.start_libvirtd("hv2")
    listing = await asyncio.to_thread(virsh, lab.tcp_uri("hv2"), "list")
    assert [line.split()[1:] for line in listing.stdout.splitlines()] == [["web-2", "running"]]
    with pytest.raises(LabError, match="no lab host named 'hv9'"):
        await lab.start_libvirtd("hv9")


async def test_closing_the_lab_ends_every_process_of_its_hosts_also_after_a_failure(lab_dir):
    with pytest.raises(RuntimeError, match="a test failed"):
        async with LibvirtLab(lab_dir) as lab:
            await lab.start_hosts(2)
            await lab.define_domain("hv1", "web-1", dirty_mib=4, dirty_rate_mib_s=1)
            state = lab.state()
            namespaces = lab_namespaces(state)
            pids = everything_in(namespaces)
            names = {comm(pid) for pid in pids}
            assert {"libvirtd", "virtlogd", "sshd", "qemu-system-x86"} <= names, names
            before = boot_ticks()
            raise RuntimeError("a test failed")
    assert not any(running(pid) for pid in pids)
    assert not left_in(namespaces, before)  # (a namespace's number may go to another lab's at once)
    root_namespace_untouched()


async def test_a_host_whose_libvirtd_does_not_start_fails_in_one_line_and_leaves_nothing(lab_dir, monkeypatch):
    monkeypatch.setattr("migtui.lab.libvirt_host.LIBVIRTD", "/bin/false")
    lab = LibvirtLab(lab_dir)
    with pytest.raises(LabError, match=r"^hv[12]: libvirtd exited with status 1"):
        async with lab:
            await lab.start_hosts(2)
    assert lab.hosts and not any(running(host.ns.pid) for host in lab.hosts.values())
    assert lab.admin and not running(lab.admin.pid)
    daemons = [host.virtlogd.pid for host in lab.hosts.values() if host.virtlogd]
    assert daemons and not any(running(pid) for pid in daemons)  # started before libvirtd failed: ended too
    root_namespace_untouched()


@pytest.fixture
def cli_lab(lab_dir: Path) -> Iterator[Path]:
    """A directory for ``lab up --libvirt``; whatever a failing test left is killed."""
    directory = lab_dir / "cli"
    yield directory
    state = read_state(directory)
    if state and (pid := state.get("supervisor_pid")) and running(pid):
        os.kill(pid, signal.SIGKILL)  # its hosts' holders end the rest


def cli_up(directory: Path, *extra: str) -> dict:
    started = time.monotonic()
    up = cli("lab", "up", "--dir", str(directory), "--libvirt", "--dirty-mib", "8", "--dirty-rate", "2", *extra,
             timeout=90)
    assert up.returncode == 0, up.stderr
    print(f"lab up --libvirt: {time.monotonic() - started:.2f} s")
    assert "hv1" in up.stdout and "web-1" in up.stdout
    state = read_state(directory)
    assert state and state["ready"]
    return state


async def test_lab_cli_up_libvirt_status_down_leaves_nothing(cli_lab):
    state = cli_up(cli_lab)
    hosts = [host for host in state["hosts"] if host["name"] != "admin"]
    namespaces = lab_namespaces(state["hosts"])
    pids = everything_in(namespaces)
    inventory = tomllib.loads((cli_lab / "inventory.toml").read_text())
    assert [(h["name"], h["migration_address"]) for h in inventory["host"]] == [
        ("hv1", "198.51.100.1"), ("hv2", "198.51.100.2")]
    assert inventory["host"][0]["libvirt"] == hosts[0]["libvirt"]
    listing = await asyncio.to_thread(virsh, inventory["host"][1]["libvirt"], "list")
    assert [line.split()[1:] for line in listing.stdout.splitlines()] == [["web-2", "running"]]

    status = cli("lab", "status", "--dir", str(cli_lab))
    assert status.returncode == 0, status.stderr
    lines = {line.split()[0]: line for line in status.stdout.splitlines()}
    assert " alive" in lines["hv1"] and " alive" in lines["hv2"]
    assert lines["web-1"].split()[1:] == ["on", "hv1", "running"]
    assert lines["web-2"].split()[1:] == ["on", "hv2", "running"]

    before = boot_ticks()
    down = cli("lab", "down", "--dir", str(cli_lab))
    assert down.returncode == 0, down.stderr
    assert "stopped 2 domains on 2 libvirt hosts" in down.stdout
    assert not any(running(pid) for pid in pids)
    assert not left_in(namespaces, before)
    root_namespace_untouched()


async def test_a_sigkilled_supervisor_leaves_nothing(cli_lab):
    state = cli_up(cli_lab, "--transport", "tcp")
    namespaces = lab_namespaces(state["hosts"])
    pids = everything_in(namespaces)
    assert sum(comm(pid).startswith("qemu-system") for pid in pids) == 2
    inventory = tomllib.loads((cli_lab / "inventory.toml").read_text())
    assert inventory["host"][0]["libvirt"].startswith("qemu+tcp://127.0.0.1:")
    assert inventory["host"][0]["peer_libvirt"] == "qemu+tcp://198.51.100.1/system"
    listing = await asyncio.to_thread(virsh, inventory["host"][0]["libvirt"], "list")
    assert [line.split()[1:] for line in listing.stdout.splitlines()] == [["web-1", "running"]]
    before = boot_ticks()
    os.kill(state["supervisor_pid"], signal.SIGKILL)  # no cleanup code of the lab runs
    await until(lambda: not any(running(pid) for pid in pids), 15, "every process of the hosts to end")
    await until(lambda: not left_in(namespaces, before), 10, "the lab's namespaces to be gone")
    root_namespace_untouched()


async def test_lab_cli_refuses_libvirt_with_what_does_not_go_with_it():
    refused = cli("lab", "up", "--dir", "/tmp/unused", "--libvirt", "--disk")
    assert (refused.returncode, refused.stderr) == (
        1, "migtui: --disk does not go with --libvirt (the lab's domains have no disk)\n")
    refused = cli("lab", "up", "--dir", "/tmp/unused", "--transport", "tcp")
    assert (refused.returncode, refused.stderr) == (1, "migtui: --transport goes with --libvirt\n")
