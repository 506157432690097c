"""``migtui schema``: what a QEMU release, schema file or live VM offers for migration.

    migtui schema [SOURCE] [--type NAME] [--json]
    migtui schema --diff A B [--json]

SOURCE (and A, B) is a schema file (``migration.json``), a bundled release
(``7.2``), or a VM: a name given with ``--vm NAME=ADDR`` or found in the
inventory (``--config FILE``). Without SOURCE: the one ``--vm``, else the
newest bundled release.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from migtui.cli.common import add_inventory_options
from migtui.errors import MigtuiError, UsageError
from migtui.inventory import Inventory, VMEntry, inventory_from_pairs, load_inventory
from migtui.qapi.bundled import bundled_releases, load_release
from migtui.qapi.describe import definition_text, describe_definition, diff_text, summary_text
from migtui.qapi.diff import diff_migration
from migtui.qapi.fetch import DEFAULT_TIMEOUT, fetch_introspection
from migtui.qapi.fields import capability_values
from migtui.qapi.schema import Schema
from migtui.qapi.sources import live_schema, offline_schema
from migtui.qapi.version import QemuVersion
from migtui.qmp.hosts import HostPool


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="show a QEMU release's, file's or VM's migration schema; compare two",
        description="Show the QAPI definitions for migration from a schema file, a bundled QEMU release "
        "or a live VM, or compare two of them (--diff) before an upgrade.",
    )
    parser.add_argument("source", nargs="?", metavar="SOURCE",
                        help="migration.json path, bundled release (e.g. 7.2), or VM name")
    parser.add_argument("--type", metavar="NAME", dest="type_name",
                        help="show one definition (type, command or event), e.g. MigrateSetParameters")
    parser.add_argument("--diff", nargs=2, metavar=("A", "B"),
                        help="what changed for migration from A to B (releases, files or VMs)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                        help=f"seconds to wait for a VM's answer (default {DEFAULT_TIMEOUT:g})")
    add_inventory_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    if args.diff:
        if args.source or args.type_name:
            raise UsageError("--diff A B compares two sources: give no SOURCE or --type with it")
        before = await _schema_for(args.diff[0], args)
        after = await _schema_for(args.diff[1], args)
        changes = diff_migration(before, after)
        if args.json:
            _print_json({"from": before.origin, "to": after.origin, "changes": [c.as_json() for c in changes]})
        else:
            _print_lines(diff_text(before, after, changes))
        return 0
    schema = await _schema_for(args.source, args)
    if args.type_name:
        if args.json:
            _print_json(describe_definition(schema, args.type_name))
        else:
            _print_lines(definition_text(schema, args.type_name))
        return 0
    if args.json:
        _print_json(_summary_json(schema))
    else:
        _print_lines(summary_text(schema))
    return 0


async def _schema_for(source: str | None, args: argparse.Namespace) -> Schema:
    """The schema SOURCE names: a file, a bundled release, or a VM."""
    if source is None:
        if len(args.vm) == 1:
            inventory = inventory_from_pairs(args.vm)
            return await _vm_schema(inventory, inventory.vm[0], args.timeout)
        releases = bundled_releases()
        if not releases:
            raise UsageError("no bundled releases found: give a schema file")
        return load_release(releases[-1])
    if Path(source).exists() or QemuVersion.parse(source) is not None:
        return offline_schema(source)
    found = _vm_entry(source, args)
    if found is not None:
        return await _vm_schema(*found, args.timeout)
    known = ", ".join(str(release) for release in bundled_releases())
    raise UsageError(
        f"{source!r} is not a schema file, a bundled release ({known}) "
        "or a VM (give --vm NAME=ADDR or --config FILE)"
    )


def _vm_entry(name: str, args: argparse.Namespace) -> tuple[Inventory, VMEntry] | None:
    """The VM called ``name`` and the inventory it is in (its host's SSH), from --vm or the inventory."""
    if args.vm:
        inventory = inventory_from_pairs(args.vm)
        for entry in inventory.vm:
            if entry.name == name:
                return inventory, entry
        if not args.config:
            return None
    if args.config:
        inventory = load_inventory(args.config)  # asked for: its errors are the user's to see
    else:
        try:
            inventory = load_inventory(None)
        except MigtuiError:  # no default inventory: SOURCE is just not a VM
            return None
    if any(entry.name == name for entry in inventory.vm):
        return inventory, inventory.get(name)
    return None


async def _vm_schema(inventory: Inventory, entry: VMEntry, timeout: float) -> Schema:
    """The live schema of ``entry``, over its host's SSH connection when it is on one."""
    async with HostPool(inventory.host) as hosts:
        schema_json, version = await fetch_introspection(hosts.address(entry), timeout=timeout, name=entry.name)
    return live_schema(schema_json, version, origin=f"VM {entry.name}")


def _summary_json(schema: Schema) -> dict[str, Any]:
    by_kind: dict[str, list[str]] = {}
    for definition in schema:
        by_kind.setdefault(definition.kind, []).append(definition.name)
    summary: dict[str, Any] = {
        "origin": schema.origin,
        "version": str(schema.version) if schema.version else None,
        "release": str(schema.release) if schema.release else None,
        "files": [str(path) for path in schema.files],
        "notes": schema.notes,
        "definitions": {kind: sorted(names) for kind, names in sorted(by_kind.items())},
    }
    if "migrate-set-parameters" in schema:
        summary["parameters"] = [member.name for member in schema.members("migrate-set-parameters")]
    try:
        summary["capabilities"] = [value.name for value in capability_values(schema)]
    except MigtuiError:
        summary["capabilities"] = []
    return summary


def _print_json(value: Any) -> None:
    _print_lines([json.dumps(value, indent=2)])


def _print_lines(lines: list[str]) -> None:
    print("\n".join(lines), flush=True)  # a closed pipe (| head) is handled by migtui.__main__
