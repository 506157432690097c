"""The parameters screen: one VM's migration parameters and capabilities, edited and applied.

A list of the members of the VM's QEMU (from its schema) that filters as
you type, one editor for the selected member, and the pending changes
(old → new) beside it. The values are those the fleet's poller keeps
(``fleet.states[vm]``), read at every poll while the screen is open, so a
change made by another tool shows here. Edits are checked as they are
typed; Apply is refused while one is invalid, previews the changes, sends
only those through the fleet (which reads the VM again before it returns),
and shows QEMU's refusals in its words at the member they name. Every apply
leaves a mark on the VM's charts. Esc asks before it drops edits. In
read-only mode the values are shown and there is no Apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, OptionList, Static

from migtui.errors import MigtuiError
from migtui.params.draft import Draft, Member, Verdict
from migtui.params.forms import VMForms, forms_of, known_forms
from migtui.params.settings import VMSettings
from migtui.qmp.updates import Aspect
from migtui.screens.confirm import ConfirmDialog
from migtui.screens.controls_api import Controls
from migtui.screens.params_apply import ApplyActions
from migtui.screens.params_presets import PresetActions
from migtui.screens.worker_errors import ShowsWorkerErrors
from migtui.widgets.feed import StateUpdated
from migtui.widgets.member_list import MemberFilter, MemberList
from migtui.widgets.member_pane import MemberPane
from migtui.widgets.pending_changes import PendingChanges, problems_of, unsent

if TYPE_CHECKING:
    from migtui.model.vm_state import VMState
    from migtui.widgets.feed import FleetFeed

MUTATING = ("apply", "bulk", "load_preset")


class ParamsScreen(ApplyActions, PresetActions, ShowsWorkerErrors, Screen[None]):
    """Find a member, edit it, see what Apply will send; Escape goes back."""

    DEFAULT_CSS = """
    ParamsScreen #params-title {
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    ParamsScreen #params-body {
        height: 1fr;
    }
    ParamsScreen #params-left {
        width: 42%;
        max-width: 52;
        border-right: solid $primary 50%;
    }
    ParamsScreen #params-find {
        height: 1;
        margin-bottom: 1;
    }
    ParamsScreen #params-find > Label {
        width: auto;
        padding: 0 1;
        color: $text-accent;
    }
    ParamsScreen #params-status {
        padding: 0 1;
        height: auto;
        max-height: 4;
        color: $text-muted;
    }
    ParamsScreen #params-status.-invalid, ParamsScreen #params-status.-refused {
        color: $text-error;
    }
    ParamsScreen #params-status.-pending {
        color: $text-accent;
    }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="params.back", tooltip="Back (asks first when edits are not applied)"),
        Binding("ctrl+f", "find", "Find", id="params.find", tooltip="Type to filter the members by name and doc"),
        Binding("ctrl+s", "apply", "Apply", id="params.apply",
                tooltip="Preview the changes (old → new), then send only those to QEMU"),
        Binding("ctrl+z", "undo", "Undo", id="params.undo", tooltip="Put back QEMU's value of this member"),
        Binding("ctrl+b", "bulk", "Bulk", id="params.bulk",
                tooltip="Apply the same changes to several VMs: old → new for each, then a result for each"),
        Binding("ctrl+o", "load_preset", "Load", id="params.load-preset",
                tooltip="Fill the edits from a saved preset (nothing is sent until Apply)"),
        Binding("ctrl+g", "save_preset", "Save", id="params.save-preset",
                tooltip="Save the edits (or, without edits, everything the VM holds) as a preset"),
        # Off the footer (on the help screen): at 80 columns the footer then holds ? Help and q Quit.
        Binding("ctrl+t", "toggle_deprecated", "Deprecated", id="params.deprecated", show=False,
                tooltip="Show or hide deprecated parameters and capabilities"),
        Binding("ctrl+r", "reload", "Reload", id="params.reload", show=False,
                tooltip="Read the VM's schema and values again (drops edits)"),
        # Tried when Apply or Bulk cannot act now (Textual takes the next binding of the key): says why.
        Binding("ctrl+s", "explain", show=False, system=True),
        Binding("ctrl+b", "explain", show=False, system=True),
    ]

    def __init__(self, state: VMState, feed: FleetFeed, controls: Controls) -> None:
        super().__init__()
        self.state = state
        self.vm = state.name
        self.feed = feed
        self.controls = controls
        self.draft: Draft | None = None
        """The edits and what QEMU holds (None while the schema is read)."""
        self.verdict: Verdict | None = None
        self.read_only = False
        self.show_deprecated = False
        self._forms: VMForms | None = None
        self._unwatch: Callable[[], None] = lambda: None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.vm, id="params-title")
        with Horizontal(id="params-body"):
            with Vertical(id="params-left"):
                with Horizontal(id="params-find"):
                    yield Label("Find")
                    yield MemberFilter(placeholder="a name or a word of the doc", id="params-filter", compact=True)
                yield MemberList(id="params-members")
            with Vertical(id="params-right"):
                yield MemberPane(id="params-member")
                yield PendingChanges(id="params-pending")
        yield Static("", id="params-status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.read_only = self.controls.read_only
        self.sub_title = f"{self.vm} · parameters"
        self.query_one(MemberFilter).focus()
        self.feed.add(self, self.vm)
        self._unwatch = self.controls.watch_settings(self.vm)
        self.load()

    def on_unmount(self) -> None:
        self.feed.remove(self)
        self._unwatch()

    # -- reading ------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="params-read", name="Reading the parameters")
    async def load(self) -> None:
        self.draft = self.verdict = None
        self._status("", "")
        session = self.controls.session(self.vm)
        # The bundled files of the VM's release first (no wait), then its own schema merged in.
        self._forms = known_forms(session)
        if self._forms is not None:
            self._take_values()
            # Reading the schema takes the loop for a while: let the values be drawn first.
            if self.pane.mounting is not None:
                await self.pane.mounting
            drawn = asyncio.Event()
            self.call_after_refresh(drawn.set)
            await drawn.wait()
        try:
            self._forms = await forms_of(session)
        except MigtuiError as error:
            self._status(f"Cannot read {self.vm}'s schema: {error}", "-refused")
            return
        self._take_values()

    def on_state_updated(self, message: StateUpdated) -> None:
        if message.aspect is Aspect.SETTINGS:
            self._take_values()

    def _take_values(self) -> None:
        """Show what the poller read last; the edits stay, judged against it."""
        state = self.state
        if self._forms is None or not state.parameters:
            if self._forms is not None:
                self._status(f"Waiting for {self.vm}'s values ...", "")
            return
        settings = VMSettings(self.vm, self._forms, dict(state.parameters), dict(state.capabilities))
        draft = self.draft
        if draft is None or (draft.settings.forms is not self._forms and not draft.same_members(settings)):
            self.draft = Draft(settings)
            if draft is not None:  # the VM's own schema has other members than its release's files
                self.draft.edits.update({key: value for key, value in draft.edits.items() if self.draft.has(key)})
            self.pane.forget({member.key for member in self.draft.members})
            self._title(settings)
            self._judge(select=True)
            return
        other_schema = draft.settings.forms is not self._forms
        moved = draft.take(settings)
        if other_schema:
            self._title(settings)
        elif not moved:
            return
        self.pane.forget(moved)
        current = self.selected
        self._judge(select=current is not None and current.key in moved and current.key not in draft.edits)

    def _title(self, settings: VMSettings) -> None:
        note = " · read-only: values are shown, nothing can be applied" if self.read_only else ""
        if self.controls.session(self.vm).settable is not None:
            note += " · what libvirt sets"
        version = self.state.version or settings.qemu
        self.query_one("#params-title", Static).update(
            f"{self.vm} · QEMU {version} · {settings.forms.schema.source}{note}")

    # -- the three panes ------------------------------------------------------

    @property
    def pane(self) -> MemberPane:
        return self.query_one(MemberPane)

    @property
    def members(self) -> MemberList:
        return self.query_one(MemberList)

    @property
    def selected(self) -> Member | None:
        key = self.members.highlighted_key
        return self.draft.member(key) if self.draft is not None and key else None

    def _judge(self, *, select: bool = False) -> None:
        """Judge the edits and show the verdict everywhere; ``select``: show the selected member's box anew."""
        draft = self.draft
        assert draft is not None
        verdict = self.verdict = draft.judge()
        before = self.selected
        self.members.show(draft, verdict, self.query_one(MemberFilter).value, self.show_deprecated)
        self.query_one(PendingChanges).show(draft, verdict)
        if select or self.selected != before:
            self._show_selected()
        elif before is not None:
            self.pane.show_error(self._error_of(before))
        self._say(verdict)
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        # Only when a key's state changes: the footer redraws every key each time.
        keys = tuple(self.check_action(action, ()) for action in ("apply", "bulk", "undo", "load_preset"))
        if keys != self._keys:
            self._keys = keys
            self.refresh_bindings()

    _keys: tuple[bool | None, ...] = ()

    def _show_selected(self) -> None:
        if self.draft is not None:
            member = self.selected
            self.pane.show(self.draft, member, self._error_of(member) if member else "", read_only=self.read_only)

    def _error_of(self, member: Member) -> str:
        assert self.draft is not None and self.verdict is not None
        if member.key in self.draft.refused:
            return f"QEMU refused: {self.draft.refused[member.key]}"
        error = self.verdict.errors.get(member.key)
        return f"✗ {error}" if error else ""

    def _say(self, verdict: Verdict) -> None:
        if verdict.errors:
            names = ", ".join(self.draft.member(key).name for key in verdict.errors) if self.draft else ""
            self._status(f"{len(verdict.errors)} invalid: {names}. Apply is refused until they are fixed.",
                         "-invalid")
        elif verdict.changes:
            count = len(verdict.changes)
            names = ", ".join(change.name for change in verdict.changes.changes)
            self._status(f"{count} change{'s' if count != 1 else ''} ({names}): "
                         f"Ctrl+S shows old → new before anything is sent.", "-pending")
        elif self.draft is not None and self.draft.edits:
            self._status("No changes from what QEMU holds.", "")
        else:
            self._status("Type to find a member, Enter to edit it, Enter again for the next; Ctrl+S applies.",
                         "")

    def _status(self, text: str, kind: str) -> None:
        status = self.query_one("#params-status", Static)
        status.update(Text(text))
        for name in ("-invalid", "-refused", "-pending"):
            status.set_class(name == kind, name)

    # -- finding and editing --------------------------------------------------

    @on(Input.Changed, "#params-filter")
    def _filtered(self) -> None:
        if self.draft is not None and self.verdict is not None:
            self.members.show(self.draft, self.verdict, self.query_one(MemberFilter).value, self.show_deprecated)
            self._refresh_keys()

    @on(MemberFilter.Moved)
    def _move(self, event: MemberFilter.Moved) -> None:
        self.members.action_cursor_down() if event.step > 0 else self.members.action_cursor_up()

    @on(OptionList.OptionHighlighted, "#params-members")
    def _highlighted(self) -> None:
        box, member = self.pane.box, self.selected
        if box is None or member is None or box.member != member:
            self._show_selected()
            self._refresh_keys()

    @on(Input.Submitted, "#params-filter")
    @on(OptionList.OptionSelected, "#params-members")
    def _edit_selected(self) -> None:
        box = self.pane.box
        if box is not None:
            first = next((widget for widget in box.editor.query("*") if widget.focusable), None)
            if first is not None:
                first.focus()

    @on(MemberPane.Edited)
    def _edited(self, event: MemberPane.Edited) -> None:
        if self.draft is None or self.read_only:
            return
        if event.edit:
            self.draft.edit(event.member, event.value)
        else:
            self.draft.drop(event.member)
        self._judge()

    @on(Input.Submitted, "#params-member Input")
    def _entered(self) -> None:
        self.action_find()  # a value entered: on to the next member

    def action_find(self) -> None:
        found = self.query_one(MemberFilter)
        found.focus()
        found.select_all()  # what is typed next replaces the last search

    def action_undo(self) -> None:
        member = self.selected
        if self.draft is not None and member is not None and member.key in self.draft.edits:
            self.draft.drop(member)
            self._judge(select=True)

    # -- actions ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MUTATING and self.read_only:
            return False  # read-only: no apply control at all
        if action in ("apply", "bulk"):
            return (self.verdict is not None and not self.verdict.errors and bool(self.verdict.changes)) or None
        if action == "undo":
            return (self.draft is not None and self.selected is not None
                    and self.selected.key in self.draft.edits) or None
        if action in ("load_preset", "save_preset", "toggle_deprecated"):
            return self.draft is not None or None
        return True

    def action_back(self) -> None:
        # Leaving would cancel the apply worker with commands already sent to QEMU.
        if any(worker.group == "params-apply" and worker.is_running for worker in self.workers):
            self.notify("Waiting for QEMU to answer the apply first.", severity="warning")
            return
        # Counted from the verdict the pending panel shows: the question and the panel agree.
        draft, verdict = self.draft, self.verdict
        lost = unsent(draft, verdict) if draft is not None and verdict is not None else None
        if draft is None or verdict is None or lost is None:
            self.dismiss()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.dismiss()

        names = [change.name for change in verdict.changes.changes]
        names += [draft.member(key).name for key in problems_of(draft, verdict) if draft.member(key).name not in names]
        self.app.push_screen(ConfirmDialog(
            f"Drop {lost}?",
            f"Not applied to {self.vm}: {', '.join(names)}. Leaving drops {'it' if len(names) == 1 else 'them'} "
            "(nothing was sent).",
            yes="Drop and leave", no="Stay"), answered)

    def action_toggle_deprecated(self) -> None:
        self.show_deprecated = not self.show_deprecated
        if self.draft is None:
            return
        self._judge()
        deprecated = sum(member.spec.deprecated for member in self.draft.members)
        if not deprecated:
            self.notify(f"{self.vm}'s form has no deprecated member.", timeout=3)
        else:
            self.notify(f"{'Showing' if self.show_deprecated else 'Hiding'} {deprecated} deprecated "
                        f"member{'s' if deprecated != 1 else ''}.", timeout=3)

    def action_reload(self) -> None:
        self.load()
