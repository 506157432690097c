"""``--set NAME=VALUE`` and ``--cap NAME=on|off`` as QMP arguments."""

from __future__ import annotations

import re

from migtui.errors import UsageError

_SIZE = re.compile(r"^(\d+)([KMGT])i?B?$", re.IGNORECASE)
_FACTORS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_value(text: str) -> object:
    """A typed QMP value from text: integers, sizes (64M), booleans, else a string."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if match := _SIZE.match(text):
        return int(match.group(1)) * _FACTORS[match.group(2).upper()]
    if text in ("true", "on", "yes"):
        return True
    if text in ("false", "off", "no"):
        return False
    return text


def parse_parameters(pairs: list[str]) -> dict[str, object]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--set {pair!r}: expected PARAM=VALUE")
        params[name] = parse_value(value)
    return params


def parse_capabilities(pairs: list[str]) -> dict[str, bool]:
    caps = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or value not in ("on", "off"):
            raise UsageError(f"--cap {pair!r}: expected NAME=on or NAME=off")
        caps[name] = value == "on"
    return caps
