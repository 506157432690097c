"""Where a VM's QEMU runs, as the recorder and the exporter label it (:meth:`FleetView.where`)."""

from __future__ import annotations

import socket


def host_of(address: object) -> str:
    """The host of a ``(host, port)`` QMP address; this machine for a unix socket."""
    if isinstance(address, tuple) and address:
        host = str(address[0])
        return socket.gethostname() if host in ("127.0.0.1", "localhost", "::1") else host
    return socket.gethostname()
