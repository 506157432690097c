"""Options anywhere on the command line, as git and virsh users expect, and listed in ``--help``."""

from __future__ import annotations

import pytest

from cli_process import run_cli
from migtui.__main__ import main

INVENTORY_COMMANDS = ("watch", "migrate", "cancel", "postcopy", "params", "snapshot", "schema", "dashboard")


@pytest.fixture
async def inventory(lab, tmp_path):
    await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    return str(lab.write_inventory(tmp_path / "inventory.toml"))


@pytest.mark.qemu
async def test_snapshot_takes_its_options_before_the_vm_after_it_and_after_the_action(inventory, tmp_path):
    audit = str(tmp_path / "audit.jsonl")
    for argv in (["snapshot", "--config", inventory, "vm1", "list"],
                 ["snapshot", "vm1", "--config", inventory, "--audit-log", audit, "list"],
                 ["snapshot", "vm1", "list", "--config", inventory, "--json"],
                 ["snapshot", "--read-only", "vm1", "--config", inventory, "jobs"]):
        code, out, err = await run_cli(*argv)
        assert code == 0 and "Traceback" not in err, (argv, err)


@pytest.mark.qemu
async def test_an_option_after_the_action_overrides_the_one_before(inventory, tmp_path):
    code, out, err = await run_cli("snapshot", "--config", str(tmp_path / "absent.toml"), "vm1", "list",
                                   "--config", inventory)
    assert code == 0, err
    code, out, err = await run_cli("snapshot", "--config", inventory, "vm1", "list",
                                   "--config", str(tmp_path / "absent.toml"))
    assert code == 1 and err.startswith(f"migtui: {tmp_path / 'absent.toml'}: no inventory file")


def test_lab_takes_dir_before_or_after_the_action_and_says_when_it_is_missing(capsys, tmp_path):
    nowhere = tmp_path / "no-lab"
    said = []
    for argv in (["lab", "--dir", str(nowhere), "status"], ["lab", "status", "--dir", str(nowhere)]):
        assert main(argv) == 1
        said.append(capsys.readouterr().err)
    assert said == [f"migtui: no lab in {nowhere} (start one with `migtui lab up --dir {nowhere}`)\n"] * 2
    assert main(["lab", "down"]) == 2
    assert capsys.readouterr().err == "migtui: lab down: --dir DIR is required (the lab's directory)\n"


@pytest.mark.parametrize("command", INVENTORY_COMMANDS)
def test_help_lists_the_inventory_and_safety_options(capsys, command):
    with pytest.raises(SystemExit) as exit:
        main([command, "--help"])
    shown = capsys.readouterr().out
    assert exit.value.code == 0 and "--config FILE" in shown
    if command != "schema":  # schema only reads
        assert "--read-only" in shown


def test_lab_help_lists_dir(capsys):
    with pytest.raises(SystemExit):
        main(["lab", "--help"])
    assert "--dir DIR" in capsys.readouterr().out


def test_options_before_the_command_are_the_commands(capsys, tmp_path):
    # as `git -C DIR log`: `migtui --libvirt URI watch` is `migtui watch --libvirt URI`
    assert main(["--libvirt", "bogus://x", "watch", "--once"]) == 1
    assert capsys.readouterr().err == ("migtui: --libvirt: 'bogus://x' is not a libvirt URI for QEMU such as "
                                       "qemu:///system or qemu+ssh://root@hv-a/system\n")
    absent = tmp_path / "absent.toml"
    assert main(["--read-only", f"--config={absent}", "watch", "--once"]) == 1
    assert capsys.readouterr().err.startswith(f"migtui: {absent}: no inventory file")


def test_an_option_value_that_is_a_command_name_stays_the_dashboards_value(capsys, tmp_path):
    absent = tmp_path / "absent.toml"
    # a VM named "report" to open the dashboard on, not the report command
    assert main(["--open", "report", "--config", str(absent)]) == 1
    assert capsys.readouterr().err.startswith(f"migtui: {absent}: no inventory file")


@pytest.mark.parametrize("command", [["watch"], ["params", "vm1"]])
def test_an_unknown_option_is_said_by_the_command_with_its_usage(capsys, command):
    with pytest.raises(SystemExit) as exit:
        main([*command, "--bogus"])
    said = capsys.readouterr().err
    assert exit.value.code == 2
    assert said.startswith(f"usage: migtui {command[0]} ") and said.endswith(
        f"migtui {command[0]}: error: unrecognized arguments: --bogus\n"), said
