"""Every screen and dialog at 80x24, as the README promises, with migrations running (the recorded
fleet: batch-1 will not converge, db-1 converges). The snapshots screen needs a live VM: it is
pictured in words by tests/test_ui_80x24.py against real QEMU.

Run ``pytest tests/snapshots --snapshot-update`` after a deliberate change, and look at the SVGs.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from data.traces import recorded_fleet
from form_pilot import edit_member
from migtui.app import MigtuiApp
from migtui.params import bulk
from migtui.params.forms import VMForms
from migtui.qapi import load_release
from migtui.screens import params
from migtui.screens.bulk_apply import BulkApplyDialog
from migtui.screens.confirm import ConfirmDialog
from migtui.screens.migrate import MigrateDialog
from migtui.screens.params import ParamsScreen
from migtui.screens.preset_dialogs import LoadPresetDialog, SavePresetDialog
from screen_text import screen_text
from snapshots.test_ui_dashboard_snapshots import still
from waiting import settle

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def bundled_7_2(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    forms = VMForms.from_schema(load_release("7.2.0"))  # the recorded fleet never connects: 7.2's own files

    async def forms_of(session: object) -> VMForms:
        return forms

    monkeypatch.setattr(params, "forms_of", forms_of)
    monkeypatch.setattr(bulk, "forms_of", forms_of)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent/migtui-snapshots")  # no presets: the same picture anywhere


def dashboard() -> MigtuiApp:
    return MigtuiApp(recorded_fleet(), start_fleet=False, theme="migtui-dark")


async def editor(pilot: Pilot) -> ParamsScreen:
    await pilot.press("e")
    await settle(pilot, lambda: isinstance(pilot.app.screen, ParamsScreen) and pilot.app.screen.draft is not None
                 and pilot.app.screen.pane.box is not None, 5, "the editor with values")
    return pilot.app.screen


class TestVMScreenAt80x24:
    @pytest.mark.parametrize("keys", [pytest.param(["end"], id="scrolled-to-the-last-charts"),
                                      pytest.param(["2"], id="sample"), pytest.param(["3"], id="events"),
                                      pytest.param(["tab", "end"], id="prediction-read-to-its-end")])
    def test_migrating(self, snap_compare, keys) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press("enter", *keys)  # batch-1, migrating, the longest prediction
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=SIZE, run_before=run_before)


class TestDialogsAt80x24:
    def test_migrate(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press(*["down"] * 5, "m")  # web-1-dst: running, not migrating
            await settle(pilot, lambda: isinstance(pilot.app.screen, MigrateDialog), 5, "the dialog")
            await pilot.app.screen.workers.wait_for_complete()
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=SIZE, run_before=run_before)

    def test_cancel_asks_first(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            await pilot.press("c")  # batch-1's migration
            await settle(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), 5, "the question")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=SIZE, run_before=run_before)

    @pytest.mark.parametrize("key, kind", [("ctrl+o", LoadPresetDialog), ("ctrl+g", SavePresetDialog)],
                             ids=["load-preset", "save-preset"])
    def test_presets(self, snap_compare, key, kind) -> None:
        async def run_before(pilot: Pilot) -> None:
            await editor(pilot)
            await pilot.press(key)
            await settle(pilot, lambda: isinstance(pilot.app.screen, kind), 5, "the preset dialog")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=SIZE, run_before=run_before)

    def test_bulk(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            screen = await editor(pilot)
            await edit_member(pilot, screen, "downtime-limit", "500")
            await pilot.press("ctrl+b")
            await settle(pilot, lambda: isinstance(pilot.app.screen, BulkApplyDialog), 5, "the bulk dialog")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=SIZE, run_before=run_before)


async def test_the_load_preset_dialog_says_its_note_whole_at_80x24() -> None:
    app = dashboard()
    async with app.run_test(size=SIZE) as pilot:
        await editor(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot, lambda: isinstance(app.screen, LoadPresetDialog), 5, "the preset dialog")
        await pilot.pause()
        # Inside the dialog's frame (█ ... █), the screen under it cut away.
        text = " ".join(line.split("█")[1] for line in screen_text(app).splitlines() if line.count("█") >= 2)
        assert "Its values become edits: review them, then Apply." in " ".join(text.split())
