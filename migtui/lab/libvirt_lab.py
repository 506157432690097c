"""A lab of libvirt hosts: N "machines" on one, each with its own libvirtd, for real libvirt migrations.

```python
async with LibvirtLab(directory) as lab:          # closing removes everything, also on failure
    await lab.start_hosts(2)                      # hv1, hv2 at 198.51.100.1, .2
    await lab.define_domain("hv1", "web-1", mem_mib=128, dirty_mib=16, dirty_rate_mib_s=8)
    lab.ssh_uri("hv1")      # qemu+ssh://root@198.51.100.1/system?command=DIR/ssh-wrapper
    lab.tcp_uri("hv1")      # qemu+tcp://127.0.0.1:PORT/system (root namespace, through a forwarder)
    lab.peer_tcp_uri("hv1") # qemu+tcp://198.51.100.1/system (what the other hosts' libvirtd use)
```

The network is the lab of hosts' (see hosts.py and netns.py): a bridge in an
admin namespace, 198.51.100.0/24, which the root namespace never joins. Each
host is a network namespace with a private mount and UTS namespace (see
libvirt_namespaces.py), its own virtlogd, ``libvirtd --listen`` (TCP 16509,
no authentication: lab only) and sshd. From the root namespace, qemu+ssh
goes through the lab's ssh_config (its ProxyCommand enters the admin
namespace; host keys are checked against the lab's known_hosts), and
qemu+tcp through a loopback forwarder per host. Root only; never imports
Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import sys
import uuid
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from migtui.host_entry import NAME_PATTERN
from migtui.lab.child import Child
from migtui.lab.errors import LabError
from migtui.lab.guest import GuestSpec, write_guest
from migtui.lab.hosts import need_root
from migtui.lab.inventory_writer import render_inventory
from migtui.lab.lab import PerVM, _per_vm
from migtui.lab.libvirt_config import LIBVIRTD_PORT, domain_xml, prepare_tree
from migtui.lab.libvirt_host import LibvirtHost
from migtui.lab.libvirt_namespaces import LibvirtNamespaces
from migtui.lab.netns import ADMIN_ADDRESS, SUBNET, Namespaces, make_bridge, plug_host
from migtui.lab.sshd import AUTHORIZED_KEYS, CLIENT_KEY, KNOWN_HOSTS, SSH_CONFIG, client_config, make_key, sshd_config

FORWARDER = Path(__file__).with_name("forwarder.py")
SSH_WRAPPER = "ssh-wrapper"
MAX_HOSTS = 50
DOMAIN_PREFIX = "web"


class LibvirtLab:
    """Owns every namespace, daemon and QEMU of a lab of libvirt hosts in ``directory``."""

    def __init__(self, directory: str | Path, *, link_rate: str | None = None) -> None:
        need_root()
        self.directory = Path(directory).resolve()
        if self.directory == Path("/run") or Path("/run") in self.directory.parents:
            raise LabError(f"{self.directory}: a lab of hosts cannot live under /run (each host has its own /run)")
        self.link_rate = link_rate
        self.hosts: dict[str, LibvirtHost] = {}
        self.admin: Namespaces | None = None
        self._log = self.directory / "network.log"
        self._client_key = ""
        self._closed = False

    async def __aenter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    @property
    def ssh_config(self) -> Path:
        return self.directory / SSH_CONFIG

    @property
    def ssh_wrapper(self) -> Path:
        """What libvirt runs instead of ssh (``?command=``): ssh with the lab's ssh_config."""
        return self.directory / SSH_WRAPPER

    def host(self, name: str) -> LibvirtHost:
        try:
            return self.hosts[name]
        except KeyError:
            raise LabError(f"no lab host named {name!r} (known: {', '.join(self.hosts) or 'none'})") from None

    def ssh_uri(self, host: str) -> str:
        """qemu+ssh through the lab's ssh_config: from the root namespace, and from inside a host (peer to peer)."""
        return f"qemu+ssh://root@{self.host(host).address}/system?command={quote(str(self.ssh_wrapper))}"

    def tcp_uri(self, host: str) -> str:
        """qemu+tcp from the root namespace, through the host's loopback forwarder."""
        port = self.host(host).tcp_port
        if port is None:
            raise LabError(f"{host}: no loopback forwarder (the host is not started)")
        return f"qemu+tcp://127.0.0.1:{port}/system"

    def peer_tcp_uri(self, host: str) -> str:
        """qemu+tcp on the lab's network: what another host's libvirtd uses (peer to peer)."""
        return self.host(host).peer_tcp_uri

    def domain_host(self, domain: str) -> LibvirtHost:
        """The host the lab defined ``domain`` on (a migration may have moved it since)."""
        for host in self.hosts.values():
            if domain in host.domains:
                return host
        raise LabError(f"no lab domain named {domain!r}")

    async def start_hosts(self, n: int) -> list[LibvirtHost]:
        """Start hv1..hvN; returns once every libvirtd answers and every sshd listens."""
        if not 1 <= n <= MAX_HOSTS:
            raise LabError(f"--hosts must be from 1 to {MAX_HOSTS}")
        if self.admin is not None:
            raise LabError("the lab's hosts are started already")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.admin = await Namespaces.start(self._log, private_run=False)
        await make_bridge(self.admin)
        self._client_key = await make_key(self.directory / CLIENT_KEY, self._log, "migtui-lab")
        self.ssh_config.write_text(client_config(self.directory, self.admin.pid))
        self.ssh_wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F "{self.ssh_config}" "$@"\n')
        self.ssh_wrapper.chmod(0o755)
        addresses = {f"hv{i}": f"{SUBNET}.{i}" for i in range(1, n + 1)}
        # a TaskGroup: when one host fails, the others stop starting (close() then ends what they started)
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._start_host(name, address, addresses))
                         for name, address in addresses.items()]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the first reason, as one error
        hosts = [task.result() for task in tasks]
        self.hosts = {host.name: host for host in hosts}  # in order (they were added as they came up)
        (self.directory / KNOWN_HOSTS).write_text(
            "".join(f"{h.address} {' '.join(h.host_key.split()[:2])}\n" for h in hosts))
        return list(hosts)

    async def _start_host(self, name: str, address: str, addresses: dict[str, str]) -> LibvirtHost:
        assert self.admin is not None
        if self._closed:
            raise LabError("the lab is closed")
        directory = self.directory / name
        directory.mkdir(exist_ok=True)
        prepare_tree(directory, address, str(uuid.uuid4()), addresses)
        ns = await LibvirtNamespaces.start_host(name, directory, directory / "namespaces.log")
        host = LibvirtHost(name, address, directory, ns)
        self.hosts[name] = host  # from here on, close() ends it
        host.host_key = await make_key(directory / "ssh_host_ed25519_key", ns.log, name)
        await plug_host(self.admin, ns, int(address.rsplit(".", 1)[1]), address, self.link_rate)
        (directory / AUTHORIZED_KEYS).write_text(f"{self._client_key}\n")
        (directory / "sshd_config").write_text(sshd_config(directory, address, directory / AUTHORIZED_KEYS))
        await host.start_daemons()
        host.forwarder, host.tcp_port = self._start_forwarder(host)
        return host

    def _start_forwarder(self, host: LibvirtHost) -> tuple[Child, int]:
        """A listener on 127.0.0.1 here, served inside the admin namespace by forwarder.py."""
        assert self.admin is not None
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
            port = int(listener.getsockname()[1])
            fd = listener.fileno()
            argv = ["nsenter", f"--net=/proc/{self.admin.pid}/ns/net", sys.executable, "-I", str(FORWARDER),
                    str(fd), host.address, str(LIBVIRTD_PORT)]
            child = Child.spawn(argv, host.directory / "forwarder.log", pass_fds=(fd,))
        return child, port

    async def define_domain(self, host: str, name: str, mem_mib: int = 128, dirty_mib: float = 16,
                            dirty_rate_mib_s: float = 8, start: bool = True) -> str:
        """Define (persistent) a domain running the lab's dirtying guest on ``host``, and
        start it unless ``start`` is false; returns its UUID."""
        where = self.host(host)
        guest = GuestSpec(dirty_mib, dirty_rate_mib_s)
        try:
            guest.check(mem_mib)
        except ValueError as error:
            raise LabError(f"{name}: {error}") from None
        if not re.match(NAME_PATTERN, name):
            raise LabError(f"{name!r} is not a domain name (letters, digits, '_', '.', '-')")
        if any(name in h.domains for h in self.hosts.values()):
            raise LabError(f"the lab has a domain named {name!r} already")
        guests = self.directory / "guests"
        guests.mkdir(exist_ok=True)
        image = write_guest(guests / f"{name}.bin", guest)  # every host sees it: a migration needs no copy
        domain_uuid = str(uuid.uuid4())
        xml = where.directory / f"{name}.xml"
        xml.write_text(domain_xml(name, domain_uuid, mem_mib, image), encoding="utf-8")
        where.domains[name] = domain_uuid  # taken: a second definition under this name is refused
        # what another host probed since this libvirtd started, unless this one needed QEMU already
        where.copy_capabilities_in()
        try:
            await where.virsh("define", str(xml))
        except BaseException:
            del where.domains[name]
            raise
        where.save_capabilities()  # the first definition probed QEMU (4 s): the next labs skip that
        if start:
            await where.virsh("start", name)
        return domain_uuid

    async def stop_libvirtd(self, host: str) -> None:
        """SIGKILL ``host``'s libvirtd (its QEMUs run on), for fault tests."""
        await self.host(host).stop_libvirtd()

    async def start_libvirtd(self, host: str) -> None:
        """Start ``host``'s libvirtd again; returns once it answers."""
        await self.host(host).start_libvirtd()

    async def up(self, hosts: int = 2, domains_per_host: int = 1, mem_mib: int = 128, dirty_mib: PerVM = 32,
                 dirty_rate_mib_s: PerVM = 64) -> list[tuple[str, str]]:
        """Start the hosts, then web-1..web-M (``domains_per_host`` on each, running);
        returns (host, domain) pairs."""
        if domains_per_host < 0:
            raise LabError("--vms-per-host must be 0 or more")
        started = await self.start_hosts(hosts)
        total = hosts * domains_per_host
        sizes, rates = _per_vm(dirty_mib, total, "dirty_mib"), _per_vm(dirty_rate_mib_s, total, "dirty_rate_mib_s")
        placed = [(started[k // domains_per_host].name, f"{DOMAIN_PREFIX}-{k + 1}") for k in range(total)]
        if placed:  # the first one alone: on a machine without kept capabilities, one probe, not one per host
            await self.define_domain(placed[0][0], placed[0][1], mem_mib, sizes[0], rates[0])
        await asyncio.gather(*(self.define_domain(host, name, mem_mib, sizes[k], rates[k])
                               for k, (host, name) in enumerate(placed) if k > 0))
        return placed

    def inventory_hosts(self, transport: str = "ssh", read_only: bool = False) -> list[dict[str, str | bool]]:
        if transport not in ("ssh", "tcp"):
            raise LabError(f"transport {transport!r}: ssh or tcp")
        hosts: list[dict[str, str | bool]] = []
        for host in self.hosts.values():
            entry: dict[str, str | bool] = {"name": host.name}
            if transport == "ssh":
                entry["libvirt"] = self.ssh_uri(host.name)
            else:
                entry["libvirt"] = self.tcp_uri(host.name)
                entry["peer_libvirt"] = host.peer_tcp_uri
            entry["migration_address"] = host.address
            if read_only:
                entry["read_only"] = True
            hosts.append(entry)
        return hosts

    def write_inventory(self, path: str | Path, transport: str = "ssh", read_only: bool = False,
                        audit_log: str | Path | None = None) -> Path:
        """An inventory with one ``[[host]]`` per libvirt host (its domains are its VMs: no ``[[vm]]``)."""
        path = Path(path)
        audit = Path(audit_log) if audit_log else self.directory / "audit.jsonl"
        path.write_text(render_inventory([], audit.resolve(), self.inventory_hosts(transport, read_only)),
                        encoding="utf-8")
        return path

    def state(self) -> list[dict[str, object]]:
        """For the state file: each host's address, URIs, pids and domains (the admin namespace's holder first)."""
        admin: list[dict[str, object]] = (
            [{"name": "admin", "address": ADMIN_ADDRESS, "holder_pid": self.admin.pid}] if self.admin else [])

        def pid(child: Child | None) -> int | None:
            return child.pid if child else None

        return admin + [{
            "name": h.name, "address": h.address, "holder_pid": h.ns.pid, "directory": str(h.directory),
            "libvirt": self.ssh_uri(h.name), "tcp": self.tcp_uri(h.name) if h.tcp_port else None,
            "peer_libvirt": h.peer_tcp_uri, "libvirtd_pid": pid(h.libvirtd), "virtlogd_pid": pid(h.virtlogd),
            "sshd_pid": pid(h.sshd), "forwarder_pid": pid(h.forwarder), "domains": list(h.domains),
        } for h in self.hosts.values()]

    async def close(self) -> None:
        """End every host (its holder kills all of it, QEMUs included), then the admin namespace
        (the forwarders and the ssh ProxyCommands run there)."""
        self._closed = True
        for host in self.hosts.values():
            # What its libvirtd probed since (the other emulators, at migtui's first getVersion): 4 s each.
            with contextlib.suppress(OSError):
                host.save_capabilities()
        results = await asyncio.gather(*(host.close() for host in self.hosts.values()), return_exceptions=True)
        if self.admin is not None:
            await self.admin.close()
        for host in self.hosts.values():
            if host.forwarder is not None:
                await host.forwarder.stop(2.0)
        for result in results:
            if isinstance(result, BaseException):
                raise result
