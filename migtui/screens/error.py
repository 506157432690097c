"""An error the dashboard did not expect, shown instead of crashing.

Errors users can cause or fix (QEMU refusing a command, a dead link) are
notifications with QEMU's own words; this screen is for the rest: a bug,
shown with its traceback so it can be reported, while the fleet keeps going
underneath.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class ErrorScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ErrorScreen {
        align: center middle;
        background: $background 60%;
    }
    ErrorScreen > Vertical {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 90%;
        border: thick $error;
        background: $panel;
        padding: 0 1;
    }
    ErrorScreen .title {
        text-style: bold;
        color: $text-error;
    }
    ErrorScreen VerticalScroll {
        height: auto;
        max-height: 20;
        margin-top: 1;
        background: $surface;
    }
    ErrorScreen .hint {
        color: $text-muted;
        margin-top: 1;
    }
    """

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="error.close", tooltip="Back to the dashboard")]

    def __init__(self, title: str, message: str, details: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Static(self.message, markup=False)
            if self.details:
                with VerticalScroll():
                    yield Static(self.details, markup=False)
            yield Label("The VMs are still watched. Esc closes this.", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
