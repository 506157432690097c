"""The lab's VMs as an inventory file (the TOML that migtui.inventory reads)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from migtui.lab.vm import VM

GROUP = "lab"


def _toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string: same quotes, same escapes.
    return json.dumps(text, ensure_ascii=False)


def _order(vm: VM) -> tuple[str, bool, str]:
    """Each source, then its destination."""
    return (vm.source_name or vm.name, vm.role == "destination", vm.name)


def _toml_value(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _toml_string(value)


def render_inventory(vms: Iterable[VM], audit_log: Path,
                     hosts: Sequence[Mapping[str, str | bool]] | None = None) -> str:
    """``hosts``: the ``[[host]]`` tables, as key -> value, of a lab of hosts; without
    them, VMs are listed as seen on their own machine (local sockets)."""
    lines = [
        "# Written by `migtui lab`: the VMs of one lab directory.",
        "[settings]",
        f"audit_log = {_toml_string(str(audit_log))}",
    ]
    for host in hosts or []:
        lines += ["", "[[host]]", *(f"{key} = {_toml_value(value)}" for key, value in host.items())]
    for vm in sorted(vms, key=_order):
        lines += [
            "",
            "[[vm]]",
            f"name = {_toml_string(vm.name)}",
            *([f"host = {_toml_string(vm.host)}"] if vm.host and hosts else []),
            f"qmp = {_toml_string(str(vm.qmp_path))}",
            f"group = {_toml_string(GROUP)}",
            f"notes = {_toml_string(vm.describe())}",
        ]
    return "\n".join(lines) + "\n"
