"""Every bundled QEMU release parses, and says what the files say.

The expectations do not come from the reader: the member lists are pulled
from the raw file text with a plain regular expression (a second, much
simpler method), and the counts and notable facts per release below were
counted by hand from the files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from migtui.qapi import bundled_releases, capability_values, field_specs, load_release
from migtui.qapi.bundled import schemas_dir
from migtui.qapi.version import QemuVersion

RELEASES = [
    "4.2.0", "5.0.0", "5.1.0", "5.2.0", "6.0.0", "6.1.0", "6.2.0", "7.0.0", "7.1.0",
    "7.2.0", "8.0.0", "8.1.0", "8.2.0", "9.0.0", "9.1.0", "9.2.0", "10.0.0",
]  # fmt: skip

# Counted by hand: MigrateSetParameters members, MigrationCapability values.
MEMBER_COUNTS = {
    "4.2.0": 21, "5.0.0": 25, "5.1.0": 26, "5.2.0": 27, "6.0.0": 27, "6.1.0": 27, "6.2.0": 27,
    "7.0.0": 27, "7.1.0": 27, "7.2.0": 27, "8.0.0": 27, "8.1.0": 29, "8.2.0": 31, "9.0.0": 32,
    "9.1.0": 28, "9.2.0": 29, "10.0.0": 29,
}  # fmt: skip
CAPABILITY_COUNTS = {
    "4.2.0": 18, "5.0.0": 18, "5.1.0": 18, "5.2.0": 18, "6.0.0": 19, "6.1.0": 19, "6.2.0": 19,
    "7.0.0": 19, "7.1.0": 21, "7.2.0": 21, "8.0.0": 21, "8.1.0": 23, "8.2.0": 23, "9.0.0": 24,
    "9.1.0": 22, "9.2.0": 22, "10.0.0": 22,
}  # fmt: skip

# QEMU 7.2, typed out from the file: (name, type, features); all optional.
MIGRATE_SET_PARAMETERS_7_2 = [
    ("announce-initial", "size", ()), ("announce-max", "size", ()), ("announce-rounds", "size", ()),
    ("announce-step", "size", ()), ("compress-level", "uint8", ()), ("compress-threads", "uint8", ()),
    ("compress-wait-thread", "bool", ()), ("decompress-threads", "uint8", ()),
    ("throttle-trigger-threshold", "uint8", ()), ("cpu-throttle-initial", "uint8", ()),
    ("cpu-throttle-increment", "uint8", ()), ("cpu-throttle-tailslow", "bool", ()),
    ("tls-creds", "StrOrNull", ()), ("tls-hostname", "StrOrNull", ()), ("tls-authz", "StrOrNull", ()),
    ("max-bandwidth", "size", ()), ("downtime-limit", "uint64", ()), ("x-checkpoint-delay", "uint32", ("unstable",)),
    ("block-incremental", "bool", ()), ("multifd-channels", "uint8", ()), ("xbzrle-cache-size", "size", ()),
    ("max-postcopy-bandwidth", "size", ()), ("max-cpu-throttle", "uint8", ()),
    ("multifd-compression", "MultiFDCompression", ()), ("multifd-zlib-level", "uint8", ()),
    ("multifd-zstd-level", "uint8", ()), ("block-bitmap-mapping", ["BitmapMigrationNodeAlias"], ()),
]  # fmt: skip

CAPABILITIES_7_2 = [
    "xbzrle", "rdma-pin-all", "auto-converge", "zero-blocks", "compress", "events", "postcopy-ram",
    "x-colo", "release-ram", "block", "return-path", "pause-before-switchover", "multifd",
    "dirty-bitmaps", "postcopy-blocktime", "late-block-activate", "x-ignore-shared", "validate-uuid",
    "background-snapshot", "zero-copy-send", "postcopy-preempt",
]  # fmt: skip


# -- the second method: regular expressions over the raw text ---------------

STRUCT_BLOCK = re.compile(r"\{ 'struct': 'MigrateSetParameters',\s*'data': \{(.*?)\}\s*\}", re.S)
MEMBER = re.compile(
    r"'(\*?)([a-z0-9-]+)':\s*(?:'(\w+)'|\[\s*'(\w+)'\s*\]|\{\s*'type':\s*'(\w+)',\s*'features':\s*\[([^\]]*)\]\s*\})"
)
# The list ends with "] }" not followed by a comma (a value's "[ 'unstable' ] }," is).
ENUM_BLOCK = re.compile(r"\{ 'enum': 'MigrationCapability',\s*'data': \[(.*?)\]\s*\}(?!\s*,)", re.S)
VALUE = re.compile(r"\{\s*'name':\s*'([a-z0-9-]+)',\s*'features':\s*\[([^\]]*)\]\s*\}|'([a-z0-9-]+)'")


def text_of(release: str) -> str:
    return (schemas_dir() / f"v{release}" / "migration.json").read_text()


def regex_members(release: str) -> list[tuple[str, object, bool, tuple[str, ...]]]:
    block = STRUCT_BLOCK.search(text_of(release)).group(1)
    found = []
    for star, name, plain, array, boxed, features in MEMBER.findall(block):
        type_ = plain or ([array] if array else boxed)
        found.append((name, type_, star == "*", tuple(re.findall(r"'([\w-]+)'", features))))
    return found


def regex_capabilities(release: str) -> list[tuple[str, tuple[str, ...]]]:
    block = ENUM_BLOCK.search(text_of(release)).group(1)
    found = []
    for name, features, plain in VALUE.findall(block):
        found.append((name or plain, tuple(re.findall(r"'([\w-]+)'", features))))
    return found


# -- tests ------------------------------------------------------------------


def test_the_bundled_releases_are_the_seventeen_from_4_2_to_10_0():
    assert [str(release) for release in bundled_releases()] == RELEASES
    for release in RELEASES:
        folder = schemas_dir() / f"v{release}"
        assert sorted(p.name for p in folder.iterdir()) == ["common.json", "job.json", "migration.json", "sockets.json"]
    assert (schemas_dir() / "README.md").read_text().count("GPL-2.0-or-later") >= 1


def test_the_regex_method_agrees_with_the_hand_counts():
    # Guards the second method itself before it judges the reader.
    for release in RELEASES:
        assert len(regex_members(release)) == MEMBER_COUNTS[release], release
        assert len(regex_capabilities(release)) == CAPABILITY_COUNTS[release], release
    assert [(n, t, f) for n, t, _, f in regex_members("7.2.0")] == MIGRATE_SET_PARAMETERS_7_2
    assert [name for name, _ in regex_capabilities("7.2.0")] == CAPABILITIES_7_2


@pytest.mark.parametrize("release", RELEASES)
def test_every_release_parses_and_its_parameters_match_the_file(release):
    schema = load_release(QemuVersion.parse(release))
    members = schema.members("MigrateSetParameters")
    got = [(m.name, m.type, m.optional, m.features) for m in members]
    assert got == regex_members(release)
    assert len(members) == MEMBER_COUNTS[release]
    # The command is boxed: its arguments are the struct's members.
    assert [m.name for m in schema.members("migrate-set-parameters")] == [m.name for m in members]


@pytest.mark.parametrize("release", RELEASES)
def test_every_release_has_its_capabilities_with_features(release):
    schema = load_release(QemuVersion.parse(release))
    values = capability_values(schema)
    assert [(v.name, v.features) for v in values] == regex_capabilities(release)
    assert len(values) == CAPABILITY_COUNTS[release]


def test_facts_read_by_hand_across_releases():
    def member(release: str, name: str):
        return load_release(QemuVersion.parse(release)).member("MigrateSetParameters", name)

    def capability(release: str, name: str):
        values = {v.name: v for v in capability_values(load_release(QemuVersion.parse(release)))}
        return values.get(name)

    # Widths arrived in 6.0; before, integers were plain 'int'.
    assert member("5.2.0", "compress-level").type == "int"
    assert member("6.0.0", "compress-level").type == "uint8"
    assert member("5.2.0", "max-bandwidth").type == "int"
    assert member("6.0.0", "max-bandwidth").type == "size"
    # Member features arrived in 6.2.
    assert member("6.1.0", "x-checkpoint-delay").features == ()
    assert member("6.2.0", "x-checkpoint-delay").features == ("unstable",)
    # The compression threads were deprecated in 8.2 and removed in 9.1.
    assert member("8.1.0", "compress-level").features == ()
    assert member("8.2.0", "compress-level").features == ("deprecated",)
    assert member("9.1.0", "compress-level") is None
    assert capability("9.0.0", "compress").features == ("deprecated",)
    assert capability("9.1.0", "compress") is None
    assert capability("9.1.0", "zero-blocks").features == ()
    assert capability("9.2.0", "zero-blocks").features == ("deprecated",)
    assert member("9.2.0", "multifd-qatzip-level").type == "uint8"
    assert member("10.0.0", "mode").type == "MigMode"


def test_docs_and_since_come_from_the_doc_comments():
    schema = load_release(QemuVersion(7, 2, 0))
    downtime = schema.member("MigrateSetParameters", "downtime-limit")
    assert downtime.doc == "set maximum tolerated downtime for migration. maximum downtime in milliseconds (Since 2.8)"
    assert downtime.since == "2.8"
    # tls-authz has no description in MigrateSetParameters before 9.0.
    assert schema.member("MigrateSetParameters", "tls-authz").doc is None
    assert load_release(QemuVersion(9, 0, 0)).member("MigrateSetParameters", "tls-authz").doc is not None
    # "(Since 2.9) ... Previously (since 2.7)": the first one counts.
    assert schema.member("MigrateSetParameters", "tls-creds").since == "2.9"
    assert schema.lookup("MigrateSetParameters").since == "2.4"
    assert schema.lookup("snapshot-save").since == "6.0"
    # 4.2 continues descriptions on flush lines.
    old = load_release(QemuVersion(4, 2, 0))
    assert old.member("MigrationStats", "dirty-pages-rate").doc == (
        "number of pages dirtied by second by the guest (since 1.3)"
    )
    # 8.2 writes "Since 8.2" without a colon in a few blocks.
    assert load_release(QemuVersion(8, 2, 0)).lookup("FileMigrationArgs").since == "8.2"
    # The Features: section describes features; a TODO: section is not a description.
    newest = load_release(QemuVersion(10, 0, 0)).lookup("MigrateSetParameters")
    assert dict(newest.feature_docs) == {
        "unstable": "Members @x-checkpoint-delay and\n@x-vcpu-dirty-limit-period are experimental."
    }
    assert newest.doc is None


def test_enum_values_keep_their_conditions():
    multifd = load_release(QemuVersion(10, 0, 0)).enum("MultiFDCompression")
    conditions = {value.name: value.condition for value in multifd.values}
    assert conditions == {
        "none": None, "zlib": None, "zstd": "CONFIG_ZSTD", "qatzip": "CONFIG_QATZIP",
        "qpl": "CONFIG_QPL", "uadk": "CONFIG_UADK",
    }  # fmt: skip


def test_snapshot_commands_have_argument_specs_for_their_forms():
    schema = load_release(QemuVersion(7, 2, 0))
    save = field_specs(schema, "snapshot-save")
    assert [(s.name, s.type, s.kind.value, s.optional) for s in save] == [
        ("job-id", "str", "str", False),
        ("tag", "str", "str", False),
        ("vmstate", "str", "str", False),
        ("devices", ["str"], "list_str", False),
    ]
    assert [s.name for s in field_specs(schema, "snapshot-delete")] == ["job-id", "tag", "devices"]
    assert "snapshot-save" not in load_release(QemuVersion(5, 2, 0))


def test_the_jobs_file_is_read_beside_migration_json():
    schema = load_release(QemuVersion(7, 2, 0))
    assert [Path(p).name for p in schema.files] == ["migration.json", "common.json", "sockets.json", "job.json"]
    assert schema.lookup("query-jobs").returns == ["JobInfo"]
    assert "concluded" in schema.enum("JobStatus").value_names()
