"""Ticked or not is told by a character, not by colour alone (NO_COLOR, monochrome terminals)."""

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
from migtui.screens.migrate import MigrateDialog
from migtui.screens.params import ParamsScreen
from screen_text import screen_text
from waiting import settle


def lines_with(app: MigtuiApp, *words: str) -> list[str]:
    return [line.strip(" █▊▎") for line in screen_text(app).splitlines() if any(word in line for word in words)]


async def test_the_migrate_dialogs_capabilities_read_ticked_or_not_without_colour(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.press(*["down"] * 5, "m")  # web-1-dst
        await settle(pilot, lambda: isinstance(app.screen, MigrateDialog), 5, "the migrate dialog")
        app.screen.query_one("#cap-postcopy-ram").focus()
        await pilot.press("space")
        await pilot.pause()
        shown = lines_with(app, "postcopy-ram (", "auto-converge (")
        assert [line.split(" (")[0] for line in shown] == ["[x] postcopy-ram", "[ ] auto-converge"]


async def test_the_bulk_dialogs_vms_read_chosen_or_not_without_colour(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    forms = VMForms.from_schema(load_release("7.2.0"))  # the recorded fleet never connects: 7.2's own files

    async def forms_of(session: object) -> VMForms:
        return forms

    monkeypatch.setattr(params, "forms_of", forms_of)
    monkeypatch.setattr(bulk, "forms_of", forms_of)
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("e")
        await settle(pilot, lambda: isinstance(app.screen, ParamsScreen) and app.screen.draft is not None, 5,
                     "the editor")
        await edit_member(pilot, app.screen, "downtime-limit", "500")  # something to apply
        await pilot.press("ctrl+b")
        await settle(pilot, lambda: isinstance(app.screen, BulkApplyDialog), 5, "the bulk dialog")
        app.screen.query_one("#bulk-vms").focus()
        await pilot.press("down", "space")
        await pilot.pause()
        ticks = [line[:3] for line in lines_with(app, "[x] ", "[ ] ")]
        assert ticks.count("[x]") == 2 and ticks.count("[ ]") >= 1, screen_text(app)  # batch-1 itself, and one chosen
