"""``migtui serve`` in a real headless Chromium, on a real lab (docs/serve.md).

The page must show the fleet and follow a migration live; it must be
refused without its token (page, scripts and websocket); and no key typed
into it may change a VM: the lab VMs' state is read through their second
QMP socket before and after. Chromium, serve and its viewers, and QEMU are
stopped when a test ends, pass or fail.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import aiohttp
import pytest

from browser import Browser, Page
from cli_process import read_line, started_cli
from migtui.lab.control import ControlClient
from serving import serving
from waiting import until_true

pytestmark = pytest.mark.qemu
MiB = 1 << 20


async def shows(page: Page, predicate, timeout: float, what: str) -> str:
    """Wait until the page's terminal text satisfies ``predicate``; that text."""
    seen = ""

    async def check() -> bool:
        nonlocal seen
        seen = await page.text()
        return bool(predicate(seen))

    try:
        await until_true(check, timeout, what)
    except AssertionError as error:
        raise AssertionError(f"{error}; the page shows:\n{seen}") from None
    return seen


def row(text: str, vm: str) -> str:
    """The fleet table's row of ``vm``."""
    return next((line for line in text.splitlines() if line.split()[:1] == [vm]), "")


async def status(http: aiohttp.ClientSession, url: str, **kwargs) -> int:
    async with http.get(url, **kwargs) as answer:
        return answer.status


