"""Block jobs (snapshot-save, -load, -delete) as QEMU reports them.

QEMU's ``query-jobs`` progress is always 1/1 for snapshot jobs, so it tells
nothing; what does is how long a job spends in each status, which the book
measures from ``JOB_STATUS_CHANGE`` events (by QEMU's own timestamps: the
events of a save may reach migtui together, after a monitor silent for the
whole job) and ``query-jobs`` answers (when they are read). ``null`` is the
job's disposal, not a phase it spends time in.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

DONE_STATES = frozenset({"concluded", "null"})


@dataclass
class Job:
    id: str
    type: str = "?"
    status: str = "created"
    error: str | None = None
    phases: list[tuple[str, float]] = field(default_factory=list)
    """(status, when entered: seconds since the epoch, QEMU's event timestamp where there was one), oldest first."""

    def enter(self, status: str, at: float | None = None) -> None:
        if self.phases and self.phases[-1][0] == status:
            return
        self.status = status
        self.phases.append((status, time.time() if at is None else at))

    @property
    def done(self) -> bool:
        return self.status in DONE_STATES

    def elapsed(self, now: float | None = None) -> list[tuple[str, float]]:
        """Seconds spent in each status, the current one up to ``now`` (epoch seconds); not ``null``."""
        now = time.time() if now is None else now
        spans = []
        for (status, start), nxt in zip(self.phases, [*self.phases[1:], None], strict=False):
            if status == "null":
                continue
            end = nxt[1] if nxt else (start if self.done else now)
            spans.append((status, max(0.0, end - start)))
        return spans


FINISHED_KEPT = 20


@dataclass
class JobBook:
    jobs: dict[str, Job] = field(default_factory=dict)
    """The jobs QEMU has now, by id."""
    finished: deque[Job] = field(default_factory=lambda: deque(maxlen=FINISHED_KEPT))
    """Jobs QEMU no longer lists (dismissed), newest last: their outcome and
    error stay visible after QEMU forgot them."""

    def on_event(self, data: dict[str, Any], wall: float | None = None) -> Job:
        """A JOB_STATUS_CHANGE's data; ``wall``: QEMU's timestamp of it."""
        job = self.jobs.setdefault(str(data.get("id")), Job(id=str(data.get("id"))))
        job.enter(str(data.get("status")), wall)
        if job.status == "null":
            self._forget(job.id)
        return job

    def _forget(self, job_id: str) -> None:
        job = self.jobs.pop(job_id, None)
        if job is not None:
            self.finished.append(job)

    def update(self, listing: list[dict[str, Any]]) -> None:
        """Take a ``query-jobs`` answer: the truth about which jobs exist."""
        seen = set()
        for entry in listing:
            job_id = str(entry.get("id"))
            seen.add(job_id)
            job = self.jobs.setdefault(job_id, Job(id=job_id))
            job.type = str(entry.get("type", job.type))
            job.enter(str(entry.get("status", job.status)))
            job.error = entry.get("error") or job.error
        for job_id in set(self.jobs) - seen:
            self._forget(job_id)  # dismissed, here or by another client

    @property
    def running(self) -> list[Job]:
        return [job for job in self.jobs.values() if not job.done]
