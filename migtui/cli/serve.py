"""``migtui serve``: the dashboard in browsers, read-only, for any number of viewers (docs/serve.md).

Every browser gets a replay following a live recording: ``--db FILE``
follows one that a recorder elsewhere writes; ``--config``/``--vm`` runs the
recorder here too (with the inventory's alerts, as ``migtui record`` does),
through a read-only gate, since nothing served changes a VM.
"""

from __future__ import annotations

import argparse
import hashlib
import ssl
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import urlsplit

from migtui.cli.common import inventory_from_args
from migtui.cli.record import add_recording_options, log_line, start_alerts, start_recording
from migtui.cli.until_stopped import until_stopped
from migtui.errors import BadArguments, UsageError
from migtui.metrics.server import parse_listen
from migtui.qmp.audit import AuditLog
from migtui.qmp.gate import CommandGate
from migtui.record.reader import Recording
from migtui.record.schema import RecordingError
from migtui.record.writer import Recorder

DEFAULT_LISTEN = "127.0.0.1:9779"
FLUSH_EVERY = 0.25
"""Seconds between the recorder's commits here: a viewer shows a change once it is committed
(``migtui record`` commits once a second, which would make the pages a second late)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve", help="the dashboard in browsers: read-only viewers of a live recording",
        description="Serve the dashboard to browsers (textual-serve): each viewer gets a read-only replay "
                    "following a live recording, so viewers open no QMP socket and cannot change a VM. "
                    "Every page needs the token printed at start (or --token-file). See docs/serve.md.")
    parser.add_argument("--db", metavar="FILE", type=Path,
                        help="the recording to show live (with --config or --vm: the one recorded into; "
                             "default then: a temporary file)")
    # Not add_inventory_options: serve records only when told, never from $MIGTUI_CONFIG alone.
    vms = parser.add_argument_group("VMs to record here (without them, --db FILE is followed)")
    vms.add_argument("--config", metavar="FILE", help="the inventory to record (its [[alert]] rules run too)")
    vms.add_argument("--vm", metavar="NAME=ADDR", action="append", default=[],
                     help="a VM by its QMP address, as for the other commands; repeatable")
    parser.add_argument("--listen", metavar="ADDR", default=DEFAULT_LISTEN,
                        help=f"address to serve on (default {DEFAULT_LISTEN}; port 0 picks a free one); "
                             "beyond loopback only with TLS or --insecure-listen")
    parser.add_argument("--token-file", metavar="FILE", type=Path,
                        help="read the token from FILE (its first line) instead of making one up")
    parser.add_argument("--certfile", metavar="FILE", type=Path, help="TLS certificate (PEM), with --keyfile")
    parser.add_argument("--keyfile", metavar="FILE", type=Path, help="TLS private key (PEM), with --certfile")
    parser.add_argument("--insecure-listen", action="store_true",
                        help="listen beyond loopback without TLS (behind a reverse proxy that provides it)")
    parser.add_argument("--public-url", metavar="URL",
                        help="the address browsers use, when a reverse proxy serves it under another one")
    parser.add_argument("--max-viewers", type=int, default=16, metavar="N",
                        help="browsers served at once (default 16: each viewer is a process)")
    parser.add_argument("--interval", type=float, metavar="S",
                        help="recording: seconds between samples of every VM (default: 0.5 while migrating, 5 idle)")
    add_recording_options(parser, with_db=False)
    parser.set_defaults(func=run)


def tls_context(certfile: Path | None, keyfile: Path | None) -> ssl.SSLContext | None:
    if certfile is None and keyfile is None:
        return None
    if certfile is None or keyfile is None:
        raise BadArguments("--certfile and --keyfile go together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile)
    except ssl.SSLError:  # (an OSError too, so first) OpenSSL's "PEM lib (_ssl.c:3905)" says little
        raise UsageError(f"cannot use {certfile} and {keyfile} for TLS: not a PEM certificate and "
                         "its private key") from None
    except OSError as error:
        why = error.strerror or error
        raise UsageError(f"cannot use {certfile} and {keyfile} for TLS: {why}") from None
    return context


async def run(args: argparse.Namespace) -> int:
    from migtui.qmp.fleet import Fleet  # the viewers' server and its aiohttp only when serving
    from migtui.serve.access import TokenGuard, check_exposure, new_token, read_token
    from migtui.serve.viewers import ViewerServer

    records = bool(args.config or getattr(args, "vm", None))
    if not records and args.db is None:
        raise BadArguments("give --db FILE (a recording to follow), or --config INVENTORY (to record it here too)")
    if not records and (args.retention or args.export or args.interval):
        raise BadArguments("--retention, --export and --interval apply when serve records: give --config too "
                           "(or use them on the recorder that writes the file)")
    if args.interval is not None and args.interval <= 0:
        raise BadArguments("--interval must be positive")
    if args.max_viewers < 1:
        raise BadArguments("--max-viewers must be at least 1")
    host, port = parse_listen(args.listen)
    context = tls_context(args.certfile, args.keyfile)
    check_exposure(host, tls=context is not None, insecure=args.insecure_listen)
    token = read_token(args.token_file) if args.token_file else new_token()
    # One cookie name a token: two servers on one host (cookies ignore ports) keep their own.
    cookie = "migtui-token-" + hashlib.sha256(token.encode()).hexdigest()[:8]
    public_host = urlsplit(args.public_url).netloc if args.public_url else None
    guard = TokenGuard(token, cookie=cookie, secure=context is not None, public_host=public_host)
    async with AsyncExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="migtui-serve-")))
        db: Path = args.db or workdir / "fleet.db"
        failures = []
        recorder: Recorder | None = None
        if records:
            inventory = inventory_from_args(args)
            # Nothing served changes a VM: the recorder's gate refuses every command that would.
            gate = CommandGate(AuditLog(inventory.audit_path), read_only=True)
            pace = {"fast": args.interval, "slow": args.interval} if args.interval else {}
            fleet = Fleet(inventory.vm, gate, hosts=inventory.host, history=inventory.settings.history, **pace)
            recorder = await start_recording(stack, fleet, db, args.retention, args.export, flush_every=FLUSH_EVERY)
            assert recorder is not None
            failures.append(recorder.failed)
            await start_alerts(stack, fleet, inventory.alert, log_line)
            await stack.enter_async_context(fleet)
            print(f"recording {len(fleet.states)} VM(s) into {db}", file=sys.stderr, flush=True)
        elif not db.is_file():
            raise UsageError(f"{db}: no such recording (migtui record --db {db} writes one)")
        else:
            Recording(db).close()  # not a recording: said once here, not in every browser
        server = await stack.enter_async_context(ViewerServer(
            db, workdir, host=host, port=port, guard=guard, public_url=args.public_url, ssl_context=context,
            max_viewers=args.max_viewers))
        shown = host if ":" not in host else f"[{host}]"
        listening = f"{server.scheme}://{shown}:{server.port}"
        base = args.public_url.rstrip("/") if args.public_url else listening
        where = f"{base}/?token={token}" if not args.token_file else f"{base}/ (the token of {args.token_file})"
        behind = f" (listening on {listening})" if args.public_url else ""
        print(f"serving the dashboard on {where}{behind}", file=sys.stderr, flush=True)
        await until_stopped(*failures)
        if recorder is not None and recorder.error:
            raise RecordingError(recorder.error)
    return 0
