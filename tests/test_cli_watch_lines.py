"""``migtui watch``'s text for people: an idle VM is a line when something changes, not every second;
``--json`` still gets every sample; a duration that cannot be is refused before anything starts."""

from __future__ import annotations

import json

import pytest

from cli_process import run_cli

pytestmark = pytest.mark.qemu


@pytest.fixture
async def idle_lab(lab, tmp_path):
    source = await lab.start_source("vm1", mem_mib=128, dirty_mib=8, dirty_rate_mib_s=4)
    await lab.start_destination("vm1-dst", like=source)
    inventory = lab.write_inventory(tmp_path / "inventory.toml")
    return ["--config", str(inventory), "--audit-log", str(tmp_path / "audit.jsonl")]


def sample_lines(out: str, vm: str) -> list[str]:
    """Text lines of ``vm``'s samples: ``HH:MM:SS.mmm  vm1  none ...`` (not its link or event lines)."""
    return [line for line in out.splitlines() if line.split("  ")[1:2] == [vm] and ":" not in line.split("  ")[2]]


async def test_an_idle_vm_is_one_text_line_until_it_changes_and_every_json_sample(idle_lab):
    code, out, err = await run_cli("watch", *idle_lab, "--interval", "0.2", "--duration", "3")
    assert code == 0, err
    for vm, status in (("vm1", "none"), ("vm1-dst", "none")):
        lines = sample_lines(out, vm)
        assert len(lines) == 1, out  # about 15 samples were taken
        assert lines[0].split("  ")[2] == status
    assert "closed" not in out, out  # the end of watch is no news of the VMs (it read "link: closed" for each)
    code, out, err = await run_cli("watch", *idle_lab, "--interval", "0.2", "--duration", "3", "--json")
    assert code == 0, err
    samples = [json.loads(line) for line in out.splitlines() if "sample" in json.loads(line)]
    assert sum(1 for sample in samples if sample["vm"] == "vm1") >= 8


@pytest.mark.parametrize("command", [["watch"], ["record", "--db", "x.db"]])
@pytest.mark.parametrize("duration", ["-1", "0", "soon"])
async def test_a_duration_that_cannot_be_is_refused_in_one_line_with_exit_code_2(command, duration, tmp_path):
    code, out, err = await run_cli(*command, "--duration", duration, "--vm", f"vm1={tmp_path}/none.qmp")
    assert code == 2 and out == ""
    assert err.splitlines()[-1].endswith(f"argument --duration: must be a number of seconds above 0, not {duration!r}"
                                         if duration != "soon" else "argument --duration: 'soon' is not a number of seconds")
    assert "Traceback" not in err
    assert not (tmp_path / "x.db").exists()
