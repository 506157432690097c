"""``migtui params`` (and ``migtui migrate --set``) as a script uses them, against real QEMU 7.2."""

from __future__ import annotations

import json

import pytest

from cli_process import run_cli
from migtui.qmp.audit import AuditLog

pytestmark = pytest.mark.qemu
MIB = 1024 * 1024


async def held(ctl, vm) -> tuple[dict, dict]:
    async with ctl(vm) as client:
        parameters = await client.execute("query-migrate-parameters")
        capabilities = {c["capability"]: c["state"] for c in await client.execute("query-migrate-capabilities")}
    return parameters, capabilities


@pytest.fixture
async def vm1(lab, tmp_path):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    inventory = lab.write_inventory(tmp_path / "inventory.toml")
    return vm, ["--config", str(inventory), "--audit-log", str(tmp_path / "audit.jsonl")], AuditLog(tmp_path / "audit.jsonl")


async def test_params_shows_a_table_and_json(vm1):
    vm, options, audit = vm1
    code, out, err = await run_cli("params", "vm1", *options)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("vm1  QEMU 7.2.") and lines[1] == "parameters"
    assert lines[0].endswith("(its own schema, docs of release 7.2.0)"), lines[0]  # not the VM named twice
    table = {line.split()[0]: line.split(None, 1)[1].strip() for line in lines if line.startswith("  ")}
    assert table["downtime-limit"] == "300 ms"
    assert table["max-bandwidth"] == "128 MiB/s"
    assert table["x-checkpoint-delay"] == "20000 ms          unstable"
    assert table["block-bitmap-mapping"] == "(not set)"
    assert table["x-colo"] == "off               unstable"
    code, out, err = await run_cli("params", "vm1", *options, "--json")
    shown = json.loads(out)
    assert (shown["vm"], shown["parameters"]["downtime-limit"], shown["capabilities"]["events"]) == ("vm1", 300, False)
    assert audit.entries() == []


async def test_params_changes_only_what_differs_and_audits_it(vm1, ctl):
    vm, options, audit = vm1
    code, out, err = await run_cli("params", "vm1", *options, "--set", "downtime-limit=500",
                                   "--set", "max-bandwidth=128M", "--set", "xbzrle-cache-size=32M",
                                   "--cap", "auto-converge=on", "--cap", "events=off")
    assert code == 0, err
    assert out.splitlines() == ["vm1: downtime-limit 300 ms → 500 ms", "vm1: xbzrle-cache-size 64 MiB → 32 MiB",
                                "vm1: auto-converge off → on"]
    parameters, capabilities = await held(ctl, vm)
    assert (parameters["downtime-limit"], parameters["xbzrle-cache-size"], capabilities["auto-converge"]) == (
        500, 32 * MIB, True)
    assert [(e["command"], e["arguments"]) for e in audit.entries()] == [
        ("migrate-set-parameters", {"xbzrle-cache-size": 32 * MIB, "downtime-limit": 500}),
        ("migrate-set-capabilities", {"capabilities": [{"capability": "auto-converge", "state": True}]}),
    ]
    code, out, err = await run_cli("params", "vm1", *options, "--set", "downtime-limit=500", "--json")
    assert code == 0 and json.loads(out)["changes"] == []


async def test_params_refuses_invalid_values_one_line_each_and_sends_nothing(vm1, ctl):
    vm, options, audit = vm1
    code, out, err = await run_cli("params", "vm1", *options, "--set", "downtime-limit=fast",
                                   "--set", "compress-level=10", "--set", "warp=9", "--cap", "multifd=maybe")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "migtui: vm1: --set warp: is not a member here",
        "migtui: vm1: --set compress-level: must be from 0 to 9, not 10",
        "migtui: vm1: --set downtime-limit: expects a whole number of milliseconds, such as 50 (from 0 to 2000000), not 'fast'",
        "migtui: vm1: --cap multifd: expects on or off, not 'maybe'",
        "migtui: vm1: nothing was sent",
    ]
    assert audit.entries() == []
    # migrate --set is checked the same way, before anything is sent.
    code, out, err = await run_cli("migrate", "vm1", "tcp:127.0.0.1:1", *options, "--set", "compress-level=10")
    assert code == 2 and err.splitlines()[0] == "migtui: vm1: --set compress-level: must be from 0 to 9, not 10"
    assert audit.entries() == []
    assert (await held(ctl, vm))[0]["compress-level"] == 1


async def test_params_shows_qemus_refusal_and_puts_back_what_changed(vm1, ctl):
    vm, options, audit = vm1
    code, out, err = await run_cli("params", "vm1", *options, "--set", "downtime-limit=700",
                                   "--cap", "multifd=on", "--cap", "compress=on")
    assert code == 1 and out == ""
    assert err == "migtui: vm1: migrate-set-capabilities: Multifd is not compatible with compress (GenericError)\n"
    parameters, capabilities = await held(ctl, vm)
    assert parameters["downtime-limit"] == 300 and not capabilities["multifd"] and not capabilities["compress"]
    assert [e["outcome"] for e in audit.entries()] == ["ok", "error", "ok"]


async def test_params_read_only_refuses_changes_and_still_shows(vm1, ctl):
    vm, options, audit = vm1
    code, out, err = await run_cli("params", "vm1", *options, "--read-only", "--set", "downtime-limit=5")
    assert code == 1 and "read-only" in err and len(err.splitlines()) == 1
    assert [e["outcome"] for e in audit.entries()] == ["refused"]
    assert (await held(ctl, vm))[0]["downtime-limit"] == 300
    code, out, err = await run_cli("params", "vm1", *options, "--read-only", "--json")
    assert code == 0 and json.loads(out)["parameters"]["downtime-limit"] == 300


