"""The snapshot save dialog as an admin meets it: the tag has the focus, an
empty tag is refused, the job id is out of the way.

The form is generated from QEMU 7.2's own schema (bundled), as the
snapshots screen generates it from the VM's.
"""

from __future__ import annotations

from textual.widgets import Input

from data.traces import recorded_fleet
from migtui.app import MigtuiApp
from migtui.qapi.bundled import load_release, release_named
from migtui.qapi.choices import with_choices
from migtui.qapi.fields import field_specs
from migtui.qmp.snapshots import SnapshotRequest, form_values
from migtui.screens.snapshot_dialog import SnapshotDialog
from waiting import settle

NODES = ["disk0"]


def save_dialog() -> SnapshotDialog:
    specs = with_choices(field_specs(load_release(release_named("7.2")), "snapshot-save"),
                         {"vmstate": NODES, "devices": NODES})
    return SnapshotDialog("web-1", "save", specs, form_values("save", "", NODES))


async def opened(pilot) -> SnapshotDialog:
    """The dialog once its form is up and something has the focus."""
    await settle(pilot, lambda: isinstance(pilot.app.screen, SnapshotDialog) and pilot.app.screen.focused is not None
                 and all(row.ready for row in pilot.app.screen.form.rows), 5, "the dialog up, a field focused")
    return pilot.app.screen


async def test_the_tag_has_the_focus_and_typing_fills_it_not_the_job_id() -> None:
    answers: list[SnapshotRequest | None] = []
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app.push_screen(save_dialog(), answers.append)
        dialog = await opened(pilot)
        tag = dialog.form.row("tag").editor.query_one(Input)
        assert dialog.focused is tag
        assert [row.spec.name for row in dialog.form.rows][0] == "tag"
        assert [row.spec.name for row in dialog.form.rows][-1] == "job-id"
        job_id = dialog.form.row("job-id").editor.value
        await pilot.press(*"before-upgrade")
        await pilot.press("tab")  # the next field is not the job id
        assert dialog.focused is not dialog.form.row("job-id").editor.query_one(Input)
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: answers, 5, "the dialog answered")
        request = answers[0]
        assert request is not None and request.tag == "before-upgrade"
        assert request.job_id.startswith("save-before-upgrade-") and job_id.startswith("save-snap-")


async def test_an_empty_tag_is_refused_at_the_field() -> None:
    answers: list[SnapshotRequest | None] = []
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        app.push_screen(save_dialog(), answers.append)
        dialog = await opened(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        row = dialog.form.row("tag")
        assert app.screen is dialog and not answers  # nothing started
        assert row.has_class("-invalid")
        assert "needs a tag" in str(row.query_one(".-error").render())
        await pilot.press("space", "space")  # blanks are no name either
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog and not answers
        await pilot.press("backspace", "backspace", *"t1", "ctrl+s")
        await settle(pilot, lambda: answers, 5, "the dialog answered")
        assert answers[0] is not None and answers[0].tag == "t1"
