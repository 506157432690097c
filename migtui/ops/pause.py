"""Pause a running postcopy on purpose (a flaky link the admin wants to fix first); recover resumes it."""

from __future__ import annotations

from migtui.model.controls import Control
from migtui.ops.question import Question
from migtui.ops.verb import MigrationVerb
from migtui.qmp.postcopy_recovery import pause
from migtui.qmp.session import VMSession


def question(vm: str) -> Question:
    return Question(f"Pause the postcopy of {vm}",
                    f"Pause the postcopy of {vm}? The stream stops: the guest on the destination waits for "
                    "the pages still missing until the postcopy is recovered (R, or migtui recover).",
                    yes="Pause it", no="Keep going")


async def run(session: VMSession) -> str:
    await pause(session)
    return f"{session.name}: postcopy paused (recover it with migtui recover {session.name})"


PAUSE = MigrationVerb(Control.PAUSE, question, run)
