"""Reading, validating, applying and sharing parameters: the engine under the editor and the CLI.

The first tests need no VM (requests, change sets, units, preset files);
the others run against real QEMU 7.2 lab VMs.
"""

from __future__ import annotations


import pytest

from migtui.errors import ConfigError, UsageError
from migtui.inventory import VMEntry
from migtui.params import apply_changes, apply_to_many, list_presets, load_preset, read_settings, save_preset
from migtui.params.apply import SettingsRefused
from migtui.params.forms import VMForms, forms_of
from migtui.params.presets import Preset, presets_dir
from migtui.params.settings import VMSettings
from migtui.qapi import FieldErrors, QemuVersion, load_release
from migtui.qapi.human_values import human_value
from migtui.qmp.audit import AuditLog
from migtui.qmp.errors import ReadOnlyRefusal
from migtui.qmp.fleet import Fleet
from migtui.qmp.gate import CommandGate
from migtui.qmp.session import VMSession
from waiting import until

MIB = 1024 * 1024
DEFAULTS_7_2 = {"downtime-limit": 300, "max-bandwidth": 128 * MIB, "tls-creds": "", "announce-step": 100,
                "multifd-compression": "none", "compress-level": 1}


@pytest.fixture(scope="module")
def settings_7_2() -> VMSettings:
    """What a QEMU 7.2 VM with its defaults would report, without a VM."""
    return VMSettings("vm1", VMForms.from_schema(load_release(QemuVersion(7, 2, 0))), dict(DEFAULTS_7_2),
                      {"auto-converge": False, "multifd": False})


# -- no VM ------------------------------------------------------------------


def test_text_as_typed_becomes_a_validated_request(settings_7_2):
    request = settings_7_2.request(
        {"max-bandwidth": "64M", "downtime-limit": "500", "tls-creds": "null", "block-bitmap-mapping": "[]"},
        {"auto-converge": "on", "multifd": False})
    assert request.parameters == {"max-bandwidth": 64 * MIB, "downtime-limit": 500, "tls-creds": None,
                                  "block-bitmap-mapping": []}
    assert request.capabilities == {"auto-converge": True, "multifd": False}


def test_every_refused_value_is_named_with_its_reason(settings_7_2):
    with pytest.raises(FieldErrors) as caught:
        settings_7_2.request({"downtime-limit": "fast", "compress-level": "10", "block-bitmap-mapping": "[{",
                              "warp-factor": "9"}, {"multifd": "maybe", "teleport": "on"})
    assert caught.value.errors == {
        "block-bitmap-mapping": "expects a list of objects as JSON (Expecting property name enclosed in double "
                                "quotes at column 3)",
        "warp-factor": "is not a member here",
        "compress-level": "must be from 0 to 9, not 10",
        "downtime-limit": "expects a whole number of milliseconds, such as 50 (from 0 to 2000000), not 'fast'",
        "multifd": "expects on or off, not 'maybe'",
        "teleport": "is not a migration capability of this QEMU",
    }


def test_a_change_set_holds_only_what_differs_with_old_and_new_in_human_units(settings_7_2):
    request = settings_7_2.request({"max-bandwidth": "128M", "downtime-limit": 2000, "announce-step": "100",
                                    "block-bitmap-mapping": []}, {"auto-converge": True, "multifd": False})
    changes = settings_7_2.changes(request)
    assert changes.parameters == {"downtime-limit": 2000, "block-bitmap-mapping": []}
    assert changes.capabilities == {"auto-converge": True}
    assert [c.text for c in changes.changes] == [
        "downtime-limit 300 ms → 2000 ms",
        "block-bitmap-mapping (not set) → []",
        "auto-converge off → on",
    ]


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("max-bandwidth", 134217728, "128 MiB/s"), ("max-bandwidth", 1536 * MIB, "1.5 GiB/s"),
    ("xbzrle-cache-size", 64 * MIB, "64 MiB"), ("downtime-limit", 300, "300 ms"), ("announce-initial", 50, "50 ms"),
    ("announce-rounds", 5, "5 packets"), ("cpu-throttle-initial", 20, "20%"), ("tls-creds", "", "''"),
    ("tls-creds", None, "null"), ("multifd-compression", "zstd", "zstd"), ("block-incremental", True, "on"),
    ("max-postcopy-bandwidth", 0, "0 (unlimited)"), ("max-bandwidth", 8796093022207 * MIB, "unlimited"),
    ("max-bandwidth", 0, "0 (unlimited)"),
])
def test_values_are_shown_in_human_units(settings_7_2, name, value, shown):
    assert human_value(settings_7_2.forms.parameter(name), value) == shown


