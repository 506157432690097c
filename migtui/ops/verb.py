"""A verb that steers a running migration: its control, its question, its step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from migtui.model.controls import Control
from migtui.ops.question import Question
from migtui.qmp.session import VMSession


@dataclass(frozen=True)
class MigrationVerb:
    control: Control
    """Which check says whether it can act (:func:`migtui.model.controls.refusal`)."""
    question: Callable[[str], Question]
    """What is asked first, for a VM."""
    run: Callable[[VMSession], Awaitable[str]]
    """The step, given to the fleet's change (or run on a lone session); says its outcome."""
