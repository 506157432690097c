"""The dashboard shows an alert: a notification naming the VM and the condition, the terminal's bell
with ``[settings] bell = true``, and one more when the alert's command fails. A real lab migration
fails (its destination killed) under the dashboard run in a pseudo-terminal, as a person runs it."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios

import pytest

from cli_process import Terminal
from terminal_output import _ESCAPES
from waiting import until_true

pytestmark = pytest.mark.qemu


async def test_the_dashboard_notifies_an_alert_with_the_bell_and_a_failing_command(lab, ctl, lab_dir):
    src = await lab.start_source("vm1", mem_mib=64, dirty_mib=24, dirty_rate_mib_s=float("inf"))
    dst = await lab.start_destination("vm1-dst", like=src)
    inventory = lab.write_inventory(lab_dir / "inventory.toml")
    hook = lab_dir / "page.sh"
    hook.write_text("#!/bin/sh\necho 'pager unreachable' >&2\nexit 3\n")
    hook.chmod(0o755)
    inventory.write_text(inventory.read_text().replace("[settings]\n", "[settings]\nbell = true\n", 1)
                         + f'\n[[alert]]\nwhen = "failed"\nrun = "{hook}"\n')
    with Terminal() as terminal:
        fcntl.ioctl(terminal.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        process = subprocess.Popen([sys.executable, "-m", "migtui", "--config", str(inventory)],
                                   stdin=terminal.slave, stdout=terminal.slave, stderr=terminal.slave,
                                   env=dict(os.environ, TERM="xterm-256color"), start_new_session=True)
        try:
            terminal.read_until("inmigrate", 30)
            async with ctl(dst) as client:
                await client.execute("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
                uri = f"tcp:127.0.0.1:{(await client.execute('query-migrate'))['socket-address'][0]['port']}"
            async with ctl(src) as client:
                # The guest dirtying its memory: a migration of a guest still booting (pages of zeros)
                # completes before its destination can be killed.
                await client.wait_guest(passes=1, timeout=60)
                await client.execute("migrate-set-parameters", {"max-bandwidth": 16 << 20})
                await client.execute("migrate", {"uri": uri})

                async def sending() -> bool:
                    answer = await client.execute("query-migrate")
                    return answer["status"] == "active" and answer["ram"]["transferred"] > 0

                await until_true(sending, 20, "the migration sending")
            shown_before = len(terminal.seen)
            await lab.kill("vm1-dst")  # the source's migration fails
            # Titles: the notifications' text wraps, and Textual redraws only what changed on screen.
            terminal.read_until("Alert command failed", 30)
            terminal.read_until("exit code 3", 10)  # the notification's text, drawn after its title
            after = terminal.seen[shown_before:]
            text = _ESCAPES.sub("", after)
            assert "vm1: failed" in text and "migration failed" in text, text[-2000:]
            assert "exit code 3" in text, text[-2000:]
            assert "\x07" in re.sub(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)", "", after)  # the bell, not an OSC's end
            terminal.type(b"q")
            assert terminal.wait_exit(process, 30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
