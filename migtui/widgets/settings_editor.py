"""One VM's parameters and capabilities as two generated forms, and what the user asks of them.

Given a :class:`~migtui.params.settings.VMSettings` (the values QEMU holds
and the specs of its QEMU) it builds a form for ``MigrateSetParameters`` and
one for the capabilities (switches), checks every edit with the VM's model,
and turns the edits into a request. It is rebuilt whenever new settings
arrive (after an apply, QEMU's values are what it shows).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Label, Static

from migtui.params.settings import VMSettings
from migtui.qapi.changes import SettingsRequest
from migtui.qapi.errors import FieldErrors
from migtui.qapi.fields import FieldKind, FieldSpec
from migtui.widgets.schema_form import SchemaForm


def capability_specs(settings: VMSettings) -> tuple[FieldSpec, ...]:
    """Each capability as a bool field, with its doc, since and features."""
    return tuple(FieldSpec(name=value.name, type="bool", kind=FieldKind.BOOL, optional=True, doc=value.doc,
                           since=value.since, features=value.features, source=value.source)
                 for value in settings.capability_values)


class SettingsEditor(VerticalScroll):
    """The parameter form and the capability switches of one VM."""

    DEFAULT_CSS = """
    SettingsEditor {
        height: 1fr;
    }
    SettingsEditor .-section {
        width: 1fr;
        text-style: bold;
        background: $boost;
        color: $text-primary;
        padding: 0 1;
        margin-bottom: 1;
    }
    SettingsEditor .-loading {
        padding: 1 2;
        color: $text-muted;
    }
    """

    settings: reactive[VMSettings | None] = reactive(None, recompose=True)
    """What the VM holds, with its specs; ``None`` while it is being read."""
    show_deprecated: reactive[bool] = reactive(False)
    """Whether deprecated members and capabilities are shown."""
    read_only: reactive[bool] = reactive(False, recompose=True)
    """Values are shown, nothing can be edited."""

    def compose(self) -> ComposeResult:
        settings = self.settings
        if settings is None:
            yield Static("Reading the VM's parameters and schema ...", classes="-loading")
            return
        yield Label(f"Parameters (migrate-set-parameters, {len(settings.specs)} members)", classes="-section")
        yield SchemaForm(settings.specs, settings.parameters, self.check_parameter, read_only=self.read_only,
                         id="parameters-form").data_bind(SettingsEditor.show_deprecated)
        yield Label(f"Capabilities (migrate-set-capabilities, {len(settings.capability_values)})",
                    classes="-section")
        yield SchemaForm(capability_specs(settings), dict(settings.capabilities), _any_switch,
                         read_only=self.read_only, id="capabilities-form").data_bind(SettingsEditor.show_deprecated)

    @property
    def parameters_form(self) -> SchemaForm:
        return self.query_one("#parameters-form", SchemaForm)

    @property
    def capabilities_form(self) -> SchemaForm:
        return self.query_one("#capabilities-form", SchemaForm)

    def check_parameter(self, name: str, value: Any) -> str | None:
        """The model's objection to ``value`` for ``name``, or ``None``."""
        if self.settings is None:
            return None
        try:
            self.settings.request({name: value})
        except FieldErrors as refused:
            return refused.errors.get(name) or "; ".join(refused.errors.values())
        return None

    def edits(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """What the user changed: (parameters, capabilities)."""
        if self.settings is None:
            return {}, {}
        return self.parameters_form.edited(), self.capabilities_form.edited()

    def request(self) -> SettingsRequest:
        """The edits, validated; :class:`FieldErrors` (also shown at the fields) if any is invalid."""
        if self.settings is None:
            return SettingsRequest()
        parameters, capabilities = self.edits()
        try:
            return self.settings.request(parameters, capabilities)
        except FieldErrors as invalid:
            for name, message in invalid.errors.items():
                row = self.parameters_form.row(name)
                if row is not None:
                    row.show(message)
            raise

    def fill(self, parameters: dict[str, Any], capabilities: dict[str, Any]) -> list[str]:
        """Put a preset's values into the forms; returns the names this VM's QEMU has no field for."""
        if self.settings is None:
            return [*parameters, *capabilities]
        self.parameters_form.fill(parameters)
        self.capabilities_form.fill(capabilities)
        known = {row.spec.name for row in self.parameters_form.rows} | {
            row.spec.name for row in self.capabilities_form.rows}
        if any(self._deprecated(name) for name in [*parameters, *capabilities]):
            self.show_deprecated = True  # a preset's value is never hidden
        return [name for name in [*parameters, *capabilities] if name not in known]

    def show_refusal(self, name: str | None, message: str, capabilities: list[str]) -> bool:
        """QEMU's words at the field they name, else at the capabilities that were changing.

        Returns False when no field could take them (the screen shows them).
        """
        if name is not None:
            return self.parameters_form.show_refusal(name, message) or self.capabilities_form.show_refusal(
                name, message)
        shown = [self.capabilities_form.show_refusal(capability, message) for capability in capabilities]
        return any(shown)

    def _deprecated(self, name: str) -> bool:
        row = self.parameters_form.row(name) or self.capabilities_form.row(name)
        return row is not None and row.spec.deprecated


def _any_switch(name: str, value: Any) -> str | None:
    return None  # a switch is always a valid capability state; QEMU judges combinations
