"""The help screen (? or F1): the keys of the screen it opened on, and what its figures mean.

The keys are read from that screen's active bindings at the moment it
opens, so they are the keys that work there, hidden ones included (S, r,
D, B, O ...), and a key that cannot act now is marked so. ? , Esc or F1
close it again.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Label, Static
from textual.containers import VerticalScroll

from migtui.screens.dialog import Dialog
from migtui.screens.help_texts import GLOSSARIES

PALETTE = ("ctrl+p", "Find any action of any VM by typing (open web-1, migrate db-1 ...)")


def own_actions(node: object) -> set[tuple[str, str]]:
    """(action, description) of the bindings migtui itself declares on ``node``'s class and bases."""
    return {(binding.action, binding.description)
            for cls in type(node).__mro__ if cls.__module__.startswith("migtui.")
            for binding in cls.__dict__.get("BINDINGS", []) if isinstance(binding, Binding)}


def keys_of(screen: Screen) -> list[tuple[str, str, bool]]:
    """(key as shown, what it does, whether it can act now) for every key of ``screen``: its own
    and the App's, not a focused widget's cursor keys or Textual's plumbing."""
    app = screen.app
    ours = own_actions(screen) | own_actions(app)
    keys: list[tuple[str, str, bool]] = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.system or (binding.action, binding.description) not in ours:
            continue  # the hidden fallbacks that explain a refusal are system bindings
        what = binding.tooltip or binding.description
        keys.append((app.get_key_display(binding), what, active.enabled))
    if not any(key == app.get_key_display(Binding(PALETTE[0], "")) for key, _, _ in keys):
        keys.append((app.get_key_display(Binding(PALETTE[0], "")), PALETTE[1], True))
    return keys


class HelpScreen(Dialog[None]):
    """Keys and figures of one screen."""

    DEFAULT_CSS = """
    HelpScreen .dialog-box {
        width: 100;
    }
    HelpScreen .help-section {
        margin-top: 1;
        text-style: bold;
    }
    """

    BINDINGS = [
        Binding("question_mark,escape,f1", "close", "Close", id="help.close", tooltip="Back to the screen"),
    ]

    def __init__(self, of: Screen) -> None:
        super().__init__()
        self.for_screen = type(of).__name__
        self.keys = keys_of(of)

    def compose(self) -> ComposeResult:
        about, terms = GLOSSARIES.get(self.for_screen, ("", ()))
        with VerticalScroll(classes="dialog-box"):
            yield Label("Help · ? or Esc closes", classes="title")
            if about:
                yield Static(about, classes="note", markup=False)
            yield Label("Keys", classes="help-section")
            yield Static(self._table([(key, what if ok else f"{what} (not now)", ok) for key, what, ok in self.keys]),
                         id="help-keys")
            if terms:
                yield Label("What the figures mean", classes="help-section")
                yield Static(self._table([(term, meaning, True) for term, meaning in terms]), id="help-terms")

    @staticmethod
    def _table(rows: list[tuple[str, str, bool]]) -> Table:
        """Two columns; a row that cannot act now is dimmed (as the footer dims its key)."""
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for left, right, lit in rows:
            table.add_row(Text(left), Text(right), style=None if lit else "dim")
        return table

    def action_close(self) -> None:
        self.dismiss(None)
