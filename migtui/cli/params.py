"""``migtui params VM``: show or change a VM's migration parameters and capabilities.

    migtui params VM [--json]
    migtui params VM [--set NAME=VALUE ...] [--cap NAME=on|off ...] [--preset NAME] [--save-preset NAME]

Values are checked against the schema of the QEMU the VM runs before
anything is sent; only what differs from what the VM holds is sent, through
the same gate (read-only policy, audit log) as everything else. When QEMU
refuses, what was already changed is put back and QEMU's words are shown.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from migtui.cli.common import add_inventory_options, add_safety_options, gate_from_args, inventory_from_args, open_vm
from migtui.cli.settings_args import add_settings_options, report_invalid, split_pairs
from migtui.ops.settings import held_back
from migtui.params import Applied, Preset, VMSettings, apply_changes, load_preset, read_settings, save_preset
from migtui.params.presets import check_savable
from migtui.qapi.errors import FieldErrors
from migtui.qapi.human_values import human_value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "params", help="show or change a VM's migration parameters and capabilities",
        description="Show a VM's migration parameters and capabilities, or change them. Values are checked "
                    "against the schema of the QEMU the VM runs before anything is sent; only changes are sent.")
    parser.add_argument("target", metavar="VM")
    add_settings_options(parser, "a capability to switch on or off, e.g. auto-converge=on; repeatable")
    parser.add_argument("--preset", metavar="NAME",
                        help="apply a saved preset (--set and --cap given too override its values)")
    parser.add_argument("--save-preset", metavar="NAME",
                        help="save the values asked for (--set, --cap, --preset) as a preset; with none, "
                             "save everything the VM holds")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_inventory_options(parser)
    add_safety_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    if args.save_preset:
        check_savable(args.save_preset)  # before anything is sent
    preset = load_preset(args.preset) if args.preset else Preset("-")
    parameters: dict[str, Any] = {**preset.parameters, **split_pairs(args.set, "--set")}
    capabilities: dict[str, Any] = {**preset.capabilities, **split_pairs(args.cap, "--cap")}
    async with open_vm(inventory, args.target, gate) as session:
        settings = await read_settings(session)
        applied: Applied | None = None
        to_save = Preset(args.save_preset or "-", settings.settable_parameters, dict(settings.capabilities))
        if parameters or capabilities:
            try:
                request = settings.request(parameters, capabilities)
            except FieldErrors as invalid:
                return report_invalid(session.name, invalid, capabilities)
            applied = await apply_changes(session, settings, settings.changes(request))
            settings = applied.settings
            to_save = Preset(to_save.name, request.parameters, request.capabilities)
    # What changed is told before the preset is written: a failed write must not hide it.
    if args.json:
        print(json.dumps(_as_json(settings, applied)))
    elif applied is not None:
        _print_applied(applied)
    else:
        _print_table(settings)
    if args.save_preset:
        _save(to_save, settings)
    return 0


def _save(preset: Preset, settings: VMSettings) -> None:
    path = save_preset(preset, comment=f"saved from {settings.vm}, QEMU {settings.qemu}")
    print(f"{settings.vm}: preset {preset.name!r} saved to {path}", file=sys.stderr)


def _as_json(settings: VMSettings, applied: Applied | None) -> dict[str, Any]:
    shown: dict[str, Any] = {"vm": settings.vm, "qemu": settings.qemu, "parameters": settings.parameters,
                             "capabilities": settings.capabilities}
    if applied is not None:
        shown["changes"] = [{"name": c.name, "old": c.old, "new": c.new} for c in applied.changes]
        shown["not-held"] = applied.not_held
    return shown


def _print_applied(applied: Applied) -> None:
    if not applied.changes:
        print(f"{applied.vm}: nothing to change", file=sys.stderr)
    for change in applied.changes:
        print(f"{applied.vm}: {change.text}")
    for phrase in held_back(applied):
        print(f"{applied.vm}: note: {phrase}", file=sys.stderr)


def _print_table(settings: VMSettings) -> None:
    print(f"{settings.vm}  QEMU {settings.qemu}  ({settings.forms.schema.source})")
    print("parameters")
    width = max((len(spec.name) for spec in settings.specs), default=20) + 2
    for spec in settings.specs:
        held = settings.parameters
        value = human_value(spec, held[spec.name]) if spec.name in held else "(not set)"
        print(f"  {spec.name:<{width}}{value:<18}{_flags(spec.name, spec.features)}".rstrip())
    print("capabilities")
    for capability in settings.capability_values:
        state = "on" if settings.capabilities.get(capability.name) else "off"
        print(f"  {capability.name:<{width}}{state:<18}{_flags(capability.name, capability.features)}".rstrip())


def _flags(name: str, features: tuple[str, ...]) -> str:
    # Before 6.2 the schema had no 'unstable' feature: QEMU's "x-" prefix said it.
    flags = [flag for flag in ("deprecated", "unstable")
             if flag in features or (flag == "unstable" and name.startswith("x-"))]
    return " ".join(flags)