async def test_presets_saved_and_applied_from_the_command_line(vm1, ctl, tmp_path):
    vm, options, audit = vm1
    home = tmp_path / "config"
    code, out, err = await run_cli("params", "vm1", *options, "--set", "downtime-limit=900", "--cap",
                                   "auto-converge=on", "--save-preset", "slow", config_home=home)
    assert code == 0, err
    saved = (home / "migtui" / "presets" / "slow.toml").read_text()
    assert "[parameters]\ndowntime-limit = 900\n" in saved and "[capabilities]\nauto-converge = true\n" in saved
    async with ctl(vm) as client:  # someone changes the VM again
        await client.execute("migrate-set-parameters", {"downtime-limit": 300})
        await client.set_capabilities(**{"auto-converge": False})
    code, out, err = await run_cli("params", "vm1", *options, "--preset", "slow", "--set", "max-bandwidth=8M",
                                   config_home=home)
    assert code == 0, err
    assert out.splitlines() == ["vm1: max-bandwidth 128 MiB/s → 8 MiB/s", "vm1: downtime-limit 300 ms → 900 ms",
                                "vm1: auto-converge off → on"]
    # Without --set, --save-preset keeps everything the VM holds.
    code, out, err = await run_cli("params", "vm1", *options, "--save-preset", "all", config_home=home)
    assert code == 0 and "preset 'all' saved" in err
    whole = (home / "migtui" / "presets" / "all.toml").read_text()
    assert "max-bandwidth = 8388608\n" in whole and "x-colo = false\n" in whole
    code, out, err = await run_cli("params", "vm1", *options, "--preset", "missing", config_home=home)
    assert code == 1 and err.startswith("migtui: no preset named 'missing'")


async def test_a_bad_preset_name_is_refused_before_anything_is_sent(vm1, ctl, tmp_path):
    vm, options, audit = vm1
    code, out, err = await run_cli("params", "vm1", *options, "--set", "downtime-limit=777",
                                   "--save-preset", "bad/name", config_home=tmp_path / "config")
    assert (code, out) == (1, "")
    assert err == "migtui: 'bad/name' is no preset name: letters, digits, '.', '_' and '-', at most 64 of them\n"
    assert audit.entries() == [] and (await held(ctl, vm))[0]["downtime-limit"] == 300


async def test_a_preset_folder_that_cannot_be_made_is_refused_before_anything_is_sent(vm1, ctl, tmp_path):
    vm, options, audit = vm1
    in_the_way = tmp_path / "config"
    in_the_way.write_text("a file where the configuration directory should be\n")
    code, out, err = await run_cli("params", "vm1", *options, "--set", "downtime-limit=777",
                                   "--save-preset", "slow", config_home=in_the_way)
    assert (code, out) == (1, "")
    assert err == (f"migtui: cannot save preset 'slow' to {in_the_way}/migtui/presets/slow.toml: "
                   "Not a directory\n")
    assert audit.entries() == [] and (await held(ctl, vm))[0]["downtime-limit"] == 300


async def test_a_preset_that_fails_to_be_written_does_not_hide_what_was_changed(vm1, ctl, tmp_path):
    vm, options, audit = vm1
    home = tmp_path / "config"
    (home / "migtui" / "presets" / "slow.toml").mkdir(parents=True)  # only the final rename can fail
    code, out, err = await run_cli("params", "vm1", *options, "--set", "downtime-limit=777",
                                   "--save-preset", "slow", config_home=home)
    assert code == 1 and out == "vm1: downtime-limit 300 ms → 777 ms\n"
    assert err.startswith("migtui: cannot save preset 'slow' to ") and len(err.splitlines()) == 1
    assert (await held(ctl, vm))[0]["downtime-limit"] == 777


async def test_a_pair_without_equals_is_refused_like_any_other_value(vm1, ctl):
    vm, options, audit = vm1
    code, out, err = await run_cli("params", "vm1", *options, "--set", "downtime-limit")
    assert (code, err) == (2, "migtui: --set 'downtime-limit': expected NAME=VALUE (nothing was sent)\n")
    code, out, err = await run_cli("migrate", "vm1", "tcp:127.0.0.1:1", *options, "--cap", "postcopy-ram")
    assert (code, err) == (2, "migtui: --cap 'postcopy-ram': expected NAME=VALUE (nothing was sent)\n")
    assert audit.entries() == []


async def test_a_preset_with_characters_outside_the_bmp_reads_back(vm1, ctl, tmp_path):
    vm, options, audit = vm1
    home = tmp_path / "config"
    code, out, err = await run_cli("params", "vm1", *options, "--set", "tls-hostname=migration-😀.example",
                                   "--save-preset", "emoji", config_home=home)
    assert code == 0, err
    assert 'tls-hostname = "migration-😀.example"' in (home / "migtui" / "presets" / "emoji.toml").read_text()
    async with ctl(vm) as client:
        await client.execute("migrate-set-parameters", {"tls-hostname": ""})
    code, out, err = await run_cli("params", "vm1", *options, "--preset", "emoji", config_home=home)
    assert code == 0, err
    assert (await held(ctl, vm))[0]["tls-hostname"] == "migration-😀.example"
