"""What the guest dirties per pass, read off the saw-tooth of ``remaining``.

QEMU's ``remaining`` counts the pages dirty in its bitmap and not yet sent.
It only falls during a pass and jumps at each dirty-bitmap sync
(``dirty-sync-count`` + 1), when QEMU adds what the guest dirtied since the
previous sync. So the largest ``remaining`` seen during a pass is the best
reading of that pass's start, and for every pass after the first it is the
per-pass dirty set: the bytes the guest dirtied during the pass before. That
figure is what QEMU's switchover rule compares against bandwidth x
downtime-limit; the ``remaining`` of a random moment is not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PassRecord:
    number: int
    """QEMU's ``dirty-sync-count`` during the pass (1: the first pass over all RAM)."""
    start_remaining: int
    """The largest ``remaining`` seen during the pass: its start, as near as sampled."""
    first_seen: float
    """Monotonic time of the first sample of the pass."""


@dataclass
class PassLog:
    """The passes of one migration, oldest first."""

    passes: dict[int, PassRecord]

    def __init__(self) -> None:
        self.passes = {}

    def clear(self) -> None:
        self.passes.clear()

    def add(self, number: int, remaining: int, at: float) -> None:
        if number <= 0:
            return
        record = self.passes.get(number)
        if record is None:
            self.passes[number] = PassRecord(number, remaining, at)
            if len(self.passes) > 256:  # a migration that never ends must not grow without bound
                del self.passes[min(self.passes)]
        elif remaining > record.start_remaining:
            record.start_remaining = remaining

    @property
    def current(self) -> PassRecord | None:
        return self.passes[max(self.passes)] if self.passes else None

    def dirty_sets(self, last: int = 4) -> list[int]:
        """The per-pass dirty sets (pass starts after the first), the newest ``last``."""
        return [self.passes[n].start_remaining for n in sorted(self.passes) if n >= 2][-last:]
