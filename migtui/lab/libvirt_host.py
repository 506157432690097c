"""One libvirt lab host: its namespaces, virtlogd, ``libvirtd --listen`` and sshd.

Every daemon runs inside the host's namespaces (see libvirt_namespaces.py),
started through :class:`~migtui.lab.child.Child`, so it dies with the lab;
the QEMUs libvirtd daemonizes are ended by the host's holder. The lab's own
calls into the host (define, start, the readiness check) run ``virsh``
inside it, on its local socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from migtui.lab import libvirt_capabilities
from migtui.lab.child import Child, run
from migtui.lab.errors import LabError
from migtui.lab.libvirt_config import LIBVIRTD_PORT, capabilities_dir
from migtui.lab.libvirt_namespaces import LibvirtNamespaces
from migtui.lab.sshd import start_sshd

VIRTLOGD = "/usr/sbin/virtlogd"
LIBVIRTD = "/usr/sbin/libvirtd"
LIBVIRTD_START_S = 20.0
LOCAL = "qemu:///system"


@dataclass(eq=False)
class LibvirtHost:
    name: str
    address: str
    directory: Path
    ns: LibvirtNamespaces
    host_key: str = ""
    """The public key line of its sshd."""
    domains: dict[str, str] = field(default_factory=dict)
    """The domains the lab defined here: name -> UUID (a migration moves them; libvirtd knows where they are)."""
    virtlogd: Child | None = field(default=None, repr=False)
    libvirtd: Child | None = field(default=None, repr=False)
    sshd: Child | None = field(default=None, repr=False)
    forwarder: Child | None = field(default=None, repr=False)
    tcp_port: int | None = None
    """The loopback port (root namespace) of its libvirtd, through the lab's forwarder."""

    @property
    def log(self) -> Path:
        return self.directory / "commands.log"

    @property
    def peer_tcp_uri(self) -> str:
        return f"qemu+tcp://{self.address}/system"

    def enter(self) -> list[str]:
        return self.ns.enter(mount=True)

    async def start_daemons(self) -> None:
        self.virtlogd = Child.spawn([*self.enter(), VIRTLOGD], self.directory / "virtlogd.log")
        await self.start_libvirtd()
        self.sshd = await start_sshd(self.enter(), self.directory, self.name)

    async def start_libvirtd(self) -> None:
        """Start (or start again) libvirtd; returns once it answers on its TCP address."""
        if self.libvirtd is not None and self.libvirtd.returncode is None:
            raise LabError(f"{self.name}: libvirtd runs already (pid {self.libvirtd.pid})")
        self.copy_capabilities_in()
        # On one CPU: libvirtd reads the host's cpuid where it runs, and a cpuid read on another CPU (another
        # APIC id) outdates the kept capabilities: a 4 s probe again. libvirt gives its QEMUs every CPU.
        pin = ["taskset", "-c", str(min(os.sched_getaffinity(0)))]
        self.libvirtd = Child.spawn([*self.enter(), *pin, LIBVIRTD, "--listen"], self.directory / "libvirtd.out")
        deadline = time.monotonic() + LIBVIRTD_START_S
        while True:
            if self.libvirtd.returncode is not None:
                raise LabError(f"{self.name}: libvirtd exited with status {self.libvirtd.returncode}: "
                               f"{self.libvirtd.output_tail(800) or '(no output)'}")
            if self.ns.run_path("/run/libvirt/libvirt-sock").exists():
                with contextlib.suppress(LabError):
                    await run([*self.enter(), "virsh", "-q", "-c", self.peer_tcp_uri, "uri"], self.log, timeout=5)
                    return
            if time.monotonic() > deadline:
                raise LabError(f"{self.name}: libvirtd did not answer on {self.address}:{LIBVIRTD_PORT} "
                               f"within {LIBVIRTD_START_S:g} s")
            await asyncio.sleep(0.02)

    async def stop_libvirtd(self) -> None:
        """SIGKILL libvirtd, as a crash would (its QEMUs run on); returns once it is dead."""
        if self.libvirtd is not None:
            self.libvirtd.kill()
            await self.libvirtd.wait()

    async def virsh(self, *argv: str) -> None:
        """``virsh`` inside the host, on its local libvirtd; LabError with virsh's words if it fails."""
        await run([*self.enter(), "virsh", "-q", "-c", LOCAL, *argv], self.log)

    def copy_capabilities_in(self) -> None:
        libvirt_capabilities.copy_in(capabilities_dir(self.directory))

    def save_capabilities(self) -> None:
        libvirt_capabilities.save(capabilities_dir(self.directory))

    async def close(self) -> None:
        """End every process of the host (the holder does), then reap the lab's own children."""
        await self.ns.close()
        for child in (self.virtlogd, self.libvirtd, self.sshd):
            if child is not None:
                await child.stop(2.0)


def list_domains(holder_pid: int) -> list[tuple[str, str]]:
    """(name, state) of every domain of the host whose holder is ``holder_pid`` (for ``lab status``)."""
    argv = ["nsenter", "-t", str(holder_pid), "-n", "-m", "-u", "--",
            "virsh", "-q", "-r", "-c", LOCAL, "list", "--all"]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LabError(f"cannot list the domains: {error}") from None
    if result.returncode != 0:
        raise LabError(f"cannot list the domains: {result.stderr.strip()}")
    domains = []
    for line in result.stdout.splitlines():
        fields = line.split(None, 2)  # Id Name State ("-" for the id of a stopped one)
        if len(fields) == 3:
            domains.append((fields[1], fields[2].strip()))
    return domains
