"""The schema engine against a real QEMU 7.2 (``-machine none``, TCG).

Parameters can be set with no migration running, so one bare QEMU is enough
to check that what a generated model sends is what QEMU accepts and reports
back. The VM has two QMP sockets: one for the test's own client, one for
migtui (only one client can use a QMP socket).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from qemu.qmp import ExecuteError, QMPClient

from migtui.qapi import (
    FieldErrors, QemuVersion, build_model, capability_values, field_specs, introspect, live_schema, load_release,
    member_for_error,
)  # fmt: skip
from migtui.qapi.fetch import fetch_introspection
from migtui.qapi.prose_ranges import PROSE_RANGES
from waiting import wait_for

QEMU = shutil.which("qemu-system-x86_64")
pytestmark = [pytest.mark.qemu, pytest.mark.skipif(QEMU is None, reason="needs qemu-system-x86_64")]
TIMEOUT = 10.0

# A valid value for every member QEMU 7.2 has, as a user would type it, and
# what query-migrate-parameters then reports. Values differ from the defaults
# so that reading them back proves they were applied.
MAPPING = [{"node-name": "disk0", "alias": "d0", "bitmaps": [{"name": "b0", "alias": "a0", "transform": {"persistent": True}}]}]
VALID = {
    "announce-initial": ("60", 60),
    "announce-max": (600, 600),
    "announce-rounds": (6, 6),
    "announce-step": (110, 110),
    "compress-level": (3, 3),
    "compress-threads": (4, 4),
    "compress-wait-thread": ("false", False),
    "decompress-threads": (3, 3),
    "throttle-trigger-threshold": (60, 60),
    "cpu-throttle-initial": (30, 30),
    "cpu-throttle-increment": (15, 15),
    "cpu-throttle-tailslow": (True, True),
    "tls-creds": ("creds0", "creds0"),
    "tls-hostname": ("dst.example", "dst.example"),
    "tls-authz": ("authz0", "authz0"),
    "max-bandwidth": ("64M", 64 * 2**20),
    "downtime-limit": ("500", 500),
    "x-checkpoint-delay": (15000, 15000),
    "block-incremental": (True, True),
    "multifd-channels": (4, 4),
    "xbzrle-cache-size": ("32M", 32 * 2**20),
    "max-postcopy-bandwidth": ("1G", 2**30),
    "max-cpu-throttle": (90, 90),
    "multifd-compression": ("zlib", "zlib"),
    # Measured: QEMU 7.2 accepts both levels but keeps reporting (and using)
    # its default of 1; later releases apply them.
    "multifd-zlib-level": (5, 1),
    "multifd-zstd-level": (7, 1),
    "block-bitmap-mapping": (MAPPING, MAPPING),
}

INVALID = [
    {"downtime-limit": "fast"},
    {"downtime-limit": 2_000_001},
    {"compress-level": 10},
    {"multifd-channels": 0},
    {"max-bandwidth": "12Q"},
    {"multifd-compression": "lz4"},
    {"tls-creds": 7},
    {"cpu-throttle-tailslow": "perhaps"},
    {"x-checkpoint-delay": 2**32},
    {"block-bitmap-mapping": [{"node-name": "disk0"}]},
]


@pytest.fixture
def qemu_vm():
    """A bare QEMU with two QMP sockets; always killed, also when a test fails."""
    folder = Path(tempfile.mkdtemp(prefix="mqapi-", dir="/tmp"))  # short: unix socket paths are limited
    test_socket, tool_socket = folder / "test.qmp", folder / "tool.qmp"
    process = subprocess.Popen(
        [QEMU, "-accel", "tcg", "-machine", "none", "-display", "none", "-nodefaults", "-no-user-config",
         "-qmp", f"unix:{test_socket},server=on,wait=off", "-qmp", f"unix:{tool_socket},server=on,wait=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        def listening() -> bool:
            if process.poll() is not None:
                pytest.fail(f"QEMU exited early: {process.stderr.read().decode(errors='replace')}")
            return test_socket.exists() and tool_socket.exists()

        wait_for(listening, TIMEOUT, "QEMU's QMP sockets")
        yield test_socket, tool_socket
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)
        process.stderr.close()
        shutil.rmtree(folder, ignore_errors=True)


class RecordingClient:
    """The test's QMP client, remembering every command it sends."""

    def __init__(self, client: QMPClient) -> None:
        self.client = client
        self.sent: list[tuple[str, dict | None]] = []

    async def execute(self, command: str, arguments: dict | None = None):
        self.sent.append((command, arguments))
        return await asyncio.wait_for(self.client.execute(command, arguments), TIMEOUT)

    async def parameters(self) -> dict:
        return dict(await asyncio.wait_for(self.client.execute("query-migrate-parameters"), TIMEOUT))


