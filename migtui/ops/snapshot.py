"""Snapshot jobs: save, load and delete a VM's internal snapshots, and steer their jobs.

What each verb refuses before anything is sent (a load of a tag that does
not exist would pause the guest: QEMU stops it before it looks), what it
asks, and the words for how its job ended, for the command line and the
dashboard's snapshots screen alike. The jobs themselves run in the engine
(:mod:`migtui.qmp.snapshots`).
"""

from __future__ import annotations

from enum import StrEnum

from migtui.model.snapshots import Snapshot, unknown_tag
from migtui.ops.question import Question
from migtui.qmp.snapshots import JobOutcome, SnapshotRequest


class SnapshotVerb(StrEnum):
    """The snapshot commands, by the word QEMU's ``snapshot-VERB`` uses."""

    SAVE = "save"
    LOAD = "load"
    DELETE = "delete"

    @property
    def command(self) -> str:
        return f"snapshot-{self.value}"


class JobVerb(StrEnum):
    """What can be done to a job once it runs, or to the VM a failed load left paused."""

    DISMISS = "dismiss"
    CANCEL = "cancel"
    RESUME = "resume"


def refusal(vm: str, verb: SnapshotVerb, tag: str, snapshots: list[Snapshot], nodes: list[str]) -> str | None:
    """Why ``verb`` cannot act on ``vm`` now (None: it can), from its snapshots and writable nodes."""
    if not nodes:
        return (f"{vm} has no writable qcow2 disk: QEMU keeps internal snapshots (and the VM state) "
                "in qcow2 images (a lab VM gets one with `migtui lab up --disk`).")
    if verb is SnapshotVerb.SAVE:
        return None
    return unknown_tag(vm, tag, snapshots)


def question(vm: str, verb: SnapshotVerb, tag: str) -> Question | None:
    """What to ask before ``verb`` (None: a save asks nothing)."""
    if verb is SnapshotVerb.LOAD:
        return Question(f"Load {tag!r} on {vm}",
                        f"Load snapshot {tag!r} into {vm}? Its running state is replaced by the saved one.",
                        yes="Load")
    if verb is SnapshotVerb.DELETE:
        return Question(f"Delete {tag!r} on {vm}", f"Delete snapshot {tag!r} of {vm}? This cannot be undone.",
                        yes="Delete")
    return None


def ended(vm: str, request: SnapshotRequest, outcome: JobOutcome) -> str:
    """How the job ended, in a line: its phases, or QEMU's reason (read from query-jobs)."""
    what = f"{vm}: snapshot-{request.verb} {request.tag!r}"
    if outcome.ok:
        phases = ", ".join(f"{status} {seconds:.1f} s" for status, seconds in outcome.job.elapsed())
        return f"{what} concluded ({phases})"
    return f"{what} failed: {outcome.job.error}"


def left_paused(vm: str, outcome: JobOutcome) -> str | None:
    """What a failed load did to the guest (None: nothing): QEMU leaves it paused."""
    return f"{vm} is left paused ({outcome.run_state})" if outcome.needs_resume else None


def job_done(vm: str, verb: JobVerb, job_id: str | None = None) -> str:
    if verb is JobVerb.RESUME:
        return f"{vm} runs again"
    return f"{vm}: job {job_id} {'dismissed' if verb is JobVerb.DISMISS else 'cancelled'}"
