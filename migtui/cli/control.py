"""``migtui cancel|postcopy|pause|recover VM``: steer a running migration from a script.

The same engine calls and questions as the dashboard's ``c`` and ``p``; asked
on a terminal, else confirmed only by ``--yes``. In read-only mode nothing is
asked: the gate refuses the command (and audits the refusal).
"""

from __future__ import annotations

import argparse

from migtui.cli.common import (
    add_inventory_options,
    add_safety_options,
    gate_from_args,
    inventory_from_args,
    open_session,
    open_vm,
)
from migtui.cli.confirm import confirm
from migtui.errors import MigtuiError, UsageError
from migtui.inventory import Inventory
from migtui.model.controls import refusal
from migtui.model.status import MigrationStatus
from migtui.ops import recover
from migtui.ops.cancel import CANCEL
from migtui.ops.pause import PAUSE
from migtui.ops.postcopy import POSTCOPY
from migtui.ops.verb import MigrationVerb
from migtui.qmp.gate import CommandGate
from migtui.qmp.hosts import HostPool
from migtui.qmp.migration import read_facts


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, text, func in (
        ("cancel", "cancel a VM's outgoing migration (the VM keeps running where it is)", run_cancel),
        ("postcopy", "switch a VM's outgoing migration to postcopy (needs postcopy-ram on both sides)",
         run_postcopy),
        ("pause", "pause a VM's running postcopy on purpose (recover resumes it)", run_pause),
        ("recover", "recover a VM's postcopy whose stream broke (both sides postcopy-paused): the destination "
                    "listens again, the VM resumes sending", run_recover),
    ):
        parser = subparsers.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        parser.add_argument("target", metavar="VM", help="the source of the migration")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        if name == "recover":
            parser.add_argument("--to", metavar="VM", help="the destination VM (default: the only other VM of the "
                                                           "inventory whose postcopy is paused)")
        add_inventory_options(parser)
        add_safety_options(parser)
        parser.set_defaults(func=func)


async def run_cancel(args: argparse.Namespace) -> int:
    return await _steer(args, CANCEL)


async def run_postcopy(args: argparse.Namespace) -> int:
    return await _steer(args, POSTCOPY)


async def run_pause(args: argparse.Namespace) -> int:
    return await _steer(args, PAUSE)


async def run_recover(args: argparse.Namespace) -> int:
    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    entry = inventory.get(args.target)
    async with HostPool(inventory.host) as hosts, open_session(inventory, entry, gate, hosts) as source:
        if (reason := refusal(recover.CONTROL, await read_facts(source))) is not None:
            raise UsageError(reason.rstrip("."))
        name: str = args.to or await _paused_destination(inventory, entry.name, gate, hosts)
        async with open_session(inventory, inventory.get(name), gate, hosts) as destination:
            status = (await destination.query("query-migrate")).get("status")
            if status != MigrationStatus.POSTCOPY_PAUSED:
                raise UsageError(f"{name}: its migration is {status or 'none'}, not postcopy-paused: "
                                 f"not the destination of {entry.name}'s paused postcopy")
            if not gate.read_only:
                confirm(recover.question(source.name, name).text, args.yes)
            print(await recover.step(destination)(source))
    return 0


async def _paused_destination(inventory: Inventory, source: str, gate: CommandGate, hosts: HostPool) -> str:
    """The only other VM of the inventory whose postcopy is paused (VMs that cannot be reached are skipped)."""
    paused: list[str] = []
    for entry in inventory.vm:
        if entry.name == source:
            continue
        try:
            async with open_session(inventory, entry, gate, hosts) as session:
                if (await session.query("query-migrate")).get("status") == MigrationStatus.POSTCOPY_PAUSED:
                    paused.append(entry.name)
        except MigtuiError:
            continue
    if len(paused) != 1:
        found = f"several: {', '.join(paused)}" if paused else "none"
        raise UsageError(f"{source}: which VM is the destination of its postcopy? Other VMs whose postcopy is "
                         f"paused: {found}; name it with --to")
    return paused[0]


async def _steer(args: argparse.Namespace, verb: MigrationVerb) -> int:
    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    async with open_vm(inventory, args.target, gate) as session:
        # Refused before asking: QEMU would take a cancel without a migration silently.
        if (reason := refusal(verb.control, await read_facts(session))) is not None:
            raise UsageError(reason.rstrip("."))
        if not gate.read_only:  # read-only: the gate refuses it below, nothing to ask
            confirm(verb.question(session.name).text, args.yes)
        print(await verb.run(session))
    return 0


def hint_cancel(vm: str, args: argparse.Namespace) -> str:
    """The command that cancels ``vm``'s migration, with the options that found it."""
    options = f" --config {args.config}" if getattr(args, "config", None) else ""
    options += "".join(f" --vm {pair}" for pair in getattr(args, "vm", []) or [])
    return f"migtui cancel {vm}{options}"
