"""A typed ``query-migrate`` answer, for every QEMU from 4.2 to 10.x.

Every member QEMU has sent in those releases has a typed field; anything else
(a newer QEMU, a vendor build) is kept as an extra field instead of failing,
so the detail panel can still show it. Status is a plain string for the same
reason: QEMU adds states (``postcopy-recover-setup`` in 9.1).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from migtui.model.status import ACTIVE_STATES, FINAL_STATES


def _dashed(name: str) -> str:
    return name.replace("_", "-")


class QMPStruct(BaseModel):
    """A QEMU struct: dashed member names, unknown members kept."""

    model_config = ConfigDict(alias_generator=_dashed, populate_by_name=True, extra="allow", frozen=True)

    def extras(self) -> dict[str, Any]:
        """Members this QEMU sent that migtui has no field for."""
        return dict(self.__pydantic_extra__ or {})


class MigrationStats(QMPStruct):
    """``ram`` (and, before 9.1, ``disk``): counters of one migration stream."""

    transferred: int = 0
    remaining: int = 0
    total: int = 0
    duplicate: int = 0
    skipped: int | None = None  # always 0; removed in 9.1
    normal: int = 0
    normal_bytes: int = 0
    dirty_pages_rate: int = 0
    """Pages dirtied per second, measured at each dirty sync (0 until the second)."""
    mbps: float = 0.0
    """Throughput in megabits per second."""
    dirty_sync_count: int = 0
    """Dirty-bitmap syncs so far: one per pass over guest memory."""
    postcopy_requests: int = 0
    page_size: int = 4096
    multifd_bytes: int | None = None
    pages_per_second: int | None = None
    precopy_bytes: int | None = None
    downtime_bytes: int | None = None
    postcopy_bytes: int | None = None
    dirty_sync_missed_zero_copy: int | None = None


class XBZRLECacheStats(QMPStruct):
    cache_size: int = 0
    bytes: int = 0
    pages: int = 0
    cache_miss: int = 0
    cache_miss_rate: float = 0.0
    encoding_rate: float | None = None
    overflow: int = 0


class CompressionStats(QMPStruct):
    pages: int = 0
    busy: int = 0
    busy_rate: float = 0.0
    compressed_size: int = 0
    compression_rate: float = 0.0


class VfioStats(QMPStruct):
    transferred: int = 0


class MigrationInfo(QMPStruct):
    """One answer of ``query-migrate``. ``{}`` (no migration yet) has status ``none``."""

    status: str = "none"
    ram: MigrationStats | None = None
    disk: MigrationStats | None = None
    vfio: VfioStats | None = None
    xbzrle_cache: XBZRLECacheStats | None = None
    compression: CompressionStats | None = None
    total_time: int | None = None
    """Milliseconds since the migration started (its whole length once ended)."""
    expected_downtime: int | None = None
    """Milliseconds QEMU expects the final stop-and-copy to take."""
    downtime: int | None = None
    """Milliseconds the guest was really stopped (once completed)."""
    setup_time: int | None = None
    cpu_throttle_percentage: int | None = None
    """Present only while auto-converge throttles the guest's vCPUs."""
    error_desc: str | None = None
    blocked_reasons: list[str] | None = None
    postcopy_blocktime: int | None = None
    postcopy_vcpu_blocktime: list[int] | None = None
    socket_address: list[dict[str, Any]] | None = None
    dirty_limit_throttle_time_per_round: int | None = None
    dirty_limit_ring_full_time: int | None = None

    @classmethod
    def parse(cls, answer: dict[str, Any]) -> MigrationInfo:
        return cls.model_validate(answer)

    @property
    def looks_like_snapshot(self) -> bool:
        """A savevm/loadvm's trace: it ended, took no time and sent everything while stopped.

        QEMU's snapshot jobs run on the migration code, so ``query-migrate``
        reports them; a real migration always has a total time and sends
        most of its bytes before the stop (``precopy-bytes``).
        """
        ram = self.ram
        return (self.status in FINAL_STATES and self.total_time == 0 and ram is not None
                and not ram.precopy_bytes and ram.downtime_bytes == ram.transferred)

    def to_json(self) -> dict[str, Any]:
        """As QEMU spelled it (dashed names), extras included, absent members left out."""
        return self.model_dump(by_alias=True, exclude_none=True)




class Sample(BaseModel):
    """A ``query-migrate`` answer with the moment it was taken and derived figures."""

    model_config = ConfigDict(frozen=True)

    vm: str
    at: float = Field(description="time.monotonic() when the answer arrived")
    wall: float = Field(description="time.time() at the same moment, for display and logs")
    info: MigrationInfo
    snapshot: bool = False
    """QEMU's figures are those of a snapshot-save or -load (they run on the
    migration code and report through query-migrate), not of a migration."""
    progress: float | None = None
    """The highest share yet of the guest's RAM sent and not dirtied again (1 - remaining/total, 0..1),
    never running backwards during one migration; None when there is no ram stream. A migration that
    will not converge reaches near 1 at every pass's end: views show 'loop' for it instead."""

    @property
    def status(self) -> str:
        return self.info.status

    @property
    def active(self) -> bool:
        return self.info.status in ACTIVE_STATES and not self.snapshot

    @property
    def dirty_rate(self) -> float:
        """Bytes the guest dirties per second (dirty-pages-rate x page-size)."""
        ram = self.info.ram
        return float(ram.dirty_pages_rate * ram.page_size) if ram else 0.0

    @property
    def dirty_rate_known(self) -> bool:
        """QEMU measures the dirty rate at the second dirty sync; before that it reads 0."""
        return self.passes >= 2

    @property
    def throughput(self) -> float:
        """Bytes sent per second (QEMU's mbps is megabits per second)."""
        ram = self.info.ram
        return ram.mbps * 1e6 / 8 if ram else 0.0

    @property
    def remaining(self) -> int | None:
        return self.info.ram.remaining if self.info.ram else None

    @property
    def passes(self) -> int:
        """Passes over guest memory so far (dirty syncs)."""
        return self.info.ram.dirty_sync_count if self.info.ram else 0
