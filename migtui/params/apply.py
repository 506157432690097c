"""Apply a change set to a VM: only the changes, all or nothing, then read the VM again.

``migrate-set-parameters`` and ``migrate-set-capabilities`` are each checked
and applied whole by QEMU, but they are two commands: when the second is
refused (QEMU: "Multifd is not compatible with compress") the first has
already taken effect. :func:`~migtui.qmp.migration.restored_on_error` puts
back what changed, so a refused apply leaves the VM as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from migtui.params.settings import VMSettings, read_values
from migtui.qapi.changes import Change, ChangeSet
from migtui.qapi.qemu_errors import member_for_error
from migtui.qmp.errors import QEMURefused
from migtui.qmp.migration import restored_on_error, set_capabilities
from migtui.qmp.session import VMSession


class SettingsRefused(QEMURefused):
    """QEMU refused a change; ``field`` is the member or capability its words name, if any."""

    def __init__(self, refused: QEMURefused, field: str | None) -> None:
        super().__init__(refused.vm, refused.command, refused.error_class, refused.desc)
        self.field = field


@dataclass(frozen=True)
class Applied:
    """What an apply changed, when, and what the VM holds afterwards."""

    vm: str
    changes: tuple[Change, ...]
    at: float
    """``time.monotonic()`` once QEMU took the changes: where the chart mark goes."""
    settings: VMSettings
    """Read again after applying: what QEMU really holds."""

    @property
    def text(self) -> str:
        return "; ".join(change.text for change in self.changes)

    @property
    def not_held(self) -> dict[str, Any]:
        """Members QEMU accepted but reports otherwise (7.2 keeps multifd-zlib-level at 1): name -> held value."""
        held: dict[str, Any] = {}
        for change in self.changes:
            now = (self.settings.parameters if not change.capability else self.settings.capabilities).get(change.name)
            if now != change.new:
                held[change.name] = now
        return held


async def apply_changes(session: VMSession, settings: VMSettings, changes: ChangeSet) -> Applied:
    """Send ``changes`` (parameters, then capabilities) and read the VM again.

    Raises :class:`SettingsRefused` with QEMU's words when QEMU refuses
    (whatever was already applied is put back first),
    :class:`~migtui.qmp.errors.ReadOnlyRefusal` in read-only mode (nothing
    sent), and the session's link errors.
    """
    if not changes:
        return Applied(session.name, (), time.monotonic(), settings)
    at = await send_changes(session, settings, changes)
    parameters, capabilities = await read_values(session)
    return Applied(session.name, changes.changes, at, settings.with_values(parameters, capabilities))


async def send_changes(session: VMSession, settings: VMSettings, changes: ChangeSet) -> float:
    """Send ``changes`` without reading the VM again (the fleet's poller does that, see
    :meth:`~migtui.qmp.fleet.Fleet.change`); returns ``time.monotonic()`` once QEMU took them.

    Raises like :func:`apply_changes`.
    """
    try:
        async with restored_on_error(session, changes.parameters, changes.capabilities):
            if changes.parameters:
                await session.execute("migrate-set-parameters", changes.parameters)
            await set_capabilities(session, changes.capabilities)
    except QEMURefused as refused:
        names = [spec.name for spec in settings.specs] + [value.name for value in settings.capability_values]
        raise SettingsRefused(refused, member_for_error(refused.desc, names)) from None
    return time.monotonic()
