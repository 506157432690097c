"""What the fleet tells its subscribers (the dashboard, ``migtui watch``)."""

from __future__ import annotations

from dataclasses import dataclass

from migtui.model.events import QMPEvent
from migtui.model.sample import Sample


@dataclass(frozen=True)
class Update:
    vm: str


@dataclass(frozen=True)
class VMChanged(Update):
    """Something of the VM's state changed: read it from ``fleet.states[vm]``."""

    aspect: str
    """'link', 'run-state', 'busy', 'poll-error', 'settings' or 'jobs'."""


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
