"""``migtui replay FILE``: the dashboard on a recording (read-only by construction)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from migtui.errors import UsageError
from migtui.record.moments import parse_moment

if TYPE_CHECKING:
    from migtui.replay_app import ReplayApp


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "replay", help="open the dashboard on a recording",
        description="The dashboard as it was: fleet, VM screens, charts, events and predictions from a "
                    "recording. Keys: space pause, . step, [ ] 10 s back/on, { } a minute, - + speed.")
    parser.add_argument("file", metavar="FILE", type=Path, help="a recording of `migtui record` or --record")
    parser.add_argument("--from", dest="start", metavar="TIME",
                        help="start here: HH:MM[:SS], an ISO date and time, +5m from the start, -5m from the end")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X", help="replay speed (default 1)")
    parser.add_argument("--follow", action="store_true",
                        help="show the recording live, while a recorder is still writing it")
    parser.add_argument("--open", metavar="NAME", dest="open_vm", help="start on this VM's screen")
    parser.add_argument("--theme", metavar="NAME", help="as for the dashboard")
    parser.set_defaults(func=run)


def build_app(args: argparse.Namespace) -> ReplayApp:  # Textual is imported only here
    from migtui.record.reader import Recording
    from migtui.record.replay import ReplayFleet
    from migtui.replay_app import ReplayApp

    if args.speed <= 0:
        raise UsageError("--speed must be positive")
    recording = Recording(args.file)
    span = recording.span()
    if span is None and not args.follow:
        raise UsageError(f"{args.file}: the recording is empty")
    start = parse_moment(args.start, span) if args.start and span else None
    fleet = ReplayFleet(recording, start=start, speed=args.speed, follow=args.follow)
    if args.open_vm and args.open_vm not in fleet.states:
        raise UsageError(f"no VM named {args.open_vm!r} in the recording (recorded: {', '.join(fleet.states)})")
    app = ReplayApp(fleet, name=args.file.name, open_vm=args.open_vm)
    if args.theme:
        if args.theme not in app.available_themes:
            raise UsageError(f"no theme {args.theme!r} (known: {', '.join(sorted(app.available_themes))})")
        app.theme = args.theme
    return app


async def run(args: argparse.Namespace) -> int:
    app = build_app(args)
    try:
        await app.run_async()
    finally:
        app.fleet.recording.close()
    return app.return_code or 0
