"""QEMU's words for a migration's status and a VM's run state, written once.

The values are QEMU's own spelling, so a member is equal to the string QEMU
sends (``MigrationStatus.COMPLETED == "completed"``) and answers are kept as
QEMU's strings: a newer QEMU's status that migtui does not know yet
(``postcopy-recover-setup`` came in 9.1) still passes through, unnamed here.
"""

from __future__ import annotations

from enum import StrEnum


class MigrationStatus(StrEnum):
    """``MigrationStatus`` of QEMU's QAPI schema (query-migrate's ``status``)."""

    NONE = "none"
    SETUP = "setup"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    ACTIVE = "active"
    POSTCOPY_ACTIVE = "postcopy-active"
    POSTCOPY_PAUSED = "postcopy-paused"
    POSTCOPY_RECOVER_SETUP = "postcopy-recover-setup"
    POSTCOPY_RECOVER = "postcopy-recover"
    COMPLETED = "completed"
    FAILED = "failed"
    COLO = "colo"
    PRE_SWITCHOVER = "pre-switchover"
    DEVICE = "device"
    WAIT_UNPLUG = "wait-unplug"


class RunState(StrEnum):
    """The run states of QEMU's ``RunState`` that migtui tells apart (query-status's ``status``)."""

    RUNNING = "running"
    PAUSED = "paused"
    INMIGRATE = "inmigrate"
    """Started with -incoming: waiting for (or receiving) a migration."""
    POSTMIGRATE = "postmigrate"
    """Its migration completed: the guest runs on the destination now."""
    FINISH_MIGRATE = "finish-migrate"
    RESTORE_VM = "restore-vm"
    """A snapshot load failed (or runs): the guest is stopped until resumed."""
    SHUTDOWN = "shutdown"


ACTIVE_STATES: frozenset[str] = frozenset({
    MigrationStatus.SETUP, MigrationStatus.ACTIVE, MigrationStatus.POSTCOPY_ACTIVE, MigrationStatus.POSTCOPY_PAUSED,
    MigrationStatus.POSTCOPY_RECOVER_SETUP, MigrationStatus.POSTCOPY_RECOVER, MigrationStatus.PRE_SWITCHOVER,
    MigrationStatus.DEVICE, MigrationStatus.WAIT_UNPLUG, MigrationStatus.CANCELLING, MigrationStatus.COLO,
})
"""Statuses in which a migration is still going on (the poller polls fast)."""

FINAL_STATES: frozenset[str] = frozenset({MigrationStatus.COMPLETED, MigrationStatus.FAILED,
                                          MigrationStatus.CANCELLED})
"""Statuses a migration ends in."""

ENDING_STATES: frozenset[str] = FINAL_STATES | {MigrationStatus.CANCELLING}
"""A migration that has ended or is about to: no prediction is made for it."""

TROUBLE_STATES: frozenset[str] = frozenset({MigrationStatus.FAILED, MigrationStatus.CANCELLED,
                                            MigrationStatus.POSTCOPY_PAUSED})
"""Statuses an admin should look at."""

STREAMING_STATES: frozenset[str] = frozenset({MigrationStatus.ACTIVE, MigrationStatus.POSTCOPY_ACTIVE})
"""Statuses in which the migration stream keeps moving: bytes sent that stand still say it does not
(pre-switchover waits for migrate-continue on purpose; a paused postcopy is told by its own status)."""

MIGRATABLE: frozenset[str] = frozenset({RunState.RUNNING, RunState.PAUSED})
"""Run states a migration can start from."""
