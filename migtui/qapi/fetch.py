"""Ask a running VM for its schema and version over QMP.

The only place in :mod:`migtui.qapi` that talks to QEMU; it goes through a
:class:`~migtui.qmp.session.VMSession` like every other caller, so timeouts
and error messages are the engine's. Everything else works on the replies.
"""

from __future__ import annotations

from typing import Any

from migtui.qmp.remote_socket import Address
from migtui.qmp.session import VMSession

DEFAULT_TIMEOUT = 10.0


async def fetch_introspection(
    address: Address, *, timeout: float = DEFAULT_TIMEOUT, name: str = "migtui-schema"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``query-qmp-schema`` and ``query-version`` of the VM at ``address``.

    Raises the session's one-line errors (``Unreachable``, ``CommandTimeout``...).
    """
    async with VMSession(name, address, connect_timeout=timeout, command_timeout=timeout) as session:
        schema = await session.query_list("query-qmp-schema")
        return list(schema), dict(session.version or {})
