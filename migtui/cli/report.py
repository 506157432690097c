"""``migtui report FILE``: the post-mortem of one recorded migration."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

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
    parser.add_argument("--audit-log", metavar="FILE", type=Path,
                        help="the audit log to find who changed what (default: the inventory's, as the gate "
                             "writes it); commands of other migtui processes than the recorder are only there")
    parser.add_argument("--config", metavar="FILE", help="the inventory whose audit log is read")
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
        report = build_report(recording, migration, _audit_log(args))
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.html:
        from migtui.report.html import report_html

        _write(str(args.html), report_html(report, migration.samples))
        print(f"wrote {args.html}", file=sys.stderr)
    else:
        print("\n".join(report_lines(report)))
    return 0


def _audit_log(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The audit log's entries (none when there is no such file: a recording read elsewhere)."""
    from migtui.inventory import find_config, load_inventory, state_dir
    from migtui.qmp.audit import AuditLog

    path = args.audit_log
    if path is None:
        config = find_config(args.config)
        path = load_inventory(config).audit_path if args.config or config.exists() else state_dir() / "audit.jsonl"
    try:
        return AuditLog(path).entries()
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the audit log {path}: {getattr(error, 'strerror', None) or error}") from None


def _write(target: str, text: str) -> None:
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        Path(target).write_text(text)
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None
