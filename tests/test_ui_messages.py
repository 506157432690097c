"""The dashboard's message flow, recorded with ``run_test(message_hook=...)``.

Samples and events are replayed from recorded lab migrations through the
App's fleet subscriber, exactly as the poller publishes them.
"""

from __future__ import annotations


from textual.message import Message
from textual.widgets import DataTable

from data.traces import event_of, load_trace, recorded_fleet, replay_into
from migtui.app import MigtuiApp
from migtui.model.events import QMPEvent
from migtui.model.link import LinkState
from migtui.units import human_bytes
from migtui.qmp.updates import Aspect, EventReceived, SampleTaken, VMChanged
from migtui.screens.fleet import FleetScreen
from migtui.screens.migrate import MigrateDialog
from migtui.screens.vm import VMScreen
from migtui.widgets.feed import EventArrived, SampleArrived, StateUpdated
from migtui.widgets.fleet_table import FleetTable
from waiting import settle


def cell(app: MigtuiApp, vm: str, column: str) -> str:
    return app.screen.query_one(FleetTable).get_cell(vm, column).plain


async def test_samples_for_one_vm_coalesce_but_events_do_not() -> None:
    fleet = recorded_fleet()
    app = MigtuiApp(fleet, start_fleet=False)
    seen: list[Message] = []
    async with app.run_test(message_hook=seen.append) as pilot:
        await pilot.pause()
        seen.clear()
        state = fleet.states["db-1"]
        trace = load_trace("converging")
        samples = [e for e in trace.samples if 5.0 < e["at"] <= 8.0]
        base = state.latest.at
        for entry in samples:  # all queued before the table gets a turn
            sample = state.tracker.add(entry["answer"], at=base + entry["at"], wall=entry["wall"])
            app.feed(SampleTaken("db-1", sample))
        statuses = ("active", "pre-switchover", "device")
        for status in statuses:
            app.feed(EventReceived("db-1", QMPEvent("db-1", "MIGRATION", {"status": status})))
        app.feed(EventReceived("db-1", QMPEvent("db-1", "MIGRATION_PASS", {"pass": 10})))
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        table.flush()
        viewers = 1  # the fleet table watches every VM (the brief under it is drawn by the table)
        # The table takes the samples of a VM that is not highlighted without a message each.
        assert len([m for m in seen if isinstance(m, SampleArrived)]) < len(samples)
        told = [m.event.data["status"] for m in seen if isinstance(m, EventArrived) and m.event.name == "MIGRATION"]
        assert [told.count(status) for status in statuses] == [viewers] * 3
        assert [told.index(status) for status in statuses] == sorted(told.index(status) for status in statuses)
        # No one on the fleet screen shows a pass: the table is not sent them.
        assert not [m for m in seen if isinstance(m, EventArrived) and m.event.name == "MIGRATION_PASS"]
        assert cell(app, "db-1", "pass") == str(state.latest.passes)


async def test_migration_event_reaches_the_table_before_the_next_sample() -> None:
    fleet = recorded_fleet()
    app = MigtuiApp(fleet, start_fleet=False)
    seen: list[Message] = []
    async with app.run_test(message_hook=seen.append) as pilot:
        await pilot.pause()
        seen.clear()
        state = fleet.states["db-1"]
        base = state.latest.at - 5.0
        event = next(e for e in load_trace("converging").events if e["data"].get("status") == "completed")
        app.feed(EventReceived("db-1", event_of("db-1", event, base + 10)))
        await settle(pilot, lambda: cell(app, "db-1", "status") == "completed")  # from the event alone
        final = load_trace("converging").samples[-1]
        sample = state.tracker.add(final["answer"], at=base + 11, wall=final["wall"])
        app.feed(SampleTaken("db-1", sample))
        await settle(pilot, lambda: cell(app, "db-1", "progress") == "100%")
        assert cell(app, "db-1", "status") == "completed"


