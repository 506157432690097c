"""What serving browsers costs, and how late they are: ``migtui serve`` with 5 browsers following it.

A lab VM migrates and is cancelled again and again, ``migtui serve
--config`` records it (the recorder runs in serve's process) and serves five
pages of one headless Chromium (Debian's), each a viewer process of its own
(a ``replay --follow``). Printed: the CPU of the serve side (serve's process
and its viewers, from /proc) as a share of one core, idle and during the
migrations, per viewer; and the delay from each MIGRATION event (QEMU's own
timestamp) to the moment the status word shows in vm1's row on each page
(read from xterm.js's buffer every 20 ms). Goal: p95 under 1 s.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the DevTools client the browser tests use

from browser import Browser, Page  # noqa: E402

from migtui.lab import Lab  # noqa: E402
from migtui.lab.control import ControlClient  # noqa: E402

VIEWERS = 5
CYCLES = 8
IDLE_SECONDS = 10.0
TICK = os.sysconf("SC_CLK_TCK")
MiB = 1 << 20


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def status_of(text: str, vm: str) -> str:
    for line in text.splitlines():
        words = line.split()
        if words[:1] == [vm]:
            return " ".join(words[1:])
    return ""


async def seen_at(page: Page, word: str, timeout: float = 20.0) -> float:
    """time.time() when ``word`` first shows in vm1's row on ``page``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if word in status_of(await page.text(), "vm1").split():
            return time.time()
        await asyncio.sleep(0.02)
    raise RuntimeError(f"{word!r} never showed on a page")


async def ready(path: Path) -> None:
    """Until a destination waits for an incoming migration again at ``path``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            async with await ControlClient.connect(path, timeout=2) as client:
                if (await client.execute("query-status"))["status"] == "inmigrate" and \
                        (await client.execute("query-migrate")).get("status") is None:
                    return
        except Exception:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{path}: no destination came back")


class ServeCPU:
    """The serve side's CPU between two readings: serve itself and every viewer it runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def read(self) -> tuple[float, float]:
        viewers = sum(cpu_seconds(child) for child in children(self.pid))
        return cpu_seconds(self.pid), viewers


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bserve-", dir="/tmp") as tmp:
        directory = Path(tmp)
        async with Lab(directory / "lab") as lab:
            src = await lab.start_source("vm1", mem_mib=64, dirty_mib=24, dirty_rate_mib_s=float("inf"))
            dst = await lab.start_destination("vm1-dst", like=src)
            inventory = lab.write_inventory(directory / "inventory.toml")
            serve = subprocess.Popen([sys.executable, "-m", "migtui", "serve", "--config", str(inventory),
                                      "--listen", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
            try:
                url = ""
                while not url:
                    line = await asyncio.wait_for(asyncio.to_thread(serve.stderr.readline), 30)
                    if not line:
                        raise RuntimeError("migtui serve ended")
                    url = m.group(1) if (m := re.match(r"serving the dashboard on (\S+)", line)) else ""
                async with Browser() as browser, await ControlClient.connect(src.ctl_path) as source:
                    pages = [await browser.new_page(url) for _ in range(VIEWERS)]
                    for page in pages:
                        while "running" not in status_of(await page.text(), "vm1").split():
                            await asyncio.sleep(0.1)
                    await source.set_capabilities(events=True)
                    cpu = ServeCPU(serve.pid)
                    start, wall = cpu.read(), time.monotonic()
                    await asyncio.sleep(IDLE_SECONDS)
                    end, idle_wall = cpu.read(), time.monotonic() - wall
                    idle = [(b - a) / idle_wall for a, b in zip(start, end)]
                    delays: list[float] = []
                    start, wall = cpu.read(), time.monotonic()
                    for _ in range(CYCLES):
                        async with await ControlClient.connect(dst.ctl_path) as target:
                            await target.execute("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
                            port = (await target.execute("query-migrate"))["socket-address"][0]["port"]
                        await source.execute("migrate-set-parameters", {"max-bandwidth": 16 * MiB})
                        for word, act in (("active", lambda: source.execute("migrate", {"uri": f"tcp:127.0.0.1:{port}"})),
                                          ("cancelled", lambda: source.execute("migrate_cancel"))):
                            watching = [asyncio.create_task(seen_at(page, word)) for page in pages]
                            await act()
                            event = await source.wait_event("MIGRATION", lambda d: d.get("status") == word, 20)
                            at = event["timestamp"]["seconds"] + event["timestamp"]["microseconds"] / 1e6
                            delays += [seen - at for seen in await asyncio.gather(*watching)]
                        await ready(dst.ctl_path)  # a cancelled destination exits; the lab starts a new one
                    end, busy_wall = cpu.read(), time.monotonic() - wall
                    busy = [(b - a) / busy_wall for a, b in zip(start, end)]
            finally:
                serve.terminate()
                serve.wait(15)
    delays.sort()
    p95 = delays[min(len(delays) - 1, round(0.95 * len(delays)) - 1)]
    print(f"viewers              : {VIEWERS} pages of one headless Chromium, each its own replay process")
    print(f"serve side, idle     : serve {idle[0]:6.1%} of a core, viewers {idle[1] / VIEWERS:6.1%} each")
    print(f"serve side, migrating: serve {busy[0]:6.1%} of a core (recorder included), "
          f"viewers {busy[1] / VIEWERS:6.1%} each")
    print(f"event to page        : {len(delays)} delays (MIGRATION active/cancelled x {CYCLES} x {VIEWERS} pages): "
          f"median {statistics.median(delays) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms"
          f"   (goal p95 < 1000 ms)")


if __name__ == "__main__":
    import shutil

    if shutil.which("chromium") is None:
        print("skipped: no chromium (make test-packages installs Debian's)")
    else:
        asyncio.run(main())
