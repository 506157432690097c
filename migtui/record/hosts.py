"""Where a VM's QEMU runs, as the recorder and the exporter label it."""

from __future__ import annotations

import socket
from typing import Any


def host_label(fleet: Any, name: str) -> str:
    """The VM's inventory host (``[[host]]`` name) when it has one, else where its QMP address points."""
    state = fleet.states.get(name)
    if state is not None and state.host:
        return str(state.host)
    session = getattr(fleet, "sessions", {}).get(name)
    return host_of(getattr(session, "address", None))


def host_of(address: Any) -> str:
    """The host of a ``(host, port)`` QMP address; this machine for a unix socket."""
    if isinstance(address, tuple) and address:
        host = str(address[0])
        return socket.gethostname() if host in ("127.0.0.1", "localhost", "::1") else host
    return socket.gethostname()