def test_presets_are_toml_files_in_the_config_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    mapping = [{"node-name": "disk0", "alias": "d0", "bitmaps": [{"name": "b0", "alias": "a0",
                                                                 "transform": {"persistent": True}}]}]
    preset = Preset("slow-link", {"max-bandwidth": 32 * MIB, "tls-creds": None, "tls-hostname": 'a "b"',
                                  "block-bitmap-mapping": mapping}, {"auto-converge": True})
    path = save_preset(preset, comment="saved from vm1, QEMU 7.2.22")
    assert path == tmp_path / "migtui" / "presets" / "slow-link.toml" == presets_dir() / "slow-link.toml"
    text = path.read_text()
    assert text.startswith('# migtui preset "slow-link" (saved from vm1, QEMU 7.2.22)\n\n[parameters]\n')
    assert "max-bandwidth = 33554432\n" in text and 'tls-creds = "null"\n' in text
    loaded = load_preset("slow-link")
    assert loaded.capabilities == {"auto-converge": True}
    assert loaded.parameters == {**preset.parameters, "tls-creds": "null"}  # TOML has no null
    assert list_presets() == ["slow-link"]
    with pytest.raises(UsageError, match="no preset named 'fast'"):
        load_preset("fast")
    with pytest.raises(UsageError, match="is no preset name"):
        save_preset(Preset("../etc/passwd"))
    path.write_text("[parameters]\ndowntime-limit = \n")
    with pytest.raises(ConfigError, match=str(path)):
        load_preset("slow-link")
    path.write_text("[capabilities]\nmultifd = 'yes'\n")
    with pytest.raises(ConfigError, match="must be true or false"):
        load_preset("slow-link")


@pytest.mark.qemu
async def test_applying_reads_the_vm_again_and_a_refusal_puts_back_what_changed(lab, ctl, tmp_path):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    audit = AuditLog(tmp_path / "audit.jsonl")
    async with VMSession("vm1", str(vm.qmp_path), CommandGate(audit)) as session:
        settings = await read_settings(session)
        assert (settings.qemu[:3], len(settings.specs), len(settings.capability_values)) == ("7.2", 27, 21)
        assert await forms_of(session) is settings.forms, "the schema is asked once per QEMU"
        request = settings.request({"downtime-limit": "500", "xbzrle-cache-size": "32M"}, {"auto-converge": "on"})
        applied = await apply_changes(session, settings, settings.changes(request))
        assert applied.text == "downtime-limit 300 ms → 500 ms; xbzrle-cache-size 64 MiB → 32 MiB; auto-converge off → on"
        assert applied.settings.parameters["downtime-limit"] == 500 and applied.settings.capabilities["auto-converge"]
        assert applied.not_held == {}
        # Valid for the schema, refused by QEMU after the parameters were set: they are put back.
        settings = applied.settings
        bad = settings.changes(settings.request({"downtime-limit": 800}, {"multifd": True, "compress": True}))
        with pytest.raises(SettingsRefused) as caught:
            await apply_changes(session, settings, bad)
        assert (caught.value.desc, caught.value.field) == ("Multifd is not compatible with compress", None)
        # A refusal that names a member is mapped to it (QEMU spells it max_cpu_throttle).
        with pytest.raises(SettingsRefused) as caught:
            await apply_changes(session, settings, settings.changes(settings.request({"max-cpu-throttle": 10})))
        assert caught.value.field == "max-cpu-throttle"
        # What QEMU accepts but does not hold is told.
        zlib = await apply_changes(session, settings, settings.changes(settings.request({"multifd-zlib-level": 5})))
        assert zlib.not_held == {"multifd-zlib-level": 1}
    async with ctl(vm) as client:
        held = await client.execute("query-migrate-parameters")
        caps = {c["capability"]: c["state"] for c in await client.execute("query-migrate-capabilities")}
    assert (held["downtime-limit"], held["xbzrle-cache-size"], held["max-cpu-throttle"]) == (500, 32 * MIB, 99)
    assert caps["auto-converge"] and not caps["multifd"] and not caps["compress"]
    assert [(e["command"], e["outcome"]) for e in audit.entries()] == [
        ("migrate-set-parameters", "ok"), ("migrate-set-capabilities", "ok"),
        ("migrate-set-parameters", "ok"), ("migrate-set-capabilities", "error"), ("migrate-set-parameters", "ok"),
        ("migrate-set-parameters", "error"),
        ("migrate-set-parameters", "ok"),
    ]


