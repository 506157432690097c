"""Three lines under the fleet table about the highlighted VM: its link, its
migration and the outlook, with the first thing that would help.

The brief is drawn when the VM highlighted changes and whenever the fleet
table brings that VM's row up to date (the fleet screen then calls
:meth:`VMBrief.show`): the row and the brief show the same sample, in the
same frame, and the brief makes no frame of its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from migtui.model.link import LinkState
from migtui.model.sample import Sample
from migtui.model.vm_state import VMState
from migtui.ops.actions import advice_mark
from migtui.units import human_bytes, human_rate
from migtui.widgets.figures import clock
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
    _lines_tone: str | None = None
    """The tone of the lines being shown next ('bad', 'good' or None): the border's colour."""
    _shown: tuple[object, ...] | None = None
    """The tone and lines on screen (drawn again only when they change)."""

    def __init__(self, states: Mapping[str, VMState], *, advice_keys: bool = True, live: bool = True,
                 id: str | None = None) -> None:
        """``advice_keys``: show the key that takes each piece of advice (off when read-only: no key can);
        ``live``: the VMs are reached now (False: a recording, which reconnects nothing)."""
        super().__init__(id=id)
        self.states = states
        self.advice_keys = advice_keys
        self.live = live

    def on_mount(self) -> None:
        self.show()

    def watch_vm(self) -> None:
        self.show()

    def show(self) -> None:
        """Describe the VM's state as it is now."""
        state = self.states.get(self.vm) if self.vm else None
        if state is None:
            self._lines("No VM highlighted." if self.states else "The inventory lists no VM.")
            return
        head = " · ".join(part for part in (state.name, state.host and f"on {state.host}", state.group,
                                            state.version and f"QEMU {state.version}") if part)
        sample = state.latest
        job_figures = sample is not None and sample.snapshot
        if job_figures:
            sample = None  # a snapshot job's figures (it runs on QEMU's migration code) are no migration's
        if state.link is not LinkState.CONNECTED:
            self._lines_tone = "bad" if state.link is LinkState.DISCONNECTED else None
            seen = (f"Last seen at {clock(sample.wall)}: {_seen(sample)}; no prediction."
                    if sample is not None and sample.status != "none" else "")
            self._lines(f"{head} · link {state.link}", state.link_error or "waiting for QEMU to answer on QMP",
                        seen, "Still listed: migtui reconnects on its own." if self.live else
                        "Recorded while migtui could not reach it; the replay shows when its link came back.")
            return
        head += f" · {state.run_state or '?'}"
        if state.busy:
            head += f" · busy: no answer for {state.busy_for:.0f} s"
        if state.poll_error:
            self._lines_tone = "bad"
            seen = f"Last good sample at {clock(sample.wall)}: {_seen(sample)}." if sample else ""
            self._lines(head, f"Poll failed: {state.poll_error}", seen, "migtui keeps polling.")
            return
        if sample is None or sample.status == "none":
            self._lines(head, "No migration now: QEMU's migration figures are a snapshot job's." if job_figures
                        else "No migration since migtui connected.")
            return
        head += f" · migration {sample.status}"
        if (story := ending(sample, state.limit_at_end())) is not None:
            self._lines(head, story)
            return
        if state.incoming:  # as its row's outlook says: the source's figures are the migration's
            self._lines(head, "Receiving a migration: its source's row has the prediction and the advice.")
            return
        figures = _figures(sample)
        outlook = outlook_of(state.prediction())
        actions = outlook.prediction.actions
        advice = [" · ".join(f"{advice_mark(a.name, self.advice_keys)} {a.short}" for a in actions)] if actions \
            else outlook.reasons[:1]
        self._lines_tone = outlook.tone
        self._lines(head, figures, (outlook.headline, "bold"), *advice)

    def _lines(self, *lines: str | tuple[str, str]) -> None:
        # The border tells the tone; its classes change only when the tone does: a class
        # set and cleared again on every sample restyles (and lays out) the panel each time.
        tone, self._lines_tone = self._lines_tone, None
        if (tone, lines) == self._shown:
            return  # a frame with nothing new in it costs as much as any other
        self._shown = (tone, lines)
        self.set_class(tone == "bad", "-bad")
        self.set_class(tone == "good", "-good")
        texts = [Text(*line) if isinstance(line, tuple) else Text(line) for line in lines]
        for text in texts:
            text.no_wrap, text.overflow = True, "ellipsis"
        self.update(Text("\n").join(texts), layout=False)  # a fixed height: no layout pass needed


def _figures(sample: Sample) -> str:
    """The running migration's figures in a line ('' when none runs)."""
    if not (sample.info.ram and sample.active):
        return ""
    return (f"pass {sample.passes} · left {human_bytes(sample.remaining)} · "
            f"dirty {human_rate(sample.dirty_rate)} · sent {human_rate(sample.throughput)}")


def _seen(sample: Sample) -> str:
    return " · ".join(part for part in (sample.status, _figures(sample)) if part)
