"""``migtui login``: the forced command of a read-only SSH login.

An ``authorized_keys`` entry such as::

    command="migtui login --config /etc/migtui/inventory.toml",no-port-forwarding,no-agent-forwarding,no-X11-forwarding ssh-ed25519 AAAA... ops@example

gives its key the dashboard (``ssh -t host``) or a migtui command
(``ssh host watch --json``), always read-only, always on that inventory, and
nothing else: no shell, no other program, and (``no-port-forwarding``) no
way to reach the QMP sockets past migtui.
"""

from __future__ import annotations

import argparse
import os
import shlex

from migtui.errors import UsageError

ALLOWED = ("dashboard", "watch", "migrate", "cancel", "postcopy", "params", "snapshot")
"""Commands that talk to the inventory's VMs only, every change through the command gate."""

WRITES = {"save_preset": "--save-preset", "record": "--record", "retention": "--retention", "export": "--export"}
"""Options of those commands that would write a file or listen on a port: not for a read-only login."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "login", help="the forced command of a read-only SSH login (authorized_keys command=)",
        description="Run the migtui command the SSH client asked for ($SSH_ORIGINAL_COMMAND; none: the "
                    "dashboard) read-only, on the given inventory. Any other program is refused.")
    parser.add_argument("--config", metavar="FILE", required=True, help="the inventory the login may see")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from migtui.__main__ import build_parser, run_command

    try:
        asked = shlex.split(os.environ.get("SSH_ORIGINAL_COMMAND", ""))
    except ValueError as error:
        raise UsageError(f"login: cannot read the command: {error}") from None
    if asked[:1] == ["migtui"]:
        asked = asked[1:]
    if not asked or asked[0].startswith("-"):
        asked = ["dashboard", *asked]
    if asked[0] not in ALLOWED:
        raise UsageError(f"login: {asked[0]!r} is not allowed here (a read-only login runs only: "
                         f"{', '.join(ALLOWED)})")
    inner = build_parser().parse_args(asked)  # argparse's own one-line usage errors for bad options
    if getattr(inner, "vm", None):
        raise UsageError("login: --vm is not allowed here (the login sees its inventory only)")
    for dest, option in WRITES.items():
        if getattr(inner, dest, None):
            raise UsageError(f"login: {option} is not allowed here (a read-only login writes nothing and "
                             "listens on no port)")
    # Set on the parsed arguments, not added to the command line: no option order can undo them.
    inner.read_only, inner.config = True, args.config
    if hasattr(inner, "audit_log"):
        inner.audit_log = None  # the inventory's audit log, not one the client picks
    return run_command(inner)
