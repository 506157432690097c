"""Ask a running VM for its schema and version over QMP.

The only place in :mod:`migtui.qapi` that talks to QEMU, kept to one small
function so the fleet's sessions can take its place: everything else works
on the two replies.
"""

from __future__ import annotations

import asyncio
from typing import Any

from qemu.qmp import ConnectError, ExecuteError, QMPClient

from migtui.errors import MigtuiError

DEFAULT_TIMEOUT = 10.0


class FetchError(MigtuiError):
    """The VM could not be reached or did not answer."""


async def fetch_introspection(
    address: str | tuple[str, int], *, timeout: float = DEFAULT_TIMEOUT, name: str = "migtui-schema"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``query-qmp-schema`` and ``query-version`` of the VM at ``address``."""
    where = address if isinstance(address, str) else f"{address[0]}:{address[1]}"
    client = QMPClient(name)
    try:
        # qemu.qmp has no timeouts of its own: a socket that accepts but never
        # greets would hang connect() forever.
        await asyncio.wait_for(client.connect(address), timeout)
        schema = await asyncio.wait_for(client.execute("query-qmp-schema"), timeout)
        version = await asyncio.wait_for(client.execute("query-version"), timeout)
    except asyncio.TimeoutError:
        raise FetchError(f"{where}: no answer from QMP within {timeout:g} s") from None
    except ConnectError as error:
        cause = error.exc.strerror if isinstance(error.exc, OSError) and error.exc.strerror else error.exc
        raise FetchError(f"{where}: cannot connect to QMP: {cause}") from None
    except ExecuteError as error:
        raise FetchError(f"{where}: QEMU refused {error.sent['execute']}: {error.error.desc}") from None
    except (OSError, EOFError) as error:
        raise FetchError(f"{where}: the QMP link failed: {getattr(error, 'strerror', None) or error}") from None
    except Exception as error:  # qemu.qmp's StateError, ExecInterruptedError...
        raise FetchError(f"{where}: QMP failed: {error}") from None
    finally:
        try:
            await client.disconnect()
        except Exception:  # the cause was reported above; disconnect re-raises it
            pass
    return [dict(entry) for entry in schema], dict(version)  # type: ignore[union-attr]
