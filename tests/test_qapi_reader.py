"""The schema reader: syntax, doc comments, includes, and errors with file:line:col."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migtui.errors import MigtuiError
from migtui.qapi import SchemaError, load_schema
from migtui.qapi.bundled import schemas_dir
from migtui.qapi.docs import since_of
from migtui.qapi.entities import Command, Enum, Struct, Union

GOOD = """\
# -*- Mode: Python -*-

##
# = A heading that documents nothing
##

{ 'include': 'common.json' }

##
# @Knobs:
#
# Some knobs.
#
# @level: how hard to try, an integer between 0 and 9.
#     Defaults to 3.  (Since: 11.1)
#
# @name: a name
# that goes on flush lines (since 2.0)
#
# @mode: how
#
# Features:
#
# @unstable: Member @level is experimental.
#
# Since: 11.0
##
{ 'struct': 'Knobs',
  'data': { '*level': { 'type': 'uint8', 'features': [ 'unstable' ] },
            'name': 'str',
            '*mode': 'Mode',
            '*tags': [ 'str' ],
            '*creds': 'StrOrNull' } }

##
# @Mode:
#
# @fast: quick (since 11.0)
#
# @safe: careful
##
{ 'enum': 'Mode', 'data': [ 'fast', { 'name': 'safe', 'features': [ 'deprecated' ] },
                            { 'name': 'odd', 'if': 'CONFIG_ODD' } ] }

{ 'command': 'set-knobs', 'boxed': true, 'data': 'Knobs' }
{ 'command': 'poke', 'data': { 'times': 'int', '*why': 'str' }, 'returns': [ 'Mode' ] }
{ 'union': 'Choice', 'base': { 'kind': 'Mode' }, 'discriminator': 'kind',
  'data': { 'fast': 'Knobs' } }
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(schemas_dir() / "v7.2.0" / "common.json", tmp_path / "common.json")
    return tmp_path


def test_a_small_schema_reads_into_typed_definitions(folder):
    schema = load_schema(write(folder, "knobs.json", GOOD))
    knobs = schema.lookup("Knobs")
    assert isinstance(knobs, Struct) and knobs.since == "11.0" and knobs.doc == "Some knobs."
    level, name, mode, tags, creds = schema.members("Knobs")
    assert (level.type, level.optional, level.features, level.since) == ("uint8", True, ("unstable",), "11.1")
    assert level.doc == "how hard to try, an integer between 0 and 9. Defaults to 3. (Since: 11.1)"
    assert (name.optional, name.doc, name.since) == (False, "a name that goes on flush lines (since 2.0)", "2.0")
    assert mode.doc == "how" and mode.since is None
    assert tags.type == ["str"] and creds.type == "StrOrNull"
    assert dict(knobs.feature_docs) == {"unstable": "Member @level is experimental."}
    enum = schema.lookup("Mode")
    assert isinstance(enum, Enum)
    assert [(v.name, v.features, v.condition, v.doc) for v in enum.values] == [
        ("fast", (), None, "quick (since 11.0)"),
        ("safe", ("deprecated",), None, "careful"),
        ("odd", (), "CONFIG_ODD", None),
    ]
    command = schema.lookup("set-knobs")
    assert isinstance(command, Command) and command.boxed and command.arg_type == "Knobs"
    assert [m.name for m in schema.members("set-knobs")] == ["level", "name", "mode", "tags", "creds"]
    poke = schema.lookup("poke")
    assert [(m.name, m.optional) for m in schema.members("poke")] == [("times", False), ("why", True)]
    assert poke.returns == ["Mode"] and poke.doc is None
    choice = schema.lookup("Choice")
    assert isinstance(choice, Union) and choice.discriminator == "kind"
    assert [(b.name, b.type) for b in choice.branches] == [("fast", "Knobs")]
    # The include was read once, relative to the including file.
    assert [p.name for p in schema.files] == ["knobs.json", "common.json"]
    assert "StrOrNull" in schema


def test_a_file_included_twice_is_read_once(folder):
    write(folder, "a.json", "{ 'include': 'common.json' }\n{ 'struct': 'A', 'data': {} }\n")
    schema = load_schema(write(folder, "top.json", "{ 'include': 'common.json' }\n{ 'include': 'a.json' }\n"))
    assert [p.name for p in schema.files] == ["top.json", "common.json", "a.json"]
    assert "A" in schema


