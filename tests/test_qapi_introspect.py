"""Live introspection as a pure function, and VMs newer (or older) than every bundled release."""

from __future__ import annotations

from pathlib import Path

import pytest

from migtui.qapi import (
    FieldKind, QemuVersion, build_model, capability_values, field_specs, introspect, live_schema, load_release,
    load_schema, release_for,
)  # fmt: skip
from migtui.qapi.diff import diff_migration


def builtin(name: str, json_type: str) -> dict:
    return {"name": name, "meta-type": "builtin", "json-type": json_type}


def array(element: str) -> dict:
    return {"name": f"[{element}]", "meta-type": "array", "element-type": element}


def optional(name: str, type_: str, **more) -> dict:
    return {"name": name, "type": type_, "default": None, **more}


# What a hypothetical QEMU 11.0 could answer: numbered types, a member and a
# capability no bundled release knows, a new enum value, a new enum.
SCHEMA_11 = [
    builtin("str", "string"), builtin("int", "int"), builtin("bool", "boolean"), builtin("null", "null"),
    {"name": "0", "meta-type": "object", "members": []},
    {"name": "migrate-set-parameters", "meta-type": "command", "arg-type": "7", "ret-type": "0"},
    {"name": "7", "meta-type": "object", "members": [
        optional("downtime-limit", "int"),
        optional("tls-creds", "12"),
        optional("multifd-compression", "13"),
        optional("block-bitmap-mapping", "[14]"),
        optional("x-new-knob", "int", features=["unstable"]),
        optional("new-mode", "15"),
        optional("new-hosts", "[str]"),
    ]},
    {"name": "12", "meta-type": "alternate", "members": [{"type": "str"}, {"type": "null"}]},
    {"name": "13", "meta-type": "enum", "values": ["none", "zlib", "lz5"],
     "members": [{"name": "none"}, {"name": "zlib"}, {"name": "lz5"}]},
    array("14"),
    {"name": "14", "meta-type": "object", "members": [
        {"name": "node-name", "type": "str"}, {"name": "alias", "type": "str"}, {"name": "bitmaps", "type": "[16]"},
    ]},
    array("16"),
    {"name": "16", "meta-type": "object", "members": [{"name": "name", "type": "str"}, {"name": "alias", "type": "str"}]},
    {"name": "15", "meta-type": "enum", "values": ["calm", "brisk"]},
    array("str"),
    {"name": "migrate-set-capabilities", "meta-type": "command", "arg-type": "20", "ret-type": "0"},
    {"name": "20", "meta-type": "object", "members": [{"name": "capabilities", "type": "[21]"}]},
    array("21"),
    {"name": "21", "meta-type": "object", "members": [
        {"name": "capability", "type": "22"}, {"name": "state", "type": "bool"},
    ]},
    {"name": "22", "meta-type": "enum", "values": ["xbzrle", "events", "super-fast"],
     "members": [{"name": "xbzrle"}, {"name": "events"}, {"name": "super-fast", "features": ["unstable"]}]},
    {"name": "MIGRATION", "meta-type": "event", "arg-type": "30"},
    {"name": "30", "meta-type": "object", "members": [{"name": "status", "type": "31"}]},
    {"name": "31", "meta-type": "enum", "values": ["none", "active", "completed"]},
    {"name": "unrelated-command", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
]  # fmt: skip
VERSION_11 = {"qemu": {"major": 11, "minor": 0, "micro": 0}, "package": "v11.0.0"}


def by_name(specs):
    return {spec.name: spec for spec in specs}


def test_introspection_walks_from_command_and_event_names():
    schema = introspect(SCHEMA_11, VERSION_11)
    assert schema.version == QemuVersion(11, 0, 0)
    members = schema.members("migrate-set-parameters")
    assert [(m.name, m.type, m.optional) for m in members] == [
        ("downtime-limit", "int", True), ("tls-creds", "12", True), ("multifd-compression", "13", True),
        ("block-bitmap-mapping", ["14"], True), ("x-new-knob", "int", True), ("new-mode", "15", True),
        ("new-hosts", ["str"], True),
    ]  # fmt: skip
    assert schema.member("migrate-set-parameters", "x-new-knob").features == ("unstable",)
    assert all(m.source == "live" and m.doc is None for m in members)
    assert [v.name for v in capability_values(schema)] == ["xbzrle", "events", "super-fast"]
    assert "MIGRATION" in schema and "unrelated-command" not in schema


def test_a_vm_newer_than_every_release_still_yields_fields_without_docs():
    assert release_for(QemuVersion(11, 0, 0)) == QemuVersion(10, 0, 0)
    schema = live_schema(SCHEMA_11, VERSION_11, origin="VM future")
    assert schema.release == QemuVersion(10, 0, 0)
    assert any("newer than the newest bundled release" in note for note in schema.notes)
    specs = by_name(field_specs(schema, "migrate-set-parameters"))
    assert list(specs) == [
        "downtime-limit", "tls-creds", "multifd-compression", "block-bitmap-mapping", "x-new-knob", "new-mode",
        "new-hosts",
    ]  # fmt: skip
    # Known members: width, name and doc from the 10.0 files.
    downtime = specs["downtime-limit"]
    assert (downtime.type, downtime.source, downtime.maximum) == ("uint64", "files", 2_000_000)
    assert downtime.doc.startswith("set maximum tolerated downtime")
    assert (specs["tls-creds"].type, specs["tls-creds"].kind) == ("StrOrNull", FieldKind.STR_OR_NULL)
    assert specs["block-bitmap-mapping"].type == ["BitmapMigrationNodeAlias"]
    # The VM decides the enum's values; the files explain those they know.
    compression = specs["multifd-compression"]
    assert compression.type == "MultiFDCompression"
    assert [(v.name, v.doc is not None) for v in compression.values] == [("none", True), ("zlib", True), ("lz5", False)]
    # Members only the VM knows: a field from the live type, no doc.
    knob = specs["x-new-knob"]
    assert (knob.type, knob.kind, knob.doc, knob.since, knob.source) == ("int", FieldKind.INT, None, None, "live")
    assert (knob.minimum, knob.maximum, knob.unstable) == (-(2**63), 2**63 - 1, True)
    assert (specs["new-mode"].kind, specs["new-mode"].value_names, specs["new-mode"].doc) == (
        FieldKind.ENUM, ("calm", "brisk"), None,
    )  # fmt: skip
    assert (specs["new-hosts"].kind, specs["new-hosts"].type) == (FieldKind.LIST_STR, ["str"])
    capabilities = {v.name: v for v in capability_values(schema)}
    assert capabilities["xbzrle"].doc.startswith("Migration supports xbzrle")
    assert (capabilities["super-fast"].doc, capabilities["super-fast"].features) == (None, ("unstable",))
    model = build_model(tuple(specs.values()))
    assert model.to_arguments({"x-new-knob": "-5", "new-mode": "brisk", "multifd-compression": "lz5"}) == {
        "multifd-compression": "lz5", "x-new-knob": -5, "new-mode": "brisk",
    }  # fmt: skip


def test_a_vm_older_than_every_release_gets_fields_without_docs():
    schema = live_schema(SCHEMA_11, {"qemu": {"major": 3, "minor": 1, "micro": 0}})
    assert schema.release is None and any("no docs" in note for note in schema.notes)
    specs = by_name(field_specs(schema, "migrate-set-parameters"))
    assert specs["downtime-limit"].type == "int" and specs["downtime-limit"].doc is None
    assert specs["tls-creds"].kind is FieldKind.STR_OR_NULL


@pytest.mark.parametrize(
    ("version", "release"),
    [((7, 2, 22), (7, 2, 0)), ((8, 0, 50), (8, 0, 0)), ((9, 2, 3), (9, 2, 0)), ((4, 2, 1), (4, 2, 0)), ((4, 1, 0), None)],
)
def test_the_release_for_a_vm_is_the_newest_not_newer(version, release):
    found = release_for(QemuVersion(*version))
    assert found == (QemuVersion(*release) if release else None)


def test_a_member_whose_live_type_disagrees_with_the_files_keeps_the_live_type():
    changed = [dict(entry) for entry in SCHEMA_11]
    args = next(entry for entry in changed if entry["name"] == "7")
    args["members"] = [optional("downtime-limit", "str")]
    specs = by_name(field_specs(live_schema(changed, VERSION_11), "migrate-set-parameters"))
    assert (specs["downtime-limit"].kind, specs["downtime-limit"].doc, specs["downtime-limit"].source) == (
        FieldKind.STR, None, "live",
    )  # fmt: skip


def test_a_schema_file_newer_than_every_release_yields_fields_without_docs(tmp_path: Path):
    path = tmp_path / "migration.json"
    path.write_text(
        "{ 'alternate': 'StrOrNull', 'data': { 's': 'str', 'n': 'null' } }\n"
        "{ 'enum': 'WarpMode', 'data': [ 'off', 'on' ] }\n"
        "{ 'struct': 'MigrateSetParameters',\n"
        "  'data': { '*downtime-limit': 'uint64',\n"
        "            '*warp-factor': { 'type': 'uint16', 'features': [ 'unstable' ] },\n"
        "            '*warp-mode': 'WarpMode',\n"
        "            '*tls-creds': 'StrOrNull' } }\n"
        "{ 'command': 'migrate-set-parameters', 'boxed': true, 'data': 'MigrateSetParameters' }\n"
    )
    specs = by_name(field_specs(load_schema(path), "migrate-set-parameters"))
    assert list(specs) == ["downtime-limit", "warp-factor", "warp-mode", "tls-creds"]
    assert all(spec.doc is None and spec.since is None for spec in specs.values())
    assert (specs["warp-factor"].maximum, specs["warp-factor"].unstable) == (65535, True)
    assert specs["downtime-limit"].maximum == 2_000_000  # the reviewed table still applies
    model = build_model(tuple(specs.values()))
    assert model.to_arguments({"warp-factor": 9, "warp-mode": "on", "tls-creds": None}) == {
        "warp-factor": 9, "warp-mode": "on", "tls-creds": None,
    }  # fmt: skip


def test_diff_between_a_release_and_a_newer_vm():
    changes = diff_migration(load_release(QemuVersion(10, 0, 0)), live_schema(SCHEMA_11, VERSION_11))
    seen = {(c.where, c.name, c.what) for c in changes}
    assert ("migrate-set-parameters", "x-new-knob", "added") in seen
    assert ("migrate-set-parameters", "direct-io", "removed") in seen
    assert ("capabilities", "super-fast", "added") in seen
    assert ("multifd-compression values", "lz5", "added") in seen
    # Same member, same width as far as the VM can tell: no "retyped".
    assert not any(c.name == "downtime-limit" for c in changes)
