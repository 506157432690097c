"""What the fleet tells its subscribers (the dashboard, ``migtui watch``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from migtui.model.events import QMPEvent
from migtui.model.sample import Sample


@dataclass(frozen=True)
class Update:
    vm: str


class Aspect(StrEnum):
    """Which part of a VM's state a :class:`VMChanged` is about."""

    LINK = "link"
    RUN_STATE = "run-state"
    BUSY = "busy"
    POLL_ERROR = "poll-error"
    SETTINGS = "settings"
    """Parameters or capabilities."""
    JOBS = "jobs"


@dataclass(frozen=True)
class VMChanged(Update):
    """Something of the VM's state changed: read it from ``fleet.states[vm]``."""

    aspect: Aspect


@dataclass(frozen=True)
class SampleTaken(Update):
    sample: Sample


@dataclass(frozen=True)
class EventReceived(Update):
    event: QMPEvent


@dataclass(frozen=True)
class PolicyStep(Update):
    """A migration policy decided something: ``did`` is 'took', 'would' (observing) or 'refused'."""

    policy: str
    did: str
    text: str
    acted: bool


@dataclass(frozen=True)
class VMAdded(Update):
    """A VM joined the fleet while it runs (its socket was found by a pattern): ``fleet.states[vm]`` is new."""

    address: str


@dataclass(frozen=True)
class VMRemoved(Update):
    """A VM left the fleet (its socket is gone): it is no longer in ``fleet.states``."""

    reason: str


@dataclass(frozen=True)
class AlertRaised(Update):
    """An ``[[alert]]`` of the inventory fired for ``vm`` (migtui.alerts): ``alert`` is the JSON its hook gets."""

    when: str
    summary: str
    alert: dict[str, Any]