async def test_the_page_needs_its_token_shows_the_fleet_and_follows_a_migration_live(lab, ctl, lab_dir: Path):
    src = await lab.start_source("vm1", mem_mib=64, dirty_mib=24, dirty_rate_mib_s=float("inf"))
    dst = await lab.start_destination("vm1-dst", like=src)
    inventory = lab.write_inventory(lab_dir / "inventory.toml")
    with inventory.open("a") as toml:  # serve's recorder runs the inventory's alerts; the pages show them
        toml.write('\n[[alert]]\nwhen = "stalled"\n')
    async with serving("--config", str(inventory), "--interval", "0.2") as served, aiohttp.ClientSession() as http:
        # Without the token: the page, its scripts and the websocket are refused; with it, the page is served.
        assert await status(http, f"{served.base}/") == 403
        assert await status(http, f"{served.base}/static/js/textual.js") == 403
        assert await status(http, f"{served.base}/?token=not-{served.token}") == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{served.base}/ws?width=80&height=24")
        assert refused.value.status == 403
        assert await status(http, served.url) == 200
        assert await status(http, f"{served.base}/", headers={"Authorization": f"token {served.token}"}) == 200
        async with Browser() as browser:
            page = await browser.new_page(served.url)
            text = await shows(page, lambda t: row(t, "vm1") and row(t, "vm1-dst"), 30, "the fleet on the page")
            assert "inmigrate" in row(text, "vm1-dst") and "running" in row(text, "vm1")
            async with ctl(dst) as client:
                await client.execute("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
                uri = f"tcp:127.0.0.1:{(await client.execute('query-migrate'))['socket-address'][0]['port']}"
            async with ctl(src) as client:
                await client.wait_guest(passes=1, timeout=60)  # dirtying: a guest still booting would converge
                await client.execute("migrate-set-parameters", {"max-bandwidth": 16 * MiB})
                await client.execute("migrate", {"uri": uri})
                await shows(page, lambda t: "active" in row(t, "vm1"), 20, "vm1's migration active on the page")
                await shows(page, lambda t: "vm1: stalled" in t, 30, "the stalled alert's notification")
                await client.execute("migrate_cancel")
            await shows(page, lambda t: "cancelled" in row(t, "vm1"), 20, "vm1's migration cancelled on the page")


SPECIAL_KEYS = [("Enter", 13, "\r"), ("Escape", 27, None), ("Tab", 9, "\t"), ("Backspace", 8, None),
                ("Delete", 46, None), ("Insert", 45, None), ("Home", 36, None), ("End", 35, None),
                ("PageUp", 33, None), ("PageDown", 34, None), ("ArrowUp", 38, None), ("ArrowDown", 40, None),
                ("ArrowLeft", 37, None), ("ArrowRight", 39, None)] + [(f"F{n}", 111 + n, None) for n in range(1, 13)]
CTRL, SHIFT = 2, 8
QUITTING = [("q", CTRL), ("c", CTRL), ("q", 0)]
"""Keys that end the viewer: pressed last. Ctrl+Q first, on the page every other key went to: it is the
one that quits whatever has focus (the fleet's filter field, say, takes q as a letter and Ctrl+C as copy)."""


def every_key() -> list[tuple[str, int, str | None, int]]:
    """(key, key code, text, modifiers) for every key a keyboard sends to the page but the quitting ones."""
    keys = [(chr(c), ord(chr(c).upper()) if chr(c).isalnum() else 0, chr(c), SHIFT if chr(c).isupper() else 0)
            for c in range(32, 127)]
    keys += [(key, code, text, 0) for key, code, text in SPECIAL_KEYS]
    keys += [(key, code, None, SHIFT) for key, code, text in SPECIAL_KEYS if key.startswith("Arrow") or key == "Tab"]
    keys += [(chr(c), ord(chr(c).upper()), None, CTRL) for c in range(ord("a"), ord("z") + 1)]
    return [k for k in keys if (k[0], k[3]) not in QUITTING]


async def ended(page: Page) -> bool:
    """textual-serve's page says 'Session ended' (its viewer process is gone)."""
    return bool(await page.evaluate("document.body.classList.contains('-closed')"))


async def vm_state(ctl, vm) -> dict:
    async with ctl(vm) as client:
        return {command: await client.execute(command) for command in
                ("query-status", "query-migrate", "query-migrate-parameters", "query-migrate-capabilities")}


async def test_no_key_on_the_page_changes_a_vm(lab, ctl, lab_dir: Path):
    src = await lab.start_source("vm1", mem_mib=64, dirty_mib=8, dirty_rate_mib_s=4)
    dst = await lab.start_destination("vm1-dst", like=src)
    inventory = lab.write_inventory(lab_dir / "inventory.toml")
    before = {vm.name: await vm_state(ctl, vm) for vm in (src, dst)}
    async with serving("--config", str(inventory)) as served, Browser() as browser:
        page = await browser.new_page(served.url)
        await shows(page, lambda t: row(t, "vm1") and row(t, "vm1-dst"), 30, "the fleet on the page")
        await page.focus()
        await page.press("?", text="?")  # keys reach the viewer: its help opens
        await shows(page, lambda t: "Help · ? or Esc closes" in t, 10, "the help screen")
        for key, code, text, modifiers in every_key():
            # Each key, then Enter to confirm whatever it opened, then Escape to close it.
            await page.press(key, key_code=code, text=text, modifiers=modifiers)
            await page.press("Enter", key_code=13, text="\r")
            await page.press("Escape", key_code=27)
        # Each quitting key ends its own viewer: the others on fresh pages, from the fleet screen.
        for _ in range(5):
            await page.press("Escape", key_code=27)
        await shows(page, lambda t: row(t, "vm1") and row(t, "vm1-dst"), 20, "the fleet again")
        for (key, modifiers), viewer in zip(QUITTING, [page, *[await browser.new_page(served.url)
                                                                      for _ in range(len(QUITTING) - 1)]]):
            await shows(viewer, lambda t: row(t, "vm1") and row(t, "vm1-dst"), 30, "the fleet on the page")
            await viewer.focus()
            await viewer.press(key, key_code=ord(key.upper()), text=None if modifiers else key, modifiers=modifiers)
            await until_true(lambda: ended(viewer), 15, f"the viewer ended by {key!r} (modifiers {modifiers})")
        after = {vm.name: await vm_state(ctl, vm) for vm in (src, dst)}
    assert after == before
    assert not (lab_dir / "audit.jsonl").exists()  # no command that changes a VM was even tried


def viewers_of(pid: int) -> list[int]:
    """The replay processes ``pid`` runs for its browsers."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if parent == pid and b"replay" in cmdline and b"--follow" in cmdline:
            found.append(int(entry.name))
    return found


async def test_three_browsers_watch_without_a_qmp_connection_of_their_own(lab, ctl, lab_dir: Path):
    src = await lab.start_source("vm1", mem_mib=64, dirty_mib=8, dirty_rate_mib_s=4)
    await lab.start_destination("vm1-dst", like=src)
    # The recorder holds the VMs' second sockets; their first ones are in the inventory an admin would
    # have (MIGTUI_CONFIG): a viewer that opened the live dashboard instead of a replay would take them.
    inventory = lab.write_inventory(lab_dir / "inventory.toml")
    recorder_inventory = lab_dir / "recorder.toml"
    recorder_inventory.write_text(inventory.read_text().replace(".qmp\"", ".ctl.qmp\"").replace(".ctl.ctl.", ".ctl."))
    assert recorder_inventory.read_text().count(".ctl.qmp") == 2
    db = lab_dir / "fleet.db"
    with started_cli("record", "--db", str(db), "--config", str(recorder_inventory), stderr=subprocess.PIPE) as recorder:
        assert (await read_line(recorder.stderr, 30)).startswith("recording 2 VM(s)")
        env = dict(os.environ, MIGTUI_CONFIG=str(inventory))
        async with serving("--db", str(db), env=env) as served, Browser() as browser:
            pages = await asyncio.gather(*(browser.new_page(served.url) for _ in range(3)))
            for page in pages:
                await shows(page, lambda t: "running" in row(t, "vm1") and row(t, "vm1-dst"), 30,
                            "the fleet on each page")
            assert len(viewers_of(served.process.pid)) == 3  # one replay a browser
            # QEMU serves one client a socket: each first socket is free, while the three watch.
            for vm in ("vm1", "vm1-dst"):
                client = await ControlClient.connect(lab[vm].qmp_path, timeout=5)
                try:
                    assert (await client.execute("query-status"))["status"] in ("running", "inmigrate")
                finally:
                    await client.close()
            assert all([not await page.evaluate("document.body.classList.contains('-closed')") for page in pages])
        recorder.terminate()
        assert recorder.wait(15) == 0
