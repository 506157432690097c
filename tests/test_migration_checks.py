"""Pre-flight checks for a destination that may be another host's QEMU, and
where it listens: real lab VMs, nothing changed when a check fails."""

from __future__ import annotations

import socket

import pytest

from migtui.errors import MigtuiError
from migtui.host_entry import HostEntry
from migtui.inventory import VMEntry
from migtui.lab import Lab
from migtui.qmp.fleet import Fleet
from migtui.qmp.migration import Listen, MigrationPlan, listen_incoming, start_migration
from migtui.qmp.session import VMSession

pytestmark = pytest.mark.qemu


async def test_a_destination_with_other_ram_or_missing_settings_is_refused_before_anything_changes(lab: Lab):
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=2)
    small = await lab.start_destination("vm1-dst", like=source, mem_mib=160)
    async with VMSession("vm1", str(source.qmp_path)) as src, VMSession("vm1-dst", str(small.qmp_path)) as dst:
        before = await dst.query_list("query-migrate-capabilities")
        plan = MigrationPlan(parameters={"no-such-parameter": 1}, capabilities={"no-such-capability": True})
        with pytest.raises(MigtuiError) as refused:
            await start_migration(src, dst, plan)
        message = str(refused.value)
        assert "RAM differs: vm1 has 128 MiB, vm1-dst 160 MiB" in message
        assert "vm1-dst's QEMU has no migration capability no-such-capability" in message
        assert "vm1-dst's QEMU has no migration parameter no-such-parameter" in message
        assert (await dst.query("query-status"))["status"] == "inmigrate"
        assert (await dst.query("query-migrate")).get("status") in (None, "none")  # not listening
        assert await dst.query_list("query-migrate-capabilities") == before


async def test_a_destination_listens_on_the_first_free_port_of_its_range(lab: Lab):
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=2)
    destination = await lab.start_destination("vm1-dst", like=source)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        async with VMSession("vm1-dst", str(destination.qmp_path)) as dst:
            uri = await listen_incoming(dst, Listen("127.0.0.1", range(port, port + 2)))
        assert uri == f"tcp:127.0.0.1:{port + 1}"
    finally:
        taken.close()


async def test_a_fleet_migration_listens_where_a_host_without_ssh_says(lab: Lab):
    # A [[host]] for this machine, with the ports its firewall opens: the dashboard's
    # migrations (Fleet.change, as the migrate dialog does it) listen there too.
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=2)
    destination = await lab.start_destination("vm1-dst", like=source)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    here = HostEntry(name="here", migration_address="127.0.0.1", migration_ports=f"{port}-{port + 3}")
    entries = [VMEntry(name=vm.name, qmp=str(vm.qmp_path), host="here") for vm in (source, destination)]
    async with Fleet(entries, hosts=[here]) as fleet:
        await fleet.wait_connected(10)
        uri = await fleet.change("vm1", lambda vm1: start_migration(vm1, fleet.session("vm1-dst")),
                                 also=("vm1-dst",))
        assert uri in [f"tcp:127.0.0.1:{p}" for p in range(port, port + 4)]  # the port QEMU said it took
