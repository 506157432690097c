"""A lab of 2 hosts for a test module, and the helpers its tests share.

``hosts_lab`` is module-scoped: ``migtui lab up --hosts 2 --vms-per-host 2``
(vm1, vm2 on hv1 with their destinations on hv2; vm3, vm4 on hv2 with theirs
on hv1); each test uses its own VMs. It is taken down after the module, pass
or fail, and every namespace it made must be gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from migtui.lab.netns import processes_in
from migtui.lab.state import read_state
from waiting import wait_for

MIGTUI = [sys.executable, "-m", "migtui"]


def short_dir(prefix: str) -> Path:
    """A fresh directory with a short path (unix socket paths must fit in 108 bytes)."""
    return Path(tempfile.mkdtemp(prefix=f"migtui-{prefix}-", dir="/tmp"))


def cli(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MIGTUI, *argv], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def lab_up(directory: Path, *extra: str) -> dict:
    run = cli("lab", "up", "--dir", str(directory), "--dirty-mib", "8", "--dirty-rate", "2", *extra, timeout=90)
    assert run.returncode == 0, run.stderr
    return read_state(directory)


def lab_down(directory: Path, state: dict | None) -> None:
    """lab down, and whatever it missed killed, so a failing test leaves nothing running."""
    cli("lab", "down", "--dir", str(directory))
    for host in (state or {}).get("hosts", []):
        pid = host["holder_pid"]
        try:
            net = os.readlink(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        for leftover in processes_in(net):
            os.kill(leftover, signal.SIGKILL)


def namespaces_of(state: dict) -> set[str]:
    return {os.readlink(f"/proc/{host['holder_pid']}/ns/net") for host in state["hosts"]}


def live_namespaces() -> set[str]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.add(os.readlink(entry / "ns" / "net"))
            except OSError:
                pass
    return found


def boot_ticks() -> int:
    """Now, in the clock ticks since boot that /proc/PID/stat gives start times in."""
    return int(float(Path("/proc/uptime").read_text().split()[0]) * os.sysconf("SC_CLK_TCK"))


def left_in(made: set[str], before: int) -> dict[int, str]:
    """Processes still running in the namespaces ``made`` that started before ``before`` (:func:`boot_ticks`).

    A namespace's number (``net:[inode]``) goes to the next namespace made on the machine as soon as it
    is gone: a process in a namespace of the same number that started later belongs to another lab (a test
    on another pytest-xdist worker, a libvirt lab), not to this one."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                net = os.readlink(entry / "ns" / "net")
                started = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[19])
            except (OSError, ValueError, IndexError):
                continue
            if net in made and started <= before:
                found[int(entry.name)] = net
    return found


@pytest.fixture(scope="module")
def hosts_lab():
    directory = short_dir("hosts")
    state = None
    try:
        state = lab_up(directory, "--hosts", "2", "--vms-per-host", "2", "--disk")
        yield directory, state
    finally:
        made = namespaces_of(state) if state else set()
        before = boot_ticks()
        lab_down(directory, state)
        # lab down removes every namespace it made (they live only as long as their processes)
        wait_for(lambda: not left_in(made, before), 10, "the lab's namespaces to be gone")
        shutil.rmtree(directory, ignore_errors=True)


def host_pid(state: dict, name: str) -> int:
    return next(h["holder_pid"] for h in state["hosts"] if h["name"] == name)
