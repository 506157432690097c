"""What a destructive verb asks before it acts, the same on a terminal and in a dialog."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    title: str
    """The dialog's title."""
    text: str
    """The question itself, naming the VM: what the command line asks too."""
    yes: str = "Yes"
    no: str = "No"
