"""A libvirt lab host's namespaces: network, mount and UTS, held by a process that ends them all.

Like :class:`~migtui.lab.netns.Namespaces` for a host of the lab of hosts,
with more of the host its own: a tmpfs on /run (libvirtd's sockets and state,
sshd's privilege separation), the host's copies of libvirt's trees bound over
/etc/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt, its
own /etc/hosts and host name. The holder (libvirt_holder.py) gets SIGTERM
when the lab's process dies, even by SIGKILL, and then kills every process of
the host: the QEMUs libvirtd daemonized too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
import time
from pathlib import Path

from migtui.lab.child import Child
from migtui.lab.errors import LabError
from migtui.lab.libvirt_config import HOSTS_FILE, TREES
from migtui.lab.netns import Namespaces, processes_in

HOLDER = Path(__file__).with_name("libvirt_holder.py")
MARKER = "/run/migtui-lab-host"
"""Written by the holder in the host's own /run once the host is ready (see libvirt_holder.py)."""
HOST_RUN_MIB = 32
READY_WITHIN_S = 10.0
END_WITHIN_S = 15.0


class LibvirtNamespaces(Namespaces):
    @classmethod
    async def start_host(cls, name: str, tree: Path, log: Path) -> LibvirtNamespaces:
        """The namespaces of host ``name``, whose copies of libvirt's trees are in ``tree``."""
        mounts = [f"mount --bind {shlex.quote(str(tree / copy))} {target}" for copy, target in TREES.items()]
        script = " && ".join([
            f"mount -t tmpfs -o size={HOST_RUN_MIB}m,mode=0755 tmpfs /run",
            "mkdir -p /run/sshd",
            *mounts,
            f"mount --bind {shlex.quote(str(tree / HOSTS_FILE))} /etc/hosts",
            # no shell start-up of this machine's admin in the host's logins (see netns.py)
            '{ [ ! -f "$HOME/.bashrc" ] || mount --bind /dev/null "$HOME/.bashrc"; }',
            f"exec {shlex.quote(sys.executable)} -I {shlex.quote(str(HOLDER))} {shlex.quote(name)}",
        ])
        argv = ["unshare", "--net", "--mount", "--uts", "--propagation", "private", "sh", "-c", script]
        self = cls(Child.spawn(argv, log, death_signal=signal.SIGTERM), log)
        ready = Path(f"/proc/{self.pid}/root{MARKER}")  # the host's /run, seen through its holder
        deadline = time.monotonic() + READY_WITHIN_S
        try:
            while not ready.exists():
                if self.holder.returncode is not None:
                    raise LabError(f"{name}: cannot make the host's namespaces: {self.holder.output_tail(500)}")
                if time.monotonic() > deadline:
                    raise LabError(f"{name}: the host's namespaces were not ready within {READY_WITHIN_S:g} s")
                await asyncio.sleep(0.01)
        except BaseException:  # failed, or cancelled: nobody else knows the holder yet
            await self.close()
            raise
        return self

    def enter(self, mount: bool = False) -> list[str]:
        """A prefix that runs a command inside: the network namespace, or all of the host."""
        return ["nsenter", "-t", str(self.pid), "-n", *(["-m", "-u"] if mount else []), "--"]

    def run_path(self, path: str) -> Path:
        """A path of the host's own /run (or any of its mounts), as seen from outside."""
        return Path(f"/proc/{self.pid}/root{path}")

    async def close(self) -> None:
        """The holder ends every process of the host, then itself; whatever outlives that is killed here."""
        try:
            mine: str | None = self.net_id()
        except FileNotFoundError:
            mine = None
        await self.holder.stop(END_WITHIN_S)
        if mine is None:
            return
        deadline = time.monotonic() + 5.0
        while left := processes_in(mine):
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                raise LabError(f"processes {left} of a lab host outlived SIGKILL")
            await asyncio.sleep(0.02)
