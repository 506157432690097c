"""Switch a VM's outgoing migration to postcopy: it finishes, the guest running on the destination."""

from __future__ import annotations

from migtui.model.controls import Control
from migtui.ops.question import Question
from migtui.ops.verb import MigrationVerb
from migtui.qmp import migration
from migtui.qmp.session import VMSession


def question(vm: str) -> Question:
    return Question(f"Postcopy for {vm}",
                    f"Switch the migration of {vm} to postcopy? The guest then runs on the destination "
                    "and fetches the pages still missing on demand: it will finish, but if the link "
                    "breaks meanwhile, the guest pauses, split between both hosts, until the postcopy "
                    "is recovered (R, or migtui recover).",
                    yes="Switch to postcopy")


async def run(session: VMSession) -> str:
    await migration.start_postcopy(session)
    return f"{session.name}: switched to postcopy"


POSTCOPY = MigrationVerb(Control.POSTCOPY, question, run)
