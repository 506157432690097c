"""Pictures of the parameters editor on a recorded VM (QEMU 7.2's schema, the values a lab VM held).

The recorded fleet never connects, so the VM's schema comes from the bundled
7.2 release files instead of its ``query-qmp-schema``: the members, docs and
values are those a real 7.2 VM gives. Run ``pytest tests/snapshots
--snapshot-update`` after a deliberate change, and look at the new SVGs.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from data.traces import recorded_fleet
from form_pilot import edit_member
from migtui.app import MigtuiApp
from migtui.params.forms import VMForms
from migtui.qapi import load_release
from migtui.params import bulk
from migtui.screens import params
from migtui.screens.bulk_apply import BulkApplyDialog
from migtui.screens.params import ParamsScreen
from snapshots.test_ui_dashboard_snapshots import still
from waiting import settle


@pytest.fixture(autouse=True)
def bundled_7_2(monkeypatch: pytest.MonkeyPatch) -> None:
    forms = VMForms.from_schema(load_release("7.2.0"))

    async def forms_of(session: object) -> VMForms:
        return forms

    monkeypatch.setattr(params, "forms_of", forms_of)
    monkeypatch.setattr(bulk, "forms_of", forms_of)


async def opened(pilot: Pilot) -> ParamsScreen:
    await pilot.press("e")
    await settle(pilot, lambda: isinstance(pilot.app.screen, ParamsScreen) and pilot.app.screen.draft is not None
                 and pilot.app.screen.pane.box is not None, 5, "the editor with values")
    return pilot.app.screen


def dashboard() -> MigtuiApp:
    return MigtuiApp(recorded_fleet(), start_fleet=False, theme="migtui-dark")


class TestParamsScreen:
    @pytest.mark.parametrize("size", [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")])
    def test_opened(self, snap_compare, size) -> None:
        async def run_before(pilot: Pilot) -> None:
            await opened(pilot)
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=size, run_before=run_before)

    def test_found_and_edited(self, snap_compare) -> None:
        async def run_before(pilot: Pilot) -> None:
            screen = await opened(pilot)
            await edit_member(pilot, screen, "downtime-limit", "fast")
            await edit_member(pilot, screen, "auto-converge", True, capability=True)
            await edit_member(pilot, screen, "max-bandwidth", "64M")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=(120, 40), run_before=run_before)

    def test_bulk_preview(self, snap_compare) -> None:
        """Old → new for every chosen VM, from the values each holds, before anything is sent."""

        async def run_before(pilot: Pilot) -> None:
            screen = await opened(pilot)
            await edit_member(pilot, screen, "downtime-limit", "500")
            await pilot.press("ctrl+b")
            await settle(pilot, lambda: isinstance(pilot.app.screen, BulkApplyDialog), 5, "the bulk dialog")
            dialog = pilot.app.screen
            dialog.query_one("#bulk-vms").focus()
            await pilot.press("down", "space", "down", "space", "ctrl+s")
            await settle(pilot, lambda: "Would change" in str(dialog.query_one("#bulk-preview").render()), 5,
                         "the preview")
            await still(pilot)

        assert snap_compare(dashboard(), terminal_size=(120, 40), run_before=run_before)
