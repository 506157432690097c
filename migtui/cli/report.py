"""``migtui report FILE``: the post-mortem of one recorded migration."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from migtui.errors import UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report", help="the post-mortem of a recorded migration",
        description="Start, end, outcome, passes, bytes, throughput, dirty rate, downtime against the limit, "
                    "every parameter change with its origin, the events and the verdict of one migration "
                    "of a recording (default: the last one a VM migrated out).")
    parser.add_argument("file", metavar="FILE", type=Path, help="a recording")
    parser.add_argument("--vm", metavar="NAME", help="the VM (default: the one that migrated out last)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--migration", type=int, metavar="N", help="the VM's Nth recorded migration (from 1)")
    which.add_argument("--last", action="store_true", help="the last one (the default)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="the report as one JSON object")
    out.add_argument("--html", metavar="OUT", type=Path, help="write a self-contained page with charts")
    out.add_argument("--csv", metavar="OUT", help="write the migration's samples as CSV ('-': stdout)")
    out.add_argument("--jsonl", metavar="OUT", help="write the migration's samples as JSON lines ('-': stdout)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from migtui.record.reader import Recording
    from migtui.report.build import build_report
    from migtui.report.migrations import choose
    from migtui.report.text import report_lines

    with Recording(args.file) as recording:
        migration = choose(recording, args.vm, args.migration)
        if args.csv or args.jsonl:
            from migtui.report.samples_out import samples_csv, samples_jsonl

            text = samples_csv(migration.samples) if args.csv else samples_jsonl(migration.samples)
            _write(args.csv or args.jsonl, text)
            return 0
        report = build_report(recording, migration)
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.html:
        from migtui.report.html import report_html

        _write(str(args.html), report_html(report, migration.samples))
        print(f"wrote {args.html}", file=sys.stderr)
    else:
        print("\n".join(report_lines(report)))
    return 0


def _write(target: str, text: str) -> None:
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        Path(target).write_text(text)
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None
