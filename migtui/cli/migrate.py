"""``migtui migrate SRC DST``: start a migration, optionally follow it to its end."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from migtui.cli.common import (
    add_inventory_options,
    add_safety_options,
    gate_from_args,
    inventory_from_args,
    open_session,
    open_vm,
)
from migtui.cli.confirm import ask, can_ask
from migtui.cli.control import hint_cancel
from migtui.cli.lines import notice_line
from migtui.cli.narration import Narration
from migtui.cli.settings_args import report_invalid, split_pairs
from migtui.errors import UsageError
from migtui.model.path import with_recorded
from migtui.model.policy import Policy
from migtui.model.vm_state import VMState
from migtui.ops import migrate
from migtui.ops.cancel import CANCEL
from migtui.ops.policy import policy_for
from migtui.params.settings import read_settings
from migtui.qapi.errors import FieldErrors
from migtui.qmp import migration
from migtui.qmp.hosts import HostPool
from migtui.qmp.migration import URI_SCHEMES
from migtui.qmp.path_history import PathHistory
from migtui.qmp.path_probe import destination_of, probe, runner_for
from migtui.qmp.policy import PolicyRunner
from migtui.qmp.replies import capability_states
from migtui.qmp.session import VMSession
from migtui.qmp.updates import PolicyStep
from migtui.qmp.where import host_of

INTERRUPTED_EXIT = 130  # as a shell reports a command ended by Ctrl+C


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "migrate", help="migrate a VM to another VM of the inventory or to a URI",
        description="Migrate SRC to DST: a VM of the inventory waiting with -incoming defer "
                    "(migtui makes it listen on its host's migration address, or on loopback for a VM of this "
                    "machine), or a URI such as tcp:HOST:PORT. A libvirt domain migrates to another libvirt "
                    "host of the inventory, through libvirt (peer to peer, persistent there).")
    parser.add_argument("source", metavar="SRC")
    parser.add_argument("destination", metavar="DST")
    add_inventory_options(parser)
    parser.add_argument("--set", metavar="PARAM=VALUE", action="append", default=[],
                        help="a migration parameter to set first, e.g. max-bandwidth=64M; repeatable")
    parser.add_argument("--cap", metavar="NAME=on|off", action="append", default=[],
                        help="a capability to set on both sides first; repeatable")
    parser.add_argument("--wait", action="store_true", help="follow the migration to its end")
    parser.add_argument("--policy", metavar="NAME",
                        help="follow the migration under a policy (observe, converge or one of yours); implies --wait")
    parser.add_argument("--json", action="store_true", help="with --wait: samples as JSON lines")
    parser.add_argument("--no-check", action="store_true", help="skip the pre-flight checks")
    parser.add_argument("--transient", action="store_true",
                        help="a libvirt domain: not defined on the destination (it is by default)")
    parser.add_argument("--keep-source", action="store_true",
                        help="a libvirt domain: keep its definition on the source (undefined by default)")
    parser.add_argument("--dry-run", action="store_true",
                        help="change nothing: measure the source's dirty rate and predict duration, downtime "
                             "and the settings that would converge")
    add_safety_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    parameters, capabilities = split_pairs(args.set, "--set"), split_pairs(args.cap, "--cap")
    policy = policy_for(args.policy, gate.read_only)
    libvirt_host = any(host.name == args.destination and host.libvirt for host in inventory.host)
    if args.destination.startswith(URI_SCHEMES) or libvirt_host:
        destination_entry = None  # a URI, or a libvirt host (for a libvirt domain)
    else:
        destination_entry = inventory.get(args.destination)
        if destination_entry.name == args.source:
            raise UsageError("source and destination are the same VM")
    async with HostPool(inventory.host) as hosts, open_vm(inventory, args.source, gate, hosts) as source:
        plan = migration.MigrationPlan(persist_destination=not args.transient, undefine_source=not args.keep_source)
        if parameters or capabilities:
            # Checked by the source's own schema, as `migtui params` and the editor check them.
            try:
                request = (await read_settings(source)).request(parameters, capabilities)
            except FieldErrors as invalid:
                return report_invalid(source.name, invalid, capabilities)
            plan = migration.MigrationPlan(request.parameters, request.capabilities, plan.persist_destination,
                                           plan.undefine_source)
        if args.dry_run:
            return await _dry_run(source, plan, args.json)
        if destination_entry is None:
            uri = await migrate.start(source, args.destination, plan, check=not args.no_check)
        else:
            async with open_session(inventory, destination_entry, gate, hosts) as destination:
                uri = await migrate.start(source, destination, plan, check=not args.no_check)
        print(migrate.outcome(source.name, args.destination, uri), file=sys.stderr, flush=True)
        if not args.wait and policy is None:
            return await _under_way(source)
        history = PathHistory([inventory.settings.history] if inventory.settings.history else [])
        history.name_hosts(inventory.host)
        return await _follow(source, args, policy, history)


STARTED_WITHIN = 5.0
"""Seconds a migration is given to leave setup before ``migrate`` (without --wait) returns all the same."""


async def _under_way(source: VMSession) -> int:
    """Without --wait: 0 once the migration runs, 1 (with QEMU's reason) if it failed at once, as a
    migration to a closed port does; its connect fails after the migrate command was answered."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTED_WITHIN
    while (answer := await source.query("query-migrate")).get("status") in (None, "setup") \
            and loop.time() < deadline:
        await asyncio.sleep(0.1)
    return _ended_badly(source.name, answer) if answer.get("status") in ("failed", "cancelled") else 0


def _ended_badly(vm: str, answer: dict[str, Any]) -> int:
    """Exit code 1, once a migration that did not complete is said with QEMU's reason."""
    reason = answer.get("error-desc") or answer.get("status")
    print(f"migtui: {vm}: migration {answer.get('status')}: {reason}", file=sys.stderr)
    return 1


async def _dry_run(source: VMSession, plan: migration.MigrationPlan, as_json: bool) -> int:
    """What the migration would take at the settings it would run with; nothing is changed."""
    problems = await migrate.preflight(source, None, plan)
    if problems:
        raise UsageError("; ".join(problems))
    parameters = {**await source.query("query-migrate-parameters"), **plan.parameters}
    held = capability_states(await source.query_list("query-migrate-capabilities"))
    capabilities = {**held, **plan.capabilities}
    print(f"measuring {source.name}'s dirty rate (calc-dirty-rate, page-sampling, 1 s and 2 s) ...",
          file=sys.stderr, flush=True)
    guest = await migrate.measure(source)
    prediction = migrate.outlook(guest, parameters, capabilities)
    if as_json:
        print(json.dumps({"vm": source.name, "dirty_rate": guest.dirty_rate, "working_set": guest.working_set,
                          "ram": guest.ram, "dry_run": prediction.to_json()}))
        return 0
    print(f"{source.name}: {guest.words()}: {prediction.summary}")
    for line in prediction.reasons:
        print(f"  · {line}")
    for action in prediction.actions:
        print(f"  → {action.text}")
    return 0


async def _follow(source: VMSession, args: argparse.Namespace, policy: Policy | None = None,
                  history: PathHistory | None = None) -> int:
    state = VMState(source.name)
    narrate = Narration(args.json, partial(print, flush=True))
    # What the path carries bounds the bandwidth advice, as in the fleet (migtui.qmp.path_finder).
    state.path = await probe(source.outgoing_uri, runner_for(source), source.host_entry)
    if history is not None:
        place = source.host_entry.name if source.host_entry is not None else host_of(source.address)
        state.path = with_recorded(state.path, await history.reach(place, destination_of(source.outgoing_uri)))

    def tell(step: PolicyStep) -> None:
        print(notice_line(source.name, "policy", step.text, args.json, did=step.did, by=step.policy), flush=True)

    runner = PolicyRunner(policy, source, state, tell) if policy else None
    if policy is not None:
        tell(PolicyStep(source.name, policy.name, "watches", policy.description or policy.name, False))

    async def show(answer: dict[str, Any]) -> None:
        narrate(state, state.tracker.add(answer))
        if runner is not None:
            await runner.on_sample()

    state.parameters = await source.query("query-migrate-parameters")
    state.capabilities = capability_states(await source.query_list("query-migrate-capabilities"))
    final = await _until_done_or_interrupted(source, show)
    if final is None:
        return await _interrupted(source, args)
    return 0 if final.get("status") == "completed" else _ended_badly(source.name, final)


async def _until_done_or_interrupted(source: VMSession,
                                     show: Callable[[dict[str, Any]], Awaitable[None]]) -> dict[str, Any] | None:
    """The last ``query-migrate`` once the migration ended, or None on Ctrl+C (SIGINT).

    SIGINT is taken here rather than as KeyboardInterrupt so that the user
    is told what Ctrl+C did not stop: QEMU goes on migrating.
    """
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, interrupted.set)
    try:
        follow = asyncio.create_task(migration.wait_until_done(source, show))
        interrupt = asyncio.create_task(interrupted.wait())
        done, _ = await asyncio.wait({follow, interrupt}, return_when=asyncio.FIRST_COMPLETED)
        for task in (follow, interrupt):
            task.cancel()
        await asyncio.gather(follow, interrupt, return_exceptions=True)
        return follow.result() if follow in done else None
    finally:
        loop.remove_signal_handler(signal.SIGINT)  # a second Ctrl+C stops the question below


async def _interrupted(source: VMSession, args: argparse.Namespace) -> int:
    if sys.stderr.isatty():
        print(file=sys.stderr)  # past the ^C the terminal echoed
    if can_ask() and _ask_to_cancel(source.name):
        print(await CANCEL.run(source), file=sys.stderr)
    else:
        print(f"migtui: {source.name}: the migration is still running (Ctrl+C only stopped following it); "
              f"cancel it with: {hint_cancel(source.name, args)}", file=sys.stderr)
    return INTERRUPTED_EXIT


def _ask_to_cancel(vm: str) -> bool:
    try:
        return ask(CANCEL.question(vm).text)
    except KeyboardInterrupt:  # a second Ctrl+C: leave it running
        print(file=sys.stderr)
        return False
