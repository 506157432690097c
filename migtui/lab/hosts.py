"""A lab of hosts: N "machines" on one, each with its own network, sshd and QEMUs.

```python
async with HostLab(directory, link_rate="100mbit") as lab:   # closing removes everything
    await lab.up(hosts=2, vms_per_host=1)     # vm1 on hv1, waiting vm1-dst on hv2 ...
    lab.write_inventory(directory / "inventory.toml")
```

Each host is a network namespace with a private mount namespace whose /run
is its own tmpfs: its QMP sockets (``/run/qemu/NAME.qmp``) exist only there,
so migtui reaches them only through that host's sshd. The hosts' veths meet
on a bridge in an admin namespace, addresses in 198.51.100.0/24. The lab's
own ``ctl`` socket of each VM stays in the host's directory, visible, for the
tests' independent checks. Root only.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from migtui.lab.child import Child
from migtui.lab.errors import LabError
from migtui.lab.inventory_writer import render_inventory
from migtui.lab.lab import Lab, PerVM, _per_vm
from migtui.lab.netns import ADMIN_ADDRESS, SUBNET, Namespaces, make_bridge, plug_host
from migtui.lab.sshd import (
    AUTHORIZED_KEYS,
    CLIENT_KEY,
    KNOWN_HOSTS,
    READ_ONLY_KEY,
    SSH_CONFIG,
    client_config,
    make_key,
    read_only_entry,
    sshd_config,
    start_sshd,
)
from migtui.lab.vm import VM

HOST_QMP_DIR = Path("/run/qemu")
HOST_INVENTORY = "inventory.toml"
"""In each host's directory: its own VMs as seen on it, for the read-only login."""
MAX_HOSTS = 200


@dataclass(eq=False)
class LabHost:
    name: str
    address: str
    directory: Path
    ns: Namespaces
    lab: Lab
    host_key: str
    """The public key line of its sshd."""
    sshd: Child | None = field(default=None, repr=False)

    @property
    def pid_file(self) -> Path:
        return self.directory / "sshd.pid"


def need_root() -> None:
    if os.geteuid() != 0:
        raise LabError("a lab of hosts needs root (network namespaces, veth, a bridge, sshd): run it as root")


