"""``--set NAME=VALUE`` and ``--cap NAME=on|off``, validated by the VM's own schema.

The pairs are only split here; the values are read and checked by the
generated model of the QEMU the VM runs (:meth:`VMSettings.request`), the
same path the dashboard's form takes. Invalid values are reported one line
per field, and nothing is sent.
"""

from __future__ import annotations

import argparse
import sys

from migtui.errors import BadArguments
from migtui.qapi.errors import FieldErrors

INVALID_EXIT = BadArguments.exit_code
"""Exit status when values were refused before anything was sent (like a usage error)."""


class InvalidPair(BadArguments):
    """A ``--set`` or ``--cap`` that is not NAME=VALUE: refused like any other value."""


def add_settings_options(parser: argparse.ArgumentParser, cap_help: str) -> None:
    parser.add_argument("--set", metavar="NAME=VALUE", action="append", default=[],
                        help="a migration parameter, e.g. max-bandwidth=64M or downtime-limit=500; "
                             "lists as a,b or JSON, structs as JSON, null for a string-or-null; repeatable")
    parser.add_argument("--cap", metavar="NAME=on|off", action="append", default=[], help=cap_help)


def split_pairs(pairs: list[str], option: str) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> ``{"a": "1", "b": "x=y"}``; a later pair for a name wins."""
    split: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidPair(f"{option} {pair!r}: expected NAME=VALUE (nothing was sent)")
        split[name.strip()] = value
    return split


def report_invalid(vm: str, invalid: FieldErrors, given_caps: dict[str, str] | None = None) -> int:
    """One line per refused field on stderr; returns the exit status."""
    for name, message in invalid.errors.items():
        option = "--cap" if given_caps is not None and name in given_caps else "--set"
        print(f"migtui: {vm}: {option} {name}: {message}", file=sys.stderr)
    print(f"migtui: {vm}: nothing was sent", file=sys.stderr)
    return INVALID_EXIT