async def test_the_highlighted_row_and_the_brief_show_the_same_sample() -> None:
    from migtui.units import compact_bytes
    from migtui.widgets.vm_brief import VMBrief

    fleet = recorded_fleet()
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.vm == "batch-1"  # highlighted: the first row
        state = fleet.states["batch-1"]
        base = state.latest.at - 30.0
        brief = app.screen.query_one(VMBrief)
        # Samples a poll interval apart, faster than the table repaints a row of its own accord.
        for entry in [e for e in load_trace("not-converging").samples if 30.0 < e["at"] <= 33.0]:
            sample = state.tracker.add(entry["answer"], at=base + entry["at"], wall=entry["wall"])
            app.feed(SampleTaken("batch-1", sample))
            await settle(pilot, lambda: f"left {human_bytes(sample.remaining)}" in str(brief.render())
                         and cell(app, "batch-1", "remaining") == compact_bytes(sample.remaining),
                         2, f"the brief and the row on the sample at {entry['at']} s")
        assert len({e["answer"]["ram"]["remaining"] for e in load_trace("not-converging").samples
                    if 30.0 < e["at"] <= 33.0}) > 2  # the figures moved: a row a sample behind shows


async def test_disconnected_vm_stays_listed_and_says_why() -> None:
    fleet = recorded_fleet()
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        state = fleet.states["db-1"]
        state.link, state.link_error = LinkState.DISCONNECTED, "connection reset by QEMU (exited?)"
        app.feed(VMChanged("db-1", Aspect.LINK))
        await settle(pilot, lambda: cell(app, "db-1", "link") == "down")
        state.link, state.busy_for = LinkState.CONNECTED, 3.0
        app.feed(VMChanged("db-1", Aspect.BUSY))
        await settle(pilot, lambda: cell(app, "db-1", "link") == "busy")
        assert app.screen.query_one(FleetTable).row_count == len(fleet.states)


async def test_filter_and_sort_by_typing() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        await pilot.press("slash", *"active", "enter")
        await pilot.pause()
        assert sorted(row.key.value for row in table.ordered_rows) == ["batch-1", "db-1"]
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 6
        app.screen.sort_column = "remaining"
        app.screen.sort_reverse = True
        await pilot.pause()
        assert [row.key.value for row in table.ordered_rows][:2] == ["batch-1", "db-1"]


def shown_ms(text: str) -> float:
    """A downtime cell as a reader takes it: '3ms', '2.2s', '-' (none: first)."""
    if text == "-":
        return -1.0
    return float(text[:-2]) if text.endswith("ms") else float(text[:-1]) * 1000


async def test_sorting_by_downtime_follows_the_downtimes_shown_those_of_ended_migrations_too() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        for reverse in (False, True):
            app.screen.sort_column, app.screen.sort_reverse = "downtime", reverse
            await pilot.pause()
            shown = [shown_ms(table.get_cell(row.key.value, "downtime").plain) for row in table.ordered_rows]
            assert shown == sorted(shown, reverse=reverse), shown
        assert any(table.get_cell(vm, "status").plain == "completed" and shown_ms(table.get_cell(vm, "downtime").plain)
                   > 0 for vm in app.fleet.states), "an ended migration's downtime among them"


async def test_enter_opens_the_vm_and_escape_returns() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, VMScreen) and app.screen.vm == "db-1"
        await pilot.press("w")
        assert app.screen.window == 600.0
        await pilot.press("3")
        await pilot.pause()
        events = app.screen.query_one("#vm-events").query_one(DataTable)
        assert events.row_count == len(fleet_events := list(app.fleet.states["db-1"].events))
        assert fleet_events
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)


async def test_after_the_event_filter_is_left_with_escape_the_tab_keys_switch_tabs() -> None:
    from textual.widgets import TabbedContent

    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.controls.open_vm("batch-1")
        await settle(pilot, lambda: isinstance(app.screen, VMScreen), 5, "the VM screen")
        await pilot.press("slash", *"pass=3", "escape", "2")
        await pilot.pause()
        tabs = app.screen.query_one(TabbedContent)
        assert tabs.active == "sample"
        await pilot.press("1")
        await pilot.pause()
        assert tabs.active == "charts"
        assert app.screen.query_one("#vm-events").query_one("Input").value == ""  # no key went into the filter


async def test_vm_updates_reach_only_the_open_vm_screen() -> None:
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    seen: list[Message] = []
    async with app.run_test(message_hook=seen.append) as pilot:
        app.controls.open_vm("batch-1")
        await pilot.pause()
        seen.clear()
        app.feed(VMChanged("db-1", Aspect.SETTINGS))
        app.feed(VMChanged("batch-1", Aspect.SETTINGS))
        screen = app.screen
        assert isinstance(screen, VMScreen)
        await settle(pilot, lambda: screen.settings_version >= 1)
        await pilot.pause()
        assert screen.settings_version == 1  # batch-1's change only
        assert {m.vm for m in seen if isinstance(m, StateUpdated)} == {"db-1", "batch-1"}  # the fleet screen's


