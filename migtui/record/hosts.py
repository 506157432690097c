"""Where a VM's QEMU runs, as the recorder and the exporter label it."""

from __future__ import annotations

import socket
from typing import Any


def host_of(address: Any) -> str:
    """The host of a ``(host, port)`` QMP address; this machine for a unix socket."""
    if isinstance(address, tuple) and address:
        host = str(address[0])
        return socket.gethostname() if host in ("127.0.0.1", "localhost", "::1") else host
    return socket.gethostname()
