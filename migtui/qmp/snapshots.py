"""Snapshot jobs (snapshot-save, -load, -delete) followed to their end.

What QEMU does, and so what this module does:

* QMP is silent for the whole save or load; the command itself returns ``{}``
  even when the job fails. The job's JOB_STATUS_CHANGE events go created,
  running, (waiting, pending | aborting), concluded.
* A failed job's reason is only in ``query-jobs``' ``error``, readable until
  the job is dismissed: read it first.
* A failed load leaves the VM paused in ``restore-vm``: the outcome says so
  and ``resume()`` (``cont``) gets it going again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from migtui.model.events import QMPEvent
from migtui.model.jobs import Job
from migtui.model.snapshots import Snapshot, snapshots_from_block, writable_format_nodes
from migtui.qmp.queries import Queries
from migtui.qmp.session import VMSession

JOB_CHECK_INTERVAL = 2.0
"""Seconds without a job event after which the follower checks that QEMU and the job are still there."""


@dataclass
class JobOutcome:
    job: Job
    run_state: str | None = None
    """The VM's run state once the job ended (``restore-vm`` after a failed load)."""
    dismissed: bool = False

    @property
    def ok(self) -> bool:
        return self.job.status == "concluded" and not self.job.error

    @property
    def needs_resume(self) -> bool:
        return self.run_state in ("restore-vm", "paused") and self.job.type == "snapshot-load" and not self.ok


@dataclass
class SnapshotRequest:
    verb: str
    tag: str
    job_id: str
    vmstate: str | None = None
    devices: list[str] = field(default_factory=list)

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {"job-id": self.job_id, "tag": self.tag, "devices": self.devices}
        if self.verb != "delete":
            args["vmstate"] = self.vmstate
        return args


def form_values(verb: str, tag: str, nodes: list[str], now: datetime | None = None) -> dict[str, Any]:
    """What a snapshot form starts with: a fresh job id, the tag, every node."""
    return {"job-id": suggest_job_id(verb, tag or "snap", now), "tag": tag,
            "vmstate": nodes[0] if nodes else None, "devices": list(nodes)}


def request_from(verb: str, arguments: dict[str, Any]) -> SnapshotRequest:
    return SnapshotRequest(verb, arguments["tag"], arguments["job-id"], arguments.get("vmstate"),
                           list(arguments.get("devices", [])))


def suggest_job_id(verb: str, tag: str, now: datetime | None = None) -> str:
    return f"{verb}-{tag}-{(now or datetime.now()).strftime('%H%M%S')}"


async def list_snapshots(session: Queries) -> list[Snapshot]:
    return snapshots_from_block(await session.query_list("query-block"))


async def snapshot_nodes(session: Queries) -> list[str]:
    return writable_format_nodes(await session.query_list("query-named-block-nodes", {"flat": True}))


async def run_job(session: VMSession, request: SnapshotRequest, dismiss: bool = True) -> JobOutcome:
    """Start the job and follow it to ``concluded``; read its error; dismiss it if asked.

    The listener is in place before the command goes out, so no event of the
    job is missed even though QEMU answers the command only at the end.
    """
    job = Job(id=request.job_id, type=f"snapshot-{request.verb}")
    job.enter("created")
    with session.listener("JOB_STATUS_CHANGE", lambda e: e["data"].get("id") == request.job_id) as events:
        await session.execute(f"snapshot-{request.verb}", request.arguments(), timeout=None)
        while job.status != "concluded":
            try:
                async with asyncio.timeout(JOB_CHECK_INTERVAL):
                    event = await events.get()
            except TimeoutError:
                # No news: make sure QEMU and the job are still there. A lost
                # link raises here; a job dismissed elsewhere ends the wait.
                if not any(entry.get("id") == job.id for entry in await session.query_list("query-jobs")):
                    job.error = job.error or "the job disappeared before it concluded (dismissed elsewhere?)"
                    break
                continue
            # By QEMU's timestamp: the monitor is silent while a save runs, so its events come together.
            told = QMPEvent.from_qmp(session.name, cast(dict[str, Any], event))  # qemu.qmp types it as object
            job.enter(str(told.data["status"]), told.wall)
    for entry in await session.query_list("query-jobs"):
        if entry.get("id") == job.id:
            job.error = entry.get("error")
    outcome = JobOutcome(job, (await session.query("query-status")).get("status"))
    if dismiss:
        await session.execute("job-dismiss", {"id": job.id})
        outcome.dismissed = True
    return outcome


async def dismiss(session: VMSession, job_id: str) -> None:
    await session.execute("job-dismiss", {"id": job_id})


async def cancel(session: VMSession, job_id: str) -> None:
    await session.execute("job-cancel", {"id": job_id})


async def resume(session: VMSession) -> None:
    """Let a VM paused by a failed load run again."""
    await session.execute("cont")