class HostLab:
    """Owns every namespace, sshd and QEMU of a lab of hosts in ``directory``."""

    def __init__(self, directory: str | Path, *, link_rate: str | None = None,
                 on_change: Callable[[VM], None] | None = None) -> None:
        need_root()
        self.directory = Path(directory).resolve()
        if self.directory == Path("/run") or Path("/run") in self.directory.parents:
            raise LabError(f"{self.directory}: a lab of hosts cannot live under /run (each host has its own /run)")
        self.link_rate = link_rate
        self.on_change = on_change
        self.hosts: dict[str, LabHost] = {}
        self.admin: Namespaces | None = None
        self._log = self.directory / "network.log"
        self._client_key = self._read_only_key = ""

    async def __aenter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    @property
    def vms(self) -> dict[str, VM]:
        return {name: vm for host in self.hosts.values() for name, vm in host.lab.vms.items()}

    def host_of(self, vm: str) -> LabHost:
        for host in self.hosts.values():
            if vm in host.lab.vms:
                return host
        raise LabError(f"no lab VM named {vm!r}")

    @property
    def ssh_config(self) -> Path:
        return self.directory / SSH_CONFIG

    async def start_hosts(self, n: int) -> list[LabHost]:
        if not 1 <= n <= MAX_HOSTS:
            raise LabError(f"--hosts must be from 1 to {MAX_HOSTS}")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.admin = await Namespaces.start(self._log, private_run=False)
        await make_bridge(self.admin)
        self._client_key = await make_key(self.directory / CLIENT_KEY, self._log, "migtui-lab")
        self._read_only_key = await make_key(self.directory / READ_ONLY_KEY, self._log, "migtui-lab-read-only")
        hosts = await asyncio.gather(*(self._start_host(i + 1) for i in range(n)))
        (self.directory / KNOWN_HOSTS).write_text(
            "".join(f"{h.address} {' '.join(h.host_key.split()[:2])}\n" for h in hosts))
        self.ssh_config.write_text(client_config(self.directory, self.admin.pid))
        return hosts

    async def _start_host(self, index: int) -> LabHost:
        assert self.admin is not None
        name, address = f"hv{index}", f"{SUBNET}.{index}"
        directory = self.directory / name
        directory.mkdir(exist_ok=True)
        ns = await Namespaces.start(directory / "namespaces.log", private_run=True)
        lab = Lab(directory, host=name, qmp_dir=HOST_QMP_DIR, wrap=ns.enter(mount=True), on_change=self.on_change)
        key = await make_key(directory / "ssh_host_ed25519_key", ns.log, name)
        host = LabHost(name, address, directory, ns, lab, key)
        self.hosts[name] = host
        await plug_host(self.admin, ns, index, address, self.link_rate)
        # The lab's key logs in as root; READ_ONLY_KEY gets `migtui login` on the host's own VMs only.
        (directory / AUTHORIZED_KEYS).write_text(
            f"{self._client_key}\n{read_only_entry(self._read_only_key, directory / HOST_INVENTORY)}\n")
        (directory / "sshd_config").write_text(sshd_config(directory, address, directory / AUTHORIZED_KEYS))
        await self.start_sshd(name)
        return host

    async def start_sshd(self, name: str) -> None:
        """Start (or start again) the host's sshd; returns once it listens."""
        host = self.hosts[name]
        host.sshd = await start_sshd(host.ns.enter(mount=True), host.directory, name)

    async def up(self, hosts: int = 2, vms_per_host: int = 1, mem_mib: int = 128, dirty_mib: PerVM = 32,
                 dirty_rate_mib_s: PerVM = 64, disk: bool = False) -> list[tuple[VM, VM]]:
        """Start the hosts, then vm1..vmM (``vms_per_host`` on each) and, for each,
        a waiting vmK-dst on the next host (the same one when there is one host).
        ``disk``: each source gets a qcow2 disk in its host's directory, which
        every host sees (only /run is a host's own): its destination opens the same one."""
        if vms_per_host < 1:
            raise LabError("--vms-per-host must be 1 or more")
        started = await self.start_hosts(hosts)
        total = hosts * vms_per_host
        sizes, rates = _per_vm(dirty_mib, total, "dirty_mib"), _per_vm(dirty_rate_mib_s, total, "dirty_rate_mib_s")
        placed = [(started[k // vms_per_host], started[(k // vms_per_host + 1) % hosts]) for k in range(total)]
        sources = await asyncio.gather(*(
            src.lab.start_source(f"vm{k + 1}", mem_mib, sizes[k], rates[k], disk) for k, (src, _) in enumerate(placed)))
        destinations = await asyncio.gather(*(
            dst.lab.start_destination(f"{vm.name}-dst", like=vm)
            for vm, (_, dst) in zip(sources, placed, strict=True)))
        return list(zip(sources, destinations, strict=False))

    def state(self) -> list[dict[str, object]]:
        """For the state file: each host's address and pids (the admin namespace's holder first)."""
        admin = [{"name": "admin", "address": ADMIN_ADDRESS, "holder_pid": self.admin.pid}] if self.admin else []
        return admin + [{"name": h.name, "address": h.address, "holder_pid": h.ns.pid,
                         "sshd_pid": h.sshd.pid if h.sshd else None, "directory": str(h.directory)}
                        for h in self.hosts.values()]

    def inventory_hosts(self) -> list[dict[str, str]]:
        return [{"name": h.name, "ssh": f"root@{h.address}", "ssh_config": str(self.ssh_config),
                 "migration_address": h.address} for h in self.hosts.values()]

    def write_inventory(self, path: str | Path, audit_log: str | Path | None = None) -> Path:
        path = Path(path)
        audit = Path(audit_log) if audit_log else self.directory / "audit.jsonl"
        path.write_text(render_inventory(self.vms.values(), audit.resolve(), self.inventory_hosts()),
                        encoding="utf-8")
        for host in self.hosts.values():
            (host.directory / HOST_INVENTORY).write_text(
                render_inventory(host.lab.vms.values(), host.directory / "audit.jsonl"), encoding="utf-8")
        return path

    async def close(self) -> None:
        """Stop every QEMU and sshd, then the namespaces (their veths, bridge and mounts go with them)."""
        await asyncio.gather(*(host.lab.close() for host in self.hosts.values()), return_exceptions=True)
        for host in self.hosts.values():
            if host.sshd is not None:
                await host.sshd.stop(2.0)
        await asyncio.gather(*(host.ns.close() for host in self.hosts.values()), return_exceptions=True)
        if self.admin is not None:
            await self.admin.close()
