"""Asking before a destructive action on the command line."""

from __future__ import annotations

import sys

from migtui.errors import UsageError


def confirm(question: str, assume_yes: bool) -> None:
    """Return if confirmed; raise with how to confirm otherwise.

    Without a terminal to ask on (cron, scripts), only ``--yes`` confirms.
    """
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Add --yes to confirm (no terminal to ask on).")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise UsageError("not confirmed: nothing was done")
