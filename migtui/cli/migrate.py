"""``migtui migrate SRC DST``: start a migration, optionally follow it to its end."""

from __future__ import annotations

import argparse
import sys

from migtui.cli.common import add_inventory_options, add_safety_options, gate_from_args, inventory_from_args
from migtui.cli.lines import notice_line, sample_line
from migtui.cli.settings_args import report_invalid, split_pairs
from migtui.errors import UsageError
from migtui.model.vm_state import VMState
from migtui.params.settings import read_settings
from migtui.qapi.errors import FieldErrors
from migtui.qmp import migration
from migtui.qmp.migration import URI_SCHEMES
from migtui.qmp.session import VMSession



def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "migrate", help="migrate a VM to another VM of the inventory or to a URI",
        description="Migrate SRC to DST: a VM of the inventory waiting with -incoming defer "
                    "(migtui makes it listen on a free loopback port), or a URI such as tcp:HOST:PORT.")
    parser.add_argument("source", metavar="SRC")
    parser.add_argument("destination", metavar="DST")
    add_inventory_options(parser)
    parser.add_argument("--set", metavar="PARAM=VALUE", action="append", default=[],
                        help="a migration parameter to set first, e.g. max-bandwidth=64M; repeatable")
    parser.add_argument("--cap", metavar="NAME=on|off", action="append", default=[],
                        help="a capability to set on both sides first; repeatable")
    parser.add_argument("--wait", action="store_true", help="follow the migration to its end")
    parser.add_argument("--json", action="store_true", help="with --wait: samples as JSON lines")
    parser.add_argument("--no-check", action="store_true", help="skip the pre-flight checks")
    add_safety_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    source_entry = inventory.get(args.source)
    parameters, capabilities = split_pairs(args.set, "--set"), split_pairs(args.cap, "--cap")
    if args.destination.startswith(URI_SCHEMES):
        destination_entry = None
    else:
        destination_entry = inventory.get(args.destination)
        if destination_entry.name == source_entry.name:
            raise UsageError("source and destination are the same VM")
    async with VMSession(source_entry.name, source_entry.address, gate) as source:
        plan = migration.MigrationPlan()
        if parameters or capabilities:
            # Checked by the source's own schema, as `migtui params` and the editor check them.
            try:
                request = (await read_settings(source)).request(parameters, capabilities)
            except FieldErrors as invalid:
                return report_invalid(source.name, invalid, capabilities)
            plan = migration.MigrationPlan(request.parameters, request.capabilities)
        if destination_entry is None:
            uri = await migration.start_migration(source, args.destination, plan, check=not args.no_check)
        else:
            async with VMSession(destination_entry.name, destination_entry.address, gate) as destination:
                uri = await migration.start_migration(source, destination, plan, check=not args.no_check)
        print(f"migrating {source.name} to {args.destination} ({uri})", file=sys.stderr, flush=True)
        if not args.wait:
            return 0
        return await _follow(source, args.json)


async def _follow(source: VMSession, as_json: bool) -> int:
    state = VMState(source.name)
    told_stall = False

    def show(answer: dict) -> None:
        nonlocal told_stall
        print(sample_line(state.tracker.add(answer), as_json), flush=True)
        if state.tracker.stalled and not told_stall:
            told_stall = True
            prediction = state.prediction()
            print(notice_line(source.name, "stall", "not converging: " + "; ".join(prediction.reasons),
                              as_json, actions=prediction.actions), flush=True)

    state.parameters = await source.query("query-migrate-parameters")
    final = await migration.wait_until_done(source, show)
    if final.get("status") == "completed":
        return 0
    reason = final.get("error-desc") or final.get("status")
    print(f"migtui: {source.name}: migration {final.get('status')}: {reason}", file=sys.stderr)
    return 1
