"""Apply on the parameters screen: preview, send through the fleet, QEMU's answer at the members.

The changes are previewed (old → new) and sent with
:meth:`~migtui.qmp.fleet.Fleet.change`, which returns once the VM was read
again: the screen then shows what QEMU holds. A refusal is shown in QEMU's
words at the members it names (or at the capabilities that were changing),
and the user's edits stay. Bulk apply sends the same values to other VMs.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import work

from migtui.errors import MigtuiError
from migtui.ops.settings import outcome as settings_outcome
from migtui.params.apply import Applied, SettingsRefused, send_changes
from migtui.params.bulk import BulkResult
from migtui.qapi.changes import ChangeSet
from migtui.screens.apply_preview import ApplyPreview
from migtui.screens.bulk_apply import BulkApplyDialog
from migtui.screens.params_parts import ParamsParts


class ApplyActions(ParamsParts):
    """Mixed into :class:`~migtui.screens.params.ParamsScreen`: Ctrl+S and Ctrl+B, and why they cannot act."""

    def action_apply(self) -> None:
        verdict = self.verdict
        if self.read_only or self.draft is None or verdict is None:
            return
        if verdict.errors:
            names = ", ".join(self.draft.member(key).name for key in verdict.errors)
            self.notify(f"Fix the members marked ✗ first ({names}).", severity="error")
            return
        if not verdict.changes:
            return
        sample = self.state.latest
        changes = verdict.changes

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.apply(changes)

        consequence = self.controls.session(self.vm).consequence([change.name for change in changes.changes])
        self.app.push_screen(ApplyPreview(self.vm, changes, migrating=sample is not None and sample.active,
                                          consequence=consequence), answered)

    @work(exclusive=True, exit_on_error=False, group="params-apply", name="Applying the parameters")
    async def apply(self, changes: ChangeSet) -> None:
        assert self.draft is not None
        settings = self.draft.settings
        self._status(f"Applying {len(changes)} change(s) ...", "-pending")
        try:
            at = await self.controls.change_now(self.vm, lambda session: send_changes(session, settings, changes))
        except SettingsRefused as refused:
            self._refused(refused, changes)
            return
        except MigtuiError as error:
            self._status(str(error), "-refused")
            return
        state = self.state
        applied = Applied(self.vm, changes.changes, at,
                          settings.with_values(dict(state.parameters), dict(state.capabilities)))
        self.controls.mark(self.vm, applied.text, applied.at)
        self._applied(changes.parameters, changes.capabilities)
        self.notify(settings_outcome(applied), title="Applied",
                    severity="warning" if applied.not_held else "information", markup=False)

    def _refused(self, refused: SettingsRefused, changes: ChangeSet) -> None:
        assert self.draft is not None
        named = [member for name in [refused.field] if name
                 for member in (self.draft.find(name, capability=False), self.draft.find(name, capability=True))
                 if member is not None and member.key in self.draft.edits]
        if not named and refused.command == "migrate-set-capabilities":
            named = [member for change in changes.changes if change.capability
                     if (member := self.draft.find(change.name, capability=True)) is not None]
        for member in named:
            self.draft.refused[member.key] = refused.desc
        self._judge()
        self._status(f"QEMU refused ({refused.command}): {refused.desc}. Nothing was changed.", "-refused")

    def _applied(self, parameters: Iterable[str], capabilities: Iterable[str]) -> None:
        """The sent members are no edits any more; the rest stay, against QEMU's new values."""
        assert self.draft is not None
        for names, capability in ((parameters, False), (capabilities, True)):
            for name in names:
                if (member := self.draft.find(name, capability=capability)) is not None:
                    self.draft.drop(member)
        self._take_values()
        self._judge(select=True)

    def action_explain(self) -> None:
        """Why Ctrl+S and Ctrl+B send nothing now."""
        verdict = self.verdict
        if self.read_only:
            why = "migtui runs read-only: the values are shown, nothing is applied."
        elif verdict is None:
            why = "The form is still being read."
        elif verdict.errors:
            why = f"{len(verdict.errors)} value{'s' if len(verdict.errors) != 1 else ''} marked ✗ to fix first."
        else:
            why = "Nothing to apply: no edit changes what the VM holds."
        self.notify(why, severity="warning", markup=False)

    def action_bulk(self) -> None:
        verdict = self.verdict
        if self.read_only or self.draft is None or verdict is None or verdict.errors or not verdict.request:
            return
        request = verdict.request

        def done(results: dict[str, BulkResult] | None) -> None:
            mine = (results or {}).get(self.vm)
            if mine is not None and mine.ok and self.draft is not None:
                self._applied(request.parameters, request.capabilities)
            self.action_find()  # back where typing goes: the find box (the focus was left in the dialog)

        self.app.push_screen(BulkApplyDialog(self.draft.settings, request, self.controls), done)
