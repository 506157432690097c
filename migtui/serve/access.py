"""Who may see the page: a token on every request, as Jupyter does.

textual-serve has no authentication: anyone who reaches its port gets a
dashboard. Here every request (the page, its scripts, the websocket) needs
the token, given as ``?token=`` (the address printed at start), then as a
cookie the first answer sets, or as ``Authorization: token ...`` / ``Bearer
...`` (scripts, proxies). Anything else gets 403 before textual-serve sees it,
and so does a websocket that a page of another origin opens.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from migtui.errors import BadArguments, UsageError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REFUSED = "migtui serve: this page needs its token (the address migtui serve printed, with ?token=...)\n"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def read_token(path: Path) -> str:
    """The token kept in ``path`` (its first line, without spaces); one line when it cannot be."""
    try:
        text = path.read_text()
    except OSError as error:
        raise UsageError(f"--token-file {path}: {error.strerror or error}") from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(token) < 16:
        raise UsageError(f"--token-file {path}: the token must be at least 16 characters on the first line")
    return token


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` reaches this machine only (every address a name resolves to)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in found)


def check_exposure(host: str, *, tls: bool, insecure: bool) -> None:
    """Listening beyond loopback needs TLS, or the admin's word that a proxy in front provides it."""
    if not (tls or insecure or is_loopback(host)):
        raise BadArguments(f"--listen {host}: beyond loopback the token would cross the network in clear text; "
                           "give --certfile and --keyfile, or --insecure-listen (behind a TLS proxy)")


class TokenGuard:
    """An aiohttp middleware: the request carries the token, or gets 403."""

    def __init__(self, token: str, *, cookie: str, secure: bool, public_host: str | None = None) -> None:
        self.token = token
        self.cookie = cookie
        """The cookie's name (one a server: two on one host do not overwrite each other's)."""
        self.secure = secure
        """Send the cookie over TLS only."""
        self.public_host = public_host
        """``host[:port]`` of ``--public-url``: where the pages come from behind a proxy (None: the request's Host)."""

    def _foreign_page(self, request: web.Request) -> bool:
        """A websocket opened by a page of another origin: a cookie does not say that the token's holder
        opened it (SameSite ignores ports: another web app on this host would pass it along)."""
        origin = request.headers.get("Origin")
        if origin is None or request.headers.get("Upgrade", "").lower() != "websocket":
            return False
        return urlsplit(origin).netloc.lower() != (self.public_host or request.host).lower()

    def _matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _from_header(self, request: web.Request) -> str | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return value.strip() if scheme.lower() in ("token", "bearer") else None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        by_query = self._matches(request.query.get("token"))
        if not (by_query or self._matches(request.cookies.get(self.cookie))
                or self._matches(self._from_header(request))):
            raise web.HTTPForbidden(text=REFUSED)
        if self._foreign_page(request):
            raise web.HTTPForbidden(text="migtui serve: a page of another origin may not open the dashboard\n")
        response = await handler(request)
        if by_query and not response.prepared:  # the page's scripts and websocket come with the cookie
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict", secure=self.secure,
                                path="/")
        return response
