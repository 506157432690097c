"""Parameter values in human units, for change previews, tables and chart marks.

The schema gives types, not units: ``downtime-limit`` is a ``uint64`` the
doc calls milliseconds, ``max-bandwidth`` a ``size`` that is bytes per
second. The units live in this small table, reviewed against the docs of
the bundled releases; a member it does not know is shown as a plain number.
"""

from __future__ import annotations

import json
from typing import Any

from migtui.qapi.fields import FieldKind, FieldSpec
from migtui.units import NO_CAP, exact_bytes

MILLISECONDS = "ms"
PERCENT = "%"
BYTES_PER_SECOND = "/s"

#: Member -> unit, from the members' docs ("in milliseconds", "percentage", "bytes per second").
UNITS: dict[str, str] = {
    "downtime-limit": MILLISECONDS,
    "x-checkpoint-delay": MILLISECONDS,
    "announce-initial": MILLISECONDS,
    "announce-max": MILLISECONDS,
    "announce-step": MILLISECONDS,
    "announce-rounds": " packets",  # a size in the schema, a count in the doc
    "x-vcpu-dirty-limit-period": MILLISECONDS,
    "cpu-throttle-initial": PERCENT,
    "cpu-throttle-increment": PERCENT,
    "max-cpu-throttle": PERCENT,
    "throttle-trigger-threshold": PERCENT,
    "max-bandwidth": BYTES_PER_SECOND,
    "max-postcopy-bandwidth": BYTES_PER_SECOND,
    "vcpu-dirty-limit": " MB/s",
    "avail-switchover-bandwidth": BYTES_PER_SECOND,
}

#: Members whose 0 is no figure but a choice, in their docs' words.
ZERO_MEANS: dict[str, str] = {
    "max-bandwidth": "0 (unlimited)",  # undocumented; measured on 7.2: a migration runs at full speed
    "max-postcopy-bandwidth": "0 (unlimited)",
    "avail-switchover-bandwidth": "0 (estimated by QEMU)",
}

#: What a field of each unit expects, for the message when what was typed is not that.
HINTS: dict[str, str] = {
    MILLISECONDS: "a whole number of milliseconds, such as 50",
    PERCENT: "a percentage, a whole number such as 20",
    BYTES_PER_SECOND: "bytes per second, such as 1048576, 512K, 64M or 1G",
}


def human_value(spec: FieldSpec | None, value: Any) -> str:
    """``134217728`` of max-bandwidth -> ``128 MiB/s``; ``300`` of downtime-limit -> ``300 ms``."""
    if value is None:
        return "null"
    if spec is None:
        return _plain(value)
    if spec.kind is FieldKind.BOOL:
        return "on" if value else "off"
    if isinstance(value, int) and (said := human_number(spec.name, value)) is not None:
        return said
    if spec.kind is FieldKind.SIZE and isinstance(value, int):
        return exact_bytes(value)
    if spec.kind is FieldKind.STR_OR_NULL or spec.kind is FieldKind.STR:
        return repr(value) if value == "" else str(value)
    return _plain(value)


def human_number(name: str, value: int) -> str | None:
    """A whole number of member ``name`` in its unit (None: the member has none here); the schema's
    type is not needed: announce-* are sizes in the schema but milliseconds in their docs."""
    unit = UNITS.get(name, "")
    if unit in (MILLISECONDS, PERCENT) or unit.startswith(" "):
        return f"{value} {unit}" if unit == MILLISECONDS else f"{value}{unit}"
    if value == 0 and name in ZERO_MEANS:
        return ZERO_MEANS[name]
    if unit == BYTES_PER_SECOND:
        # libvirt's default reads as 8 EiB/s, a figure no one set
        return "unlimited" if value >= NO_CAP else exact_bytes(value) + unit
    return None


def value_hint(spec: FieldSpec) -> str | None:
    """What ``spec``'s field expects, in its unit ("a whole number of milliseconds, such as 50");
    None when the member has no unit here (its kind says it all)."""
    unit = UNITS.get(spec.name)
    if unit is None:
        return None
    if unit.startswith(" "):  # a count: " packets", " MB/s"
        return f"a whole number of{unit}, such as 5"
    return HINTS[unit]


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)
