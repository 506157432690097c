"""libvirt's words in QMP's: what the rest of migtui reads, from what libvirt reports.

A libvirt domain's migration is seen through ``virDomainGetJobStats``
(``dom.jobStats()``: a flat dict, ``memory_remaining``, ``memory_bps`` ...)
and its run state through ``dom.state()``. migtui's samples, prediction,
recorder and metrics read ``query-migrate`` and ``query-status`` answers;
these functions write libvirt's figures as those answers, so everything
after them is the same for a libvirt VM as for a QMP one. Pure functions:
no libvirt import (its constants are written out, as libvirt-domain.h has
them).
"""

from __future__ import annotations

from typing import Any

from migtui.model.status import MigrationStatus, RunState

MiB = 1024 * 1024

# virDomainJobType
JOB_NONE, JOB_BOUNDED, JOB_UNBOUNDED, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED = range(6)
# virDomainJobOperation
OPERATION_MIGRATION_IN, OPERATION_MIGRATION_OUT = 4, 5
# virDomainState, and the reasons that matter here
RUNNING, BLOCKED, PAUSED, SHUTDOWN, SHUTOFF, CRASHED, PMSUSPENDED = 1, 2, 3, 4, 5, 6, 7
PAUSED_MIGRATION, PAUSED_SAVE, PAUSED_POSTCOPY, PAUSED_POSTCOPY_FAILED = 2, 3, 12, 13
SHUTOFF_MIGRATED = 5

_FINAL = {JOB_COMPLETED: MigrationStatus.COMPLETED, JOB_FAILED: MigrationStatus.FAILED,
          JOB_CANCELLED: MigrationStatus.CANCELLED}


def run_status(state: int, reason: int, incoming: bool = False) -> str:
    """``query-status``'s ``status`` for ``dom.state()``'s (state, reason)."""
    if state in (RUNNING, BLOCKED):
        return RunState.RUNNING
    if state == PAUSED:
        if reason == PAUSED_MIGRATION:
            return RunState.INMIGRATE if incoming else RunState.FINISH_MIGRATE
        if reason in (PAUSED_POSTCOPY, PAUSED_POSTCOPY_FAILED):
            return RunState.POSTMIGRATE if not incoming else RunState.INMIGRATE
        if reason == PAUSED_SAVE:
            return "save-vm"
        return RunState.PAUSED
    if state == SHUTOFF and reason == SHUTOFF_MIGRATED:
        return RunState.POSTMIGRATE
    if state == CRASHED:
        return "internal-error"
    if state == PMSUSPENDED:
        return "suspended"
    return RunState.SHUTDOWN


def migration_info(stats: dict[str, Any], postcopy: bool = False) -> dict[str, Any]:
    """A ``query-migrate`` answer for one ``jobStats()`` (or JOB_COMPLETED event) dict.

    During a job libvirt's ``downtime`` is QEMU's expected downtime; once the
    job completed it is the downtime measured. ``memory_bps`` is bytes a
    second (QEMU's ``mbps`` megabits); ``memory_dirty_rate`` pages a second.
    A job that has not started copying (libvirt still starts the destination)
    reports zeros: that is QEMU's ``setup``.
    """
    kind = stats.get("type", JOB_COMPLETED)
    if kind == JOB_NONE or stats.get("operation") not in (None, OPERATION_MIGRATION_OUT, OPERATION_MIGRATION_IN):
        return {}
    final = _FINAL.get(kind)
    total = int(stats.get("memory_total", 0))
    if final is None:
        status = (MigrationStatus.POSTCOPY_ACTIVE if postcopy else MigrationStatus.ACTIVE) if total \
            else MigrationStatus.SETUP
    else:
        status = final
    info: dict[str, Any] = {"status": status}
    if "time_elapsed" in stats:
        info["total-time"] = int(stats["time_elapsed"])
    if "setup_time" in stats:
        info["setup-time"] = int(stats["setup_time"])
    if "downtime" in stats:
        info["downtime" if final is MigrationStatus.COMPLETED else "expected-downtime"] = int(stats["downtime"])
    if "auto_converge_throttle" in stats:
        info["cpu-throttle-percentage"] = int(stats["auto_converge_throttle"])
    if total or final is not None:
        page_size = int(stats.get("memory_page_size", 4096))
        info["ram"] = {
            "total": total,
            "transferred": int(stats.get("memory_processed", 0)),
            "remaining": int(stats.get("memory_remaining", 0)),
            "duplicate": int(stats.get("memory_constant", 0)),
            "normal": int(stats.get("memory_normal", 0)),
            "normal-bytes": int(stats.get("memory_normal_bytes", 0)),
            "dirty-pages-rate": int(stats.get("memory_dirty_rate", 0)),
            "mbps": float(stats.get("memory_bps", 0)) * 8 / 1e6,
            "dirty-sync-count": int(stats.get("memory_iteration", 0)),
            "postcopy-requests": int(stats.get("memory_postcopy_requests", 0)),
            "page-size": page_size,
        }
    if "compression_cache" in stats:
        info["xbzrle-cache"] = {"cache-size": int(stats["compression_cache"]),
                                "bytes": int(stats.get("compression_bytes", 0)),
                                "pages": int(stats.get("compression_pages", 0)),
                                "cache-miss": int(stats.get("compression_cache_misses", 0)),
                                "overflow": int(stats.get("compression_overflow", 0))}
    return info


def qemu_version(number: int) -> dict[str, Any]:
    """``query-version``'s answer for libvirt's ``getVersion()`` (major * 1,000,000 + minor * 1,000 + micro)."""
    return {"qemu": {"major": number // 1_000_000, "minor": number // 1000 % 1000, "micro": number % 1000},
            "package": "(through libvirt)"}


UNLIMITED_MIB = (2**63 - 1) // MiB
"""libvirt's "unlimited" bandwidth (QEMU_DOMAIN_MIG_BANDWIDTH_MAX, MiB/s): its default, and its largest."""


def bandwidth_mib(bytes_per_second: int) -> int:
    """libvirt sets bandwidth in whole MiB/s: the nearest, at least 1. QEMU's 0 is no cap (measured on
    7.2: a migration at max-bandwidth 0 runs at full speed): libvirt's own unlimited, not its 1 MiB/s."""
    if bytes_per_second == 0:
        return UNLIMITED_MIB
    return min(max(1, round(bytes_per_second / MiB)), UNLIMITED_MIB)
