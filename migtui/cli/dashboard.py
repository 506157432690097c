"""``migtui dashboard`` (and ``migtui`` alone): the Textual dashboard."""

from __future__ import annotations

import argparse
import asyncio
from contextlib import AsyncExitStack

from migtui.cli.common import add_inventory_options, add_safety_options, gate_from_args, inventory_from_args
from migtui.cli.record import add_recording_options, start_alerts, start_recording
from migtui.errors import UsageError
from migtui.qmp.tasks import cancel_all


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="open the dashboard (the default without a subcommand)",
        description="Watch every VM of the inventory: fleet table, live migration charts, event logs, "
                    "convergence prediction; start, cancel or switch migrations to postcopy.")
    add_inventory_options(parser)
    parser.add_argument("--open", metavar="NAME", dest="open_vm", help="start on this VM's screen")
    parser.add_argument("--theme", metavar="NAME",
                        help="migtui-dark, migtui-ansi (16 colours) or any Textual theme, for this run "
                             "(default: the one last picked in the palette, else by terminal; NO_COLOR is "
                             "respected)")
    add_recording_options(parser)
    add_safety_options(parser)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    # Imported here: the headless subcommands must not pay for loading Textual.
    from migtui.app import MigtuiApp
    from migtui.preferences import PreferenceFile
    from migtui.qmp.fleet import Fleet

    inventory = inventory_from_args(args)
    gate = gate_from_args(args, inventory)
    if args.open_vm:
        inventory.get(args.open_vm)  # an unknown name fails here, with the known ones
    fleet = Fleet(inventory.vm, gate, hosts=inventory.host, history=inventory.settings.history)
    app = MigtuiApp(fleet, open_vm=args.open_vm, auto_dismiss_jobs=inventory.settings.auto_dismiss_jobs,
                    preferences=PreferenceFile(), bell=inventory.settings.bell)
    if args.theme:
        if args.theme not in app.available_themes:
            raise UsageError(f"no theme {args.theme!r} (known: {', '.join(sorted(app.available_themes))})")
        app.theme = args.theme
    async with AsyncExitStack() as stack:  # the recorder and the metrics outlive the App's last update
        recorder = await start_recording(stack, fleet, args.record, args.retention, args.export)
        if recorder is not None:
            async def tell_failure() -> None:
                await recorder.failed.wait()
                app.notify(f"Recording stopped: {recorder.error}", severity="error", timeout=30, markup=False)

            stack.push_async_callback(cancel_all, [asyncio.create_task(tell_failure())])
        await start_alerts(stack, fleet, inventory.alert,
                           lambda line: app.notify(line, title="Alert command failed", severity="error",
                                                   timeout=30, markup=False))
        await app.run_async()
    return app.return_code or 0
