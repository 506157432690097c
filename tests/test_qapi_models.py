"""Field specs and the models built from them: what a form sends, and what it refuses."""

from __future__ import annotations

import pytest

from migtui.qapi import UNCHANGED, FieldErrors, FieldKind, build_model, field_specs, load_release, member_for_error
from migtui.units import format_size, parse_size
from migtui.qapi.version import QemuVersion


@pytest.fixture(scope="module")
def specs_7_2():
    return field_specs(load_release(QemuVersion(7, 2, 0)), "migrate-set-parameters")


@pytest.fixture(scope="module")
def params(specs_7_2):
    return build_model(specs_7_2, "MigrateSetParameters")


def spec(specs, name):
    return next(s for s in specs if s.name == name)


def test_field_specs_carry_kind_bounds_and_docs(specs_7_2):
    downtime = spec(specs_7_2, "downtime-limit")
    assert (downtime.type, downtime.kind, downtime.optional) == ("uint64", FieldKind.INT, True)
    # uint64, narrowed by the reviewed table to QEMU's 2000 s.
    assert (downtime.minimum, downtime.maximum) == (0, 2_000_000)
    assert downtime.range_evidence and "measured" in downtime.range_evidence
    zstd = spec(specs_7_2, "multifd-zstd-level")
    assert (zstd.minimum, zstd.maximum, zstd.default) == (0, 20, 1)
    assert (spec(specs_7_2, "x-checkpoint-delay").maximum, spec(specs_7_2, "x-checkpoint-delay").unstable) == (
        2**32 - 1,
        True,
    )
    assert (spec(specs_7_2, "max-bandwidth").kind, spec(specs_7_2, "max-bandwidth").maximum) == (FieldKind.SIZE, 2**64 - 1)
    assert spec(specs_7_2, "cpu-throttle-initial").default == 20
    assert spec(specs_7_2, "cpu-throttle-tailslow").default is False
    compression = spec(specs_7_2, "multifd-compression")
    assert (compression.kind, compression.value_names, compression.default) == (FieldKind.ENUM, ("none", "zlib", "zstd"), "none")
    assert spec(specs_7_2, "tls-creds").kind is FieldKind.STR_OR_NULL
    mapping = spec(specs_7_2, "block-bitmap-mapping")
    assert mapping.kind is FieldKind.LIST_STRUCT and mapping.type == ["BitmapMigrationNodeAlias"]
    assert [(m.name, m.kind.value, m.optional) for m in mapping.members] == [
        ("node-name", "str", False), ("alias", "str", False), ("bitmaps", "list_struct", False),
    ]  # fmt: skip
    bitmaps = mapping.members[2]
    assert [(m.name, m.kind.value) for m in bitmaps.members] == [("name", "str"), ("alias", "str"), ("transform", "struct")]
    assert [(m.name, m.kind.value) for m in bitmaps.members[2].members] == [("persistent", "bool")]
    assert all(s.source == "files" for s in specs_7_2)


def test_valid_input_becomes_exactly_the_arguments_to_send(params):
    arguments = params.to_arguments(
        {
            "downtime-limit": "500",  # text from a form
            "max_bandwidth": "1G",  # Python spelling is accepted too
            "multifd-compression": "zstd",
            "block-incremental": "true",
            "compress-level": None,  # left empty: unchanged
            "tls-hostname": UNCHANGED,
        }
    )
    assert arguments == {
        "max-bandwidth": 1073741824,
        "downtime-limit": 500,
        "block-incremental": True,
        "multifd-compression": "zstd",
    }


def test_str_or_null_has_three_states(params):
    assert params.to_arguments({"tls-creds": UNCHANGED}) == {}
    assert params.to_arguments({}) == {}
    assert params.to_arguments({"tls-creds": None}) == {"tls-creds": None}
    assert params.to_arguments({"tls-creds": "creds0"}) == {"tls-creds": "creds0"}
    assert params.to_arguments({"tls-creds": ""}) == {"tls-creds": ""}


def test_members_equal_to_the_current_values_are_left_out(params):
    current = {"downtime-limit": 300, "max-bandwidth": 134217728, "tls-creds": ""}
    values = {"downtime-limit": 300, "max-bandwidth": "128M", "tls-creds": "", "cpu-throttle-initial": 30}
    assert params.to_arguments(values, current=current) == {"cpu-throttle-initial": 30}


