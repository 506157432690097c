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
    open_vm,
)
from migtui.cli.confirm import confirm
from migtui.errors import BadArguments, MigtuiError, UsageError
from migtui.model.snapshots import Snapshot
from migtui.ops.snapshot import JobVerb, SnapshotVerb, ended, job_done, left_paused, question, refusal
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
    async with open_vm(inventory, args.target, gate) as session:
        if (refused := session.snapshots_refused) is not None:  # a libvirt domain's are libvirt's
            raise MigtuiError(f"{session.name}: {refused}")
        if args.action == "list":
            return _print_snapshots(await snapshots.list_snapshots(session), args.json)
        if args.action == "jobs":
            for job in await session.query_list("query-jobs"):
                error = f"  error: {job['error']}" if job.get("error") else ""
                print(f"{job['id']}  {job['type']}  {job['status']}{error}")
            return 0
        if args.action == JobVerb.DISMISS:
            await snapshots.dismiss(session, args.job_id)
            print(job_done(session.name, JobVerb.DISMISS, args.job_id))
            return 0
        if args.action == JobVerb.CANCEL:
            await snapshots.cancel(session, args.job_id)
            print(job_done(session.name, JobVerb.CANCEL, args.job_id))
            return 0
        if args.action == JobVerb.RESUME:
            await snapshots.resume(session)
            print(job_done(session.name, JobVerb.RESUME))
            return 0
        return await _run_job(session, args)


async def _run_job(session: VMSession, args: argparse.Namespace) -> int:
    verb = SnapshotVerb(args.action)
    devices = args.device or await snapshots.snapshot_nodes(session)
    # Before anything is sent: QEMU pauses the guest before it finds out that a tag does not exist.
    found = await snapshots.list_snapshots(session) if verb is not SnapshotVerb.SAVE else []
    if problem := refusal(session.name, verb, args.tag, found, devices):
        raise BadArguments(problem) if devices else UsageError(problem)
    if (asked := question(session.name, verb, args.tag)) is not None:
        confirm(asked.text, args.yes)
    vmstate = getattr(args, "vmstate", None) or devices[0]
    job_id = args.job_id or snapshots.suggest_job_id(args.action, args.tag)
    request = snapshots.SnapshotRequest(args.action, args.tag, job_id, vmstate, devices)
    if not args.wait:
        await session.execute(f"snapshot-{args.action}", request.arguments(), timeout=None)
        print(f"job {request.job_id} started; follow it with: migtui snapshot {session.name} jobs", file=sys.stderr)
        return 0
    outcome = await snapshots.run_job(session, request, dismiss=not args.keep)
    if outcome.ok:
        print(ended(session.name, request, outcome))
        return 0
    paused = left_paused(session.name, outcome)
    resume = f"; {paused}: let it run again with `migtui snapshot {session.name} resume`" if paused else ""
    print(f"migtui: {ended(session.name, request, outcome)}{resume}", file=sys.stderr)
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
