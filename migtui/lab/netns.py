"""Namespaces for a lab of hosts: each one held by a process, gone with it.

The namespaces are anonymous (``unshare``, not ``ip netns add``): each lives
as long as its holder process (a ``sleep``, started through
:class:`~migtui.lab.child.Child` so it dies with the lab, even by SIGKILL),
and with it go its veth, bridge and mounts. Nothing is left in /run/netns,
and the root namespace never joins the lab's network.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

from migtui.lab.child import Child, run
from migtui.lab.errors import LabError

SUBNET = "198.51.100"
"""A documentation range, used only inside the lab's namespaces (never 192.0.2.0/24: the machine's own)."""
ADMIN_ADDRESS = f"{SUBNET}.254"
PREFIX = 24
HOST_RUN_MIB = 4


class Namespaces:
    """A network namespace (and, for a host, a private mount namespace with a tmpfs on /run)."""

    def __init__(self, holder: Child, log: Path) -> None:
        self.holder = holder
        self.log = log

    @property
    def pid(self) -> int:
        return self.holder.pid

    @classmethod
    async def start(cls, log: Path, private_run: bool) -> Namespaces:
        if private_run:
            # The host's own /run: its QMP sockets (and sshd's privsep dir) exist only in here.
            # A fresh host has no admin's shell start-up of this machine: sshd runs every command
            # (a login's, a pattern's listing) through bash, which reads ~/.bashrc, and one that
            # runs tools there (pyenv's rehash takes a lock) slows each, or hangs it on a lock
            # a killed session left behind.
            script = (f"mount -t tmpfs -o size={HOST_RUN_MIB}m,mode=0755 tmpfs /run && "
                      "mkdir -p /run/sshd /run/qemu && "
                      '{ [ ! -f "$HOME/.bashrc" ] || mount --bind /dev/null "$HOME/.bashrc"; } && exec sleep infinity')
            argv = ["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", script]
        else:
            argv = ["unshare", "--net", "sleep", "infinity"]
        self = cls(Child.spawn(argv, log), log)
        deadline = time.monotonic() + 10
        while _comm(self.pid) != "sleep":  # the holder execs sleep once the namespaces are ready
            if self.holder.returncode is not None:
                raise LabError(f"cannot make the lab's namespaces: {self.holder.output_tail(500) or 'unshare failed'}")
            if time.monotonic() > deadline:
                raise LabError("the lab's namespaces were not ready within 10 s")
            await asyncio.sleep(0.01)
        return self

    def enter(self, mount: bool = False) -> list[str]:
        """A prefix that runs a command inside (``exec``: the pid stays the command's)."""
        return ["nsenter", "-t", str(self.pid), "-n", *(["-m"] if mount else []), "--"]

    async def run(self, *argv: str, mount: bool = False) -> None:
        await run([*self.enter(mount), *argv], self.log)

    def net_id(self) -> str:
        return os.readlink(f"/proc/{self.pid}/ns/net")

    async def close(self) -> None:
        """Kill whatever still runs in the namespace (sshd's per-login children), then the holder."""
        try:
            mine = self.net_id()
        except FileNotFoundError:
            mine = None
        if mine is not None:
            for pid in processes_in(mine):
                if pid != self.pid:
                    _kill(pid)
        await self.holder.stop(2.0)


def processes_in(net_id: str) -> list[int]:
    """Pids of the processes in the network namespace ``net_id`` (``net:[inode]``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "net") == net_id:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


async def make_bridge(admin: Namespaces) -> None:
    await admin.run("ip", "link", "set", "lo", "up")
    await admin.run("ip", "link", "add", "br0", "type", "bridge")
    await admin.run("ip", "link", "set", "br0", "up")
    await admin.run("ip", "addr", "add", f"{ADMIN_ADDRESS}/{PREFIX}", "dev", "br0")


async def plug_host(admin: Namespaces, host: Namespaces, index: int, address: str, rate: str | None) -> None:
    """A veth from the host's eth0 to the bridge; ``rate`` shapes what the host sends (tc tbf)."""
    port = f"port{index}"
    await admin.run("ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", str(host.pid))
    await admin.run("ip", "link", "set", port, "master", "br0", "up")
    await host.run("ip", "link", "set", "lo", "up")
    await host.run("ip", "addr", "add", f"{address}/{PREFIX}", "dev", "eth0")
    await host.run("ip", "link", "set", "eth0", "up")
    if rate:
        await host.run("tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", rate,
                       "burst", "32kbit", "latency", "400ms")
