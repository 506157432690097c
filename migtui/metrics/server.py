"""A small asyncio HTTP server for ``GET /metrics`` (no thread beside the event loop).

prometheus-client renders the page and picks OpenMetrics or the classic text
format from the scraper's Accept header.
"""

from __future__ import annotations

import asyncio

from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import CollectorRegistry

from migtui.errors import UsageError
from migtui.metrics.collector import FleetCollector
from migtui.qmp.fleet_view import FleetView

DEFAULT_LISTEN = "127.0.0.1:9778"


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"not an address to listen on: {text!r} (e.g. 127.0.0.1:9778)")
    return host.strip("[]") or "0.0.0.0", int(port)


class MetricsServer:
    def __init__(self, fleet: FleetView, listen: str = DEFAULT_LISTEN) -> None:
        self.host, self.port = parse_listen(listen)
        self.collector = FleetCollector(fleet)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self._unsubscribe = fleet.subscribe(self.collector)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)
        except OSError as error:
            raise UsageError(f"cannot listen on {self.host}:{self.port}: {error.strerror or error}") from None
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self._unsubscribe()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> MetricsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request = await reader.readuntil(b"\r\n\r\n")
            lines = request.decode("latin-1").split("\r\n")
            method, path, *_ = [*lines[0].split(" "), "", ""]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            if method != "GET" or path.split("?")[0] not in ("/metrics", "/"):
                body, status, kind = b"not found: try /metrics\n", "404 Not Found", "text/plain"
            else:
                encoder, kind = choose_encoder(headers.get("accept", ""))
                body, status = encoder(self.registry), "200 OK"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                         "Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
