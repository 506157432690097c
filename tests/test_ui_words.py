"""One screen, one word per meaning: the outlook of a migration that will not converge and the
"done" cell that stops counting are told apart, and the help says each word once."""

from __future__ import annotations

import re

from data.traces import recorded_fleet
from migtui.app import MigtuiApp
from migtui.screens.help import HelpScreen
from migtui.widgets.fleet_table import FleetTable
from screen_text import screen_text
from waiting import settle

OLD_WORDS = re.compile(r"\b(never|stalled|stall)\b")


async def test_a_migration_that_will_not_converge_has_one_word_per_meaning_each_explained_once() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        outlook, done = table.get_cell("batch-1", "outlook").plain, table.get_cell("batch-1", "progress").plain
        assert (outlook, done.strip()) == ("won't end", "loop")
        assert not OLD_WORDS.search(screen_text(app))
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen), 5, "the help")
        await pilot.resize_terminal(120, 100)  # all of the help in view
        await pilot.pause()
        help_text = " ".join(screen_text(app).split())
        assert help_text.count("'won't end'") == 1 and help_text.count("'loop'") == 1
        assert not OLD_WORDS.search(help_text)
