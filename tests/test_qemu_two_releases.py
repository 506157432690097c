"""Two real QEMU releases side by side: Debian's 7.2 and a newer one from
bookworm-backports, unpacked (not installed) by ``scripts/ensure-qemu-backport``
(``make test`` runs it).

What each QEMU is comes from QEMU itself (``query-version`` and
``query-migrate-parameters`` on the lab's ctl sockets), never from migtui.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from cli_process import run_cli
from hosts_lab import short_dir
from migtui.lab import Lab
from migtui.lab.hosts import HostLab
from migtui.qapi.bundled import bundled_releases
from waiting import until_true

pytestmark = pytest.mark.qemu
NEWER_QEMU = Path(os.environ.get("MIGTUI_QEMU_CACHE", "/var/cache/migtui/qemu-backport")) / "current" / "qemu-system-x86_64"
MACHINE = "pc-i440fx-7.2"
"""A machine type both releases know: a migration needs the same one on both sides."""


@pytest.fixture
def newer_qemu() -> str:
    assert NEWER_QEMU.exists(), f"no second QEMU release at {NEWER_QEMU}: run scripts/ensure-qemu-backport"
    return str(NEWER_QEMU)


async def release_of(ctl, vm) -> tuple[int, int, int]:
    async with ctl(vm) as client:
        qemu = (await client.execute("query-version"))["qemu"]
    return qemu["major"], qemu["minor"], qemu["micro"]


def dotted(release: tuple[int, int, int]) -> str:
    return ".".join(map(str, release))


async def test_a_destination_older_than_its_source_is_flagged_and_nothing_changes(lab: Lab, lab_dir, ctl,
                                                                                  newer_qemu):
    source = await lab.start_source("vm1", mem_mib=64, dirty_mib=4, dirty_rate_mib_s=1, qemu=newer_qemu,
                                    machine=MACHINE)
    destination = await lab.start_destination("vm1-dst", like=source)  # Debian's 7.2
    new, old = await release_of(ctl, source), await release_of(ctl, destination)
    assert old < new
    config = str(lab.write_inventory(lab_dir / "inventory.toml"))
    code, _, err = await run_cli("migrate", "vm1", "vm1-dst", "--config", config)
    assert code != 0 and err.count("\n") == 1 and "Traceback" not in err
    assert (f"vm1-dst's QEMU {dotted(old)} is older than vm1's {dotted(new)}: QEMU migrates forward only"
            in err)
    async with ctl(source) as client:
        assert (await client.execute("query-migrate")).get("status", "none") == "none"
    async with ctl(destination) as client:
        assert (await client.execute("query-status"))["status"] == "inmigrate"
        assert (await client.execute("query-migrate")).get("status", "none") == "none"  # not listening


async def test_a_migration_from_7_2_to_the_newer_release_completes(lab: Lab, lab_dir, ctl, newer_qemu):
    source = await lab.start_source("vm1", mem_mib=64, dirty_mib=4, dirty_rate_mib_s=1, machine=MACHINE)
    destination = await lab.start_destination("vm1-dst", like=source, qemu=newer_qemu)
    assert await release_of(ctl, source) < await release_of(ctl, destination)
    config = str(lab.write_inventory(lab_dir / "inventory.toml"))
    code, out, err = await run_cli("migrate", "vm1", "vm1-dst", "--wait", "--config", config, timeout=90)
    assert code == 0, err
    assert " completed " in out
    async with ctl(destination) as client:
        async def runs() -> bool:  # the source says completed a moment before the destination runs
            return (await client.execute("query-status"))["status"] == "running"

        await until_true(runs, 10, "vm1-dst running on the newer QEMU")


async def test_each_vm_gets_the_schema_of_its_own_release(lab: Lab, lab_dir, ctl, newer_qemu):
    old_vm = await lab.start_source("old", mem_mib=64, dirty_mib=4, dirty_rate_mib_s=0)
    new_vm = await lab.start_source("new", mem_mib=64, dirty_mib=4, dirty_rate_mib_s=0, qemu=newer_qemu)
    config = str(lab.write_inventory(lab_dir / "inventory.toml"))
    summaries = {}
    for vm in (old_vm, new_vm):
        code, out, err = await run_cli("schema", vm.name, "--json", "--config", config)
        assert code == 0, err
        summaries[vm.name] = json.loads(out)
        release = await release_of(ctl, vm)
        async with ctl(vm) as client:
            parameters = set(await client.execute("query-migrate-parameters"))
        assert summaries[vm.name]["version"] == dotted(release)
        # The bundled release of its docs is the newest not newer than it.
        expected = max(r for r in bundled_releases() if tuple(r) <= release)
        assert summaries[vm.name]["release"] == str(expected)
        assert parameters <= set(summaries[vm.name]["parameters"])
    # What the newer QEMU has and 7.2 lacks is offered for it only.
    only_new = set(summaries["new"]["parameters"]) - set(summaries["old"]["parameters"])
    assert "zero-page-detection" in only_new


async def test_over_ssh_each_vm_gets_its_release_and_an_older_destination_is_flagged(ctl, newer_qemu):
    directory = short_dir("releases")
    try:
        async with HostLab(directory) as lab:
            hv1, hv2 = await lab.start_hosts(2)
            source = await hv1.lab.start_source("vm1", mem_mib=64, dirty_mib=4, dirty_rate_mib_s=1,
                                                qemu=newer_qemu, machine=MACHINE)
            destination = await hv2.lab.start_destination("vm1-dst", like=source)  # Debian's 7.2
            new, old = await release_of(ctl, source), await release_of(ctl, destination)
            config = str(lab.write_inventory(directory / "inventory.toml"))
            for vm, release in (("vm1", new), ("vm1-dst", old)):
                code, out, err = await run_cli("schema", vm, "--json", "--config", config)
                assert code == 0, err
                assert json.loads(out)["version"] == dotted(release)
            code, _, err = await run_cli("migrate", "vm1", "vm1-dst", "--config", config)
            assert code != 0
            assert f"vm1-dst's QEMU {dotted(old)} is older than vm1's {dotted(new)}" in err
    finally:
        shutil.rmtree(directory, ignore_errors=True)
