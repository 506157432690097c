"""libvirt-python, loaded only for a fleet that has libvirt hosts, on migtui's event loop.

libvirt-python is an optional dependency (``pip install 'migtui[libvirt]'``,
which builds it against the host's libvirt headers): a migtui without it
still runs QMP fleets, and an inventory that names a libvirt host gets one
line saying how to add it.

libvirt calls block. Every call migtui makes goes through
:mod:`migtui.libvirt.workers`; only libvirt's own event dispatch runs on the
loop (libvirtaio), so events and keepalives arrive as loop callbacks.
libvirt takes one event implementation for the life of a process: the
loop of the first fleet that has libvirt hosts. libvirt prints every error to stderr unless an error
handler is set: migtui says what failed itself.
"""

from __future__ import annotations

import asyncio
from functools import cache
from types import ModuleType
from typing import cast

from migtui.errors import ConfigError, MigtuiError

SETTLE_TURNS = 3
"""Loop turns after closing connections: libvirtaio's removals take one each (a task it schedules)."""
INSTALL_HINT = ("libvirt hosts need libvirt-python: pip install 'migtui[libvirt]' "
                "(it builds against libvirt's headers: apt install libvirt-dev pkg-config)")


@cache
def require() -> ModuleType:
    """The ``libvirt`` module; a :class:`ConfigError` saying how to add it when it is not installed."""
    try:
        import libvirt
        import libvirtaio  # noqa: F401  (checked here: load() needs it)
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return cast(ModuleType, libvirt)


def load() -> ModuleType:
    """The ``libvirt`` module, its errors silenced and its events on the running loop."""
    libvirt = require()
    import libvirtaio

    libvirt.registerErrorHandler(lambda *_: None, None)
    loop = asyncio.get_running_loop()
    current = libvirtaio.getCurrentImpl()
    if current is None:
        libvirtaio.virEventRegisterAsyncIOImpl(loop=loop)
    elif current.loop is not loop:
        # libvirt takes one event implementation for a process's life: the first loop's. (The app,
        # and every command, run one loop; a test suite runs its libvirt tests on one loop.)
        raise MigtuiError("libvirt's events are bound to another event loop of this process "
                          "(libvirt takes one event loop for a process's life)")
    return libvirt


async def settle() -> None:
    """Let libvirt's last callbacks of closed connections run on the loop before it may end (libvirt
    schedules them at close; run after the loop closed, each would fail with "Event loop is closed")."""
    for _ in range(SETTLE_TURNS):
        await asyncio.sleep(0)
