"""Sizes as people type them: ``1048576``, ``512K``, ``64M``, ``1G``, ``1.5G``.

Units are binary (K = 1024), as QEMU's own size parser reads them; a
trailing ``B`` or ``iB`` is allowed (``64MiB``). The result must be a whole
number of bytes.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

SIZE_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtpe]?)(i?b)?\s*$", re.IGNORECASE)
UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50, "e": 2**60}
SIZE_HINT = "a size in bytes, such as 1048576, 512K, 64M or 1G"


def parse_size(value: object) -> int:
    """Bytes from an int or a text with an optional binary unit; ``ValueError`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expects {SIZE_HINT}, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        found = SIZE_TEXT.match(value)
        if found:
            try:
                number = Decimal(found.group(1)) * UNITS[found.group(2).lower()]
            except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
                number = None
            if number is not None and number == number.to_integral_value():
                return int(number)
            if number is not None:
                raise ValueError(f"{value!r} is not a whole number of bytes")
    raise ValueError(f"expects {SIZE_HINT}, not {value!r}")


def format_size(value: int) -> str:
    """The shortest exact form: 134217728 -> '128M', 1000 -> '1000'."""
    for unit in "EPTGMK":
        factor = UNITS[unit.lower()]
        if value and value % factor == 0:
            return f"{value // factor}{unit}"
    return str(value)
