"""Every key of every screen, on a VM without a disk and on a read-only fleet: the dashboard survives.

A new user presses what the footer and the help offer; keys that cannot act
must say so, and none may end the dashboard or show a bug. Real QEMU 7.2: a
diskless source and a destination waiting for it. And a bug that does get
into a screen (injected: QEMU cannot cause one) is one line, not the end.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from migtui.app import MigtuiApp
from migtui.inventory import load_inventory
from migtui.lab import Lab
from migtui.qmp.audit import AuditLog
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.screens.error import ErrorScreen
from migtui.screens.fleet import FleetScreen
from migtui.screens.help import HelpScreen
from migtui.screens.params import ParamsScreen
from migtui.screens.snapshots import SnapshotsScreen
from migtui.screens.vm import VMScreen
from waiting import settle

pytestmark = pytest.mark.qemu

LEAVING = {"q", "ctrl+c", "ctrl+q"}
"""Keys that end the dashboard on purpose."""


def opener(kind: type, open_it: Callable[[MigtuiApp], None]) -> tuple[type, Callable[[MigtuiApp], None]]:
    return kind, open_it


SCREENS = {
    "fleet": opener(FleetScreen, lambda app: None),
    "vm charts": opener(VMScreen, lambda app: app.controls.open_vm("vm1")),
    "vm events": opener(VMScreen, lambda app: (app.controls.open_vm("vm1"), app.call_after_refresh(
        lambda: setattr(app.screen.query_one(TabbedContent), "active", "events")))),
    "snapshots": opener(SnapshotsScreen, lambda app: app.controls.open_snapshots("vm1")),
    "parameters": opener(ParamsScreen, lambda app: app.controls.open_params("vm1")),
    "help": opener(HelpScreen, lambda app: app.action_help()),
}


async def diskless_app(lab: Lab, directory: Path, read_only: bool) -> MigtuiApp:
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=8)
    await lab.start_destination("vm1-dst", like=source)
    inventory = load_inventory(lab.write_inventory(directory / "inventory.toml"))
    gate = CommandGate(AuditLog(directory / "audit.jsonl"), read_only=read_only)
    return MigtuiApp(Fleet(inventory.vm, gate), theme="migtui-dark")


async def back_to_fleet(app: MigtuiApp, pilot: Pilot) -> None:
    while len(app.screen_stack) > 1:
        await app.pop_screen()
    await pilot.pause()


async def open_screen(app: MigtuiApp, pilot: Pilot, name: str) -> None:
    kind, open_it = SCREENS[name]
    await back_to_fleet(app, pilot)
    open_it(app)
    await settle(pilot, lambda: isinstance(app.screen, kind), 10, f"the {name} screen")
    await app.screen.workers.wait_for_complete()
    await pilot.pause()


def still_fine(app: MigtuiApp, where: str) -> None:
    assert app.is_running, where
    assert app.failures == 0, f"{where}: {[n.message for n in app._notifications]}"
    assert not any(isinstance(screen, ErrorScreen) for screen in app.screen_stack), where


@pytest.mark.parametrize("read_only", [False, True], ids=["diskless", "read-only"])
async def test_every_key_of_every_screen_leaves_the_dashboard_running(lab: Lab, lab_dir: Path, read_only: bool,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(lab_dir / "config"))  # ctrl+g saves a preset there
    monkeypatch.chdir(lab_dir)  # x on the VM screen exports its samples into the current directory
    app = await diskless_app(lab, lab_dir, read_only)
    pressed: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.fleet.states["vm1"].run_state == "running"
                     and app.fleet.states["vm1-dst"].run_state == "inmigrate", 20, "both VMs connected")
        for name in SCREENS:
            await open_screen(app, pilot, name)
            keys = sorted(key for key in app.active_bindings if key not in LEAVING)
            assert keys, name
            kind, depth = SCREENS[name][0], len(app.screen_stack)
            for key in keys:
                if not (isinstance(app.screen, kind) and len(app.screen_stack) == depth):
                    await open_screen(app, pilot, name)  # the last key left the screen: back to it
                await pilot.press(key)
                await pilot.pause()
                await app.screen.workers.wait_for_complete()
                await pilot.pause()
                pressed.append(f"{name}:{key}")
                still_fine(app, f"{key} on the {name} screen")
    assert len(pressed) > 40  # every screen had its keys pressed
    if read_only:
        assert AuditLog(lab_dir / "audit.jsonl").entries() == []  # nothing reached a VM


async def test_save_on_a_vm_without_a_disk_says_why_in_one_line(lab: Lab, lab_dir: Path) -> None:
    app = await diskless_app(lab, lab_dir, read_only=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.fleet.states["vm1"].run_state == "running", 20, "vm1 connected")
        await open_screen(app, pilot, "snapshots")
        await settle(pilot, lambda: app.screen.listed, 10, "the VM's disks read")
        await pilot.press("s")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any(message.startswith("vm1 has no writable qcow2 disk") for message in said), said
        assert isinstance(app.screen, SnapshotsScreen)
        still_fine(app, "s on the snapshots screen")


async def test_a_bug_in_a_screen_is_one_line_and_the_dashboard_goes_on(lab: Lab, lab_dir: Path, monkeypatch) -> None:
    def broken(self: SnapshotsScreen) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr(SnapshotsScreen, "_fill", broken)  # a handler's bug, run in the screen's own loop
    monkeypatch.setattr(SnapshotsScreen, "action_reload", lambda self: broken(self))  # and in a key's action
    app = await diskless_app(lab, lab_dir, read_only=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.fleet.states["vm1"].run_state == "running", 20, "vm1 connected")
        await pilot.press("down", "n")  # opening the screen runs action_reload from on_mount: the screen fails
        await settle(pilot, lambda: app.failures == 1, 10, "the failure contained")
        await settle(pilot, lambda: isinstance(app.screen, FleetScreen), 10, "back on the fleet screen")
        said = [n.message for n in app._notifications]
        assert said == ["the snapshots screen failed: IndexError: list index out of range "
                        "(a bug in migtui; the dashboard goes on)"]
        await pilot.press("enter")  # the rest of the dashboard works
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 10, "the VM screen")
        await pilot.press("n")
        assert app.is_running
