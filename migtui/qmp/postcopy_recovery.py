"""Bringing back a postcopy whose stream broke, and pausing one on purpose.

In postcopy the guest runs on the destination while pages still come from
the source: a broken stream leaves it split between two hosts, both QEMUs
``postcopy-paused``, the guest's vCPUs waiting on pages that do not come.
QEMU can resume it: the destination listens again (``migrate-recover``, a
fresh address: the old one may be what broke), then the source connects
to it with ``migrate`` and ``resume: true``, and the postcopy goes on where
it stopped. ``migrate-pause`` breaks the stream on purpose (a flaky link
the admin wants to fix first), leaving both sides paused the same way.
"""

from __future__ import annotations

from migtui.qmp.migration import listen_for, listen_incoming
from migtui.qmp.session import VMSession


async def recover(source: VMSession, destination: VMSession) -> str:
    """Resume a paused postcopy from ``source`` to ``destination``; return the new URI."""
    uri = await listen_incoming(destination, listen_for(destination), command="migrate-recover")
    await source.execute("migrate", {"uri": uri, "resume": True})
    source.outgoing_uri = uri
    return uri


async def pause(session: VMSession) -> None:
    """Break a running postcopy's stream on purpose (either side may ask)."""
    await session.execute("migrate-pause")
