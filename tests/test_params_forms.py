"""The parameters editor's members for every bundled QEMU release and for a QEMU newer than all of them.

No VM needed: the members come from a schema and the values a VM would
report. The list must have exactly one entry per member of
``MigrateSetParameters`` and one per capability, deprecated ones only when
asked for, and each member gets the editor its type calls for.
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from migtui.params.draft import Draft
from migtui.params.forms import VMForms
from migtui.params.settings import VMSettings
from migtui.qapi import FieldKind, bundled_releases, live_schema, load_release
from migtui.qapi.schema import Schema
from migtui.widgets.choice_list_editor import ChoiceListEditor
from migtui.widgets.field_editors import (
    ChoiceEditor, StrListEditor, StrOrNullEditor, SwitchEditor, TextEditor,
)  # fmt: skip
from migtui.widgets.member_list import MemberList
from migtui.widgets.member_pane import MemberPane
from migtui.widgets.schema_form import badges, unstable
from migtui.widgets.struct_editors import StructEditor, StructListEditor, editor_for
from test_qapi_introspect import SCHEMA_11, VERSION_11

EDITORS = {
    FieldKind.BOOL: SwitchEditor, FieldKind.INT: TextEditor, FieldKind.SIZE: TextEditor,
    FieldKind.NUMBER: TextEditor, FieldKind.STR: TextEditor, FieldKind.ENUM: ChoiceEditor,
    FieldKind.STR_OR_NULL: StrOrNullEditor, FieldKind.LIST_STR: StrListEditor, FieldKind.LIST_INT: TextEditor,
    FieldKind.LIST_ENUM: ChoiceListEditor, FieldKind.STRUCT: StructEditor, FieldKind.LIST_STRUCT: StructListEditor,
    FieldKind.ANY: TextEditor,
}  # fmt: skip


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield MemberList()
        yield MemberPane()


def names_listed(members: MemberList) -> list[str]:
    return [members.get_option_at_index(i).id for i in range(members.option_count)
            if not members.get_option_at_index(i).disabled]


async def listed(schema: Schema, parameters: dict | None = None) -> tuple[Draft, list[str], list[str]]:
    """The draft for ``schema``, and the member keys listed without and with the deprecated ones."""
    draft = Draft(VMSettings("vm", VMForms.from_schema(schema), parameters or {}, {}))
    app = ListApp()
    async with app.run_test(size=(100, 60)) as pilot:
        members = app.query_one(MemberList)
        members.show(draft, draft.judge(), "", show_deprecated=False)
        await pilot.pause()
        hidden = names_listed(members)
        members.show(draft, draft.judge(), "", show_deprecated=True)
        await pilot.pause()
        return draft, hidden, names_listed(members)


@pytest.mark.parametrize("release", bundled_releases(), ids=str)
async def test_the_members_of_every_bundled_release_are_listed_with_their_editors(release):
    schema = load_release(release)
    draft, without_deprecated, everything = await listed(schema)
    members = schema.members("migrate-set-parameters")
    capabilities = schema.enum("MigrationCapability").values
    assert everything == [f"par:{m.name}" for m in members] + [f"cap:{v.name}" for v in capabilities]
    deprecated = {f"par:{m.name}" for m in members if "deprecated" in m.features} | {
        f"cap:{v.name}" for v in capabilities if "deprecated" in v.features}
    assert without_deprecated == [key for key in everything if key not in deprecated]
    for member in draft.members:
        editor = editor_for(member.spec, draft.value(member))
        if member.capability:
            assert type(editor) is SwitchEditor, member.name
            continue
        assert type(editor) is EDITORS[member.spec.kind], member.name
        assert member.spec.kind is not FieldKind.ANY, f"{member.name}: every member of a release is editable"
        assert unstable(member.spec) == member.name.startswith("x-"), member.name


async def test_the_members_of_a_qemu_newer_than_every_bundled_release_are_listed():
    schema = live_schema(SCHEMA_11, VERSION_11, origin="VM future")
    draft, hidden, everything = await listed(schema, {"downtime-limit": 300, "new-hosts": ["a", "b"]})
    params = {member.name: member for member in draft.members if not member.capability}
    assert list(params) == [m.name for m in schema.members("migrate-set-parameters")]
    assert [member.name for member in draft.members if member.capability] == ["xbzrle", "events", "super-fast"]
    assert hidden == everything, "nothing deprecated"
    assert type(editor_for(params["new-mode"].spec, None)) is ChoiceEditor
    assert type(editor_for(params["block-bitmap-mapping"].spec, None)) is StructListEditor
    assert unstable(params["x-new-knob"].spec)
    assert badges(params["x-new-knob"].spec) == "unstable · not in the bundled docs"
    assert unstable(draft.find("super-fast", capability=True).spec)
    # The editors show what the VM reported, as the user will read it.
    app = ListApp()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(MemberPane)
        for name, shown in (("new-hosts", ["a", "b"]), ("downtime-limit", "300")):
            pane.show(draft, params[name], "", read_only=False)
            await pilot.pause()
            assert type(pane.box.editor) is EDITORS[params[name].spec.kind]
            assert pane.box.editor.value == shown, name
