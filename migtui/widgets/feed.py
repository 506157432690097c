"""How the fleet's updates reach widgets: messages that coalesce.

The fleet calls :class:`FleetFeed` (a subscriber) from its poll loops. The
feed turns each update into a Textual message and posts it to every widget
or screen that registered for that VM. Posting never waits: a slow screen
gets a queue, and the messages keep the queue short in two ways:

* ``can_replace``: a newer sample for VM "a" replaces the queued one for "a"
  when they are next to each other in the queue;
* the latest sample wins: a handler that receives a sample which is no
  longer its VM's latest skips it (:meth:`SampleArrived.stale`), because the
  newer one is already queued behind it.

Events are never dropped for a viewer that shows them: every QMP event is a
line of the event log.

A viewer of the whole fleet that only notes samples and repaints on its own
clock (the fleet table) is handed each sample by a plain call instead
(``add(..., on_sample=...)``): fifty VMs at 2 Hz are a hundred messages a
second, and Textual's dispatch of each cost more than noting the sample.
The fleet publishes on the app's own event loop, so the call is made there.
Such a viewer also names the events it shows (``events=``): a migrating
fleet sends dozens of QMP events a second (a MIGRATION_PASS per pass of
every VM), and the fleet table shows only MIGRATION.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump

from migtui.model.events import QMPEvent
from migtui.model.sample import Sample
from migtui.qmp.updates import Aspect, EventReceived, SampleTaken, Update, VMAdded, VMChanged, VMRemoved

if TYPE_CHECKING:
    from migtui.model.vm_state import VMState


class SampleArrived(Message, bubble=False):
    """A new ``query-migrate`` sample of ``vm``."""

    def __init__(self, vm: str, sample: Sample) -> None:
        super().__init__()
        self.vm = vm
        self.sample = sample

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SampleArrived) and message.vm == self.vm

    def stale(self, state: VMState) -> bool:
        """True when a newer sample of this VM exists (and its message is queued)."""
        return state.latest is not self.sample


class StateUpdated(Message, bubble=False):
    """Some aspect of ``vm``'s state changed (its link, run state, settings, jobs ...)."""

    def __init__(self, vm: str, aspect: Aspect) -> None:
        super().__init__()
        self.vm = vm
        self.aspect = aspect

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StateUpdated) and (message.vm, message.aspect) == (self.vm, self.aspect)


class EventArrived(Message, bubble=False):
    """A QMP event of ``vm`` (never coalesced)."""

    def __init__(self, vm: str, event: QMPEvent) -> None:
        super().__init__()
        self.vm = vm
        self.event = event


class MarksChanged(Message, bubble=False):
    """The chart marks of ``vm`` changed."""

    def __init__(self, vm: str) -> None:
        super().__init__()
        self.vm = vm

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, MarksChanged) and message.vm == self.vm


class MembershipChanged(Message, bubble=False):
    """A VM joined the fleet or left it while it runs (a pattern's socket came or went)."""

    def __init__(self, vm: str, joined: bool) -> None:
        super().__init__()
        self.vm = vm
        self.joined = joined


def message_for(update: Update) -> Message | None:
    if isinstance(update, SampleTaken):
        return SampleArrived(update.vm, update.sample)
    if isinstance(update, VMChanged):
        return StateUpdated(update.vm, update.aspect)
    if isinstance(update, EventReceived):
        return EventArrived(update.vm, update.event)
    if isinstance(update, (VMAdded, VMRemoved)):
        return MembershipChanged(update.vm, isinstance(update, VMAdded))
    return None


class FleetFeed:
    """A fleet subscriber that posts messages to the viewers of each VM.

    Viewers register with :meth:`add` (for one VM, or ``None`` for all) when
    they mount and leave with :meth:`remove` when they unmount. Each viewer
    gets its own message object: a message carries per-recipient state.
    """

    def __init__(self) -> None:
        self._viewers: dict[MessagePump, str | None] = {}
        self._sample_takers: dict[MessagePump, Callable[[str, Sample], None]] = {}
        self._events_shown: dict[MessagePump, frozenset[str]] = {}

    def add(self, viewer: MessagePump, vm: str | None = None, *,
            on_sample: Callable[[str, Sample], None] | None = None, events: frozenset[str] | None = None) -> None:
        """``on_sample(vm, sample)``: called with each sample instead of a :class:`SampleArrived`;
        ``events``: the names of the QMP events the viewer is sent (None: every one)."""
        self._viewers[viewer] = vm
        if on_sample is not None:
            self._sample_takers[viewer] = on_sample
        if events is not None:
            self._events_shown[viewer] = events

    def remove(self, viewer: MessagePump) -> None:
        self._viewers.pop(viewer, None)
        self._sample_takers.pop(viewer, None)
        self._events_shown.pop(viewer, None)

    def __call__(self, update: Update) -> None:
        for viewer, vm in list(self._viewers.items()):
            if vm is None or vm == update.vm:
                if isinstance(update, SampleTaken) and (take := self._sample_takers.get(viewer)) is not None:
                    take(update.vm, update.sample)
                    continue
                shown = self._events_shown.get(viewer)
                if shown is not None and isinstance(update, EventReceived) and update.event.name not in shown:
                    continue
                message = message_for(update)
                if message is not None:
                    viewer.post_message(message)

    def marks_changed(self, vm: str) -> None:
        for viewer, wanted in list(self._viewers.items()):
            if wanted is None or wanted == vm:
                viewer.post_message(MarksChanged(vm))
