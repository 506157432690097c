"""The help screen (? or F1): the keys of the screen it opened on, and what its figures mean.

The keys are read from the bindings of that screen and of the App at the
moment it opens: the keys that work there, hidden ones included (S, r, D,
B, O ...); a key that cannot act now is dimmed, one that is off (a control
in read-only mode) is left out. ? , Esc or F1
close it again.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Label, Static

from migtui.screens.dialog import Dialog
from migtui.screens.help_texts import GLOSSARIES

PALETTE = ("ctrl+p", "Find any action of any VM by typing (open web-1, migrate db-1 ...)")


def own_bindings(node: DOMNode) -> list[Binding]:
    """The bindings migtui itself declares on ``node``'s class and its bases, most specific first."""
    return [binding for cls in type(node).__mro__ if cls.__module__.startswith("migtui.")
            for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", []))]


def keys_of(screen: Screen[object]) -> list[tuple[str, str, bool]]:
    """(key as shown, what it does, whether it can act now) for every key of ``screen``: its own, then
    the App's; not a focused widget's cursor keys (which may shadow one of them, as the table's
    Enter does: it opens the VM all the same), nor Textual's plumbing."""
    app = screen.app
    keys: list[tuple[str, str, bool]] = []
    seen: set[str] = set()
    for node in (screen, app):
        for binding in own_bindings(node):
            _, name, parameters = parse(binding.action)
            allowed = node.check_action(name, parameters)
            if binding.system or allowed is False or binding.key in seen:
                continue  # hidden (read-only), or the fallback that explains a refusal
            seen.add(binding.key)
            keys.append((app.get_key_display(binding), binding.tooltip or binding.description, bool(allowed)))
    palette = Binding(PALETTE[0], "")
    keys.append((app.get_key_display(palette), PALETTE[1], True))
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
        # A dialog takes keys for its fields; the help has none: q leaves migtui, as everywhere else.
        Binding("q", "app.quit", "Quit", id="help.quit", show=False, tooltip="Leave migtui (the VMs are not touched)"),
    ]

    def __init__(self, of: Screen[object]) -> None:
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
