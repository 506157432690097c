"""migtui's terminal holds migtui's words only: the libraries it loads (asyncssh, matplotlib)
print nothing there, whatever their versions (tests/test_fresh_install.py runs the same
checks on the newest versions pyproject allows)."""

from __future__ import annotations

import sys

import pytest

from terminal_output import UNREACHABLE_SSH_LINE, UNREACHABLE_SSH_VM, dashboard_leftovers, run

MIGTUI = (sys.executable, "-m", "migtui")


def test_help_writes_nothing_but_the_help():
    result = run(MIGTUI, "--help")
    assert result.returncode == 0 and result.stderr == "" and "usage: migtui" in result.stdout


@pytest.mark.parametrize("command", [["watch", "--once"], ["params", "a"], ["snapshot", "a", "list"],
                                     ["cancel", "a", "--yes"], ["migrate", "a", "b", "--vm", "b=/nonexistent.qmp"]],
                         ids=lambda command: command[0])
def test_a_command_on_an_unreachable_ssh_vm_says_one_line(command):
    result = run(MIGTUI, *command, "--vm", UNREACHABLE_SSH_VM)
    assert (result.returncode, result.stderr.splitlines()) == (1, [UNREACHABLE_SSH_LINE])


def test_the_recorder_of_an_ssh_vm_says_only_what_it_records(tmp_path):
    db = tmp_path / "fleet.db"
    result = run(MIGTUI, "record", "--db", str(db), "--duration", "0.5", "--vm", UNREACHABLE_SSH_VM)
    assert (result.returncode, result.stderr.splitlines()) == (0, [f"recording 1 VM(s) into {db}"])


def test_the_dashboard_on_an_ssh_vm_leaves_the_terminal_as_it_found_it():
    assert dashboard_leftovers(MIGTUI, "--vm", UNREACHABLE_SSH_VM, shows="host 127.0.0.1 down") == ""


def test_the_demo_and_its_screens_print_nothing_but_the_demos_own_lines():
    """As root the demo runs on a lab of hosts (asyncssh loaded): its two lines, nothing of a library's."""
    left = dashboard_leftovers(MIGTUI, "demo", shows="batch-1-dst", timeout=120, visits=[
        (b"\r", "Charts"), (b"2", "sampled"), (b"3", "MIGRATION_PASS"), (b"?", "Keys"), (b"?", "Snapshots"),
        (b"n", "Jobs")])
    lines = left.splitlines()
    assert len(lines) == 2, left
    assert lines[0].startswith("migtui demo: running as root: 6 QEMU VMs on 2 hosts")
    assert lines[1] == "migtui demo: stopping the lab's VMs ..."
