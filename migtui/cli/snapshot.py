"""``migtui snapshot VM list|save|load|delete|jobs|dismiss|cancel|resume``."""

from __future__ import annotations

import argparse
import json
import sys

from migtui.cli.common import (
    action_options,
    add_inventory_options,
    add_safety_options,
    gate_from_args,
    inventory_from_args,
    open_session,
)
from migtui.cli.confirm import confirm
from migtui.errors import BadArguments, UsageError
from migtui.model.snapshots import Snapshot, unknown_tag
from migtui.qmp import snapshots
from migtui.qmp.session import VMSession
from migtui.units import human_bytes


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("snapshot", help="list, save, load and delete internal snapshots",
                                   description="Internal snapshots as QEMU jobs (QEMU 6.0 or newer).")
    parser.add_argument("target", metavar="VM")
    # Anywhere: migtui snapshot --config F vm1 list, snapshot vm1 --config F list, snapshot vm1 list --config F
    add_inventory_options(parser)
    add_safety_options(parser)
    common = action_options(add_inventory_options, add_safety_options)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="snapshots on the VM's disks", parents=[common])
    listing.add_argument("--json", action="store_true")
    for verb, text in (("save", "save the VM's state and disks under TAG"),
                       ("load", "replace the running state with snapshot TAG"),
                       ("delete", "delete snapshot TAG from the disks")):
        job = actions.add_parser(verb, help=text, parents=[common])
        job.add_argument("tag", metavar="TAG")
        job.add_argument("--job-id", help="QEMU job id (default: VERB-TAG-HHMMSS)")
        job.add_argument("--device", action="append", default=[], metavar="NODE",
                         help="block node to act on; repeatable (default: every writable qcow2 node)")
        if verb != "delete":
            job.add_argument("--vmstate", metavar="NODE", help="node for the VM state (default: the first)")
        # save asks nothing, but takes --yes too so scripts can pass it to every verb
        job.add_argument("--yes", action="store_true", help="do not ask for confirmation (load, delete)")
        job.add_argument("--wait", action="store_true", help="follow the job to its end; exit code from its outcome")
        job.add_argument("--keep", action="store_true", help="with --wait: leave the concluded job undismissed")
    actions.add_parser("jobs", help="the VM's jobs, as query-jobs lists them", parents=[common])
    for verb in ("dismiss", "cancel"):
        actions.add_parser(verb, help=f"{verb} job ID", parents=[common]).add_argument("job_id", metavar="ID")
    actions.add_parser("resume", help="let a VM paused by a failed load run again (cont)", parents=[common])
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    entry = inventory.get(args.target)
    async with open_session(inventory, entry, gate) as session:
        if args.action == "list":
            return _print_snapshots(await snapshots.list_snapshots(session), args.json)
        if args.action == "jobs":
            for job in await session.query_list("query-jobs"):
                error = f"  error: {job['error']}" if job.get("error") else ""
                print(f"{job['id']}  {job['type']}  {job['status']}{error}")
            return 0
        if args.action == "dismiss":
            await snapshots.dismiss(session, args.job_id)
            return 0
        if args.action == "cancel":
            await snapshots.cancel(session, args.job_id)
            return 0
        if args.action == "resume":
            await snapshots.resume(session)
            return 0
        return await _run_job(session, args)


async def _run_job(session: VMSession, args: argparse.Namespace) -> int:
    # Before anything is sent: QEMU pauses the guest before it finds out that a tag does not exist.
    if args.action in ("load", "delete") and \
            (problem := unknown_tag(session.name, args.tag, await snapshots.list_snapshots(session))):
        raise BadArguments(problem)
    if args.action == "load":
        confirm(f"Load snapshot {args.tag!r} into {session.name}? Its running state will be replaced.", args.yes)
    elif args.action == "delete":
        confirm(f"Delete snapshot {args.tag!r} of {session.name}? This cannot be undone.", args.yes)
    nodes = await snapshots.snapshot_nodes(session)
    devices = args.device or nodes
    vmstate = getattr(args, "vmstate", None) or (devices[0] if devices else None)
    if args.action != "delete" and vmstate is None:
        raise UsageError(f"{session.name} has no writable qcow2 node to hold the VM state")
    job_id = args.job_id or snapshots.suggest_job_id(args.action, args.tag)
    request = snapshots.SnapshotRequest(args.action, args.tag, job_id, vmstate, devices)
    if not args.wait:
        await session.execute(f"snapshot-{args.action}", request.arguments(), timeout=None)
        print(f"job {request.job_id} started; follow it with: migtui snapshot {session.name} jobs", file=sys.stderr)
        return 0
    outcome = await snapshots.run_job(session, request, dismiss=not args.keep)
    phases = ", ".join(f"{status} {seconds:.2f} s" for status, seconds in outcome.job.elapsed())
    print(f"{session.name}: job {outcome.job.id} ({outcome.job.type}) {outcome.job.status}: {phases}")
    if outcome.ok:
        return 0
    paused = (f"; {session.name} is left paused ({outcome.run_state}): let it run again with "
              f"`migtui snapshot {session.name} resume`") if outcome.needs_resume else ""
    print(f"migtui: {session.name}: {outcome.job.type} {args.tag!r} failed: {outcome.job.error}{paused}",
          file=sys.stderr)
    return 1


def _print_snapshots(found: list[Snapshot], as_json: bool) -> int:
    for snap in found:
        if as_json:
            print(json.dumps({"node": snap.node, "id": snap.id, "tag": snap.tag, "date": snap.date.isoformat(),
                              "vm-state-size": snap.vm_state_size, "vm-clock": snap.vm_clock}))
        else:
            print(f"{snap.node}  {snap.tag:<20} id {snap.id:<4} {snap.date:%Y-%m-%d %H:%M:%S}  "
                  f"state {human_bytes(snap.vm_state_size):>10}  clock {snap.vm_clock:.1f} s")
    if not found and not as_json:
        print("no snapshots", file=sys.stderr)
    return 0
