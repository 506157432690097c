"""A closed stdout (``migtui watch | head -3``) ends a command at once, quietly, with exit code 0;
a closed terminal ends the dashboard."""

from __future__ import annotations

import json
import subprocess

import pytest

from cli_process import Terminal, exit_code, read_line, started_cli

pytestmark = pytest.mark.qemu


@pytest.fixture
async def options(lab, ctl, tmp_path):
    # It dirties 4 MiB/s, more than the 1 MiB/s migrate --wait may send: the migration outlasts the test.
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=4)
    await lab.start_destination("vm1-dst", like=source)
    async with ctl(source) as client:
        await client.wait_guest(passes=1, timeout=60)
    inventory = lab.write_inventory(tmp_path / "inventory.toml")
    return ["--config", str(inventory), "--audit-log", str(tmp_path / "audit.jsonl")]


async def head(tmp_path, lines: int, *argv: str) -> tuple[list[str], int, str]:
    """What ``migtui ARGV | head -LINES`` does: read some lines, close the pipe, wait for the end."""
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as stderr, started_cli(*argv, stdout=subprocess.PIPE, stderr=stderr) as process:
        read = [await read_line(process.stdout, 30) for _ in range(lines)]
        process.stdout.close()
        try:
            code = await exit_code(process, 10)
        except AssertionError as hung:
            raise AssertionError(f"{hung}; its stderr:\n{errors.read_text()}") from None
    return read, code, errors.read_text()


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
async def test_watch_ends_quietly_when_its_reader_goes(options, tmp_path, as_json):
    argv = ["watch", *options, "--interval", "0.2"] + (["--json"] if as_json else [])
    lines, code, err = await head(tmp_path, 3, *argv)
    assert all("vm1" in line for line in lines)
    if as_json:
        assert all(json.loads(line)["vm"].startswith("vm1") for line in lines)
    assert code == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


async def test_migrate_wait_json_ends_quietly_when_its_reader_goes(options, tmp_path):
    lines, code, err = await head(tmp_path, 3, "migrate", "vm1", "vm1-dst", *options,
                                  "--set", "max-bandwidth=1M", "--wait", "--json")
    assert [json.loads(line)["vm"] for line in lines] == ["vm1"] * 3
    assert code == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


async def test_the_dashboard_ends_when_its_terminal_goes_away(options):
    # No SIGHUP reaches it (the terminal is not its controlling one, as under a make that takes
    # the hangup): only its writes fail. It ends, instead of blocking on them for good.
    with Terminal() as terminal, started_cli("dashboard", *options, stdin=terminal.slave, stdout=subprocess.DEVNULL,
                                             stderr=terminal.slave) as process:
        terminal.read_until("vm1-dst", timeout=30)
        terminal.close_master()
        assert await exit_code(process, 20) == 1
