"""Shared links without QEMU: the events derived from two polls, where ``shared`` comes from,
and what a busy socket does to a command (the gate and the audit log still see it)."""

from __future__ import annotations

import pytest

from fake_qmp import FakeQMPServer
from migtui.errors import ConfigError
from migtui.inventory import inventory_from_pairs, parse_inventory
from migtui.model.derived_events import derived_events
from migtui.model.link import LinkState
from migtui.model.sample import MigrationInfo, Sample
from migtui.model.vm_state import VMState
from migtui.qmp.audit import AuditLog
from migtui.qmp.errors import SocketBusy
from migtui.qmp.gate import CommandGate
from migtui.qmp.session import VMSession
from migtui.socket_pattern import name_for
from migtui.widgets.cell_styles import DEFAULT_PALETTE
from migtui.widgets.fleet_row import FleetRow


def sample(status: str, passes: int = 0, total_time: int | None = None) -> Sample:
    answer: dict = {"status": status}
    if passes:
        answer["ram"] = {"transferred": 1, "remaining": 1, "total": 2, "duplicate": 0, "skipped": 0, "normal": 0,
                         "normal-bytes": 0, "dirty-pages-rate": 0, "mbps": 1.0, "dirty-sync-count": passes,
                         "postcopy-requests": 0, "page-size": 4096}
    if total_time is not None:
        answer["total-time"] = total_time
    return Sample(vm="a", at=0, wall=0, info=MigrationInfo.parse(answer))


def told(before: Sample | None, now: Sample) -> list[str]:
    return [f"{e['event']} {e['data'].get('status', e['data'].get('pass'))}" for e in derived_events(before, now)]


def test_the_first_answer_tells_nothing():
    assert told(None, sample("active", passes=3)) == []


def test_a_start_then_its_passes():
    assert told(sample("none"), sample("active", passes=2)) == ["MIGRATION active", "MIGRATION_PASS 1",
                                                                 "MIGRATION_PASS 2"]


def test_passes_between_two_answers_of_one_migration():
    assert told(sample("active", passes=2), sample("active", passes=4)) == ["MIGRATION_PASS 3", "MIGRATION_PASS 4"]
    assert told(sample("active", passes=4), sample("active", passes=4)) == []


def test_an_end_comes_after_the_last_passes():
    assert told(sample("active", passes=3), sample("completed", passes=5, total_time=900)) == [
        "MIGRATION_PASS 4", "MIGRATION_PASS 5", "MIGRATION completed"]


def test_a_whole_migration_between_two_answers_is_told_by_its_end():
    before = sample("cancelled", passes=6, total_time=4000)
    assert told(before, sample("completed", passes=2, total_time=700)) == [
        "MIGRATION_PASS 1", "MIGRATION_PASS 2", "MIGRATION completed"]
    assert told(before, sample("cancelled", passes=6, total_time=4000)) == []  # the same end, read again


def test_a_long_gap_tells_only_the_last_passes():
    events = derived_events(sample("active", passes=1), sample("active", passes=500))
    assert [e["data"]["pass"] for e in events] == list(range(491, 501))


def test_shared_comes_from_the_vm_then_its_host_then_the_settings():
    inventory = parse_inventory("""
        [settings]
        shared = true
        [[host]]
        name = "pve"
        shared = false
        [[vm]]
        name = "a"
        qmp = "/a.qmp"
        [[vm]]
        name = "b"
        qmp = "/b.qmp"
        host = "pve"
        [[vm]]
        name = "c"
        qmp = "/c.qmp"
        host = "pve"
        shared = true
    """)
    assert [(vm.name, vm.shared) for vm in inventory.vm] == [("a", True), ("b", False), ("c", True)]


def test_the_shared_option_makes_every_vm_shared():
    inventory = inventory_from_pairs(["a=/a.qmp", "b=/b.qmp"])
    inventory.resolve_shared(every=False)
    assert [vm.shared for vm in inventory.vm] == [False, False]
    inventory.resolve_shared(every=True)
    assert [vm.shared for vm in inventory.vm] == [True, True]


def test_a_wrong_shared_value_names_its_field():
    with pytest.raises(Exception, match=r"vm\[0\]\.shared"):
        parse_inventory('[[vm]]\nname = "a"\nqmp = "/a.qmp"\nshared = "yes please"\n')


async def test_a_command_on_a_busy_socket_is_refused_in_one_line_and_audited(tmp_path):
    # A socket that never greets: another client holds it. Nothing is sent, the log says why.
    audit = AuditLog(tmp_path / "audit.jsonl")
    async with FakeQMPServer(tmp_path / "q.sock", "silent"):
        session = VMSession("pve-101", str(tmp_path / "q.sock"), CommandGate(audit), shared=True,
                            exchange_budget=0.3)
        with pytest.raises(SocketBusy) as raised:
            await session.execute("migrate_cancel")
        assert str(raised.value) == "pve-101: busy: another client holds it"
        assert session.state is LinkState.BUSY and session.error == "another client holds it"
        await session.close()
    [entry] = audit.entries()
    assert (entry["command"], entry["outcome"], entry["error"]) == (
        "migrate_cancel", "error", "busy: another client holds it")


def test_a_busy_link_reads_busy_in_the_table_not_down():
    state = VMState("pve-101", link=LinkState.BUSY, link_error="another client holds it")
    assert not state.down and not state.stale  # its figures are current, not last seen
    row = FleetRow("pve-101")
    row.refresh(state, DEFAULT_PALETTE)
    assert row.cells["link"].plain == "busy"


def test_a_pattern_needs_a_name_template():
    with pytest.raises(ConfigError, match=r"vm\[0\]\.qmp: '/run/qemu/\*\.qmp' finds one VM per socket: its name "
                                          r"must be a template such as '\{stem\}' or 'web-\{stem\}', not 'web'"):
        parse_inventory('[[vm]]\nname = "web"\nqmp = "/run/qemu/*.qmp"\n')
    with pytest.raises(ConfigError,
                       match=r"vm\[0\]\.name: '\{id\}': a name template may use \{stem\}, \{file\}, \{host\}$"):
        parse_inventory('[[vm]]\nname = "{id}"\nqmp = "/run/qemu/*.qmp"\n')
    with pytest.raises(ConfigError, match=r"vm\[0\]\.qmp: .*only the file name may have wildcards"):
        parse_inventory('[[vm]]\nqmp = "/run/*/x.qmp"\n')
    with pytest.raises(ConfigError, match=r"vm\[0\]\.qmp: .*a pattern is an absolute path"):
        parse_inventory('[[vm]]\nqmp = "/run/qemu/$(reboot)*.qmp"\n')
    assert parse_inventory('[[vm]]\nqmp = "/run/qemu/*.qmp"\n').vm[0].name == "{stem}"


def test_a_template_names_each_socket_found():
    assert name_for("{stem}", "/var/run/qemu-server/101.qmp", None) == "101"
    assert name_for("{host}-{stem}", "/var/run/qemu-server/101.qmp", "pve1") == "pve1-101"
    assert name_for("{file}", "/run/qemu/web.qmp", None) == "web.qmp"
