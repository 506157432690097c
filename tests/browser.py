"""A real headless Chromium driven over the Chrome DevTools Protocol (its websocket, with aiohttp).

No browser is downloaded: Debian's ``chromium`` (``make test`` installs it),
with the flags this closed network needs (no background connections that
would be refused). ``Browser`` starts one in its own profile directory and
stops it on exit, pass or fail; ``page.text()`` is what the terminal on the
page shows (xterm.js's rows), ``page.press(key)`` types into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--mute-audio", "--window-size=1280,900"]
# xterm.js draws on a canvas and textual-serve keeps its Terminal to itself: this, run before the
# page's scripts, keeps each Terminal as it is assigned, so that its buffer (what the page shows) can be read.
KEEP_TERMINALS = """
window.__terminals = [];
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer && value.buffer.active) window.__terminals.push(value);
  },
});
"""
TERMINAL_TEXT = """(() => {
  const terminal = window.__terminals && window.__terminals[0];
  if (!terminal) return '';
  const buffer = terminal.buffer.active, lines = [];
  for (let row = 0; row < terminal.rows; row++) {
    const line = buffer.getLine(buffer.viewportY + row);
    lines.push(line ? line.translateToString(true) : '');
  }
  return lines.join('\\n');
})()"""


class Page:
    """One tab, through its DevTools websocket."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        self.websocket = websocket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.websocket:
            data = json.loads(message.data)
            future = self._waiting.pop(data.get("id", 0), None)
            if future is not None and not future.done():
                future.set_result(data)

    async def send(self, method: str, timeout: float = 15, **params: Any) -> dict[str, Any]:
        key = next(self._ids)
        self._waiting[key] = future = asyncio.get_running_loop().create_future()
        await self.websocket.send_json({"id": key, "method": method, "params": params})
        answer = await asyncio.wait_for(future, timeout)
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer["result"]

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)

    async def text(self) -> str:
        return str(await self.evaluate(TERMINAL_TEXT) or "")

    async def focus(self) -> None:
        """Keys go to the terminal (as after a click on it)."""
        await self.evaluate("window.__terminals[0] && window.__terminals[0].focus()")

    async def press(self, key: str, code: str = "", key_code: int = 0, text: str | None = None,
                    modifiers: int = 0) -> None:
        """One key, as the keyboard sends it (keyDown with its text, then keyUp)."""
        down: dict[str, Any] = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": key_code,
                                "modifiers": modifiers}
        if text is not None:
            down["text"] = text
        await self.send("Input.dispatchKeyEvent", **down)
        await self.send("Input.dispatchKeyEvent", type="keyUp", key=key, code=code,
                        windowsVirtualKeyCode=key_code, modifiers=modifiers)

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        await self.websocket.close()


class Browser:
    """``async with Browser() as browser: page = await browser.new_page(url)``."""

    def __init__(self) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="migtui-chromium-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.http: aiohttp.ClientSession | None = None
        self.pages: list[Page] = []
        self.base = ""

    async def __aenter__(self) -> "Browser":
        self.process = subprocess.Popen(
            ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=(self.profile / "chromium.log").open("wb"))
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        try:
            while not (port_file.exists() and port_file.read_text().strip()):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("chromium did not start: " +
                                         (self.profile / "chromium.log").read_text()[-2000:])
                await asyncio.sleep(0.05)
        except BaseException:  # no __aexit__ after a failed __aenter__: stop it here
            await self.__aexit__(None, None, None)
            raise
        self.base = f"http://127.0.0.1:{port_file.read_text().split()[0]}"
        self.http = aiohttp.ClientSession()
        return self

    async def new_page(self, url: str) -> Page:
        assert self.http is not None
        async with self.http.put(f"{self.base}/json/new?about:blank") as answer:
            target = await answer.json()
        websocket = await self.http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(websocket)
        self.pages.append(page)
        await page.send("Page.enable")
        await page.send("Page.addScriptToEvaluateOnNewDocument", source=KEEP_TERMINALS)
        await page.goto(url)
        return page

    async def __aexit__(self, *exc_info: object) -> None:
        for page in self.pages:
            await page.close()
        if self.http is not None:
            await self.http.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
        shutil.rmtree(self.profile, ignore_errors=True)
