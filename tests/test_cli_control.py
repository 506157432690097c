"""Steering a migration from a script or a terminal: ``migtui cancel``, ``migtui postcopy``,
and Ctrl+C on ``migtui migrate --wait``, against real QEMU 7.2."""

from __future__ import annotations

import signal
import subprocess

import pytest

from cli_process import Terminal, exit_code, read_line, run_cli, started_cli
from migtui.qmp.audit import AuditLog
from waiting import until_true

pytestmark = pytest.mark.qemu


@pytest.fixture
async def pair(lab, ctl, tmp_path):
    # It dirties 4 MiB/s, more than the 1 MiB/s the tests let QEMU send: a migration runs until steered.
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=4)
    destination = await lab.start_destination("vm1-dst", like=source)
    async with ctl(source) as client:
        await client.wait_guest(passes=1, timeout=60)  # zero pages would cost QEMU nothing to send
    inventory = lab.write_inventory(tmp_path / "inventory.toml")
    options = ["--config", str(inventory), "--audit-log", str(tmp_path / "audit.jsonl")]
    return source, destination, options, AuditLog(tmp_path / "audit.jsonl")


async def status(ctl, vm) -> str:
    async with ctl(vm) as client:
        return (await client.execute("query-migrate")).get("status", "none")


async def migrating(options, *extra: str) -> None:
    """A migration slow enough (1 MiB/s for 128 MiB) to still run while the test steers it."""
    code, out, err = await run_cli("migrate", "vm1", "vm1-dst", *options, "--set", "max-bandwidth=1M", *extra)
    assert code == 0, err


def commands(audit: AuditLog) -> list[tuple[str, str]]:
    return [(e["command"], e["outcome"]) for e in audit.entries() if e["command"] in ("migrate_cancel",
                                                                                      "migrate-start-postcopy")]


async def test_ctrl_c_on_migrate_wait_says_it_still_runs_and_cancel_stops_it(pair, ctl):
    source, _, options, audit = pair
    with started_cli("migrate", "vm1", "vm1-dst", *options, "--set", "max-bandwidth=1M", "--wait",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert " vm1  " in await read_line(process.stdout, 30)  # a sample (setup or active): it follows
        process.send_signal(signal.SIGINT)
        code = await exit_code(process, 10)
        err = process.stderr.read().decode()
    assert code == 130 and "Traceback" not in err, err
    assert err.splitlines()[-1] == (
        "migtui: vm1: the migration is still running (Ctrl+C only stopped following it); "
        f"cancel it with: migtui cancel vm1 --config {options[1]}")
    assert await status(ctl, source) == "active"

    # Without a terminal to ask on, only --yes confirms; read-only refuses at the gate.
    code, out, err = await run_cli("cancel", "vm1", *options)
    assert code == 1 and err.endswith("Add --yes to confirm (no terminal to ask on).\n")
    code, out, err = await run_cli("cancel", "vm1", *options, "--yes", "--read-only")
    assert (code, err) == (1, "migtui: vm1: migrate_cancel refused: migtui runs read-only (nothing was sent)\n")
    assert await status(ctl, source) == "active"
    code, out, err = await run_cli("cancel", "vm1", *options, "--yes")
    assert (code, out) == (0, "vm1: migration cancelled\n"), err
    assert await status(ctl, source) == "cancelled"
    assert commands(audit) == [("migrate_cancel", "refused"), ("migrate_cancel", "ok")]
    code, out, err = await run_cli("cancel", "vm1", *options, "--yes")
    assert (code, err) == (1, "migtui: vm1: no migration runs from vm1 (the last one cancelled), nothing to cancel\n")


async def test_ctrl_c_on_a_terminal_asks_whether_to_cancel(pair, ctl):
    source, _, options, audit = pair
    with Terminal() as terminal, started_cli("migrate", "vm1", "vm1-dst", *options, "--set", "max-bandwidth=1M",
                                             "--wait", stdin=terminal.slave, stdout=subprocess.PIPE,
                                             stderr=terminal.slave) as process:
        assert " vm1  " in await read_line(process.stdout, 30)  # a sample (setup or active): it follows
        process.send_signal(signal.SIGINT)
        shown = terminal.read_until("[y/N] ")
        assert "Cancel the migration of vm1?" in shown
        terminal.type(b"y\n")
        terminal.read_until("vm1: migration cancelled")
        assert await exit_code(process, 20) == 130
    assert await status(ctl, source) == "cancelled"
    assert commands(audit) == [("migrate_cancel", "ok")]


async def test_end_of_input_at_the_question_is_a_no(pair, ctl):
    source, _, options, audit = pair
    await migrating(options)
    with Terminal() as terminal, started_cli("cancel", "vm1", *options, stdin=terminal.slave,
                                             stdout=terminal.slave, stderr=terminal.slave) as process:
        terminal.read_until("[y/N] ")
        terminal.type(b"\x04")  # Ctrl-D
        shown = terminal.read_until("nothing was done")
        assert await exit_code(process, 20) == 1
    assert "Traceback" not in shown and shown.rstrip().endswith("migtui: not confirmed: nothing was done")
    assert await status(ctl, source) == "active" and commands(audit) == []


async def test_postcopy_from_the_command_line(pair, ctl):
    source, destination, options, audit = pair
    code, out, err = await run_cli("postcopy", "vm1", *options, "--yes")
    assert (code, err) == (1, "migtui: vm1: no migration runs from vm1, nothing to switch to postcopy\n")
    await migrating(options, "--cap", "postcopy-ram=on")
    code, out, err = await run_cli("postcopy", "vm1-dst", *options, "--yes")
    assert (code, err) == (1, "migtui: vm1-dst is the destination of its migration: postcopy it on the source\n")
    code, out, err = await run_cli("postcopy", "vm1", *options)
    assert code == 1 and "Switch the migration of vm1 to postcopy?" in err and "--yes" in err
    code, out, err = await run_cli("postcopy", "vm1", *options, "--yes")
    assert (code, out) == (0, "vm1: switched to postcopy\n"), err
    async with ctl(destination) as client:
        async def runs_on_destination() -> bool:
            return (await client.execute("query-status"))["status"] == "running"
        await until_true(runs_on_destination, 60, "the guest to run on the destination")
    assert await status(ctl, source) in ("postcopy-active", "completed")
    assert commands(audit) == [("migrate-start-postcopy", "ok")]


async def test_postcopy_needs_postcopy_ram(pair, ctl):
    source, _, options, audit = pair
    await migrating(options)
    code, out, err = await run_cli("postcopy", "vm1", *options, "--yes")
    assert code == 1 and err == "migtui: vm1: postcopy needs postcopy-ram on both sides; it is off on vm1\n"
    assert await status(ctl, source) == "active" and commands(audit) == []
