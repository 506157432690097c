"""The one gate every QMP command passes: read-only policy and audit.

Queries are on an allow-list; anything else changes a VM. In read-only mode
such a command is refused here, before a byte is sent; otherwise it is
appended to the audit log with its outcome. Sessions send nothing except
through :meth:`CommandGate.admit` and :meth:`CommandGate.settle`, so no UI can
forget the policy.
"""

from __future__ import annotations

from typing import Any

from migtui.qmp.audit import AuditLog
from migtui.qmp.errors import ReadOnlyRefusal

READ_ONLY_COMMANDS = frozenset(
    {
        "qmp_capabilities",  # the handshake itself
        "query-qmp-schema", "query-version", "query-status", "query-name",
        "query-migrate", "query-migrate-parameters", "query-migrate-capabilities",
        "query-jobs", "query-block", "query-named-block-nodes", "query-commands",
        "query-dirty-rate", "query-kvm", "query-cpus-fast", "query-uuid", "query-memory-size-summary",
        # A measurement, not a change: page-sampling hashes guest pages and leaves the VM as it was.
        "calc-dirty-rate",
    }
)


def is_mutating(command: str) -> bool:
    return command not in READ_ONLY_COMMANDS


class CommandGate:
    def __init__(self, audit: AuditLog | None = None, read_only: bool = False) -> None:
        self.audit = audit or AuditLog(None)
        self.read_only = read_only

    def admit(self, vm: str, command: str, arguments: dict[str, Any] | None, read_only: str | None = None) -> bool:
        """May ``command`` be sent? Returns whether it must be settled in the audit log.

        ``read_only``: why this one VM is read-only (its libvirt host's connection is), if it is."""
        if not is_mutating(command):
            return False
        if self.read_only:
            self.audit.record(vm, command, arguments, "refused", "read-only mode")
            raise ReadOnlyRefusal(f"{vm}: {command} refused: migtui runs read-only (nothing was sent)")
        if read_only is not None:
            self.audit.record(vm, command, arguments, "refused", read_only)
            raise ReadOnlyRefusal(f"{vm}: {command} refused: {read_only} (nothing was sent)")
        self.audit.check()  # an unwritable log stops the command before it is sent, not after
        return True

    def settle(self, vm: str, command: str, arguments: dict[str, Any] | None, outcome: str,
               detail: Any = None) -> None:
        self.audit.record(vm, command, arguments, outcome, detail)