@pytest.mark.qemu
async def test_read_only_refuses_before_anything_is_sent(lab, ctl, tmp_path):
    vm = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    audit = AuditLog(tmp_path / "audit.jsonl")
    async with VMSession("vm1", str(vm.qmp_path), CommandGate(audit, read_only=True)) as session:
        settings = await read_settings(session)
        with pytest.raises(ReadOnlyRefusal):
            await apply_changes(session, settings, settings.changes(settings.request({"downtime-limit": 5})))
    assert [e["outcome"] for e in audit.entries()] == ["refused"]
    async with ctl(vm) as client:
        assert (await client.execute("query-migrate-parameters"))["downtime-limit"] == 300


@pytest.mark.qemu
async def test_bulk_apply_gives_a_result_per_vm_and_one_failure_stops_no_other(lab, ctl, tmp_path):
    vm1 = await lab.start_source("vm1", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    vm2 = await lab.start_source("vm2", mem_mib=128, dirty_mib=4, dirty_rate_mib_s=0)
    async with ctl(vm2) as client:  # vm2 compresses: QEMU will refuse multifd there
        await client.execute("migrate-set-capabilities", {"capabilities": [{"capability": "compress", "state": True}]})
    entries = [VMEntry(name=vm.name, qmp=str(vm.qmp_path)) for vm in (vm1, vm2)]
    entries.append(VMEntry(name="gone", qmp=str(tmp_path / "gone.qmp")))
    fleet = Fleet(entries, CommandGate(AuditLog(tmp_path / "audit.jsonl")))
    async with fleet:
        await fleet.wait_connected(10)
        await until(lambda: fleet.states["vm1"].parameters and fleet.states["vm2"].capabilities, 10,
                    "both VMs' settings read")
        results = await apply_to_many(fleet, fleet.sessions, {"downtime-limit": "450", "max-bandwidth": "16M"},
                                      {"multifd": "on"})
        # The fleet read vm1 again before answering: its state says 450 already.
        again = await apply_to_many(fleet, ["vm1"], {"downtime-limit": 450}, {})
        invalid = await apply_to_many(fleet, ["vm1"], {"downtime-limit": -1}, {})
    assert list(results) == ["vm1", "vm2", "gone"]
    assert results["vm1"].ok and results["vm1"].summary == (
        "max-bandwidth 128 MiB/s → 16 MiB/s; downtime-limit 300 ms → 450 ms; multifd off → on")  # schema order
    assert not results["vm2"].ok
    assert results["vm2"].failure == "vm2: migrate-set-capabilities: Multifd is not compatible with compress (GenericError)"
    assert not results["gone"].ok and results["gone"].failure.startswith("gone: not connected")
    assert again["vm1"].ok and again["vm1"].summary == "nothing to change"
    assert invalid["vm1"].errors == {"downtime-limit": "must be from 0 to 2000000, not -1"}
    async with ctl(vm1) as one, ctl(vm2) as two:
        assert (await one.execute("query-migrate-parameters"))["downtime-limit"] == 450
        assert (await two.execute("query-migrate-parameters"))["downtime-limit"] == 300, "vm2 put back"


def test_a_preset_that_cannot_be_written_is_a_clear_error(tmp_path, monkeypatch):
    from migtui.errors import ConfigError
    from migtui.params.presets import Preset, save_preset

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    with pytest.raises(ConfigError, match="cannot save preset 'fast'"):
        save_preset(Preset("fast", {"max-bandwidth": 1 << 30}, {}))
