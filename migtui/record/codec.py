"""How a sample, a prediction or any entry becomes a row, and back.

A ``query-migrate`` answer is split into its hot members (one column each,
see :data:`~migtui.record.hot_fields.HOT_FIELDS`) and its shape: the rest, which
stays the same through a migration and is stored once. Joining them gives the
answer back exactly as QEMU spelled it.
"""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from typing import Any

from migtui.record.hot_fields import HOT_FIELDS


def split(answer: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    # Copy only the dicts hot members are taken from (a deep copy per sample costs more than the rest).
    rest = {key: dict(value) if isinstance(value, dict) else value for key, value in answer.items()}
    hot = []
    for path in HOT_FIELDS:
        holder: Any = rest
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        hot.append(holder.pop(path[-1], None) if isinstance(holder, dict) else None)
    return dumps(rest), tuple(hot)


def join(shape: str, hot: tuple[Any, ...]) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(shape)
    for path, value in zip(HOT_FIELDS, hot, strict=False):
        if value is None:
            continue
        holder: dict[str, Any] = answer
        for key in path[:-1]:
            holder = holder.setdefault(key, {})
        holder[path[-1]] = value
    return answer


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON (equal values give equal text: shapes are looked up by it)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)


def plain(value: Any) -> Any:
    """A dataclass (a prediction, whatever its fields are today) as JSON-ready data."""
    return json.loads(dumps(value))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    return str(value)
