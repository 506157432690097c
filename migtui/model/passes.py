"""What the guest dirties per pass, read off the saw-tooth of ``remaining``.

QEMU's ``remaining`` counts the pages dirty in its bitmap and not yet sent.
It only falls during a pass and jumps at each dirty-bitmap sync
(``dirty-sync-count`` + 1), when QEMU adds what the guest dirtied since the
previous sync. So the largest ``remaining`` seen during a pass is the best
reading of that pass's start, and for every pass after the first it is the
per-pass dirty set: the bytes the guest dirtied during the pass before. That
figure is what QEMU's switchover rule compares against bandwidth x
downtime-limit; the ``remaining`` of a random moment is not.

A migration already running when migtui attached is first seen in the
middle of a pass: that pass's largest ``remaining`` is only what was left of
it, not its start (read as a dirty set, it made the advice swing from 530 ms
to 49 s in a second). Its passes count from the next one.
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
    attached_during: int | None
    """The pass during which migtui first saw the migration, when that was after its first pass
    (None: seen from its start, or during the first pass, which no dirty set is read from anyway)."""

    def __init__(self) -> None:
        self.passes = {}
        self.attached_during = None

    def clear(self, attached_during: int | None = None) -> None:
        self.passes.clear()
        self.attached_during = attached_during if attached_during and attached_during >= 2 else None

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
        first = 2 if self.attached_during is None else self.attached_during + 1
        return [self.passes[n].start_remaining for n in sorted(self.passes) if n >= first][-last:]
