"""The fleet table's columns: their keys, headers and widths, and which ones order the rows.

Plain data, below the widgets: the preferences file (``sort = "dirty"``) is
checked against it without loading the dashboard.
"""

from __future__ import annotations

TREND_WIDTH = 6
"""Samples drawn in the trend sparkline."""

# (key, header, width), in the order of importance: the columns that tell the
# story come first (whose link, what migration, how far, will it converge), and
# the table shows as many whole columns as its width holds (columns_that_fit).
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("name", "VM", 10),
    ("host", "host", 8),
    ("link", "link", 4),
    ("status", "migration", 9),
    ("pass", "pass", 4),
    ("remaining", "left", 6),
    ("outlook", "outlook", 9),
    ("run", "run", 9),
    ("progress", "done", 5),
    ("dirty", "dirty", 7),
    ("sent", "sent", 7),
    ("downtime", "downtime", 8),
    ("throttle", "thr", 3),
    ("jobs", "job", 4),
    ("trend", "trend", TREND_WIDTH),
)
CELL_PADDING = 1
"""Blank columns on each side of a cell (the DataTable's cell_padding)."""
_SORTED_BY = {"name", "link", "status", "remaining", "progress", "dirty", "sent", "downtime", "throttle"}
SORTABLE = tuple(key for key, _, _ in COLUMNS if key in _SORTED_BY)
"""The columns rows can be ordered by, left to right as shown: ``s`` moves to the next one on screen."""