@pytest.fixture
async def qmp(qemu_vm):
    client = QMPClient("qapi-test")
    await asyncio.wait_for(client.connect(str(qemu_vm[0])), TIMEOUT)
    try:
        yield RecordingClient(client)
    finally:
        try:
            await client.disconnect()
        except Exception:
            pass


@pytest.fixture
async def live(qemu_vm):
    """What migtui learns from the VM: its schema and version, fetched over the second socket."""
    schema_json, version = await fetch_introspection(str(qemu_vm[1]), timeout=TIMEOUT)
    if QemuVersion.from_query_version(version)[:2] != (7, 2):
        pytest.skip(f"these facts are about QEMU 7.2, not {version['qemu']}")
    return schema_json, version


async def test_introspection_gives_27_parameters_and_21_capabilities(live):
    schema = introspect(*live)
    assert len(schema.members("migrate-set-parameters")) == 27
    assert len(capability_values(schema)) == 21
    # The VM numbers its types and shows every width as int.
    assert {m.type for m in schema.members("migrate-set-parameters") if m.name.endswith("-level")} == {"int"}


async def test_field_specs_take_widths_and_docs_from_the_7_2_files(live):
    schema = live_schema(*live, origin="VM test")
    assert schema.release == QemuVersion(7, 2, 0)
    specs = {spec.name: spec for spec in field_specs(schema, "migrate-set-parameters")}
    assert len(specs) == 27 and all(spec.source == "files" for spec in specs.values())
    assert specs["downtime-limit"].doc == (
        "set maximum tolerated downtime for migration. maximum downtime in milliseconds (Since 2.8)"
    )
    assert (specs["compress-level"].type, specs["max-bandwidth"].type) == ("uint8", "size")
    assert specs["tls-authz"].doc is None  # undocumented in the 7.2 files
    files = load_release(QemuVersion(7, 2, 0))
    for name, spec in specs.items():
        assert spec.doc == files.member("MigrateSetParameters", name).doc, name
    capabilities = {value.name: value for value in capability_values(schema)}
    assert capabilities["events"].doc.startswith("generate events for each migration state change")
    assert capabilities["x-colo"].features == ("unstable",)


async def test_every_parameter_set_through_a_model_is_accepted_and_read_back(live, qmp):
    model = build_model(field_specs(live_schema(*live), "migrate-set-parameters"))
    assert set(VALID) == {spec.name for spec in model.field_specs}, "a value for every member"
    refused, differs = {}, {}
    for name, (typed, reported) in VALID.items():
        arguments = model.to_arguments({name: typed}, current=await qmp.parameters())
        assert list(arguments) == [name]
        try:
            await qmp.execute("migrate-set-parameters", arguments)
        except ExecuteError as error:
            refused[name] = str(error)
            continue
        now = (await qmp.parameters()).get(name)
        if now != reported:
            differs[name] = (now, reported)
    assert refused == {} and differs == {}


async def test_invalid_values_are_refused_by_the_model_and_nothing_is_sent(live, qmp):
    model = build_model(field_specs(live_schema(*live), "migrate-set-parameters"))
    before = await qmp.parameters()
    qmp.sent.clear()
    for values in INVALID:
        with pytest.raises(FieldErrors) as caught:
            await qmp.execute("migrate-set-parameters", model.to_arguments(values, current=before))
        assert list(caught.value.errors) == list(values)
    assert qmp.sent == []
    assert await qmp.parameters() == before


