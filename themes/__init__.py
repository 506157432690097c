"""The dashboard's themes and stylesheet (shipped in the wheel as ``migtui.themes``).

Two themes of our own, besides Textual's built-in ones (all selectable from
the command palette, "Change theme"):

* ``migtui-dark``: full colour, for terminals with 256 colours or more;
* ``migtui-ansi``: only the 16 ANSI colours, which the terminal maps to its
  own palette: for the Linux console, old xterms, serial consoles, and
  screen/tmux without 256-colour support. Chosen by default on such
  terminals.

With ``NO_COLOR`` set, Textual turns every colour into a shade of grey (and
migtui.tcss marks the cursor and headers with reverse video and bold). That
works from the full-colour theme: from ANSI colours, Textual 8's filter
draws black on black, so NO_COLOR picks ``migtui-dark``.

``migtui.tcss`` holds the screens' layout and the rules that keep things
readable without colour (the table cursor becomes reverse video).
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from textual.theme import Theme

DARK = Theme(
    name="migtui-dark",
    primary="#4F9FD6",
    secondary="#2D6A96",
    accent="#D7A13B",
    warning="#E3B341",
    error="#E5534B",
    success="#57AB5A",
    foreground="#D8DEE4",
    background="#161B22",
    surface="#1C2128",
    panel="#2D333B",
    dark=True,
)

ANSI = Theme(
    name="migtui-ansi",
    ansi=True,
    primary="ansi_blue",
    secondary="ansi_cyan",
    accent="ansi_magenta",
    warning="ansi_yellow",
    error="ansi_red",
    success="ansi_green",
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    dark=True,
    variables={
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_white",
        "block-cursor-foreground": "ansi_black",
        "block-cursor-background": "ansi_white",
        "block-cursor-blurred-foreground": "ansi_default",
        "block-cursor-blurred-background": "ansi_default",
        "border": "ansi_blue",
        "border-blurred": "ansi_bright_black",
        "footer-key-foreground": "ansi_bright_blue",
        "input-cursor-background": "ansi_white",
        "input-cursor-foreground": "ansi_black",
        "input-selection-background": "ansi_blue",
        "scrollbar": "ansi_bright_black",
        "scrollbar-background": "ansi_default",
        "scrollbar-hover": "ansi_white",
        "scrollbar-active": "ansi_bright_white",
    },
)

THEMES = (DARK, ANSI)

LOW_COLOUR_TERMS = ("linux", "vt100", "vt220", "xterm", "screen", "tmux", "ansi", "dumb")


def default_theme_name(environ: dict[str, str] | None = None) -> str:
    """``migtui-ansi`` when colours are scarce, else ``migtui-dark`` (also under NO_COLOR)."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env:
        return DARK.name
    term = env.get("TERM", "")
    if env.get("COLORTERM") in ("truecolor", "24bit") or "256color" in term or "direct" in term:
        return DARK.name
    if term in LOW_COLOUR_TERMS:
        return ANSI.name
    return DARK.name


def stylesheet() -> Path:
    return Path(str(files(__name__) / "migtui.tcss"))
