"""Ranges of migration parameters that the schema states only in prose, or not at all.

The schema's types give widths (``uint8`` is 0..255) but QEMU's
``migrate-set-parameters`` refuses much more: a zlib level of 10, a throttle
of 100 %. These ranges are reviewed by hand. Each entry says where it comes
from: the schema's own words ("documented") and/or what QEMU 7.2.22 (Debian
12) answered to the boundary values ("measured", see tests/test_qapi_live.py).
A range only narrows the width of the type: a member's field never accepts
more than its type allows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProseRange:
    minimum: int | None
    maximum: int | None
    evidence: str


#: Where the table applies: the parameters struct, its command, and what reads it back.
PARAMETER_OWNERS = frozenset(
    {"MigrateSetParameters", "MigrationParameters", "migrate-set-parameters", "query-migrate-parameters"}
)

PROSE_RANGES: dict[str, ProseRange] = {
    "announce-initial": ProseRange(0, 100_000, "measured: 100001 refused, 'between 0 and 100000'"),
    "announce-max": ProseRange(0, 100_000, "measured: 100001 refused"),
    "announce-rounds": ProseRange(0, 1_000, "measured: 1001 refused"),
    # QEMU's message says "between 0 and 10000" but 0 is refused too.
    "announce-step": ProseRange(1, 10_000, "measured: 0 and 10001 refused"),
    "compress-level": ProseRange(0, 9, "measured: 10 refused, 'between 0 and 9'"),
    "compress-threads": ProseRange(1, 255, "measured: 0 refused, 'between 1 and 255'"),
    "decompress-threads": ProseRange(1, 255, "measured: 0 refused, 'between 1 and 255'"),
    "throttle-trigger-threshold": ProseRange(1, 100, "documented: a percentage; measured: 0 and 101 refused"),
    "cpu-throttle-initial": ProseRange(1, 99, "measured: 0 and 100 refused, 'in the range of 1 to 99'"),
    "cpu-throttle-increment": ProseRange(1, 99, "measured: 0 and 100 refused, 'in the range of 1 to 99'"),
    # QEMU also wants it no lower than cpu-throttle-initial; that check is QEMU's.
    "max-cpu-throttle": ProseRange(1, 99, "measured: 100 refused, 'cpu_throttle_initial to 99'"),
    "downtime-limit": ProseRange(0, 2_000_000, "measured: 2000001 refused, '0 to (2000 * 1000) ms'"),
    "multifd-channels": ProseRange(1, 255, "measured: 0 refused, 'between 1 and 255'"),
    # QEMU 7.2 accepts any uint8 here (and keeps its old value); later releases check.
    "multifd-zlib-level": ProseRange(0, 9, "documented: 'an integer between 0 and 9'"),
    "multifd-zstd-level": ProseRange(0, 20, "documented: 'an integer between 0 and 20'"),
    "multifd-qatzip-level": ProseRange(1, 9, "documented: 'an integer between 1 and 9' (since 9.2)"),
    "x-vcpu-dirty-limit-period": ProseRange(1, 1_000, "documented: 'in the range 1 to 1000ms' (since 8.1)"),
}


def prose_range(owner: str, member: str) -> ProseRange | None:
    """The reviewed range of ``member`` of ``owner``, if the table has one."""
    if owner not in PARAMETER_OWNERS:
        return None
    return PROSE_RANGES.get(member)
