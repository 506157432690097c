"""Asking before a destructive action on the command line."""

from __future__ import annotations

import sys

from migtui.errors import UsageError


def can_ask() -> bool:
    """Whether there is a person to ask: stdin is a terminal (not cron, not a pipe)."""
    return sys.stdin.isatty()


def ask(question: str) -> bool:
    """Ask on the terminal; only "y" or "yes" is a yes. End of input (Ctrl-D) is a no.

    The question goes to stderr: stdout may be a file or a pipe of JSON lines.
    """
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    if not answer:  # end of input
        print(file=sys.stderr)  # the prompt's line was left open
        return False
    return answer.strip().lower() in ("y", "yes")


def confirm(question: str, assume_yes: bool) -> None:
    """Return if confirmed; raise with how to confirm otherwise.

    Without a terminal to ask on (cron, scripts), only ``--yes`` confirms.
    """
    if assume_yes:
        return
    if not can_ask():
        raise UsageError(f"{question} Add --yes to confirm (no terminal to ask on).")
    if not ask(question):
        raise UsageError("not confirmed: nothing was done")
