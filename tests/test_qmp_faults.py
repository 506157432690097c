"""Faults QEMU cannot produce on demand: no greeting, garbage, a stalled reply."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from fake_qmp import FakeQMPServer
from migtui.inventory import VMEntry
from migtui.qmp.errors import CommandTimeout, Unreachable
from migtui.qmp.fleet import Fleet
from migtui.qmp.session import VMSession
from migtui.qmp.updates import VMChanged
from waiting import until


async def test_a_server_that_never_greets_times_out_with_a_reason(tmp_path):
    async with FakeQMPServer(tmp_path / "q.sock", "silent"):
        session = VMSession("mute", str(tmp_path / "q.sock"), connect_timeout=0.5)
        with pytest.raises(Unreachable, match="no QMP greeting"):
            await session.connect()
        await session.close()


async def test_garbage_instead_of_qmp_is_reported_not_raised_raw(tmp_path):
    async with FakeQMPServer(tmp_path / "q.sock", "garbage"):
        session = VMSession("noise", str(tmp_path / "q.sock"), connect_timeout=2)
        with pytest.raises(Unreachable, match="did not speak QMP|cannot connect"):
            await session.connect()
        await session.close()


async def test_a_stalled_reply_times_out_and_the_link_stays_up(tmp_path):
    async with FakeQMPServer(tmp_path / "q.sock", "stall"):
        async with VMSession("slow", str(tmp_path / "q.sock"), command_timeout=0.3) as session:
            with pytest.raises(CommandTimeout, match="no answer from QEMU"):
                await session.execute("query-status")
            assert session.connected


async def test_the_poller_shows_a_silent_vm_as_busy_not_lost(tmp_path):
    seen: list[tuple[str, bool]] = []
    async with FakeQMPServer(tmp_path / "q.sock", "stall"):
        fleet = Fleet([VMEntry(name="slow", qmp=str(tmp_path / "q.sock"))])
        busy = asyncio.Event()

        def watch(update):
            state = fleet.states["slow"]
            if isinstance(update, VMChanged):
                seen.append((state.link, state.busy))
                if state.busy:
                    busy.set()

        fleet.subscribe(watch)
        async with fleet:
            await asyncio.wait_for(busy.wait(), timeout=10)
            assert fleet.states["slow"].link == "connected"
    assert ("connected", True) in seen


def test_cli_errors_are_one_line_without_traceback(tmp_path):
    missing = tmp_path / "missing.sock"
    run = subprocess.run([sys.executable, "-m", "migtui", "watch", "--once", "--vm", f"gone={missing}"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.strip() == f"migtui: gone: QMP socket {missing} does not exist"


async def test_cli_silent_server_fails_within_the_timeout(tmp_path):
    async with FakeQMPServer(tmp_path / "q.sock", "silent"):
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "migtui", "watch", "--once", "--vm", f"mute={tmp_path / 'q.sock'}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 1
        assert b"Traceback" not in err
        assert b"no QMP greeting" in err
        assert time.monotonic() - started < 15  # the 5 s connect timeout, plus starting Python


def test_permission_denied_is_said_as_such(tmp_path):
    """A socket the user may not open (root is made an ordinary user by dropping
    CAP_DAC_OVERRIDE for the child, so the file mode is enforced)."""
    import shutil
    import socket

    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root needs setpriv to give up its override of file modes")
    path = tmp_path / "locked.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()
    os.chmod(path, 0)
    try:
        argv = [sys.executable, "-m", "migtui", "watch", "--once", "--vm", f"locked={path}"]
        if os.geteuid() == 0:
            argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *argv]
        run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    finally:
        server.close()
    assert run.returncode == 1
    assert run.stderr.strip() == f"migtui: locked: permission denied on QMP socket {path}"


async def test_an_unwritable_audit_log_stops_a_command_before_it_is_sent(tmp_path):
    from migtui.qmp.audit import AuditLog, AuditLogError
    from migtui.qmp.gate import CommandGate

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    async with FakeQMPServer(tmp_path / "q.sock", "stall") as server:
        gate = CommandGate(AuditLog(blocker / "audit.jsonl"))
        async with VMSession("vm", str(tmp_path / "q.sock"), gate, command_timeout=0.3) as session:
            with pytest.raises(AuditLogError, match="cannot write the audit log"):
                await session.execute("migrate-set-parameters", {"downtime-limit": 100})
        assert [r.get("execute") for r in server.received] == ["qmp_capabilities", "query-version"]


async def test_a_command_given_up_by_its_caller_is_still_audited(tmp_path):
    from migtui.qmp.audit import AuditLog
    from migtui.qmp.gate import CommandGate

    audit = AuditLog(tmp_path / "audit.jsonl")
    async with FakeQMPServer(tmp_path / "q.sock", "stall") as server:
        async with VMSession("vm", str(tmp_path / "q.sock"), CommandGate(audit)) as session:
            task = asyncio.create_task(session.execute("migrate-set-parameters", {"downtime-limit": 100}))
            await until(lambda: any(r.get("execute") == "migrate-set-parameters" for r in server.received), 10,
                        "the server to receive the command")
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert [(e["command"], e["outcome"]) for e in audit.entries()] == [("migrate-set-parameters", "cancelled")]


async def test_following_a_job_ends_when_qemu_goes_away(tmp_path):
    from migtui.qmp import snapshots
    from migtui.qmp.errors import LinkLost

    async with FakeQMPServer(tmp_path / "q.sock", "vanish"):
        async with VMSession("vm", str(tmp_path / "q.sock")) as session:
            request = snapshots.SnapshotRequest("save", "t", "job-1", "disk0", ["disk0"])
            with pytest.raises(LinkLost):
                await asyncio.wait_for(snapshots.run_job(session, request), 30)


async def test_an_answer_that_cannot_be_read_is_the_vms_error_and_polling_goes_on(tmp_path, caplog):
    malformed = {"status": "active", "ram": {"total": "a lot", "remaining": 1, "transferred": 1}}
    good = {"status": "active", "ram": {"total": 1 << 27, "remaining": 1 << 26, "transferred": 1 << 26}}
    answers = {"query-migrate": [malformed, good]}
    seen: list[tuple[str, str | None, bool]] = []  # (update, the VM's poll error, has a sample)
    async with FakeQMPServer(tmp_path / "q.sock", "serve", answers):
        fleet = Fleet([VMEntry(name="odd", qmp=str(tmp_path / "q.sock"))], fast=0.05, slow=0.05)
        state = fleet.states["odd"]
        fleet.subscribe(lambda u: seen.append((type(u).__name__, state.poll_error, state.latest is not None)))
        async with fleet:
            await until(lambda: len(state.tracker.history) > 3, 10, "samples after the unreadable answer")
            assert state.link == "connected" and state.poll_error is None
            assert state.latest.remaining == 1 << 26
    errors = [(n, error, sampled) for n, (_, error, sampled) in enumerate(seen) if error]
    assert errors, seen
    first, error, sampled = errors[0]
    assert not sampled  # reported in place of the sample it could not make
    assert error.startswith("query-migrate answer not understood: ram.total: Input should be a valid integer")
    assert any(kind == "SampleTaken" for kind, _, _ in seen[first:])  # then sampled again
    logged = [r.getMessage() for r in caplog.records if r.name == "migtui.qmp.poller" and r.levelname == "WARNING"]
    assert logged == [f"odd: {error}"]


async def test_sessions_reconnect_to_a_socket_that_came_back_at_different_moments(tmp_path):
    """Without jitter every session retries on the same schedule and all of them
    reconnect within a millisecond of each other; with it, the first retries are
    spread over a quarter of a second."""
    path = tmp_path / "q.sock"
    sessions = [VMSession(f"vm{n}", str(path), connect_timeout=2) for n in range(12)]
    connected_at: dict[str, float] = {}

    def on_link(vm: str, state, error) -> None:
        if state.value == "connected":
            connected_at[vm] = time.monotonic()

    for session in sessions:
        session.on_link(on_link)
        session.start()
    try:
        await until(lambda: all(s.error for s in sessions), 5, "every session to find nothing there")
        async with FakeQMPServer(path, "serve"):
            await until(lambda: len(connected_at) == len(sessions), 20, "every session to reconnect")
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
    spread = max(connected_at.values()) - min(connected_at.values())
    assert spread > 0.05, sorted(round(t - min(connected_at.values()), 3) for t in connected_at.values())
