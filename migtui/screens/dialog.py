"""The frame every dialog of the dashboard shares.

A :class:`Dialog` is a modal screen with one box in the middle (class
``dialog-box``) over the dimmed screen, a bold ``title``, muted ``note``
lines, what may grow in a scrolling ``dialog-body`` (so that the buttons
stay in view on a 24-line terminal), and a right-aligned row of buttons
(class ``dialog-buttons``). The
rules live here once; a dialog's own CSS only says what is its own (a
width, a warning border, its lists). A dialog's failed workers are shown
(:class:`~migtui.screens.worker_errors.ShowsWorkerErrors`).
"""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

from migtui.screens.worker_errors import ShowsWorkerErrors

ResultT = TypeVar("ResultT")


class Dialog(ShowsWorkerErrors, ModalScreen[ResultT]):
    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        background: $background 60%;
    }
    Dialog .dialog-box {
        width: 80;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $panel;
        padding: 0 1;
    }
    Dialog .title {
        text-style: bold;
    }
    /* A Label is as wide as its text and cut at the box: a dialog's lines wrap instead. */
    Dialog .dialog-box > Label, Dialog .dialog-body > Label {
        width: 1fr;
    }
    Dialog .note {
        color: $text-muted;
    }
    Dialog .dialog-body {
        height: auto;
        max-height: 65vh;  /* at 24 lines: the title, this, the buttons and the frame fit */
    }
    Dialog .dialog-buttons {
        height: auto;
        align-horizontal: right;
    }
    Dialog .dialog-buttons Button {
        margin-left: 2;
    }
    """
