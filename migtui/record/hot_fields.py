"""The members of ``query-migrate`` a recording keeps sample by sample, and their columns."""

from __future__ import annotations

HOT_FIELDS: tuple[tuple[str, ...], ...] = (
    ("total-time",), ("expected-downtime",), ("cpu-throttle-percentage",),
    ("ram", "transferred"), ("ram", "remaining"), ("ram", "duplicate"), ("ram", "normal"),
    ("ram", "normal-bytes"), ("ram", "dirty-pages-rate"), ("ram", "mbps"), ("ram", "dirty-sync-count"),
    ("ram", "pages-per-second"), ("ram", "precopy-bytes"),
)
"""Members of ``query-migrate`` that change from one sample to the next: each
is stored in a sample's record of its block (:mod:`migtui.record.blocks`).
Everything else of an answer (status, page size, the RAM size, the rarely
used streams) is its *shape*, stored once in ``shapes``."""

HOT_COLUMNS = tuple("_".join(path).replace("-", "_") for path in HOT_FIELDS)
