"""One request to several VMs at once, with a result per VM.

Each VM validates the request against the schema of the QEMU it runs (a
member an older QEMU lacks is refused for that VM only), compares it with
what it holds, and applies its own change set. The VMs run concurrently and
one VM's failure (invalid for its QEMU, refused by QEMU, unreachable,
read-only) never stops the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from migtui.errors import MigtuiError
from migtui.qapi.errors import FieldErrors
from migtui.params.apply import Applied, apply_changes
from migtui.params.settings import read_settings
from migtui.qmp.session import VMSession


@dataclass(frozen=True)
class BulkResult:
    vm: str
    applied: Applied | None = None
    """Set when the VM took the request (possibly with nothing to change)."""
    errors: dict[str, str] = field(default_factory=dict)
    """Values this VM's QEMU does not take (nothing was sent to it)."""
    failure: str | None = None
    """QEMU's refusal or why the VM could not be reached, in one line."""

    @property
    def ok(self) -> bool:
        return self.applied is not None

    @property
    def summary(self) -> str:
        if self.applied is not None:
            if not self.applied.changes:
                return "nothing to change"
            return self.applied.text
        if self.errors:
            return "not sent: " + "; ".join(f"{name}: {message}" for name, message in self.errors.items())
        return self.failure or "failed"


async def apply_to_many(sessions: Mapping[str, VMSession], parameters: Mapping[str, Any],
                        capabilities: Mapping[str, Any]) -> dict[str, BulkResult]:
    """Apply the same values to every VM of ``sessions``; a result per VM, in the same order."""
    results = await asyncio.gather(*(_apply_one(session, parameters, capabilities) for session in sessions.values()))
    return {result.vm: result for result in results}


async def _apply_one(session: VMSession, parameters: Mapping[str, Any], capabilities: Mapping[str, Any]) -> BulkResult:
    try:
        settings = await read_settings(session)
        request = settings.request(parameters, capabilities)
        applied = await apply_changes(session, settings, settings.changes(request))
    except FieldErrors as invalid:
        return BulkResult(session.name, errors=invalid.errors)
    except MigtuiError as error:
        return BulkResult(session.name, failure=str(error))
    return BulkResult(session.name, applied=applied)
