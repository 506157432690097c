"""Entry point: ``migtui`` opens the dashboard, subcommands run headless."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys

from migtui import __version__
from migtui.cli.lines import quiet_stdout
from migtui.errors import MigtuiError

# Subcommand modules under migtui.cli; each registers its own parser.
# control: cancel and postcopy.
SUBCOMMANDS = ("watch", "migrate", "control", "lab", "schema", "params", "snapshot", "demo", "dashboard",
               "login", "record", "replay", "report", "export", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migtui",
        description="Watch and steer QEMU live migrations. Without a subcommand, opens the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"migtui {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"migtui.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"migtui.cli.{name}":
                continue  # not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = command_first(argv, _commands(parser))
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command's own parser, with its usage (argparse says it with migtui's)
        commands = _commands(parser)
        (commands.get(args.command) or parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return run_command(args)


def command_first(argv: list[str], commands: dict[str, argparse.ArgumentParser]) -> list[str]:
    """Options before the command are the command's: ``migtui --libvirt URI watch`` runs
    ``migtui watch --libvirt URI``, as ``git -C DIR log`` reads. Without a command, the dashboard's.

    The options are read as the dashboard reads them (which take a value), so that a value that
    happens to be a command's name (``--open report``, a VM) stays a value.
    """
    takes_value = {option for action in commands["dashboard"]._actions if action.nargs != 0
                   for option in action.option_strings}
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        index += 2 if argv[index] in takes_value else 1  # --config=F is one token
    if index < len(argv) and argv[index] in commands:
        return [argv[index], *argv[:index], *argv[index + 1:]]
    return ["dashboard", *argv]


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def run_command(args: argparse.Namespace) -> int:
    """Run parsed arguments' command; errors are one line on stderr."""
    try:
        result = args.func(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except MigtuiError as error:
        print(f"migtui: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Piped into `head`: the reader has all it wants.
        quiet_stdout()
        return 0


if __name__ == "__main__":
    sys.exit(main())
