"""libvirt-python, loaded only for a fleet that has libvirt hosts, on migtui's event loop.

libvirt-python is an optional dependency (``pip install 'migtui[libvirt]'``,
which builds it against the host's libvirt headers): a migtui without it
still runs QMP fleets, and an inventory that names a libvirt host gets one
line saying how to add it.

libvirt calls block. Every call migtui makes goes through
:func:`asyncio.to_thread`; only libvirt's own event dispatch runs on the
loop (libvirtaio), so events, keepalives and close callbacks arrive as
loop callbacks. libvirt prints every error to stderr unless an error
handler is set: migtui says what failed itself.
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import cast

from migtui.errors import ConfigError

INSTALL_HINT = ("libvirt hosts need libvirt-python: pip install 'migtui[libvirt]' "
                "(it builds against libvirt's headers: apt install libvirt-dev pkg-config)")


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
    if current is None or current.loop is not loop:
        # One event implementation a process; a new loop (a new run of the app) takes it over.
        libvirtaio.virEventRegisterAsyncIOImpl(loop=loop)
    return libvirt
