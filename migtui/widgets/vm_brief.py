"""Three lines under the fleet table about the highlighted VM: its link, its
migration and the outlook, with the first thing that would help."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from migtui.model.units import human_bytes, human_rate
from migtui.model.vm_state import VMState
from migtui.widgets.feed import EventArrived, FleetFeed, SampleArrived, StateUpdated
from migtui.screens.advice_keys import ADVICE_KEYS
from migtui.widgets.outlook import ending, outlook_of


class VMBrief(Static):
    """The highlighted VM in brief; follows :attr:`vm`."""

    DEFAULT_CSS = """
    VMBrief {
        height: 4;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    VMBrief.-bad { border-left: thick $error; }
    VMBrief.-good { border-left: thick $success; }
    """

    vm: reactive[str | None] = reactive(None)
    """Name of the VM to describe (None: nothing highlighted)."""

    def __init__(self, states: Mapping[str, VMState], feed: FleetFeed, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.states = states
        self.feed = feed

    def on_mount(self) -> None:
        self.feed.add(self)
        self.show()

    def on_unmount(self) -> None:
        self.feed.remove(self)

    def watch_vm(self) -> None:
        self.show()

    def on_sample_arrived(self, message: SampleArrived) -> None:
        if message.vm == self.vm and not message.stale(self.states[message.vm]):
            self.show()

    def on_state_updated(self, message: StateUpdated) -> None:
        if message.vm == self.vm:
            self.show()

    def on_event_arrived(self, message: EventArrived) -> None:
        if message.vm == self.vm and message.event.name == "MIGRATION":
            self.show()

    def show(self) -> None:
        state = self.states.get(self.vm) if self.vm else None
        self.set_class(False, "-bad", "-good")
        if state is None:
            self._lines("No VM highlighted." if self.states else "The inventory lists no VM.")
            return
        head = " · ".join(part for part in (state.name, state.group, state.version and f"QEMU {state.version}") if part)
        if state.link != "connected":
            self.set_class(state.link == "disconnected", "-bad")
            self._lines(f"{head} · link {state.link}", state.link_error or "waiting for QEMU to answer on QMP",
                        "Still listed: migtui reconnects on its own.")
            return
        head += f" · {state.run_state or '?'}"
        if state.busy:
            head += f" · busy: QMP silent for {state.busy_for:.0f} s"
        sample = state.latest
        if sample is None or sample.status == "none":
            self._lines(head, "No migration since migtui connected.")
            return
        head += f" · migration {sample.status}"
        if (story := ending(sample, state.parameters.get("downtime-limit"))) is not None:
            self._lines(head, story)
            return
        figures = ""
        if sample.info.ram and sample.active:
            figures = (f"pass {sample.passes} · left {human_bytes(sample.remaining)} · "
                       f"dirty {human_rate(sample.dirty_rate)} · sent {human_rate(sample.throughput)}")
        outlook = outlook_of(state.prediction(), state.tracker.stalled)
        actions = outlook.prediction.actions
        advice = [" · ".join(f"[{ADVICE_KEYS.get(a.name, '?')}] {a.short}" for a in actions)] if actions \
            else outlook.reasons[:1]
        self.set_class(outlook.tone == "bad", "-bad")
        self.set_class(outlook.tone == "good", "-good")
        self._lines(head, figures, (outlook.headline, "bold"), *advice)

    def _lines(self, *lines: str | tuple[str, str]) -> None:
        texts = [Text(*line) if isinstance(line, tuple) else Text(line) for line in lines]
        for text in texts:
            text.no_wrap, text.overflow = True, "ellipsis"
        self.update(Text("\n").join(texts), layout=False)  # a fixed height: no layout pass needed
