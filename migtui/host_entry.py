"""A host of the inventory: a machine reached over SSH, its VMs' QMP sockets on it.

```toml
[[host]]
name = "hv-a"
ssh = "root@198.51.100.1"              # [user@]host[:port]; absent: this machine
ssh_config = "/etc/migtui/ssh_config"  # optional, read instead of ~/.ssh/config (as ssh -F)
host_keys = "strict"                   # or "accept-new": trust a host's first key, as OpenSSH does
migration_address = "198.51.100.1"     # optional: where destinations on it listen (default: the ssh host)
migration_ports = "49152-49215"        # optional: the ports they may listen on (default: any free one)
shared = true                          # optional: its VMs' sockets are shared with another tool
```

or a host whose VMs libvirt manages (its domains are VMs of the fleet, :mod:`migtui.libvirt`):

```toml
[[host]]
name = "hv-b"
libvirt = "qemu+ssh://root@hv-b/system"  # or qemu:///system (this machine), qemu+tcp://, qemu+tls://
domains = ["web-*", "db-1"]              # optional: which domains (default: every domain)
read_only = true                         # optional: a read-only libvirt connection; the gate refuses changes
peer_libvirt = "qemu+tcp://hv-b/system"  # optional: how other hosts' libvirtd reach it (default: libvirt)
migration_address = "198.51.100.2"      # optional: where the migration stream goes (default: libvirt's choice)
qmp_passthrough = true                   # optional: QEMU settings libvirt has no call for, through its monitor
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from migtui.model.path import parse_link

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
SSH_SCHEME = "ssh://"
LIBVIRT_SCHEMES = ("qemu", "qemu+ssh", "qemu+tcp", "qemu+tls", "qemu+unix", "qemu+libssh", "qemu+libssh2", "test")
_HOSTNAME = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class SSHDestination:
    """``[user@]host[:port]`` taken apart (None: what ssh_config or the defaults say)."""

    host: str
    user: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        host = f"[{self.host}]" if ":" in self.host and port else self.host
        return f"{user}{host}{port}"


def parse_destination(text: str) -> SSHDestination:
    user, at, rest = text.rpartition("@")
    if at and not user:
        raise ValueError(f"{text!r}: the user before '@' is empty")
    host, port = rest, None
    if rest.startswith("["):  # [v6]:port
        close = rest.find("]")
        host, tail = rest[1:close], rest[close + 1:]
        if close < 0 or (tail and not tail.startswith(":")):
            raise ValueError(f"{text!r} is not [user@]host[:port]")
        port = tail[1:] or None
    elif rest.count(":") == 1:
        host, port = rest.split(":")
    if not host or not _HOSTNAME.match(host if ":" not in host else f"[{host}]"):
        raise ValueError(f"{text!r} is not [user@]host[:port]")
    if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return SSHDestination(host, user or None, int(port) if port else None)


def parse_ports(text: str) -> range:
    """``"49152-49215"`` or ``"49152"``: the ports, as a range."""
    low, dash, high = text.partition("-")
    if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
        raise ValueError(f"{text!r} is not PORT or LOW-HIGH")
    first, last = int(low), int(high) if dash else int(low)
    if not 0 < first <= last < 65536:
        raise ValueError(f"{text!r}: ports go from 1 to 65535, low to high")
    return range(first, last + 1)


def parse_libvirt_uri(uri: str) -> str:
    """A libvirt connection URI for QEMU (``qemu:///system``, ``qemu+ssh://user@host/system``...)."""
    parts = urlsplit(uri)
    if parts.scheme not in LIBVIRT_SCHEMES or parts.path not in ("/system", "/session", "/default"):
        raise ValueError(f"{uri!r} is not a libvirt URI for QEMU such as qemu:///system or "
                         "qemu+ssh://root@hv-a/system")
    if parts.scheme not in ("qemu", "qemu+unix", "test") and not parts.hostname:
        raise ValueError(f"{uri!r}: a remote libvirt URI names its host ({parts.scheme}://HOST/system)")
    return uri


def split_ssh_url(url: str) -> tuple[SSHDestination, str]:
    """``ssh://[user@]host[:port]/path/to/socket`` -> the destination and the remote path."""
    parts = urlsplit(url)
    if parts.scheme != "ssh" or not parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
        raise ValueError(f"{url!r} is not ssh://[user@]host[:port]/path/to/socket")
    return parse_destination(parts.netloc), parts.path


class HostEntry(BaseModel):
    """One host of the inventory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    ssh: str | None = None
    """``[user@]host[:port]``; None: this machine (QMP sockets are local paths)."""
    ssh_config: Path | None = None
    """An OpenSSH client config read instead of ``~/.ssh/config``."""
    host_keys: Literal["strict", "accept-new"] = "strict"
    """``strict``: the host's key must be in known_hosts; ``accept-new``: a host
    not in known_hosts yet is added on first use (a changed key is still refused)."""
    migration_address: str | None = None
    migration_ports: str | None = None
    shared: bool | None = None
    """Its VMs' QMP sockets are shared with another tool (Proxmox VE's): migtui connects
    per poll or command; None: as the settings say. A VM's own ``shared`` wins."""
    link: str | None = None
    """The speed of the host's link for migrations, in bits a second ("10G", "2.5G", "100M"): what
    migtui takes the path to carry where the interface does not say (a VM's network, a tunnel)."""

    libvirt: str | None = None
    """A libvirt connection URI (``qemu+ssh://root@hv-a/system``): the host's domains are the VMs."""
    peer_libvirt: str | None = None
    """The URI another host's libvirtd uses to reach this one, for peer-to-peer migrations
    (default: ``libvirt``)."""
    domains: list[str] | None = None
    """Which of a libvirt host's domains migtui watches (shell patterns; default: every one)."""
    read_only: bool = False
    """A read-only libvirt connection: migtui can watch, and the gate refuses every change."""
    qmp_passthrough: bool = False
    """Send what libvirt has no call for (QEMU's own migration settings) through libvirt's
    monitor passthrough; libvirt then marks the domain tainted."""

    @field_validator("libvirt", "peer_libvirt")
    @classmethod
    def _valid_libvirt(cls, value: str | None) -> str | None:
        if value is not None:
            parse_libvirt_uri(value)
        return value

    @model_validator(mode="after")
    def _libvirt_or_ssh(self) -> HostEntry:
        if self.libvirt is not None and self.ssh is not None:
            raise ValueError(f"host {self.name!r}: give ssh (QMP sockets over SSH) or libvirt "
                             "(domains through libvirt), not both")
        if self.libvirt is None and (self.domains is not None or self.peer_libvirt or self.qmp_passthrough):
            raise ValueError(f"host {self.name!r}: domains, peer_libvirt and qmp_passthrough need libvirt = URI")
        return self

    @property
    def is_libvirt(self) -> bool:
        return self.libvirt is not None

    @field_validator("ssh")
    @classmethod
    def _valid_destination(cls, value: str | None) -> str | None:
        if value is not None:
            parse_destination(value)
        return value

    @field_validator("link")
    @classmethod
    def _valid_link(cls, value: str | None) -> str | None:
        if value is not None:
            parse_link(value)
        return value

    @field_validator("migration_ports")
    @classmethod
    def _valid_ports(cls, value: str | None) -> str | None:
        if value is not None:
            parse_ports(value)
        return value

    @property
    def destination(self) -> SSHDestination | None:
        return parse_destination(self.ssh) if self.ssh else None

    @property
    def listen_address(self) -> str:
        """Where a destination VM on this host listens for the migration stream."""
        if self.migration_address:
            return self.migration_address
        return self.destination.host if self.destination else "127.0.0.1"

    @property
    def listen_ports(self) -> range | None:
        return parse_ports(self.migration_ports) if self.migration_ports else None
