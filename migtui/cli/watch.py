"""``migtui watch``: a line per sample and per event, for scripts and SSH."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from migtui.cli.common import (
    add_inventory_options,
    add_safety_options,
    gate_from_args,
    inventory_from_args,
    open_session,
    seconds,
)
from migtui.cli.lines import Output, event_line, last_seen, notice_line, sample_line
from migtui.cli.narration import Narration
from migtui.errors import MigtuiError
from migtui.inventory import Inventory, VMEntry
from migtui.model.link import LinkState
from migtui.model.tracker import MigrationTracker
from migtui.ops.policy import policy_for
from migtui.qmp.errors import QMPFailure
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.qmp.hosts import HostPool
from migtui.qmp.session import CONNECT_TIMEOUT, VMSession
from migtui.qmp.socket_finder import find_vms
from migtui.qmp.updates import Aspect, EventReceived, PolicyStep, SampleTaken, Update, VMAdded, VMChanged, VMRemoved


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("watch", help="print migration samples and QMP events as they come",
                                   description="Follow every VM's migration and events, one line each.")
    add_inventory_options(parser)
    parser.add_argument("--interval", type=seconds, default=1.0, metavar="S",
                        help="seconds between samples of a VM (default 1)")
    parser.add_argument("--duration", type=seconds, metavar="S", help="stop after S seconds")
    parser.add_argument("--once", action="store_true", help="one sample of each VM, then exit")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--policy", metavar="NAME",
                        help="run a migration policy on every VM's migrations (read-only allows 'observe')")
    add_safety_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    policy = policy_for(args.policy, gate.read_only)
    if args.once:
        return await _once(inventory, gate, args.json)
    async with Fleet(inventory.vm, gate, fast=args.interval, slow=args.interval, hosts=inventory.host,
                     history=inventory.settings.history) as fleet:
        printer = _Printer(fleet, args.json)
        fleet.subscribe(printer)
        if policy is not None:
            for name in list(fleet.states):
                fleet.apply_policy(name, policy)

            def follow_found(update: Update) -> None:  # a VM found by a pattern follows the policy too
                if isinstance(update, VMAdded):
                    fleet.apply_policy(update.vm, policy)

            fleet.subscribe(follow_found)
        # Until the duration the user asked for is over, Ctrl-C, or a closed stdout. Ctrl-C is
        # taken here: a process started in the background of a script inherits SIGINT ignored,
        # and Python then raises no KeyboardInterrupt.
        interrupted = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(args.duration):
                    ended = [asyncio.ensure_future(printer.out.closed.wait()),
                             asyncio.ensure_future(interrupted.wait())]
                    try:
                        await asyncio.wait(ended, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for waiting in ended:
                            waiting.cancel()
        finally:
            loop.remove_signal_handler(signal.SIGINT)
    return INTERRUPTED if interrupted.is_set() else 0




INTERRUPTED = 130  # as a shell reports a command ended by Ctrl+C


class _Printer:
    def __init__(self, fleet: Fleet, as_json: bool) -> None:
        self.fleet = fleet
        self.as_json = as_json
        self.out = Output()
        self.narrate = Narration(as_json, self.out)

    def __call__(self, update: Update) -> None:
        if isinstance(update, SampleTaken):
            self.narrate(self.fleet.states[update.vm], update.sample)
        elif isinstance(update, EventReceived):
            during = None
            if update.event.name.startswith("MIGRATION"):
                during = self.fleet.states[update.vm].job_behind_migration_events()
            self.out(event_line(update.event, self.as_json, during))
        elif isinstance(update, VMAdded):
            self.narrate.anew(update.vm)
            self.out(notice_line(update.vm, "found", update.address, self.as_json))
        elif isinstance(update, VMRemoved):
            self.out(notice_line(update.vm, "gone", update.reason, self.as_json))
        elif isinstance(update, PolicyStep):
            self.out(notice_line(update.vm, "policy", update.text, self.as_json, did=update.did, by=update.policy))
        elif isinstance(update, VMChanged) and update.aspect in (Aspect.LINK, Aspect.BUSY, Aspect.POLL_ERROR):
            state = self.fleet.states[update.vm]
            if update.aspect is Aspect.BUSY:
                if state.busy:
                    self.out(notice_line(update.vm, "busy", f"QEMU has not answered for {state.busy_for:.0f} s",
                                     self.as_json))
                return
            if update.aspect is Aspect.POLL_ERROR:
                if state.poll_error:
                    self.out(notice_line(update.vm, "error", state.poll_error, self.as_json))
                return
            if state.link is LinkState.CLOSED:
                return  # migtui let go of it itself (watch ends): no news of the VM
            self.narrate.anew(update.vm)
            message = state.link + (f" ({state.link_error})" if state.link_error else "")
            self.out(notice_line(update.vm, "link", message, self.as_json, **last_seen(state, self.as_json)))


async def _once(inventory: Inventory, gate: CommandGate, as_json: bool) -> int:
    hosts = HostPool(inventory.host)
    entries = [entry for entry in inventory.vm if not entry.pattern]
    failed = 0

    async def one(entry: VMEntry) -> str:
        async with open_session(inventory, entry, gate, hosts) as session:
            tracker = MigrationTracker(entry.name)
            return sample_line(tracker.add(await session.query("query-migrate")), as_json)

    async with hosts:
        for pattern in (entry for entry in inventory.vm if entry.pattern):  # the sockets found now
            try:
                found = await find_vms(pattern, hosts)
            except MigtuiError as error:
                failed += 1
                print(f"migtui: {pattern.qmp}: {error}", file=sys.stderr)
                continue
            if not found:
                print(f"migtui: {pattern.qmp}: no socket matches it", file=sys.stderr)
            entries += [vm for name, vm in found.items() if all(name != e.name for e in entries)]
        results = await asyncio.gather(*(one(e) for e in entries), return_exceptions=True)
    if any(host.libvirt for host in inventory.host):
        libvirt_results, down = await _domains_once(inventory, gate, as_json)
        results += libvirt_results
        failed += down
    for result in results:
        if isinstance(result, QMPFailure):
            failed += 1
            print(f"migtui: {result}", file=sys.stderr)
        elif isinstance(result, BaseException):
            raise result
        else:
            _out(result)
    return 1 if failed else 0


async def _domains_once(inventory: Inventory, gate: CommandGate,
                        as_json: bool) -> tuple[list[str | BaseException], int]:
    """One sample of each domain of the libvirt hosts; and how many hosts could not be asked."""
    from migtui.libvirt.registry import DomainRegistry  # libvirt only for an inventory that names it

    registry = DomainRegistry(inventory.host, gate, add=lambda _: None, remove=lambda *_: None,
                              moved=lambda *_: None)
    for host in registry.hosts.values():
        host.announce = False  # said below, once
    registry.start()
    try:
        await registry.wait_listed(CONNECT_TIMEOUT)
        down = [host for host in registry.hosts.values() if not host.up]
        for host in down:
            print(f"migtui: {host.describe_down()}", file=sys.stderr)

        async def one(session: VMSession) -> str:
            await session.connect()
            return sample_line(MigrationTracker(session.name).add(await session.query("query-migrate")), as_json)

        sessions = sorted(registry.sessions.values(), key=lambda session: session.name)
        results = list(await asyncio.gather(*(one(session) for session in sessions), return_exceptions=True))
        return results, len(down)
    finally:
        await registry.close()


def _out(line: str) -> None:
    print(line, flush=True)
