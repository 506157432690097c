"""``migtui serve`` run as an admin runs it, for the browser tests and the benchmark."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass

from cli_process import read_line, started_cli


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    """The address printed at start, token included."""
    said: str
    """The whole line that printed it."""

    @property
    def base(self) -> str:
        return self.url.split("?", 1)[0].rstrip("/")

    @property
    def token(self) -> str:
        return self.url.rsplit("token=", 1)[1]


@contextlib.asynccontextmanager
async def serving(*argv: str, env: dict[str, str] | None = None) -> AsyncIterator[Served]:
    """``migtui serve ARGV --listen 127.0.0.1:0`` until its address is printed; stopped (and its viewers
    with it) at the end, pass or fail."""
    with started_cli("serve", "--listen", "127.0.0.1:0", *argv, stderr=subprocess.PIPE, env=env) as process:
        while not (found := re.match(r"serving the dashboard on (\S+)", await read_line(process.stderr, 30))):
            pass
        yield Served(process, found.group(1), found.string.rstrip("\n"))
        if process.poll() is None:
            process.terminate()
            process.wait(15)
