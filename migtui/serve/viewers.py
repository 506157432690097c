"""textual-serve's server, made for many read-only viewers of one recording.

textual-serve starts one process of a command per websocket (per browser
tab) and relays its terminal. Here the command is ``migtui replay --follow
DB``, run in a private directory, so a viewer writes nothing beside
serve's own files; the aiohttp app is textual-serve's, with the token guard
in front of every route (migtui.serve.access). What changes from
textual-serve's own server, and why:

- the page's addresses are made from the request (or ``--public-url``), not
  from the listening address, so ``localhost`` and a reverse proxy work;
- viewers are counted (``max_viewers``) and their processes kept, so closing
  the server stops every one of them;
- it runs in the caller's event loop (beside a recorder), not in its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
import ssl
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from migtui.errors import UsageError
from migtui.serve.access import TokenGuard

log = logging.getLogger(__name__)
STOP_TIMEOUT = 5.0
"""Seconds a viewer is given to quit before it is killed."""


def viewer_command(db: Path, workdir: Path) -> str:
    """The shell line textual-serve runs for each browser: a read-only replay following ``db``."""
    replay = shlex.join([sys.executable, "-m", "migtui", "replay", "--follow", str(db.resolve())])
    return f"cd {shlex.quote(str(workdir))} && exec {replay}"


class _Viewer(AppService):
    """One browser's replay process, known to the server so that closing it stops the process."""

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        process: asyncio.subprocess.Process | None = self._process
        return process

    async def end(self) -> None:
        """Ask the replay to quit (textual-serve's quit message); kill it if it has not within STOP_TIMEOUT."""
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await self.stop()
        except TimeoutError:
            pass
        process = self.process
        if process is not None and process.returncode is None:
            # os.kill, not process.kill(): Popen's kill first polls, and so reaps an exited child
            # behind asyncio's child watcher (which then logs "Unknown child process").
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            await process.wait()


class ViewerServer(Server):
    def __init__(self, db: Path, workdir: Path, *, host: str, port: int, guard: TokenGuard,
                 public_url: str | None = None, ssl_context: ssl.SSLContext | None = None,
                 max_viewers: int = 16) -> None:
        super().__init__(viewer_command(db, workdir), host=host, port=port, title=f"migtui: {db.name}",
                         public_url=public_url)
        self.given_public_url = public_url.rstrip("/") if public_url else None
        self.guard = guard
        self.ssl_context = ssl_context
        self.max_viewers = max_viewers
        self.viewers: set[_Viewer] = set()
        """The browsers served now."""
        self._runner: web.AppRunner | None = None

    # -- life ----------------------------------------------------------------

    async def start(self) -> None:
        app = await self._make_app()
        app.middlewares.insert(0, self.guard.middleware)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=STOP_TIMEOUT)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            raise UsageError(f"cannot listen on {self.host}:{self.port}: {error.strerror or error}") from None
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """End every viewer (its replay quits, its websocket closes), then the server."""
        await asyncio.gather(*(viewer.end() for viewer in list(self.viewers)))
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> ViewerServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context else "http"

    # -- textual-serve's handlers, adapted ----------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints its logo here; migtui serve says its own words.)"""

    def _public_url(self, request: web.Request) -> str:
        return self.given_public_url or f"{request.scheme}://{request.host}"

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        base = self._public_url(request)
        websocket = base.replace("https:", "wss:", 1) if base.startswith("https:") else base.replace("http:", "ws:", 1)
        statics = f"{base}{request.app.router['static'].url_for(filename='/')}".rstrip("/") + "/"
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{websocket}{request.app.router['websocket'].url_for()}",
            "config": {"static": {"url": statics}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if len(self.viewers) >= self.max_viewers:
            raise web.HTTPServiceUnavailable(text=f"migtui serve: {self.max_viewers} viewers already watch; "
                                                  "try again later\n")
        websocket = web.WebSocketResponse(heartbeat=15)

        async def close() -> None:  # the replay quit: so does its page
            await websocket.close()

        viewer = _Viewer(self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                         close=close, download_manager=self.download_manager)
        self.viewers.add(viewer)
        try:
            await websocket.prepare(request)
            await viewer.start(to_int(request.query.get("width", "80"), 80),
                               to_int(request.query.get("height", "24"), 24))
            await self._process_messages(websocket, viewer)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:  # one viewer's trouble is logged; the others and the recorder go on
            log.exception("a viewer failed")
        finally:
            await viewer.end()  # the browser went (or the server closes): its replay goes too
            self.viewers.discard(viewer)
            await websocket.close()
        return websocket
