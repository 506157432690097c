"""Samples of one VM packed into a block: each stored as its difference from the one before.

Most of a migrating sample is predictable from the previous one: the page
counters grow, ``remaining`` falls by the pages just sent, ``normal-bytes``
is ``normal`` pages times the page size, ``total-time`` grows with the clock.
A sample is stored as a bit mask of the members that are not what the
prediction says, then for each of those its difference from the prediction
(a zigzag varint) or, for a float or anything else, the value itself.
Predictions only decide how small a sample gets: decoding applies the same
prediction and adds what was stored, so every answer comes back exactly.

A block starts from nothing (its first sample stores its values whole), so
each block decodes on its own; the recorder closes one after
:data:`BLOCK_SAMPLES` samples or :data:`BLOCK_SPAN_MS` of wall time.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from migtui.record.hot_fields import HOT_COLUMNS

BLOCK_SAMPLES = 240
"""Samples a block holds: a block of migrating samples is a few kB, a page or two."""
BLOCK_SPAN_MS = 600_000
"""Wall time a block covers at most (an idle answer repeating lasts as long as it repeats):
retention deletes whole blocks, so this is how far past its cutoff a sample may stay."""

_ORDER = ("ram_normal", "ram_duplicate", "ram_normal_bytes", "ram_remaining", "ram_transferred",
          "ram_precopy_bytes", "total_time", "ram_mbps", "ram_pages_per_second", "expected_downtime",
          "ram_dirty_pages_rate", "ram_dirty_sync_count", "cpu_throttle_percentage")
"""The order members are encoded in: a prediction uses members decoded before it; the ones that
change least go last, where their bits of the mask are beyond the varint's first two bytes."""
_POSITION = tuple(HOT_COLUMNS.index(name) for name in _ORDER)
assert sorted(_POSITION) == list(range(len(HOT_COLUMNS)))

_FLAG_REPEATS, _FLAG_SHAPE, _FLAG_MONO, _FLAGS = 1, 2, 4, 3
_INT, _NONE, _FLOAT, _JSON = 0, 1, 2, 3
_DOUBLE = struct.Struct("<d")


@dataclass
class Record:
    """One sample row: an answer (its shape and hot members) and how long it repeated."""

    id: int
    wall_ms: int
    mono_ms: int
    shape: int
    hot: tuple[Any, ...]
    """In :data:`~migtui.record.hot_fields.HOT_COLUMNS` order."""
    until_ms: int | None = None
    repeats: int = 0


_START = Record(0, 0, 0, 0, (None,) * len(HOT_COLUMNS))


def _int(value: object) -> TypeGuard[int]:
    return type(value) is int


_PREDICTED = frozenset({"ram_normal_bytes", "total_time", "ram_remaining", "ram_transferred", "ram_precopy_bytes"})
"""The members :func:`_predict` has a guess for (the others: their previous value)."""


def _predict(name: str, prev: dict[str, Any], cur: dict[str, Any], wall_step: int) -> Any:
    """What ``name`` is expected to be from the previous record and the members of this one decoded
    before it (None: no guess, the previous value is the base)."""
    before = prev[name]
    if name == "ram_normal_bytes":
        normal = cur["ram_normal"]
        return normal * _page_size(prev) if _int(normal) else None
    if not _int(before):
        return None
    if name == "total_time":
        return before + wall_step
    if name in ("ram_remaining", "ram_transferred"):
        normal, zero = _step(prev, cur, "ram_normal"), _step(prev, cur, "ram_duplicate")
        if normal is None or zero is None:
            return None
        if name == "ram_remaining":
            return before - (normal + zero) * _page_size(prev)
        return before + normal * (_page_size(prev) + 8) + zero * 9  # a page's header: 8 bytes, a zero page's 9
    if name == "ram_precopy_bytes":
        sent = _step(prev, cur, "ram_transferred")
        return before + sent if sent is not None else None
    return None


def _step(prev: dict[str, Any], cur: dict[str, Any], name: str) -> int | None:
    a, b = prev[name], cur[name]
    return b - a if _int(a) and _int(b) else None


def _page_size(prev: dict[str, Any]) -> int:
    normal, normal_bytes = prev.get("ram_normal"), prev.get("ram_normal_bytes")
    if _int(normal) and _int(normal_bytes) and normal > 0 and normal_bytes % normal == 0:
        return normal_bytes // normal
    return 4096


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return _DOUBLE.pack(a) == _DOUBLE.pack(b)  # 0.0 and -0.0 differ, a NaN equals itself
    return bool(a == b)


def encode(prev: Record | None, rec: Record, out: bytearray) -> None:
    """Append ``rec``, as its difference from ``prev`` (None: the block's first), to ``out``."""
    prev = prev or _START
    wall_step = rec.wall_ms - prev.wall_ms if prev is not _START else 0
    before = dict(zip(HOT_COLUMNS, prev.hot, strict=False))
    now = dict(zip(HOT_COLUMNS, rec.hot, strict=False))
    mask, values = 0, bytearray()
    for bit, name in enumerate(_ORDER):
        value, guess = now[name], _predict(name, before, now, wall_step) if name in _PREDICTED else None
        base = before[name] if guess is None else guess
        if _same(value, base):
            continue
        if _int(value):
            _varint(values, _zigzag(value - (base if _int(base) else 0)) << 2 | _INT)
        else:
            _value(values, value)
        mask |= 1 << bit
    mono = rec.mono_ms - prev.mono_ms - wall_step
    flags = (_FLAG_REPEATS if rec.repeats else 0) | (_FLAG_SHAPE if rec.shape != prev.shape else 0) | \
        (_FLAG_MONO if mono else 0)
    _varint(out, flags | mask << _FLAGS)
    _varint(out, rec.id - prev.id if prev is not _START else 0)
    _varint(out, _zigzag(wall_step))
    if mono:
        _varint(out, _zigzag(mono))
    if rec.shape != prev.shape:
        _varint(out, _zigzag(rec.shape - prev.shape))
    if rec.repeats:
        _varint(out, rec.repeats)
        _varint(out, _zigzag((rec.until_ms or rec.wall_ms) - rec.wall_ms))
    out += values


