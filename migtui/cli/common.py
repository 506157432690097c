"""Options and set-up shared by the subcommands that talk to VMs."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from migtui.inventory import Inventory, VMEntry, add_libvirt_hosts, find_config, inventory_from_pairs, load_inventory
from migtui.qmp.audit import AuditLog
from migtui.qmp.gate import CommandGate
from migtui.qmp.hosts import HostPool
from migtui.qmp.session import VMSession


def seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0 (``--duration -1`` would stop at once, silently)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text!r}")
    return value


def add_inventory_options(parser: argparse.ArgumentParser, pairs: bool = True) -> None:
    group = parser.add_argument_group("VMs")
    group.add_argument("--config", metavar="FILE",
                       help="inventory file (default: $MIGTUI_CONFIG, then ~/.config/migtui/inventory.toml)")
    # (an action's parser, see action_options, leaves a list option unset rather than empty)
    unset: object = argparse.SUPPRESS if parser.argument_default == argparse.SUPPRESS else []
    if pairs:
        group.add_argument("--vm", metavar="NAME=ADDR", action="append", default=unset,
                           help="a VM by its QMP address (socket path, tcp:HOST:PORT, or "
                                "ssh://[user@]host[:port]/path/to/socket); repeatable")
    group.add_argument("--libvirt", metavar="URI", action="append", default=unset,
                       help="a libvirt host whose domains are VMs (qemu:///system, qemu+ssh://root@hv-a/system, "
                            "qemu+tcp://...); repeatable")
    group.add_argument("--shared", action="store_true", default=unset_flag(parser),
                       help="another tool uses the VMs' QMP sockets too: connect per poll or command "
                            "and let go at once (as shared = true in the inventory)")


def action_options(*adders: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
    """The command's options again, as a parent for each of its actions' parsers.

    A command with actions (``snapshot VM ACTION``, ``lab ACTION``) adds its
    options to its own parser too, so they may come before the action and are
    listed in its ``--help``; with this parent they may also follow it
    (``snapshot vm1 list --config F``), as git and virsh users expect. Options
    not given after the action stay unset there (SUPPRESS), so argparse does
    not overwrite what was read before the action with the defaults.
    """
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    for add in adders:
        add(parent)
    return parent


def add_safety_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("safety")
    group.add_argument("--read-only", action="store_true",
                       help="refuse every command that changes a VM (nothing is sent)")
    group.add_argument("--audit-log", metavar="FILE", type=Path,
                       help="where mutating commands are logged (default: from the inventory, "
                            "else ~/.local/state/migtui/audit.jsonl)")


def inventory_from_args(args: argparse.Namespace) -> Inventory:
    """The VMs of ``--vm`` pairs or of the inventory file.

    With ``--vm``, the inventory's ``[settings]`` still apply when there is an
    inventory (given, or found where it is looked for): a site's
    ``read_only = true`` and its audit log are not bypassed by naming VMs by hand.
    """
    uris = getattr(args, "libvirt", None) or []
    if not getattr(args, "vm", None) and uris and not (args.config or find_config(None).exists()):
        inventory = add_libvirt_hosts(Inventory(), uris)
        inventory.resolve_shared(every=bool(getattr(args, "shared", False)))
        return inventory
    if not getattr(args, "vm", None):
        inventory = load_inventory(args.config)
    else:
        inventory = inventory_from_pairs(args.vm)
        if args.config or find_config(None).exists():
            inventory.settings = load_inventory(args.config).settings
    if uris:
        inventory = add_libvirt_hosts(inventory, uris)
    inventory.resolve_shared(every=bool(getattr(args, "shared", False)))
    return inventory


def unset_flag(parser: argparse.ArgumentParser) -> object:
    """A flag's default: unset in an action's parser (see :func:`action_options`), else False."""
    return argparse.SUPPRESS if parser.argument_default == argparse.SUPPRESS else False


def gate_from_args(args: argparse.Namespace, inventory: Inventory) -> CommandGate:
    audit_path = getattr(args, "audit_log", None) or inventory.audit_path
    read_only = bool(getattr(args, "read_only", False)) or inventory.settings.read_only
    return CommandGate(AuditLog(audit_path), read_only=read_only)


@contextlib.asynccontextmanager
async def open_session(inventory: Inventory, entry: VMEntry, gate: CommandGate,
                       hosts: HostPool | None = None) -> AsyncIterator[VMSession]:
    """A connected session to ``entry``, over SSH when it is on a host; closed on exit.

    Sessions given the same ``hosts`` share one SSH connection per host.
    """
    async with contextlib.AsyncExitStack() as stack:
        if hosts is None:
            hosts = await stack.enter_async_context(HostPool(inventory.host))
        yield await stack.enter_async_context(VMSession(entry.name, hosts.address(entry), gate,
                                                                host_entry=hosts.entry_of(entry),
                                                                shared=bool(entry.shared)))


@contextlib.asynccontextmanager
async def open_vm(inventory: Inventory, name: str, gate: CommandGate,
                  hosts: HostPool | None = None) -> AsyncIterator[VMSession]:
    """A connected session to the VM called ``name``: a ``[[vm]]`` of the inventory, else a domain
    of one of its libvirt hosts; closed on exit."""
    if any(entry.name == name for entry in inventory.vm) or not any(host.libvirt for host in inventory.host):
        async with open_session(inventory, inventory.get(name), gate, hosts) as session:
            yield session
        return
    from migtui.libvirt.lookup import open_domain  # libvirt only for an inventory that has libvirt hosts

    async with open_domain(inventory.host, name, gate) as domain:
        yield domain

