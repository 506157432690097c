"""``migtui cancel VM`` and ``migtui postcopy VM``: steer a running migration from a script.

The same engine calls and questions as the dashboard's ``c`` and ``p``; asked
on a terminal, else confirmed only by ``--yes``. In read-only mode nothing is
asked: the gate refuses the command (and audits the refusal).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from migtui.cli.common import (
    add_inventory_options, add_safety_options, gate_from_args, inventory_from_args, open_session,
)
from migtui.cli.confirm import confirm
from migtui.errors import UsageError
from migtui.model.sample import ACTIVE_STATES
from migtui.qmp import migration
from migtui.qmp.replies import capability_states
from migtui.qmp.session import VMSession

CANCEL_WAIT_S = 10.0
"""How long ``cancel`` waits for QEMU to report the migration cancelled."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, text, func in (
        ("cancel", "cancel a VM's outgoing migration (the VM keeps running where it is)", run_cancel),
        ("postcopy", "switch a VM's outgoing migration to postcopy (needs postcopy-ram on both sides)",
         run_postcopy),
    ):
        parser = subparsers.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        parser.add_argument("target", metavar="VM", help="the source of the migration")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        add_inventory_options(parser)
        add_safety_options(parser)
        parser.set_defaults(func=func)


async def run_cancel(args: argparse.Namespace) -> int:
    async def cancel(session: VMSession) -> None:
        print(await cancel_and_wait(session))

    return await _steer(args, "cancel", migration.cancel_question, cancel)


async def cancel_and_wait(session: VMSession) -> str:
    """Cancel ``session``'s migration; say how it ended (``migrate --wait`` asks this on Ctrl+C too)."""
    await migration.cancel(session)
    # migrate_cancel returns at once; the migration ends a moment later.
    try:
        async with asyncio.timeout(CANCEL_WAIT_S):
            final = await migration.wait_until_done(session)
    except TimeoutError:
        return f"{session.name}: cancel sent; the migration has not ended after {CANCEL_WAIT_S:g} s"
    return f"{session.name}: migration {final.get('status')}"


async def run_postcopy(args: argparse.Namespace) -> int:
    async def postcopy(session: VMSession) -> None:
        await migration.start_postcopy(session)
        print(f"{session.name}: switched to postcopy")

    return await _steer(args, "postcopy", migration.postcopy_question, postcopy)


async def _steer(args: argparse.Namespace, action: str, question: Callable[[str], str],
                 act: Callable[[VMSession], Awaitable[None]]) -> int:
    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    entry = inventory.get(args.target)
    async with open_session(inventory, entry, gate) as session:
        await _check_migrating_out(session, action)
        if not gate.read_only:  # read-only: the gate refuses it below, nothing to ask
            confirm(question(session.name), args.yes)
        await act(session)
    return 0


async def _check_migrating_out(session: VMSession, action: str) -> None:
    """Refuse (before asking) when there is nothing to steer: QEMU would take a
    cancel without a migration silently."""
    status = (await session.query("query-migrate")).get("status") or "none"
    if status not in ACTIVE_STATES:
        raise UsageError(f"{session.name}: no migration to {action} (status {status})")
    if (await session.query("query-status"))["status"] == "inmigrate":
        raise UsageError(f"{session.name} is the destination of the migration: {action} it on the source")
    if action == "postcopy":
        if status != "active":
            raise UsageError(f"{session.name}: the migration is {status}: only an active one can switch to postcopy")
        capabilities = capability_states(await session.query_list("query-migrate-capabilities"))
        if not capabilities.get("postcopy-ram"):
            raise UsageError(f"{session.name}: postcopy-ram is off: it must be on at both ends before the "
                             "migration starts (migtui migrate --cap postcopy-ram=on)")


def hint_cancel(vm: str, args: argparse.Namespace) -> str:
    """The command that cancels ``vm``'s migration, with the options that found it."""
    options = f" --config {args.config}" if getattr(args, "config", None) else ""
    options += "".join(f" --vm {pair}" for pair in getattr(args, "vm", []) or [])
    return f"migtui cancel {vm}{options}"