def decode(data: bytes, first_id: int, first_ms: int) -> list[Record]:
    """The records of a block whose first sample has ``first_id`` and was taken at ``first_ms``."""
    records: list[Record] = []
    prev, at = _START, 0
    while at < len(data):
        head, at = _read(data, at)
        id_step, at = _read(data, at)
        wall_step, at = _read(data, at)
        wall_step = _unzigzag(wall_step)
        ident = prev.id + id_step if prev is not _START else first_id
        wall = prev.wall_ms + wall_step if prev is not _START else first_ms
        mono = prev.mono_ms + wall_step
        if head & _FLAG_MONO:
            step, at = _read(data, at)
            mono += _unzigzag(step)
        shape = prev.shape
        if head & _FLAG_SHAPE:
            step, at = _read(data, at)
            shape += _unzigzag(step)
        repeats, until = 0, None
        if head & _FLAG_REPEATS:
            repeats, at = _read(data, at)
            step, at = _read(data, at)
            until = wall + _unzigzag(step)
        before = dict(zip(HOT_COLUMNS, prev.hot, strict=False))
        now: dict[str, Any] = {}
        mask = head >> _FLAGS
        for bit, name in enumerate(_ORDER):
            guess = _predict(name, before, now, wall_step) if name in _PREDICTED else None
            base = before[name] if guess is None else guess
            if not mask >> bit & 1:
                now[name] = base
                continue
            token, at = _read(data, at)
            kind = token & 3
            if kind == _INT:
                now[name] = (base if _int(base) else 0) + _unzigzag(token >> 2)
            elif kind == _NONE:
                now[name] = None
            elif kind == _FLOAT:
                now[name] = _DOUBLE.unpack_from(data, at)[0]
                at += _DOUBLE.size
            else:
                size = token >> 2
                now[name] = json.loads(data[at:at + size].decode())
                at += size
        prev = Record(ident, wall, mono, shape, tuple(now[name] for name in HOT_COLUMNS), until, repeats)
        records.append(prev)
    return records


@dataclass
class OpenBlock:
    """The block a VM's samples are going into; its last record may still repeat."""

    run: int
    vm: int
    prefix: bytearray = field(default_factory=bytearray)
    """The records before the last, encoded."""
    before_last: Record | None = None
    last: Record | None = None
    first_id: int = 0
    first_ms: int = 0
    prefix_ms: int = 0
    """The latest time of the records in ``prefix``."""
    count: int = 0
    _last_key: tuple[int, int, int | None] | None = None
    _last_bytes: bytes = b""

    def add(self, rec: Record) -> None:
        if self.last is None:
            self.first_id, self.first_ms = rec.id, rec.wall_ms
        else:
            self.prefix += self._encoded_last()
            self.prefix_ms = max(self.prefix_ms, _end(self.last))
            self.before_last = self.last
        self.last = rec
        self.count += 1

    def full(self, wall_ms: int) -> bool:
        return self.count >= BLOCK_SAMPLES or wall_ms - self.first_ms > BLOCK_SPAN_MS

    def data(self) -> bytes:
        return bytes(self.prefix + self._encoded_last()) if self.last is not None else bytes(self.prefix)

    def _encoded_last(self) -> bytes:
        """The last record encoded; once a second and once more when the next comes, so it is kept."""
        assert self.last is not None
        key = (self.last.id, self.last.repeats, self.last.until_ms)
        if self._last_key != key:
            out = bytearray()
            encode(self.before_last, self.last, out)
            self._last_key, self._last_bytes = key, bytes(out)
        return self._last_bytes

    def row(self) -> tuple[Any, ...]:
        """(first_id, run, vm, last_id, first_ms, last_ms, data), as the block tables hold it."""
        assert self.last is not None
        return (self.first_id, self.run, self.vm, self.last.id, self.first_ms,
                max(self.prefix_ms, _end(self.last)), self.data())

    def prefix_row(self) -> tuple[Any, ...]:
        """The row of the records before the last (a block of its own when the last repeats on and on)."""
        assert self.before_last is not None
        return (self.first_id, self.run, self.vm, self.before_last.id, self.first_ms, self.prefix_ms,
                bytes(self.prefix))


def _end(rec: Record) -> int:
    return max(rec.wall_ms, rec.until_ms or rec.wall_ms)


def _zigzag(n: int) -> int:
    return n << 1 if n >= 0 else (-n << 1) - 1


def _unzigzag(n: int) -> int:
    return n >> 1 if not n & 1 else -((n + 1) >> 1)


def _varint(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)


def _read(data: bytes, at: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = data[at]
        at += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, at
        shift += 7


def _value(out: bytearray, value: Any) -> None:
    if value is None:
        out.append(_NONE)
    elif type(value) is float:
        out.append(_FLOAT)
        out += _DOUBLE.pack(value)
    else:  # a bool, a string, whatever QEMU may put there one day: as JSON
        text = json.dumps(value).encode()
        _varint(out, len(text) << 2 | _JSON)
        out += text