def test_arrays_of_structs_use_nested_models(params):
    mapping = [{"node-name": "disk0", "alias": "d0", "bitmaps": [{"name": "b", "alias": "b0", "transform": {"persistent": True}}]}]
    assert params.to_arguments({"block-bitmap-mapping": mapping}) == {"block-bitmap-mapping": mapping}
    with pytest.raises(FieldErrors) as caught:
        params.to_arguments({"block-bitmap-mapping": [{"node-name": "disk0", "bitmaps": [{"name": "b", "alias": 5}]}]})
    assert caught.value.errors == {"block-bitmap-mapping": "[0].alias: is required"}
    # An empty optional member inside is left out, as at the top.
    empty = [{"node-name": "disk0", "alias": "d0", "bitmaps": [{"name": "b", "alias": "b0", "transform": None}]}]
    assert params.to_arguments({"block-bitmap-mapping": empty}) == {
        "block-bitmap-mapping": [{"node-name": "disk0", "alias": "d0", "bitmaps": [{"name": "b", "alias": "b0"}]}]
    }


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"downtime-limit": 2_000_001}, {"downtime-limit": "must be from 0 to 2000000, not 2000001"}),
        ({"compress-level": 10}, {"compress-level": "must be from 0 to 9, not 10"}),
        ({"compress-level": "x"}, {"compress-level": "expects a whole number from 0 to 9, not 'x'"}),
        ({"compress-level": True}, {"compress-level": "expects a whole number from 0 to 9, not True"}),
        ({"compress-level": 1.5}, {"compress-level": "expects a whole number from 0 to 9, not 1.5"}),
        ({"max-bandwidth": "12Q"},
         {"max-bandwidth": "expects bytes per second, such as 1048576, 512K, 64M or 1G, not '12Q'"}),
        ({"xbzrle-cache-size": "12Q"},
         {"xbzrle-cache-size": "expects a size in bytes, such as 1048576, 512K, 64M or 1G, not '12Q'"}),
        # The message follows the member's unit, not its schema type (announce-* are sizes there).
        ({"announce-initial": "-5"},
         {"announce-initial": "expects a whole number of milliseconds, such as 50, not '-5'"}),
        ({"announce-rounds": "abc"}, {"announce-rounds": "expects a whole number of packets, such as 5, not 'abc'"}),
        ({"downtime-limit": "abc"},
         {"downtime-limit": "expects a whole number of milliseconds, such as 50 (from 0 to 2000000), not 'abc'"}),
        ({"cpu-throttle-initial": "x"},
         {"cpu-throttle-initial": "expects a percentage, a whole number such as 20 (from 1 to 99), not 'x'"}),
        ({"max-bandwidth": -1}, {"max-bandwidth": "must be from 0 to 18446744073709551615, not -1"}),
        ({"max-bandwidth": "16E"}, {"max-bandwidth": "must be from 0 to 18446744073709551615, not 18446744073709551616"}),
        ({"multifd-compression": "lz4"}, {"multifd-compression": "must be one of none, zlib, zstd, not 'lz4'"}),
        ({"tls-creds": 5}, {"tls-creds": "expects text or null, not 5"}),
        ({"cpu-throttle-tailslow": "maybe"}, {"cpu-throttle-tailslow": "expects true or false, not 'maybe'"}),
        ({"no-such-knob": 1}, {"no-such-knob": "is not a member here"}),
        ({"cpu-throttle-initial": 0, "cpu-throttle-increment": 100},
         {"cpu-throttle-initial": "must be from 1 to 99, not 0", "cpu-throttle-increment": "must be from 1 to 99, not 100"}),
    ],
)  # fmt: skip
def test_invalid_input_gives_one_message_per_field(params, values, errors):
    with pytest.raises(FieldErrors) as caught:
        params.to_arguments(values)
    assert caught.value.errors == errors
    assert "\n" not in str(caught.value)


def test_required_members_must_be_given():
    save = build_model(field_specs(load_release(QemuVersion(7, 2, 0)), "snapshot-save"), "SnapshotSave")
    with pytest.raises(FieldErrors) as caught:
        save.to_arguments({"job-id": "j1", "tag": "t1"})
    assert caught.value.errors == {"vmstate": "is required", "devices": "is required"}
    values = {"job-id": "j1", "tag": "t1", "vmstate": "disk0", "devices": ["disk0"]}
    # Required members are sent even when the VM "has" them: they are the command's input.
    assert save.to_arguments(values, current=values) == values


@pytest.mark.parametrize(
    ("text", "size"),
    [("512M", 512 * 2**20), ("1G", 2**30), ("64K", 65536), ("1.5G", 3 * 2**29), ("64MiB", 64 * 2**20),
     ("4096", 4096), (4096, 4096), ("2t", 2 * 2**40), (" 8 k ", 8192)],
)  # fmt: skip
def test_sizes_accept_binary_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["12Q", "0.3K", "-1K", "", "1.2.3M", True])
def test_sizes_refuse_what_is_not_a_size(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_sizes_print_in_their_shortest_exact_form():
    assert [format_size(v) for v in (134217728, 1000, 0, 3 * 2**29)] == ["128M", "1000", "0", "1536M"]


@pytest.mark.parametrize(
    ("message", "member"),
    [
        ("Parameter 'downtime_limit' expects an integer in the range of 0 to (2000 * 1000) ms", "downtime-limit"),
        ("Parameter 'cpu_throttle_initial' expects an integer in the range of 1 to 99", "cpu-throttle-initial"),
        ("Parameter 'compress-level' expects uint8_t", "compress-level"),
        ("Invalid parameter type for 'tls-creds', expected: StrOrNull", "tls-creds"),
        ("Parameter 'block-bitmap-mapping[0].alias' is missing", "block-bitmap-mapping"),
        ("Parameter 'multifd-compression' does not accept value 'bogus'", "multifd-compression"),
        ("Multifd is not compatible with compress", None),
    ],
)
def test_qemu_refusals_map_to_the_field_they_are_about(specs_7_2, message, member):
    assert member_for_error(message, [s.name for s in specs_7_2]) == member


def test_models_offer_a_json_schema_for_forms(params):
    properties = params.model_json_schema()["properties"]
    assert properties["downtime-limit"]["maximum"] == 2_000_000
    assert properties["multifd-compression"]["enum"] == ["none", "zlib", "zstd"]