async def test_read_only_hides_every_control() -> None:
    app = MigtuiApp(recorded_fleet(read_only=True), start_fleet=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        controls = ("migrate", "cancel", "postcopy", "advised-downtime", "advised-bandwidth", "advised-switchover")
        for name in controls:
            assert screen.check_action("vm", (name,)) is False
        keys = {active.binding.action for active in screen.active_bindings.values()}
        assert not keys & {f"vm('{name}')" for name in controls}
        assert "vm('parameters')" in keys  # looking is no change
        await pilot.press("m")
        await pilot.pause()
        assert not isinstance(app.screen, MigrateDialog)
        assert "read-only" in app.title


async def test_cancel_and_postcopy_are_the_sources_not_the_destinations() -> None:
    fleet = recorded_fleet()
    # The destination of the stuck migration: QEMU says "active" there too.
    replay_into(fleet.states["db-1-dst"], load_trace("not-converging"), until=30.0)
    fleet.states["db-1-dst"].run_state = "inmigrate"
    for name in ("batch-1", "db-1-dst"):
        fleet.states[name].capabilities["postcopy-ram"] = True
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.controls.may("postcopy", "batch-1") is True
        assert app.controls.may("cancel", "batch-1") is True
        assert app.controls.may("postcopy", "db-1-dst") is None
        assert app.controls.may("cancel", "db-1-dst") is None
        # In postcopy the destination runs the guest: still not the side that cancels or switches.
        fleet.states["db-1-dst"].run_state, fleet.states["db-1-dst"].incoming = "running", True
        for action in ("cancel", "postcopy", "migrate"):
            assert app.controls.may(action, "db-1-dst") is None, action


async def test_palette_offers_every_action_for_every_vm() -> None:
    from migtui.screens.palette import VMCommands

    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        provider = VMCommands(app.screen)
        await provider.startup()
        names = {name for name, _, _ in provider._commands}
        for vm in app.fleet.states:
            for verb in ("open", "migrate", "cancel", "postcopy", "parameters", "snapshots", "refresh",
                         "advised-downtime", "advised-bandwidth", "advised-switchover"):
                assert f"{verb} {vm}" in names
        hits = [hit async for hit in provider.search("migrate batch")]
        assert hits and hits[0].text == "migrate batch-1"


async def test_marks_are_drawn_on_every_chart_of_their_vm() -> None:
    from migtui.widgets.chart_base import MigrationChart

    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.controls.open_vm("batch-1")
        await pilot.pause()
        latest = app.fleet.states["batch-1"].latest
        app.add_mark("batch-1", "limit 500ms", at=latest.at - 10)
        app.add_mark("db-1", "elsewhere", at=latest.at - 10)
        charts = list(app.screen.query(MigrationChart))
        await settle(pilot, lambda: all(chart.marks_version == 1 for chart in charts))
        for chart in charts:
            assert [mark.text for mark in chart.marks()] == ["limit 500ms"]
            assert "limit 500ms" in chart.plt.build()


async def test_snapshots_of_a_vm_that_is_down_say_why() -> None:
    from textual.notifications import Notify

    seen: list[Message] = []
    app = MigtuiApp(recorded_fleet(), start_fleet=False)
    async with app.run_test(message_hook=seen.append) as pilot:
        app.controls.open_snapshots("old-1")
        await settle(pilot, lambda: any(isinstance(m, Notify) and "old-1" in str(m.notification.message)
                                        for m in seen), 5, "a notification about old-1")
        told = next(m.notification for m in seen if isinstance(m, Notify) and "old-1" in str(m.notification.message))
        assert told.severity == "error" and "not connected" in str(told.message)


async def test_the_migrate_dialog_switches_a_capability_on_where_it_is_off() -> None:
    fleet = recorded_fleet()
    fleet.states["db-1"].capabilities["postcopy-ram"] = True  # on at the source only
    fleet.states["db-1"].run_state = "running"
    fleet.states["db-1"].tracker.history.clear()
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.controls.migrate("db-1")
        await settle(pilot, lambda: isinstance(app.screen, MigrateDialog) and app.screen.query("#cap-postcopy-ram"),
                     5, "the migrate dialog")
        request = app.screen.request()
        assert request.destination == "db-1-dst"
        assert request.plan.capabilities.get("postcopy-ram") is True  # the box shows it on: set on both sides


async def test_the_filter_finds_the_vms_of_a_host() -> None:
    fleet = recorded_fleet()
    for name in ("db-1", "web-1"):
        fleet.states[name].host = "hv2"
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        await pilot.press("slash", *"hv2", "enter")
        await pilot.pause()
        assert sorted(row.key.value for row in table.ordered_rows) == ["db-1", "web-1"]


async def test_the_filter_finds_a_vm_by_the_word_its_row_shows() -> None:
    fleet = recorded_fleet()
    fleet.states["web-1"].run_state = "postmigrate"  # the row says 'migrated'
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        assert cell(app, "web-1", "run") == "migrated"
        for word in ("migrated", "postmigrate"):
            app.screen.query_one("#fleet-filter").value = word
            await settle(pilot, lambda: [row.key.value for row in table.ordered_rows] == ["web-1"], 5, word)


async def test_a_destination_receiving_points_to_its_source_for_the_prediction() -> None:
    from migtui.widgets.vm_brief import VMBrief

    fleet = recorded_fleet()
    receiving = fleet.states["db-1-dst"]
    receiving.incoming = True  # waiting in inmigrate when the migration began: the destination's side
    receiving.tracker.add(fleet.states["db-1"].latest.info)  # QEMU's destination reports "active" too
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        brief = app.screen.query_one(VMBrief)
        brief.vm = "db-1-dst"
        brief.show()
        told = str(brief.render())
        assert "Receiving a migration" in told and "measuring" not in told, told
        assert cell(app, "db-1-dst", "outlook") == "incoming"


async def test_the_host_column_shows_where_each_vm_runs_and_only_for_a_fleet_of_hosts() -> None:
    fleet = recorded_fleet()
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "host" not in app.screen.query_one(FleetTable).shown_columns  # one machine: nothing to tell

    fleet = recorded_fleet()
    fleet.states["db-1"].host = "hv-a"
    fleet.states["web-1"].host = "hv-b"
    fleet.states["web-1"].link_error = "host hv-b down: connection refused"
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        assert table.shown_columns[:2] == ("name", "host")
        assert cell(app, "db-1", "host") == "hv-a" and cell(app, "batch-1", "host") == "-"
        down = table.get_cell("web-1", "host")
        assert down.plain == "hv-b" and down.style != table.get_cell("db-1", "host").style


async def test_an_advice_key_for_a_setting_the_vm_has_not_says_so() -> None:
    fleet = recorded_fleet()
    state = fleet.states["db-1"]
    state.parameters = {"downtime-limit": 300, "max-bandwidth": 128 << 20}  # QEMU 7.2: no avail-switchover-bandwidth
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test() as pilot:
        app.screen.query_one(FleetTable).select_vm("db-1")
        await pilot.press("O")
        await settle(pilot, lambda: any("has no avail-switchover-bandwidth" in str(n.message)
                                        for n in app._notifications), 5, "O saying why it does nothing")


async def test_a_filter_that_matches_nothing_leaves_no_vm_for_the_keys() -> None:
    from migtui.screens.confirm import ConfirmDialog
    from migtui.widgets.vm_brief import VMBrief

    fleet = recorded_fleet()
    app = MigtuiApp(fleet, start_fleet=False)
    async with app.run_test() as pilot:
        screen = app.screen
        app.screen.query_one(FleetTable).select_vm("db-1")
        await settle(pilot, lambda: screen.vm == "db-1", 5, "db-1 highlighted")
        await pilot.press("slash", *"zzz", "enter")
        await settle(pilot, lambda: screen.query_one(FleetTable).row_count == 0, 5, "an empty table")
        assert screen.vm is None
        await settle(pilot, lambda: "No VM highlighted." in str(screen.query_one(VMBrief).render()), 5,
                     "the brief showing no VM")
        await pilot.press("c")  # cancel: nothing listed, nothing to ask about
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")
        await settle(pilot, lambda: screen.query_one(FleetTable).row_count > 0 and screen.vm is not None, 5,
                     "the VMs back, one highlighted")
