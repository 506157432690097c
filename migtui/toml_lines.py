"""The line of a TOML file a value came from, only when that is certain.

tomllib keeps no positions. For the simple layout a hand-written inventory
has (``[settings]``, ``[[vm]]`` tables, one ``key = value`` a line) the line
can be found by reading the lines; anything else that could fool a
line-by-line reading (multi-line strings, inline arrays of tables, quoted or
dotted table names, a key given twice in a way tomllib accepts) makes the
answer None, and the caller reports the field path alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_-]+)\s*(\]\]?)\s*(#.*)?$")
_ANY_HEADER = re.compile(r"\s*\[")


def field_path(loc: Sequence[str | int]) -> str:
    """``("vm", 2, "qmp")`` -> ``vm[2].qmp``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def line_of(text: str, data: dict[str, Any], loc: Sequence[str | int], missing: bool = False) -> int | None:
    """The 1-based line that holds ``loc`` (a path into ``data``, tomllib's
    reading of ``text``); with ``missing``, the line of the table that lacks
    the key. None unless certain."""
    if '"""' in text or "'''" in text:
        return None
    lines = text.splitlines()
    sections = _sections(lines)
    if sections is None or not loc:
        return None
    first = loc[0]
    if not isinstance(first, str):
        return None
    if len(loc) >= 2 and isinstance(loc[1], int):  # a key of the n-th [[table]]
        tables = [s for s in sections if s[0] == ("[[", first)]
        entries = data.get(first)
        if not isinstance(entries, list) or len(tables) != len(entries) or loc[1] >= len(tables):
            return None  # some entries are written another way (an inline array)
        _, start, end = tables[loc[1]]
        return _key_line(lines, start, end, loc[2] if len(loc) > 2 else None, missing)
    if len(loc) >= 2:  # a key of a [table]
        tables = [s for s in sections if s[0] == ("[", first)]
        if len(tables) != 1:
            return None
        _, start, end = tables[0]
        return _key_line(lines, start, end, loc[1], missing)
    # a top-level key: before the first table
    top = sections[0][1] if sections else len(lines)
    return _key_line(lines, -1, top, first, missing=False)


def _sections(lines: list[str]) -> list[tuple[tuple[str, str], int, int]] | None:
    """((bracket, name), header line index, end index) of each table; None if a header is not simple."""
    headers: list[tuple[tuple[str, str], int]] = []
    for index, line in enumerate(lines):
        if not _ANY_HEADER.match(line):
            continue
        match = _HEADER.match(line)
        if match is None or len(match.group(1)) != len(match.group(3)):
            return None  # a dotted or quoted table name, or something a line cannot tell
        headers.append(((match.group(1), match.group(2)), index))
    ends = [index for _, index in headers[1:]] + [len(lines)]
    return [(kind, index, end) for (kind, index), end in zip(headers, ends, strict=False)]


def _key_line(lines: list[str], header: int, end: int, key: str | int | None, missing: bool) -> int | None:
    if key is None:
        return header + 1 if header >= 0 else None
    if not isinstance(key, str):
        return None
    pattern = re.compile(rf"""\s*({re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    found = [index for index in range(header + 1, end) if pattern.match(lines[index])]
    if len(found) == 1:
        return found[0] + 1
    if not found and missing and header >= 0:
        return header + 1  # the table that lacks the key
    return None
