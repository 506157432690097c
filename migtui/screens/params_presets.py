"""Presets on the parameters screen: fill the edits from one, save the edits (or all values) as one."""

from __future__ import annotations

from typing import Any

from migtui.errors import MigtuiError
from migtui.params.presets import Preset, load_preset, save_preset
from migtui.screens.params_parts import ParamsParts
from migtui.screens.preset_dialogs import LoadPresetDialog, SavePresetDialog


class PresetActions(ParamsParts):
    """Mixed into :class:`~migtui.screens.params.ParamsScreen`: Ctrl+O and Ctrl+G."""

    def action_load_preset(self) -> None:
        if self.read_only:
            return

        def chosen(name: str | None) -> None:
            if not name or self.draft is None:
                return
            try:
                preset = load_preset(name)
            except MigtuiError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            unknown = self.fill(preset.parameters, preset.capabilities)
            if unknown:
                self.notify(f"Preset {name!r}: {self.vm}'s QEMU has no {', '.join(unknown)}: left out.",
                            severity="warning", markup=False)

        self.app.push_screen(LoadPresetDialog(), chosen)

    def fill(self, parameters: dict[str, Any], capabilities: dict[str, Any]) -> list[str]:
        """Take a preset's values as edits; returns the names this VM's QEMU has no member for."""
        assert self.draft is not None
        unknown = []
        for values, capability in ((parameters, False), (capabilities, True)):
            for name, value in values.items():
                member = self.draft.find(name, capability=capability)
                if member is None:
                    unknown.append(name)
                    continue
                self.draft.edit(member, value)
                self.show_deprecated |= member.spec.deprecated  # a preset's value is never hidden
        self._judge(select=True)
        return unknown

    def action_save_preset(self) -> None:
        if self.draft is None or self.verdict is None:
            return
        settings, request = self.draft.settings, self.verdict.request
        if self.verdict.errors:
            self.notify("Fix the members marked ✗ first.", severity="error")
            return
        if request:
            values: tuple[dict[str, Any], dict[str, bool]] = (request.parameters, request.capabilities)
            edited = len(request.parameters) + len(request.capabilities)
            what = f"Saves the {edited} edited value{'s' if edited != 1 else ''} (not yet applied)."
        else:
            values = (settings.settable_parameters, dict(settings.capabilities))
            what = f"Saves every parameter and capability {self.vm} holds now."

        def named(name: str | None) -> None:
            if not name:
                return
            try:
                path = save_preset(Preset(name, *values), comment=f"saved from {self.vm}, QEMU {settings.qemu}")
            except MigtuiError as error:
                self.controls.stack.show_error(error, "Saving the preset")
                return
            self.notify(f"Preset {name!r} saved to {path}.", markup=False)

        self.app.push_screen(SavePresetDialog(what), named)
