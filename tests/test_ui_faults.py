"""Failures reach the user on screen: a poll that fails, a screen's worker that fails.

A worker's failure is injected where QEMU cannot produce it (a function the
worker calls raises KeyError, as a bug would); the poll failure comes from
the scripted QMP server's unreadable answer.
"""

from __future__ import annotations

import logging

import pytest
from textual.message import Message

from data.traces import recorded_fleet
from fake_qmp import FakeQMPServer
from form_pilot import edit_member
from migtui.app import MigtuiApp
from migtui.inventory import VMEntry
from migtui.qmp import snapshots
from migtui.qmp.fleet import Fleet
from migtui.ops import migrate
from migtui.screens import bulk_apply, params
from migtui.screens.bulk_apply import BulkApplyDialog
from migtui.screens.error import ErrorScreen
from migtui.screens.fleet import FleetScreen
from migtui.screens.migrate import MigrateDialog
from migtui.widgets.fleet_table import FleetTable
from migtui.widgets.vm_brief import VMBrief
from test_params_screen import app_on, open_editor
from waiting import settle

BAD = {"status": "active", "ram": {"total": "a lot", "remaining": 1, "transferred": 1}}
GOOD = {"status": "active", "ram": {"total": 1 << 27, "remaining": 1 << 26, "transferred": 1 << 26}}


def cell(app: MigtuiApp, vm: str, column: str) -> str:
    fleet_screen = next(s for s in app.screen_stack if isinstance(s, FleetScreen))
    return fleet_screen.query_one(FleetTable).get_cell(vm, column).plain


async def test_an_unreadable_answer_is_shown_on_the_fleet_screen_until_a_good_one(tmp_path):
    answers = {"query-migrate": [BAD]}  # until the test changes it
    async with FakeQMPServer(tmp_path / "q.sock", "serve", answers) as server:
        fleet = Fleet([VMEntry(name="odd", qmp=str(tmp_path / "q.sock"))], fast=0.1, slow=0.1)
        app = MigtuiApp(fleet)
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot, lambda: cell(app, "odd", "link") == "err", 10, "the link cell saying err")
            brief = str(app.screen.query_one(VMBrief).render())
            assert "Poll failed: query-migrate answer not understood: ram.total" in brief
            server.answers["query-migrate"] = [GOOD]
            await settle(pilot, lambda: cell(app, "odd", "link") == "up" and cell(app, "odd", "progress") == "50%",
                         10, "the next good sample on screen")
            assert "Poll failed" not in str(app.screen.query_one(VMBrief).render())


def boom(*args: object, **kwargs: object) -> None:
    raise KeyError("downtime-limit")


async def error_shown(pilot, app: MigtuiApp, doing: str) -> ErrorScreen:
    await settle(pilot, lambda: isinstance(app.screen, ErrorScreen), 10, f"an error screen for {doing}")
    screen = app.screen
    assert screen.title_text == f"{doing} failed unexpectedly"
    assert screen.message == "KeyError: 'downtime-limit'"
    return screen


async def test_a_failing_parameters_read_shows_an_error_screen_and_is_logged(monkeypatch, caplog):
    monkeypatch.setattr(params, "forms_of", boom)
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    with caplog.at_level(logging.ERROR, logger="migtui.app"):
        async with app.run_test(size=(120, 40)) as pilot:
            app.controls.open_params("db-1")
            await error_shown(pilot, app, "Reading the parameters")
    assert any("Reading the parameters failed unexpectedly" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_a_failing_preflight_check_shows_an_error_screen(monkeypatch):
    monkeypatch.setattr(migrate, "preflight", boom)
    fleet = recorded_fleet()
    fleet.states["db-1"].run_state = "running"
    fleet.states["db-1"].tracker.history.clear()
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.controls.migrate("db-1")
        await error_shown(pilot, app, "The pre-flight checks")
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, MigrateDialog), 5, "the dialog again, still open")


async def test_a_failing_snapshot_list_shows_an_error_screen(monkeypatch):
    monkeypatch.setattr(snapshots, "list_snapshots", boom)
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.controls.open_snapshots("db-1")
        await error_shown(pilot, app, "Listing the snapshots of db-1")


@pytest.mark.qemu
async def test_a_failing_bulk_apply_shows_an_error_screen(lab, lab_dir, monkeypatch):
    monkeypatch.setattr(bulk_apply, "send_many", boom)
    await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    app, audit = app_on(lab, lab_dir)
    seen: list[Message] = []
    async with app.run_test(size=(140, 50), message_hook=seen.append) as pilot:
        screen = await open_editor(pilot, app, "vm1")
        await edit_member(pilot, screen, "downtime-limit", "650")
        await pilot.press("ctrl+b")
        await settle(pilot, lambda: isinstance(app.screen, BulkApplyDialog), 5, "the bulk dialog")
        await pilot.press("ctrl+s")  # the preview
        await settle(pilot, lambda: "vm1:" in str(app.screen.query_one("#bulk-preview").render()), 10, "the preview")
        await pilot.press("ctrl+s")  # the send
        await error_shown(pilot, app, "Applying to several VMs")
    assert audit.entries() == []  # nothing was sent

