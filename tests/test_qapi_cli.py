"""``migtui schema``: summaries, one definition as JSON, diffs, and errors as one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migtui.__main__ import main
from migtui.qapi.bundled import schemas_dir


@pytest.fixture(autouse=True)
def no_inventory(monkeypatch):
    monkeypatch.setenv("MIGTUI_CONFIG", "/nonexistent/inventory.toml")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["schema", *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MIGTUI_CONFIG="/nonexistent/inventory.toml")
    return subprocess.run(
        [sys.executable, "-m", "migtui", "schema", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_summary_of_a_release(capsys):
    code, out, _ = run(capsys, "7.2")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "release 7.2.0"
    assert "migration parameters (migrate-set-parameters): 27 (1 unstable)" in lines
    assert "migration capabilities: 21 (2 unstable)" in lines
    assert "  calc-dirty-rate, cancel-vcpu-dirty-limit, client_migrate_info, job-cancel, job-complete," in lines


def test_without_a_source_the_newest_release_is_shown(capsys):
    code, out, _ = run(capsys)
    assert code == 0 and out.splitlines()[0] == "release 10.0.0"
    assert "migration parameters (migrate-set-parameters): 29 (2 unstable)" in out
    assert "migration capabilities: 22 (1 deprecated, 2 unstable)" in out


def test_a_struct_as_json_has_exactly_the_documented_shape(capsys):
    code, out, _ = run(capsys, "7.2", "--type", "MigrateSetParameters", "--json")
    described = json.loads(out)
    assert code == 0
    assert list(described) == ["name", "kind", "since", "features", "members"]
    assert (described["name"], described["kind"], described["since"], described["features"]) == (
        "MigrateSetParameters", "struct", "2.4", [],
    )  # fmt: skip
    assert len(described["members"]) == 27
    assert all(list(member) == ["name", "type", "optional", "features", "since", "doc"] for member in described["members"])
    assert described["members"][17] == {
        "name": "x-checkpoint-delay",
        "type": "uint32",
        "optional": True,
        "features": ["unstable"],
        "since": "2.8",
        "doc": "the delay time between two COLO checkpoints. (Since 2.8)",
    }
    assert described["members"][14] == {
        "name": "tls-authz", "type": "StrOrNull", "optional": True, "features": [], "since": None, "doc": None,
    }  # fmt: skip
    assert described["members"][26]["type"] == ["BitmapMigrationNodeAlias"]


def test_a_boxed_command_shows_its_argument_types_members(capsys):
    code, out, _ = run(capsys, "7.2", "--type", "migrate-set-parameters", "--json")
    described = json.loads(out)
    assert (code, described["kind"], described["since"]) == (0, "command", "2.4")
    assert [m["name"] for m in described["members"]][:3] == ["announce-initial", "announce-max", "announce-rounds"]
    assert len(described["members"]) == 27


def test_an_enum_as_json(capsys):
    code, out, _ = run(capsys, "10.0", "--type", "MigrationCapability", "--json")
    described = json.loads(out)
    assert code == 0
    assert list(described) == ["name", "kind", "since", "features", "values"]
    assert (described["kind"], described["since"], len(described["values"])) == ("enum", "1.2", 22)
    assert described["values"][3] == {
        "name": "zero-blocks",
        "features": ["deprecated"],
        "since": "1.6",
        "doc": "During storage migration encode blocks of zeroes efficiently. This essentially saves 1MB of "
        "zeroes per block on the wire. Enabling requires source and target VM to support this feature. "
        "To enable it is sufficient to enable the capability on the source VM. The feature is disabled by "
        "default. (since 1.6)",
    }


def test_a_definition_as_text(capsys):
    code, out, _ = run(capsys, "7.2", "--type", "MigrateSetParameters")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "struct MigrateSetParameters  [since 2.4]   [release 7.2.0]"
    assert "    x-checkpoint-delay  uint32 (optional)  [unstable, since 2.8]" in lines
    assert "        the delay time between two COLO checkpoints. (Since 2.8)" in lines


def test_diff_of_two_releases(capsys):
    code, out, _ = run(capsys, "--diff", "8.1", "8.2")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "migration changes from release 8.1.0 to release 8.2.0:"
    block = lines[lines.index("migrate-set-parameters:") + 1 : lines.index("migrate:")]
    assert block == [
        "  ~ compress-level deprecated",
        "  ~ compress-threads deprecated",
        "  ~ compress-wait-thread deprecated",
        "  ~ decompress-threads deprecated",
        "  + avail-switchover-bandwidth  (size, since 8.2)",
        "  ~ block-incremental deprecated",
        "  + mode  (MigMode, since 8.2)",
    ]
    assert lines[lines.index("capabilities:") + 1 :] == ["  ~ compress deprecated", "  ~ block deprecated"]


def test_diff_7_2_to_8_0_only_adds_a_command(capsys):
    code, out, _ = run(capsys, "--diff", "7.2", "8.0")
    assert code == 0
    assert out.splitlines()[1:] == ["commands:", "  + query-migrationthreads  (since 7.2)"]


@pytest.mark.parametrize(("before", "after"), [("7.2.0", "9.0.0"), ("9.0.0", "7.2.0"), ("8.0", "8.1")])
def test_a_command_moved_to_another_schema_file_is_told_from_a_removed_one(capsys, before, after):
    code, out, _ = run(capsys, "--diff", before, after)
    lines = out.splitlines()
    assert code == 0
    assert "  ~ client_migrate_info moved  (in ui.json from 8.1 on, a file migtui does not bundle: " \
           "still a QEMU command)" in lines
    assert not [line for line in lines if "client_migrate_info" in line and "moved" not in line]


def test_commands_qemu_removed_are_still_told_removed(capsys):
    code, out, _ = run(capsys, "--diff", "5.2", "6.0")
    lines = out.splitlines()
    assert code == 0
    block = lines[lines.index("commands:") + 1:]
    assert "  - migrate_set_speed" in block and "  - query-migrate-cache-size" in block


def test_diff_as_json(capsys):
    code, out, _ = run(capsys, "--diff", "9.0", "9.1", "--json")
    changes = json.loads(out)
    assert code == 0 and (changes["from"], changes["to"]) == ("release 9.0.0", "release 9.1.0")
    seen = {(c["where"], c["name"], c["what"]) for c in changes["changes"]}
    assert {
        ("migrate-set-parameters", "block-incremental", "removed"),
        ("migrate-set-parameters", "compress-level", "removed"),
        ("migrate-set-parameters", "direct-io", "added"),
        ("capabilities", "compress", "removed"),
        ("capabilities", "block", "removed"),
        ("multifd-compression values", "qpl", "added"),
    } <= seen
    assert all(set(c) == {"where", "name", "what", "detail"} for c in changes["changes"])


def test_a_schema_file_as_source(capsys, tmp_path: Path):
    path = tmp_path / "mini.json"
    path.write_text("{ 'struct': 'Knob', 'data': { '*level': 'uint8' } }\n")
    code, out, _ = run(capsys, str(path), "--type", "Knob", "--json")
    assert code == 0
    assert json.loads(out)["members"] == [
        {"name": "level", "type": "uint8", "optional": True, "features": [], "since": None, "doc": None}
    ]


# -- errors: one line on stderr, a non-zero exit, never a traceback ----------


def assert_one_line_error(result: subprocess.CompletedProcess, starts: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(starts), result.stderr


def test_a_truncated_file(tmp_path: Path):
    path = tmp_path / "migration.json"
    path.write_text("{ 'struct': 'A',\n  'data': { 'x': ")
    assert_one_line_error(run_process(str(path)), f"migtui: {path}:2:18: expected a value, found the end of the file")


def test_a_bad_quote(tmp_path: Path):
    path = tmp_path / "migration.json"
    path.write_text("{ 'enum': \"A\", 'data': [] }\n")
    assert_one_line_error(run_process(str(path)), f"migtui: {path}:1:11: strings are quoted with '")


def test_an_unknown_include(tmp_path: Path):
    path = tmp_path / "migration.json"
    path.write_text((schemas_dir() / "v7.2.0" / "migration.json").read_text())
    assert_one_line_error(run_process(str(path)), f"migtui: {path}:9:1: cannot read include file 'common.json'")


def test_unknown_names_and_sources(tmp_path: Path):
    assert_one_line_error(run_process("7.2", "--type", "NoSuchType"), "migtui: release 7.2.0 has no definition")
    assert_one_line_error(run_process("3.1"), "migtui: no bundled release '3.1' (bundled: 4.2.0, ")
    assert_one_line_error(run_process(str(tmp_path / "nope")), f"migtui: '{tmp_path / 'nope'}' is not a schema file")
    assert_one_line_error(run_process("--diff", "7.2", "8.0", "7.2"), "migtui: --diff A B compares two sources")


def test_the_schema_engine_never_imports_textual():
    code = (
        "import sys, migtui.qapi, migtui.qapi.fetch, migtui.qapi.describe, migtui.cli.schema\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
