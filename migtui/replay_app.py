"""The dashboard on a recording: the same screens, fed by a ReplayFleet.

Everything the live dashboard shows comes from the recorded samples, events
and states; the keys added here move the replay's clock. The fleet's gate is
read-only, so the controls are hidden, and the editors (which read a live
VM) are not offered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.binding import Binding

from migtui.app import MigtuiApp
from migtui.qmp.updates import Update
from migtui.record.reader import RecordedEntry
from migtui.record.replay import EntryReplayed, ReplayFleet
from migtui.screens.vm_controls import VMControls
from migtui.widgets.event_log import EventLog

MARKED_COMMANDS = {
    "migrate": "migrate", "migrate_cancel": "cancel", "migrate-start-postcopy": "postcopy",
    "migrate-set-parameters": "parameters", "migrate-set-capabilities": "capabilities",
}
"""Audit entries drawn as chart marks, as the live dashboard marks what it does."""


class ReplayControls(VMControls):
    """The controls are hidden (the gate is read-only), and so are the keys of what needs a live VM
    (the editor, the snapshots, reading again); the palette's way to them says why not."""

    live = False
    LIVE_ONLY = frozenset({"parameters", "snapshots", "refresh"})

    def allowed(self, name: str, vm: str | None) -> bool | None:
        return False if name in self.LIVE_ONLY else super().allowed(name, vm)

    def open_params(self, vm: str) -> None:
        self.stack.notify("A replay shows the recorded values (the Sample tab); there is no VM to edit.", timeout=4)

    def open_snapshots(self, vm: str) -> None:
        self.stack.notify("A replay has no VM to list snapshots of.", timeout=4)

    def refresh(self, vm: str) -> None:
        self.stack.notify("A replay shows what was recorded; there is nothing to read again.", timeout=3)


class ReplayApp(MigtuiApp):
    CONTROLS = ReplayControls
    BINDINGS = [
        Binding("space", "pause", "Pause", id="replay.pause", priority=True,
                tooltip="Pause or resume the replay"),
        Binding("full_stop", "step", "Step", id="replay.step", tooltip="Paused: on to the next sample"),
        Binding("left_square_bracket", "seek(-10)", "-10 s", id="replay.back", tooltip="Back 10 seconds"),
        Binding("right_square_bracket", "seek(10)", "+10 s", id="replay.forward", tooltip="On 10 seconds"),
        Binding("left_curly_bracket", "seek(-60)", "-1 min", id="replay.back-more", show=False,
                tooltip="Back a minute"),
        Binding("right_curly_bracket", "seek(60)", "+1 min", id="replay.forward-more", show=False,
                tooltip="On a minute"),
        Binding("minus", "speed(-1)", "Slower", id="replay.slower", tooltip="Half the replay speed"),
        Binding("plus", "speed(1)", "Faster", id="replay.faster", tooltip="Twice the replay speed"),
    ]

    fleet: ReplayFleet

    def __init__(self, fleet: ReplayFleet, *, name: str, theme: str | None = None,
                 open_vm: str | None = None) -> None:
        super().__init__(fleet, theme=theme, open_vm=open_vm)
        self.recording_name = name
        self._unsubscribe_marks: Callable[[], None] | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self._unsubscribe_marks = self.fleet.subscribe(self._entry_replayed)
        self.fleet.on_seek.append(self._after_seek)
        self._after_seek()
        self.set_interval(0.25, self._show_clock)
        self._show_clock()

    async def on_unmount(self) -> None:
        if self._unsubscribe_marks:
            self._unsubscribe_marks()
        await super().on_unmount()

    # -- the clock -----------------------------------------------------------

    def clock_text(self) -> str:
        fleet = self.fleet
        moment = datetime.fromtimestamp(fleet.position).strftime("%Y-%m-%d %H:%M:%S")
        mode = "following" if fleet.follow else f"x{fleet.speed:g}"
        state = " · paused" if fleet.paused else " · end" if fleet.ended else ""
        return f"replay {self.recording_name} · {moment} · {mode}{state}"

    def _show_clock(self) -> None:
        self.title = self.clock_text()

    def action_pause(self) -> None:
        self.fleet.set_paused(not self.fleet.paused)
        self._show_clock()

    def action_step(self) -> None:
        if self.fleet.step() is None:
            self.notify("The recording ends here.", timeout=2)
        self._show_clock()

    def action_seek(self, seconds: float) -> None:
        self.fleet.seek(self.fleet.position + seconds)
        self._show_clock()

    def action_speed(self, steps: int) -> None:
        self.fleet.faster(steps)
        self._show_clock()

    # -- marks and event logs after a jump ---------------------------------------

    def _entry_replayed(self, update: Update) -> None:
        if isinstance(update, EntryReplayed):
            self._mark(update.entry)
            self._alert(update.entry)

    def _alert(self, entry: RecordedEntry) -> None:
        """An alert the recorder fired shows as it did on the live dashboard (browser viewers see it)."""
        data = entry.data if isinstance(entry.data, dict) else {}
        if entry.kind == "alert":
            self.show_alert(entry.vm, str(data.get("when", "alert")), str(data.get("summary", "")))

    def _mark(self, entry: RecordedEntry, tell: bool = True) -> None:
        data = entry.data if isinstance(entry.data, dict) else {}
        label = MARKED_COMMANDS.get(str(data.get("command")))
        if entry.kind == "audit" and label and data.get("outcome") == "ok":
            self.marks.add(entry.vm, label, at=entry.wall)
            if tell:
                self.feed.marks_changed(entry.vm)

    def _after_seek(self) -> None:
        self.marks.clear()  # the same book: the screens showing it keep it
        for entry in self.fleet.recording.entries(kinds=["audit"], until=self.fleet.position):
            self._mark(entry, tell=False)
        for vm in self.fleet.states:
            self.feed.marks_changed(vm)
        for screen in self.screen_stack:
            for log in screen.query(EventLog):
                log.watch_filter_text()
