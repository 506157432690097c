"""The generated forms for every bundled QEMU release and for a QEMU newer than all of them.

No VM needed: a form is built from a schema and the values a VM would
report. Each form must have exactly one field per member of
``MigrateSetParameters`` (and one switch per capability), of the editor
kind the member's type calls for.
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from migtui.params.forms import VMForms
from migtui.params.settings import VMSettings
from migtui.qapi import FieldKind, bundled_releases, live_schema, load_release
from migtui.qapi.schema import Schema
from migtui.widgets.choice_list_editor import ChoiceListEditor
from migtui.widgets.field_editors import (
    ChoiceEditor, StrListEditor, StrOrNullEditor, SwitchEditor, TextEditor,
)  # fmt: skip
from migtui.widgets.settings_editor import SettingsEditor
from migtui.widgets.struct_editors import StructEditor, StructListEditor
from test_qapi_introspect import SCHEMA_11, VERSION_11

EDITORS = {
    FieldKind.BOOL: SwitchEditor, FieldKind.INT: TextEditor, FieldKind.SIZE: TextEditor,
    FieldKind.NUMBER: TextEditor, FieldKind.STR: TextEditor, FieldKind.ENUM: ChoiceEditor,
    FieldKind.STR_OR_NULL: StrOrNullEditor, FieldKind.LIST_STR: StrListEditor, FieldKind.LIST_INT: TextEditor,
    FieldKind.LIST_ENUM: ChoiceListEditor, FieldKind.STRUCT: StructEditor, FieldKind.LIST_STRUCT: StructListEditor,
    FieldKind.ANY: TextEditor,
}  # fmt: skip


class EditorApp(App[None]):
    def __init__(self, settings: VMSettings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        yield SettingsEditor()

    def on_mount(self) -> None:
        self.query_one(SettingsEditor).settings = self.settings


async def built_form(schema: Schema, parameters: dict | None = None) -> tuple[list, list, list, list]:
    """(parameter rows, capability rows, hidden rows, rows shown after the toggle) of the form for ``schema``.

    The rows are read while the app runs: each has ``.badges_text`` and ``.value`` noted for later.
    """
    settings = VMSettings("vm", VMForms.from_schema(schema), parameters or {}, {})
    app = EditorApp(settings)
    async with app.run_test(size=(140, 50)) as pilot:
        editor = app.query_one(SettingsEditor)
        await pilot.pause()
        params, caps = editor.parameters_form.rows, editor.capabilities_form.rows
        for row in params + caps:
            row.badges_text = str(row.query_one(".-badges").render())
            row.value = row.editor.value
        hidden = [row.spec.name for row in params + caps if not row.display]
        editor.show_deprecated = True
        await pilot.pause()
        shown = [row.spec.name for row in params + caps if row.display]
        return params, caps, hidden, shown


@pytest.mark.parametrize("release", bundled_releases(), ids=str)
async def test_a_form_builds_for_every_bundled_release(release):
    schema = load_release(release)
    params, caps, hidden, shown = await built_form(schema)
    members = schema.members("migrate-set-parameters")
    assert [row.spec.name for row in params] == [member.name for member in members]
    for row in params:
        assert type(row.editor) is EDITORS[row.spec.kind], row.spec.name
        assert row.spec.kind is not FieldKind.ANY, f"{row.spec.name}: every member of a release is editable"
        assert row.has_class("-unstable") == row.spec.name.startswith("x-"), row.spec.name
    capabilities = schema.enum("MigrationCapability").values
    assert [row.spec.name for row in caps] == [value.name for value in capabilities]
    assert all(type(row.editor) is SwitchEditor for row in caps)
    deprecated = [row.spec.name for row in params + caps if row.spec.deprecated]
    assert hidden == deprecated
    assert len(shown) == len(params) + len(caps)


async def test_a_form_builds_for_a_qemu_newer_than_every_bundled_release():
    schema = live_schema(SCHEMA_11, VERSION_11, origin="VM future")
    params, caps, hidden, _ = await built_form(schema, {"downtime-limit": 300, "new-hosts": ["a", "b"]})
    rows = {row.spec.name: row for row in params}
    assert list(rows) == [m.name for m in schema.members("migrate-set-parameters")]
    assert type(rows["new-hosts"].editor) is StrListEditor and rows["new-hosts"].value == ["a", "b"]
    assert type(rows["new-mode"].editor) is ChoiceEditor
    assert type(rows["block-bitmap-mapping"].editor) is StructListEditor
    assert rows["x-new-knob"].has_class("-unstable")
    assert rows["x-new-knob"].badges_text == "unstable · not in the bundled docs"
    assert rows["downtime-limit"].value == "300"
    assert [row.spec.name for row in caps] == ["xbzrle", "events", "super-fast"]
    assert caps[2].has_class("-unstable") and hidden == []
