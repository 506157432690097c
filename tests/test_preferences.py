"""The dashboard keeps the admin's choices (theme, chart window, sort) in dashboard.toml and reads them at start."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.message import Message
from textual.notifications import Notify

from data.traces import recorded_fleet
from migtui.app import MigtuiApp
from migtui.errors import ConfigError
from migtui.inventory import config_dir
from migtui.preferences import FILE_NAME, PreferenceFile, read_preferences
from migtui.screens.vm import VMScreen
from migtui.widgets.fleet_table import FleetTable
from waiting import settle


def app_on(path: Path, **options) -> MigtuiApp:
    return MigtuiApp(recorded_fleet(), start_fleet=False, preferences=PreferenceFile(path), **options)


async def test_sort_window_and_theme_are_kept_for_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    app = app_on(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not path.exists()  # nothing chosen yet, nothing written
        await pilot.press("s", "s", "S")  # sort by the third column (status, after link), largest first
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen")
        await pilot.press("w")  # 10 min of history
        picked = "textual-light" if app.theme != "textual-light" else "migtui-dark"
        app.theme = picked  # what "Change theme" in the palette does
        await pilot.pause()
    assert tomllib.loads(path.read_text()) == {"theme": picked, "chart_window": "10 min", "sort": "status",
                                               "sort_reverse": True}

    again = app_on(path)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert again.theme == picked
        assert "sorted by migration ↓" in again.screen.sub_title
        table = again.screen.query_one(FleetTable)
        statuses = [table.get_cell(row.key, "status").plain for row in table.ordered_rows]
        assert statuses[0] == "-" and statuses[-1] == "active"  # none, completed, active: reversed
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(again.screen, VMScreen), 5, "the VM screen")
        assert again.screen.window == 600.0


async def test_a_theme_given_for_one_run_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_text('theme = "migtui-dark"\n')
    app = app_on(path, theme="migtui-ansi")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "migtui-ansi"
    assert read_preferences(path).theme == "migtui-dark"


async def test_a_wrong_file_is_said_in_one_line_used_for_nothing_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    text = 'theme = "textual-light"\nsort = "colour"\n'
    path.write_text(text)
    seen: list[Message] = []
    app = app_on(path)
    async with app.run_test(message_hook=seen.append) as pilot:
        await settle(pilot, lambda: any(isinstance(m, Notify) for m in seen), 5, "a notification")
        told = next(str(m.notification.message) for m in seen if isinstance(m, Notify))
        assert told.startswith(f"{path}:2: sort: one of name, link, status, remaining")
        assert "'colour'" in told and "\n" not in told
        assert app.theme != "textual-light"  # nothing of the file is used
        await pilot.press("s")
        await pilot.pause()
    assert path.read_text() == text  # the typo is still there to be fixed


def test_an_unknown_window_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_text('chart_window = "5 min"\n')
    with pytest.raises(ConfigError, match=r":1: chart_window: one of '1 min', '10 min', 'all', not '5 min'$"):
        read_preferences(path)


def test_the_file_lives_in_the_xdg_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert PreferenceFile().path == tmp_path / "migtui" / FILE_NAME == config_dir() / FILE_NAME
