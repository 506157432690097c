"""Cancel a VM's outgoing migration: the VM keeps running where it is."""

from __future__ import annotations

import asyncio

from migtui.model.controls import Control
from migtui.ops.question import Question
from migtui.ops.verb import MigrationVerb
from migtui.qmp import migration
from migtui.qmp.session import VMSession

WAIT_S = 10.0
"""How long a cancel waits for QEMU to report the migration ended."""


def question(vm: str) -> Question:
    return Question(f"Cancel the migration of {vm}",
                    f"Cancel the migration of {vm}? The VM keeps running where it is; "
                    "what was sent to the destination is thrown away.",
                    yes="Cancel it", no="Keep migrating")


async def run(session: VMSession) -> str:
    """Cancel the migration; its outcome in words once QEMU says it ended (migrate_cancel
    returns at once, the migration ends a moment later)."""
    await migration.cancel(session)
    try:
        async with asyncio.timeout(WAIT_S):
            final = await migration.wait_until_done(session)
    except TimeoutError:
        return f"{session.name}: cancel sent; the migration has not ended after {WAIT_S:g} s"
    return f"{session.name}: migration {final.get('status')}"


CANCEL = MigrationVerb(Control.CANCEL, question, run)