@pytest.mark.parametrize(
    ("text", "since"),
    [("(Since 4.0)", "4.0"), ("(since: 2.7)", "2.7"), ("Since 8.1.1 and later", "8.1.1"),
     ("no version", None), ("since long ago (since 5.0)", "5.0"), (None, None)],
)  # fmt: skip
def test_a_members_since_is_the_first_since_of_its_doc(text, since):
    assert since_of(text) == since


# -- errors -----------------------------------------------------------------


def error_of(path: Path) -> SchemaError:
    with pytest.raises(SchemaError) as caught:
        load_schema(path)
    return caught.value


def test_a_truncated_file_is_reported_at_its_end(folder):
    text = (schemas_dir() / "v7.2.0" / "migration.json").read_text()
    cut = text[: text.index("'*announce-max'")]  # inside MigrateSetParameters
    path = write(folder, "migration.json", cut)
    shutil.copy(schemas_dir() / "v7.2.0" / "sockets.json", folder / "sockets.json")
    error = error_of(path)
    last_line = cut.count("\n") + 1
    last_col = len(cut.rsplit("\n", 1)[1]) + 1
    assert str(error).startswith(f"{path}:{last_line}:{last_col}: ")
    assert "end of the file" in str(error)
    assert isinstance(error, MigtuiError) and "\n" not in str(error)


def test_a_double_quote_is_reported_where_it_is(folder):
    path = write(folder, "bad.json", "# comment\n{ 'struct': 'A',\n  'data': { \"x\": 'int' } }\n")
    error = error_of(path)
    assert str(error) == f"{path}:3:13: strings are quoted with ' in QAPI schemas, not \""


def test_an_unclosed_quote_is_reported_at_its_opening(folder):
    path = write(folder, "bad.json", "{ 'struct': 'A',\n  'data': { 'x: 'int' } }\n")
    error = error_of(path)
    assert str(error).startswith(f"{path}:2:")
    assert error.location.line == 2


def test_an_unterminated_string_at_the_end_of_a_line(folder):
    path = write(folder, "bad.json", "{ 'struct': 'A', 'data': {} }\n{ 'enum': 'B', 'data': [ 'x ] }\n")
    assert str(error_of(path)) == f"{path}:2:26: string is not closed before the end of the line (missing ')"


def test_an_unknown_include_names_the_including_line(folder):
    path = write(folder, "top.json", "# top\n\n{ 'include': 'nowhere.json' }\n")
    message = str(error_of(path))
    assert message.startswith(f"{path}:3:1: cannot read include file 'nowhere.json'")
    assert "No such file or directory" in message


def test_an_error_inside_an_included_file_names_that_file(folder):
    write(folder, "inner.json", "{ 'struct': 'A',\n  'data': { 'x': 'int' }\n")
    path = write(folder, "top.json", "{ 'include': 'inner.json' }\n")
    assert str(error_of(path)).startswith(f"{folder / 'inner.json'}:3:1: ")


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("{ 'struct': 'A', 'data': {}, 'bogus': true }", "1:1", "struct 'A': unknown key 'bogus'"),
        ("{ 'struct': 'A', 'data': { 'x': 'Nope' } }", "1:1", "member 'x' uses unknown type 'Nope'"),
        ("{ 'struct': 'A', 'data': {} }\n{ 'struct': 'A', 'data': {} }", "2:1", "'A' is defined twice"),
        ("{ 'thing': 'A' }", "1:1", "needs exactly one of"),
        ("{ 'enum': 'E', 'data': [ 1 ] }", "1:26", "unexpected character '1'"),
        ("{ 'struct': 'A', 'data': { 'x': 'int', } }", "1:40", "expected a quoted key"),
        ("{ 'struct': 'A' 'data': {} }", "1:17", "expected ',' or '}'"),
        ("'loose'", "1:1", "expected '{' to start a definition"),
        ("##\n# @B:\n##\n{ 'struct': 'A', 'data': {} }", "1:1", "documentation comment is for 'B'"),
        ("##\n# @A:\n{ 'struct': 'A', 'data': {} }", "3:1", "must end with '##'"),
        ("{ 'struct': 'A', 'data': { 'x': 'int', 'x': 'str' } }", "1:40", "duplicate key 'x'"),
    ],
)
def test_mistakes_are_reported_with_line_and_column(folder, text, where, words):
    path = write(folder, "bad.json", text + "\n")
    message = str(error_of(path))
    assert message.startswith(f"{path}:{where}: ")
    assert words in message


def test_a_missing_file_is_one_line():
    with pytest.raises(SchemaError) as caught:
        load_schema("/nonexistent/migration.json")
    assert str(caught.value) == "/nonexistent/migration.json: cannot read schema file: No such file or directory"
