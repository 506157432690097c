"""Chart marks: moments worth a vertical line on every chart of a VM.

The hook for annotations such as "downtime-limit 50 -> 500 ms": whoever
changes something calls ``app.add_mark(vm, text)`` (the App owns one
:class:`MarkBook` for the whole fleet, so marks outlive the VM screen) and
every chart of that VM draws a vertical line at that moment, labelled with
the text. The dashboard itself marks the migrations it starts, cancels or
switches to postcopy.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChartMark:
    at: float
    """time.monotonic() of the moment, the clock samples use."""
    text: str


MARKS_PER_VM = 100


@dataclass
class MarkBook:
    """The marks of every VM, the last MARKS_PER_VM of each."""

    _marks: dict[str, deque[ChartMark]] = field(default_factory=dict)

    def add(self, vm: str, text: str, at: float | None = None) -> ChartMark:
        mark = ChartMark(time.monotonic() if at is None else at, text)
        self._marks.setdefault(vm, deque(maxlen=MARKS_PER_VM)).append(mark)
        return mark

    def clear(self) -> None:
        self._marks.clear()

    def of(self, vm: str) -> list[ChartMark]:
        return list(self._marks.get(vm, ()))
