"""The parameters screen driven with Pilot against a real QEMU 7.2 lab VM.

Members are found and values entered with keys (tests/form_pilot.py: Ctrl+F,
the name, Enter, the value); what QEMU holds afterwards is read on the VM's
second QMP socket (``ctl``), independent of migtui, which also makes the
changes "another tool" makes. Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import pytest
from form_pilot import edit_member, find_member, type_into
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, SelectionList, Static
from waiting import settle

from migtui.app import MigtuiApp
from migtui.inventory import load_inventory
from migtui.lab import Lab
from migtui.params.presets import load_preset
from migtui.qmp import migration
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.screens.apply_preview import ApplyPreview
from migtui.screens.bulk_apply import BulkApplyDialog
from migtui.screens.confirm import ConfirmDialog
from migtui.screens.params import ParamsScreen
from migtui.screens.preset_dialogs import LoadPresetDialog, SavePresetDialog
from migtui.screens.vm import VMScreen
from migtui.widgets.chart_base import MigrationChart
from migtui.widgets.member_list import MemberFilter

pytestmark = pytest.mark.qemu
MIB = 1024 * 1024

MAPPING = [{"node-name": "disk0", "alias": "d0", "bitmaps": [{"name": "b0", "alias": "a0", "transform": {"persistent": True}}]}]
# Every member QEMU 7.2 has: what a user enters, and what query-migrate-parameters reports afterwards.
FORM_VALUES = {
    "announce-initial": ("60", 60),
    "announce-max": ("600", 600),
    "announce-rounds": ("6", 6),
    "announce-step": ("110", 110),
    "compress-level": ("3", 3),
    "compress-threads": ("4", 4),
    "compress-wait-thread": (False, False),
    "decompress-threads": ("3", 3),
    "throttle-trigger-threshold": ("60", 60),
    "cpu-throttle-initial": ("30", 30),
    "cpu-throttle-increment": ("15", 15),
    "cpu-throttle-tailslow": (True, True),
    "tls-creds": ("creds0", "creds0"),
    "tls-hostname": ("dst.example", "dst.example"),
    "tls-authz": ("authz0", "authz0"),
    "max-bandwidth": ("64M", 64 * MIB),
    "downtime-limit": ("500", 500),
    "x-checkpoint-delay": ("15000", 15000),
    "block-incremental": (True, True),
    "multifd-channels": ("4", 4),
    "xbzrle-cache-size": ("32M", 32 * MIB),
    "max-postcopy-bandwidth": ("1G", 1024 * MIB),
    "max-cpu-throttle": ("90", 90),
    "multifd-compression": ("zlib", "zlib"),
    # QEMU 7.2 accepts both levels but keeps reporting (and using) 1 (see test_qapi_live.py).
    "multifd-zlib-level": ("5", 1),
    "multifd-zstd-level": ("7", 1),
    "block-bitmap-mapping": (MAPPING, MAPPING),
}


def app_on(lab: Lab, directory: Path, *, read_only: bool = False) -> tuple[MigtuiApp, AuditLog]:
    inventory = load_inventory(lab.write_inventory(directory / "inventory.toml"))
    audit = AuditLog(directory / "audit.jsonl")
    return MigtuiApp(Fleet(inventory.vm, CommandGate(audit, read_only=read_only)), theme="migtui-dark"), audit


async def open_editor(pilot: Pilot, app: MigtuiApp, vm: str = "vm1", key: str | None = None) -> ParamsScreen:
    """Open the editor of ``vm``: by ``key`` on the current screen, else directly; returns it once it shows values."""
    await settle(pilot, lambda: app.fleet.states[vm].link == "connected", 20, f"{vm} connected")
    if key:
        await pilot.press(key)
        await settle(pilot, lambda: isinstance(app.screen, ParamsScreen), 5, "the parameters screen")
        assert app.screen.vm == vm
    else:
        app.controls.open_params(vm)
    screen = app.screen
    await settle(pilot, lambda: screen.draft is not None and screen.pane.box is not None
                 and screen.pane.box.is_mounted, 20, "the members and the first one's editor")
    return screen


def status(app: MigtuiApp) -> str:
    return str(app.screen.query_one("#params-status", Static).render())


def pending(screen: ParamsScreen) -> list[str]:
    return str(screen.query_one("#params-pending", Static).render()).splitlines()


def listed(screen: ParamsScreen) -> list[str]:
    """The member names the list shows, in its order (the section heads left out)."""
    members = screen.members
    return [members.get_option_at_index(i).id.split(":", 1)[1] for i in range(members.option_count)
            if not members.get_option_at_index(i).disabled]


def box_error(screen: ParamsScreen) -> str:
    box = screen.pane.box
    return str(box.query_one(".-error", Static).render()) if box.query_one(".-error").display else ""


async def apply(pilot: Pilot, app: MigtuiApp) -> ApplyPreview:
    """Ctrl+S, check the preview, Ctrl+S again; returns the preview that was confirmed."""
    screen = app.screen
    await pilot.press("ctrl+s")
    await settle(pilot, lambda: isinstance(app.screen, ApplyPreview), 5, "the change preview")
    preview = app.screen
    await pilot.press("ctrl+s")
    await settle(pilot, lambda: app.screen is screen and not any(w.is_running for w in screen.workers)
                 and "Applying" not in status(app), 20, "QEMU's answer (applied and read again, or refused)")
    return preview


async def test_the_filter_is_focused_on_open_and_finds_members_by_name_and_doc(lab, lab_dir):
    from textual.notifications import Notify

    await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    app, _ = app_on(lab, lab_dir)
    told: list[str] = []
    async with app.run_test(size=(110, 32), message_hook=lambda m: told.append(str(m.notification.message))
                            if isinstance(m, Notify) else None) as pilot:
        screen = await open_editor(pilot, app)
        assert isinstance(app.focused, MemberFilter), "typing finds a member at once"
        for key in ("ctrl+s", "ctrl+b"):  # nothing edited: each says so, rather than nothing at all
            await pilot.press(key)
            await settle(pilot, lambda: told[-1:] == ["Nothing to apply: no edit changes what the VM holds."], 5,
                         f"why {key} sends nothing")
            told.clear()
        assert len(listed(screen)) == 27 + 21, "every parameter and capability of 7.2 (it deprecates none)"
        await pilot.press(*"downtime")
        await settle(pilot, lambda: listed(screen)[:1] == ["downtime-limit"], 5, "downtime-limit first")
        assert screen.pane.box.member.name == "downtime-limit", "the first match is the one being edited"
        await type_into(pilot, screen.query_one(MemberFilter), "bandwidth")
        await settle(pilot, lambda: listed(screen)[:2] == ["max-bandwidth", "max-postcopy-bandwidth"], 5,
                     "the bandwidth members, names first")
        # A word only the docs have: "milliseconds" names no member.
        await type_into(pilot, screen.query_one(MemberFilter), "milliseconds")
        await settle(pilot, lambda: "downtime-limit" in listed(screen), 5, "members whose doc says milliseconds")
        assert "max-bandwidth" not in listed(screen)
        await pilot.press("enter")  # edits the highlighted member
        assert app.focused is not None and screen.pane.box.editor in app.focused.ancestors_with_self
        await pilot.press("9", "enter")  # a value entered: back to the filter for the next member
        assert isinstance(app.focused, MemberFilter)
        assert len(screen.draft.edits) == 1
        # Keys in one burst (a paste, or typing gathered by SSH) find what was typed, in the order typed.
        finder = screen.query_one(MemberFilter)
        finder.value = "downtime"
        await pilot.pause()
        for key in ("backspace",) * 8 + tuple("throttle"):
            app.post_message(events.Key(key, key if len(key) == 1 else None))  # as the terminal's driver does
        await settle(pilot, lambda: finder.value == "throttle", 5, "the find box holding 'throttle'")
        await settle(pilot, lambda: listed(screen) and "throttle" in listed(screen)[0], 5, "a throttle member first")


async def test_every_member_entered_in_the_form_is_applied_and_read_back(lab, lab_dir, ctl):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    app, audit = app_on(lab, lab_dir)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_editor(pilot, app)
        assert [m.name for m in screen.draft.members if not m.capability] == list(FORM_VALUES), (
            "a value for every member 7.2 has")
        for name, (typed, _) in FORM_VALUES.items():
            await edit_member(pilot, screen, name, typed)
            assert f"par:{name}" not in screen.verdict.errors, (name, screen.verdict.errors)
        await settle(pilot, lambda: "27 changes" in status(app), 5, "27 pending changes")
        assert pending(screen)[0] == "Pending changes (27)"
        assert "downtime-limit: 300 ms → 500 ms" in pending(screen)
        preview = await apply(pilot, app)
        assert len(preview.changes) == 27
        shown = {change.name: (change.old_text, change.new_text) for change in preview.changes.changes}
        assert shown["max-bandwidth"] == ("128 MiB/s", "64 MiB/s")
        assert shown["downtime-limit"] == ("300 ms", "500 ms")
        assert shown["block-bitmap-mapping"][0] == "(not set)"
        assert pending(screen)[:2] == ["Pending changes (0)", "none: edit a member; Ctrl+S sends what is listed here"]
        await find_member(pilot, screen, "downtime-limit")
        assert screen.pane.box.editor.value == "500", "the editor shows what QEMU holds now"
    async with ctl(vm) as client:
        held = await client.execute("query-migrate-parameters")
    assert {name: held.get(name) for name in FORM_VALUES} == {name: reported for name, (_, reported) in FORM_VALUES.items()}
    sent = [(entry["command"], entry["outcome"]) for entry in audit.entries()]
    assert sent == [("migrate-set-parameters", "ok")], "one command, only parameters"


INVALID = {
    "downtime-limit": ("fast", "✗ expects a whole number of milliseconds, such as 50 (from 0 to 2000000), not 'fast'"),
    "compress-level": ("10", "✗ must be from 0 to 9, not 10"),
    "max-bandwidth": ("12Q", "✗ expects bytes per second, such as 1048576, 512K, 64M or 1G, not '12Q'"),
    "multifd-channels": ("0", "✗ must be from 1 to 255, not 0"),
}


async def test_invalid_values_are_refused_at_the_field_and_nothing_is_sent(lab, lab_dir, ctl):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    app, audit = app_on(lab, lab_dir)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_editor(pilot, app)
        await edit_member(pilot, screen, "max-cpu-throttle", "80")  # one valid edit besides
        for name, (typed, error) in INVALID.items():
            await edit_member(pilot, screen, name, typed)
            assert box_error(screen) == error, name
        for name, (_, error) in INVALID.items():
            assert f"✗ {name}: {error[2:]}" in pending(screen)
        await find_member(pilot, screen, "max-cpu-throttle")
        assert box_error(screen) == ""
        assert "4 invalid" in status(app)
        assert screen.check_action("apply", ()) is None  # greyed out
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.screen is screen, "no preview while a field is invalid"
        # Fixing one field leaves the others refused.
        await edit_member(pilot, screen, "compress-level", "9")
        assert box_error(screen) == "" and "3 invalid" in status(app)
    assert audit.entries() == []
    async with ctl(vm) as client:
        held = await client.execute("query-migrate-parameters")
    assert (held["downtime-limit"], held["compress-level"], held["max-cpu-throttle"]) == (300, 1, 99)


async def test_qemus_refusal_is_shown_in_its_words_and_nothing_changes(lab, lab_dir, ctl):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    app, audit = app_on(lab, lab_dir)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_editor(pilot, app)
        await edit_member(pilot, screen, "downtime-limit", "700")
        await edit_member(pilot, screen, "multifd", True, capability=True)
        await edit_member(pilot, screen, "compress", True, capability=True)
        preview = await apply(pilot, app)
        assert [c.text for c in preview.changes.changes] == [
            "downtime-limit 300 ms → 700 ms", "compress off → on", "multifd off → on"]
        assert "QEMU refused (migrate-set-capabilities): Multifd is not compatible with compress" in status(app)
        for name in ("multifd", "compress"):
            await find_member(pilot, screen, name, capability=True)
            assert box_error(screen) == "QEMU refused: Multifd is not compatible with compress"
            assert f"✗ {name}: QEMU refused: Multifd is not compatible with compress" in pending(screen)
        assert screen.pane.box.editor.value is True, "the user's edits stay"
        assert not app.marks.of("vm1")
    async with ctl(vm) as client:
        held = await client.execute("query-migrate-parameters")
        capabilities = {c["capability"]: c["state"] for c in await client.execute("query-migrate-capabilities")}
    assert held["downtime-limit"] == 300, "the parameter applied first was put back"
    assert not capabilities["multifd"] and not capabilities["compress"]
    logged = [(e["command"], e["outcome"], e["arguments"]) for e in audit.entries()]
    assert logged == [
        ("migrate-set-parameters", "ok", {"downtime-limit": 700}),
        ("migrate-set-capabilities", "error", {"capabilities": [{"capability": "compress", "state": True},
                                                                {"capability": "multifd", "state": True}]}),
        ("migrate-set-parameters", "ok", {"downtime-limit": 300}),
    ]


async def test_read_only_shows_the_values_and_has_no_apply(lab, lab_dir, ctl):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    async with ctl(vm) as client:
        await client.execute("migrate-set-parameters", {"downtime-limit": 1234})
        await client.execute("migrate-set-capabilities", {"capabilities": [{"capability": "auto-converge", "state": True}]})
    app, audit = app_on(lab, lab_dir, read_only=True)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot, lambda: app.screen.vm == "vm1", 10, "vm1 highlighted in the fleet table")
        screen = await open_editor(pilot, app, key="e")  # from the fleet screen
        editor = await find_member(pilot, screen, "downtime-limit")
        assert editor.value == "1234" and editor.disabled
        editor = await find_member(pilot, screen, "auto-converge", capability=True)
        assert editor.value is True and editor.disabled
        assert "read-only" in str(screen.query_one("#params-title", Static).render())
        for action in ("apply", "bulk", "load_preset"):
            assert screen.check_action(action, ()) is False, action
        footer_keys = {binding.action for _, binding, enabled, _ in screen.active_bindings.values() if enabled}
        assert "apply" not in footer_keys
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.screen is screen
    assert audit.entries() == []


async def test_a_change_made_by_another_tool_shows_while_the_editor_is_open(lab, lab_dir, ctl):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    app, audit = app_on(lab, lab_dir)
    async with app.run_test(size=(110, 32)) as pilot, ctl(vm) as client:
        screen = await open_editor(pilot, app)
        await edit_member(pilot, screen, "max-bandwidth", "64M")
        assert "max-bandwidth: 128 MiB/s → 64 MiB/s" in pending(screen)
        await find_member(pilot, screen, "downtime-limit")
        await client.execute("migrate-set-parameters", {"downtime-limit": 777, "max-bandwidth": 32 * MIB})
        await settle(pilot, lambda: screen.pane.box.is_mounted and screen.pane.box.editor.value == "777", 10,
                     "QEMU's new downtime-limit in the editor")
        assert "QEMU holds 777 ms" in str(screen.pane.box.query_one(".-facts", Static).render())
        assert "max-bandwidth: 32 MiB/s → 64 MiB/s" in pending(screen), "the edit stays, against QEMU's new value"
        # QEMU's value again: no change left to send.
        await client.execute("migrate-set-parameters", {"max-bandwidth": 64 * MIB})
        await settle(pilot, lambda: pending(screen)[0] == "Pending changes (0)", 10, "no change pending")
    assert audit.entries() == []


async def test_escape_asks_before_dropping_edits(lab, lab_dir, ctl):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    app, audit = app_on(lab, lab_dir)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_editor(pilot, app)
        await pilot.press("escape")  # nothing edited: back at once
        await settle(pilot, lambda: not isinstance(app.screen, ParamsScreen), 5, "the fleet screen")
        screen = await open_editor(pilot, app)
        await edit_member(pilot, screen, "downtime-limit", "650")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 5, "the question")
        assert "downtime-limit" in app.screen.question
        await pilot.press("n")
        await settle(pilot, lambda: app.screen is screen, 5, "the editor again")
        assert screen.draft.edits == {"par:downtime-limit": "650"}, "the edit stays"
        await pilot.press("escape", "y")
        await settle(pilot, lambda: not isinstance(app.screen, (ParamsScreen, ConfirmDialog)), 5, "left")
    assert audit.entries() == []
    async with ctl(vm) as client:
        assert (await client.execute("query-migrate-parameters"))["downtime-limit"] == 300


async def test_the_question_on_leaving_counts_what_the_pending_panel_counts(lab, lab_dir):
    await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    app, audit = app_on(lab, lab_dir)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_editor(pilot, app)
        held = screen.draft.held(next(m for m in screen.draft.members if m.name == "downtime-limit"))
        await edit_member(pilot, screen, "downtime-limit", "650")
        await edit_member(pilot, screen, "max-bandwidth", "64M")
        await edit_member(pilot, screen, "max-bandwidth", str(screen.draft.held(
            next(m for m in screen.draft.members if m.name == "max-bandwidth"))))  # typed back: no change
        assert len(screen.draft.edits) == 2 and held == 300
        assert pending(screen)[0] == "Pending changes (1)"
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog), 5, "the question")
        assert app.screen.title_text == "Drop 1 change?"
        assert "downtime-limit" in app.screen.question and "max-bandwidth" not in app.screen.question
        await pilot.press("y")
    assert audit.entries() == []


async def test_max_bandwidth_changed_during_a_migration_changes_its_throughput_and_marks_the_charts(lab, lab_dir, ctl):
    # 64 MiB rewritten as fast as the guest can: at 8 MiB/s this migration never ends by itself.
    src = await lab.start_source("vm1", mem_mib=128, dirty_mib=64, dirty_rate_mib_s=math.inf)
    await lab.start_destination("vm1-dst", like=src)
    async with ctl(src) as client:
        await client.wait_guest(passes=1, timeout=60)
    app, audit = app_on(lab, lab_dir)
    async with app.run_test(size=(110, 32)) as pilot, ctl(src) as client:
        await settle(pilot, lambda: app.fleet.states["vm1-dst"].run_state == "inmigrate", 20, "the destination")
        fleet = app.fleet
        await migration.start_migration(fleet.session("vm1"), fleet.session("vm1-dst"),
                                        migration.MigrationPlan({"max-bandwidth": 8 * MIB}))
        # "active" with its ram counters, not "setup" (which has none yet).
        await settle(pilot, lambda: (fleet.states["vm1"].latest or None) and fleet.states["vm1"].latest.status == "active"
                     and fleet.states["vm1"].latest.info.ram is not None, 20, "the migration to run")
        before = await transfer_rate(client)
        app.controls.open_vm("vm1")
        await settle(pilot, lambda: isinstance(app.screen, VMScreen) and app.screen.query(MigrationChart), 5,
                     "the VM screen's charts")
        screen = await open_editor(pilot, app, key="e")  # from the VM screen
        await settle(pilot, lambda: screen.draft.settings.parameters["max-bandwidth"] == 8 * MIB, 10,
                     "the migration's bandwidth read")
        await edit_member(pilot, screen, "max-bandwidth", "40M")
        preview = await apply(pilot, app)
        assert preview.migrating and [c.text for c in preview.changes.changes] == ["max-bandwidth 8 MiB/s → 40 MiB/s"]
        marks = app.marks.of("vm1")
        assert [mark.text for mark in marks] == ["max-bandwidth 8 MiB/s → 40 MiB/s"]
        after = await transfer_rate(client)
        assert (await client.execute("query-migrate"))["status"] == "active"
        # Back on the VM screen, its charts draw the mark.
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen again")
        for chart in app.screen.query(MigrationChart):
            assert [mark.text for mark in chart.marks()] == ["max-bandwidth 8 MiB/s → 40 MiB/s"]
        await client.execute("migrate_cancel")
        await client.wait_migration("cancelled", timeout=30)
    print(f"throughput at 8 MiB/s: {before / MIB:.1f} MiB/s; at 40 MiB/s: {after / MIB:.1f} MiB/s")
    assert before < 10 * MIB
    assert after > 2.5 * before
    assert ("vm1", "migrate-set-parameters", {"max-bandwidth": 40 * MIB}) in [
        (e["vm"], e["command"], e["arguments"]) for e in audit.entries()]


async def transfer_rate(client, seconds: float = 2.0) -> float:
    """Bytes a second QEMU sent over ``seconds``, from its own ``ram.transferred`` counter."""
    first = await client.execute("query-migrate")
    start = time.monotonic()
    await asyncio.sleep(seconds)  # a measuring window, not a wait for a state
    last = await client.execute("query-migrate")
    return (last["ram"]["transferred"] - first["ram"]["transferred"]) / (time.monotonic() - start)


async def test_bulk_apply_and_presets_from_the_editor(lab, lab_dir, ctl, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    vm1 = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    vm2 = await lab.start_source("vm2", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    async with ctl(vm2) as client:  # vm2 holds another downtime-limit: its own old value is previewed
        await client.execute("migrate-set-parameters", {"downtime-limit": 400})
    app, audit = app_on(lab, lab_dir)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot, lambda: app.fleet.states["vm2"].link == "connected", 20, "vm2 connected")
        screen = await open_editor(pilot, app, "vm1")
        await edit_member(pilot, screen, "downtime-limit", "650")
        await edit_member(pilot, screen, "auto-converge", True, capability=True)
        # Save the edits as a preset before applying anything.
        await pilot.press("ctrl+g")
        await settle(pilot, lambda: isinstance(app.screen, SavePresetDialog), 5, "the save dialog")
        assert "Saves the 2 edited values" in str(app.screen.query_one(".note").render())
        await pilot.press(*"converge", "enter")
        await settle(pilot, lambda: app.screen is screen, 5, "the editor again")
        assert load_preset("converge").parameters == {"downtime-limit": 650}
        # Apply to both VMs: vm1 is chosen already, vm2 is added with the keyboard.
        await pilot.press("ctrl+b")
        await settle(pilot, lambda: isinstance(app.screen, BulkApplyDialog), 5, "the bulk dialog")
        chosen = app.screen.query_one(SelectionList)
        assert chosen.selected == ["vm1"]
        await settle(pilot, lambda: app.focused is chosen, 5, "the VMs to choose, focused")  # keys work at once
        await pilot.press("down", "space")
        assert chosen.selected == ["vm1", "vm2"]
        await pilot.press("ctrl+s")
        preview = app.screen.query_one("#bulk-preview", Static)
        await settle(pilot, lambda: "vm2:" in str(preview.render()), 20, "old → new for each VM")
        assert str(preview.render()).splitlines() == [
            "Would change (from what each VM holds now):",
            "→ vm1: downtime-limit 300 ms → 650 ms; auto-converge off → on",
            "→ vm2: downtime-limit 400 ms → 650 ms; auto-converge off → on",
        ]
        assert audit.entries() == [], "nothing sent before the second Ctrl+S"
        await pilot.press("ctrl+s")
        results = app.screen.query_one("#bulk-results", Static)
        await settle(pilot, lambda: "✓ vm2" in str(results.render()), 20, "a result for each VM")
        assert str(results.render()).splitlines() == [
            "✓ vm1: downtime-limit 300 ms → 650 ms; auto-converge off → on",
            "✓ vm2: downtime-limit 400 ms → 650 ms; auto-converge off → on",
        ]
        await pilot.resize_terminal(80, 18)  # the results scroll in the box; its buttons stay in view
        await settle(pilot, lambda: all(0 <= b.region.y and b.region.bottom <= 18 and b.region.height
                                        for b in app.screen.query(Button)), 5, "the buttons within 18 lines")
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is screen, 10, "vm1's editor again")
        await settle(pilot, lambda: isinstance(app.focused, MemberFilter), 5, "typing finds a member again")
        assert screen.draft.settings.parameters["downtime-limit"] == 650, "what QEMU holds now"
        assert screen.draft.edits == {} and pending(screen)[0] == "Pending changes (0)"
        await find_member(pilot, screen, "downtime-limit")
        assert screen.pane.box.editor.value == "650"
        assert [m.text for m in app.marks.of("vm2")] == ["downtime-limit 400 ms → 650 ms; auto-converge off → on"]
    async with ctl(vm1) as one, ctl(vm2) as two:
        for client in (one, two):
            assert (await client.execute("query-migrate-parameters"))["downtime-limit"] == 650
            await client.execute("migrate-set-parameters", {"downtime-limit": 300})  # undone behind migtui's back
    # Loading the preset on vm2 fills its edits; nothing is sent until Apply.
    sent = len(audit.entries())
    app, audit = app_on(lab, lab_dir)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_editor(pilot, app, "vm2")
        await pilot.press("ctrl+o")
        await settle(pilot, lambda: isinstance(app.screen, LoadPresetDialog), 5, "the load dialog")
        await pilot.press("enter")  # the only preset
        await settle(pilot, lambda: app.screen is screen and "1 change" in status(app), 5,
                     "the preset's values as edits")
        assert "1 change (downtime-limit)" in status(app)
        assert (await find_member(pilot, screen, "downtime-limit")).value == "650"
    assert len(audit.entries()) == sent
