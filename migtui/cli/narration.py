"""What migtui says of each new sample of a VM, for ``watch`` and ``migrate --wait`` alike.

The sample's own line; once per migration, that it stalls; when its stream
stops moving and when it moves again; and the advice whenever its verdict or
an advised value changes.
"""

from __future__ import annotations

from collections.abc import Callable

from migtui.cli.lines import AdviceChanges, advice_line, notice_line, sample_line
from migtui.model.convergence import NO_PROGRESS_AFTER
from migtui.model.sample import Sample
from migtui.model.status import MigrationStatus
from migtui.model.vm_state import VMState


class Narration:
    def __init__(self, as_json: bool, out: Callable[[str], None]) -> None:
        self.as_json = as_json
        self.out = out
        self.stall_told: set[tuple[str, int]] = set()
        self.frozen_told: set[str] = set()
        self.advice = AdviceChanges()
        self.idle_told: dict[str, str] = {}
        """Per VM, the text of the last line printed while no migration ran (without its clock)."""

    def anew(self, vm: str) -> None:
        """``vm`` came back (its link, or found again): its next idle line is told even if it says
        what the last one said, so that what it does after the change shows."""
        self.idle_told.pop(vm, None)

    def __call__(self, state: VMState, sample: Sample) -> None:
        self._tell_sample(sample)
        self._tell_stall(state)
        self._tell_frozen(state, sample.at)
        prediction = state.prediction()
        if self.advice.changed(state.name, prediction):
            self.out(advice_line(state.name, prediction, self.as_json))

    def _tell_sample(self, sample: Sample) -> None:
        """Every sample in JSON (consumers count on it); in text, an idle VM's line only when it changes:
        ``vm1 none`` every second buries what happens elsewhere."""
        line = sample_line(sample, self.as_json)
        if not self.as_json:
            if sample.active:
                self.idle_told.pop(sample.vm, None)
            else:
                told = line.split("  ", 1)[-1]  # the same words at another time say nothing new
                if self.idle_told.get(sample.vm) == told:
                    return
                self.idle_told[sample.vm] = told
        self.out(line)

    def _tell_frozen(self, state: VMState, at: float) -> None:
        vm = state.name
        frozen = state.tracker.frozen_for(at)
        if frozen >= NO_PROGRESS_AFTER and vm not in self.frozen_told:
            self.frozen_told.add(vm)
            latest = state.latest
            if latest is not None and latest.status == MigrationStatus.POSTCOPY_ACTIVE:
                why = ("in postcopy (the stream is not moving: link down? the guest on the destination waits "
                       "for its memory)")
            else:
                why = "while active (the migration stream is not moving: link down?)"
            self.out(notice_line(vm, "no-progress", f"nothing sent for {frozen:.0f} s {why}", self.as_json))
        elif frozen == 0 and vm in self.frozen_told:
            self.frozen_told.discard(vm)
            self.out(notice_line(vm, "no-progress", "the migration stream moves again", self.as_json))

    def _tell_stall(self, state: VMState) -> None:
        tracker = state.tracker
        key = (state.name, tracker.migration_count)
        if tracker.stalled and key not in self.stall_told:
            self.stall_told.add(key)
            prediction = state.prediction()
            self.out(notice_line(state.name, "stall",
                                 f"not converging: {'; '.join(prediction.reasons) or prediction.summary}",
                                 self.as_json, actions=[action.text for action in prediction.actions]))
