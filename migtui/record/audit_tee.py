"""The gate's audit entries, copied into the recording as they are written.

The audit log's file and format stay as they are: the gate gets an audit log
that writes exactly as before and then hands the same entry to the recorder.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from migtui.qmp.audit import AuditLog
from migtui.qmp.gate import CommandGate


class _TeeAudit(AuditLog):
    def __init__(self, inner: AuditLog, copy: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(inner.path)
        self.inner = inner
        self.copy = copy

    def record(self, vm: str, command: str, arguments: dict[str, Any] | None, outcome: str,
               detail: Any = None) -> None:
        self.inner.record(vm, command, arguments, outcome, detail)
        entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "vm": vm,
                 "command": command, "arguments": arguments or {}, "outcome": outcome}
        if detail is not None:
            entry["result" if outcome == "ok" else "error"] = detail
        self.copy(entry)

    def check(self) -> None:
        self.inner.check()


def tee_audit(gate: CommandGate, copy: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
    """Send every audit entry of ``gate`` to ``copy`` too; the returned callable undoes it."""
    inner = gate.audit
    gate.audit = _TeeAudit(inner, copy)
    return lambda: setattr(gate, "audit", inner)
