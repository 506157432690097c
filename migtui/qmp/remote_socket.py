"""A QMP socket on an SSH host: a VMSession's address when the VM is not on this machine.

Apart from :mod:`migtui.qmp.ssh_host` so that a fleet of this machine's VMs
never imports asyncssh (a tenth of a second of the dashboard's start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migtui.qmp.ssh_host import SSHHost


@dataclass(frozen=True)
class RemoteSocket:
    """A QMP socket path on an SSH host, as a VMSession's address."""

    host: SSHHost
    path: str

    def __str__(self) -> str:
        return f"{self.host.name}:{self.path}"


Address = str | tuple[str, int] | RemoteSocket
"""Where a VM's QMP socket is: a socket path, (host, port), or a socket path on an SSH host."""