async def test_a_refusal_by_qemu_is_shown_at_its_field(live, qmp):
    specs = field_specs(live_schema(*live), "migrate-set-parameters")
    model = build_model(specs)
    # Valid for the model, refused by QEMU: below cpu-throttle-initial, and not a power of two.
    for values in ({"max-cpu-throttle": 10}, {"xbzrle-cache-size": 4097}):
        with pytest.raises(ExecuteError) as caught:
            await qmp.execute("migrate-set-parameters", model.to_arguments(values))
        assert member_for_error(caught.value.error.error.desc, [s.name for s in specs]) == next(iter(values))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MIGTUI_CONFIG="/nonexistent/inventory.toml")
    return subprocess.run(
        [sys.executable, "-m", "migtui", "schema", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_the_cli_reads_a_live_vm(qemu_vm):
    address = f"vm1={qemu_vm[1]}"
    shown = run_cli("--vm", address, "vm1", "--type", "migrate-set-parameters", "--json")
    assert shown.returncode == 0, shown.stderr
    described = json.loads(shown.stdout)
    assert (described["kind"], len(described["members"])) == ("command", 27)
    assert described["members"][16]["name"] == "downtime-limit"
    assert described["members"][16]["type"] == "uint64"
    summary = run_cli("--vm", address)
    assert summary.returncode == 0, summary.stderr
    first = summary.stdout.splitlines()[0]
    assert first.startswith("VM vm1 (QEMU 7.2.") and first.endswith("docs from release 7.2.0")
    assert "migration parameters (migrate-set-parameters): 27 (1 unstable)" in summary.stdout
    assert "migration capabilities: 21 (2 unstable)" in summary.stdout
    same = run_cli("--vm", address, "--diff", "7.2", "vm1")
    assert same.returncode == 0, same.stderr
    assert same.stdout.splitlines()[1:] == ["  none"]


def test_the_cli_reports_an_unreachable_vm_in_one_line(tmp_path):
    result = run_cli("--vm", f"gone={tmp_path / 'missing.qmp'}", "--timeout", "2")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert result.stdout == "" and result.stderr.startswith("migtui: gone: QMP socket ") and "does not exist" in result.stderr


def test_the_cli_finds_a_vm_in_the_inventory(qemu_vm, tmp_path):
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(f'[[vm]]\nname = "web-1"\nqmp = "{qemu_vm[1]}"\n')
    shown = run_cli("--config", str(inventory), "web-1", "--type", "MigrateSetParameters", "--json")
    assert shown.returncode == 0, shown.stderr
    described = json.loads(shown.stdout)
    assert (described["name"], described["kind"], described["since"]) == ("MigrateSetParameters", "struct", "2.4")
    members = {member["name"]: member for member in described["members"]}
    assert len(members) == 27
    assert members["max-bandwidth"] == {
        "name": "max-bandwidth", "type": "size", "optional": True, "features": [], "since": "2.8",
        "doc": "to set maximum speed for migration. maximum speed in bytes per second. (Since 2.8)",
    }  # fmt: skip
    missing = run_cli("--config", str(inventory), "web-2")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith("migtui: 'web-2' is not a schema file, a bundled release")


async def test_the_measured_prose_ranges_are_what_qemu_7_2_enforces(live, qmp):
    members = {m.name for m in introspect(*live).members("migrate-set-parameters")}
    measured = {name: r for name, r in PROSE_RANGES.items() if "measured" in r.evidence and name in members}
    assert len(measured) == 13
    # max-cpu-throttle may not go below cpu-throttle-initial: let it reach its own minimum.
    await qmp.execute("migrate-set-parameters", {"cpu-throttle-initial": 1})
    wrong = []
    for name, allowed in measured.items():
        for value, accepted in ((allowed.minimum, True), (allowed.maximum, True),
                                (allowed.minimum - 1, False), (allowed.maximum + 1, False)):  # fmt: skip
            try:
                await qmp.execute("migrate-set-parameters", {name: value})
                taken = True
            except ExecuteError:
                taken = False
            if taken != accepted:
                wrong.append((name, value, taken))
        if name == "cpu-throttle-initial":
            await qmp.execute("migrate-set-parameters", {name: 1})
    assert wrong == []
