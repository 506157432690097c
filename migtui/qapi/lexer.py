"""Tokens of the QAPI schema language, each with its file, line and column.

The language is JSON-like: single-quoted strings, ``true``/``false``, dicts
and lists, and ``#`` comments to the end of the line. A line that is exactly
``##`` opens a documentation comment, which runs until the next ``##`` line;
its lines become one ``doc`` token so the reader can attach it to the
definition that follows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from migtui.qapi.errors import Location, SchemaError

PUNCTUATION = "{}[],:"

# QEMU's lexer accepts only these escapes (and rejects the rest), so do we.
ESCAPES = {"\\": "\\", "'": "'", '"': '"', "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is a punctuation character, 'str', 'bool', 'doc' or 'eof'."""

    kind: str
    value: object
    location: Location


@dataclass(frozen=True)
class DocLine:
    """One line of a documentation comment, without its leading ``# ``."""

    text: str
    location: Location


def tokenize(text: str, file: Path) -> Iterator[Token]:
    """The tokens of one schema file, ending with an 'eof' token."""
    pos, line, line_start = 0, 1, 0
    end = len(text)

    def here(at: int) -> Location:
        return Location(file, line, at - line_start + 1)

    while pos < end:
        char = text[pos]
        if char == "\n":
            pos, line, line_start = pos + 1, line + 1, pos + 1
        elif char in " \t\r\f":
            pos += 1
        elif char == "#":
            if text.startswith("##", pos) and pos == line_start and _rest_of_line(text, pos) == "##":
                opening = here(pos)
                lines, pos, line = _doc_comment(text, pos, line, file)
                line_start = pos
                yield Token("doc", lines, opening)
            else:
                pos = text.find("\n", pos)
                pos = end if pos < 0 else pos
        elif char in PUNCTUATION:
            yield Token(char, char, here(pos))
            pos += 1
        elif char == "'":
            start = pos
            value, pos = _string(text, pos, here)
            yield Token("str", value, here(start))
        elif text.startswith("true", pos) or text.startswith("false", pos):
            word = "true" if text.startswith("true", pos) else "false"
            if pos + len(word) < end and (text[pos + len(word)].isalnum() or text[pos + len(word)] in "_-"):
                raise SchemaError(f"unexpected word starting with {word!r}", here(pos))
            yield Token("bool", word == "true", here(pos))
            pos += len(word)
        elif char == '"':
            raise SchemaError("strings are quoted with ' in QAPI schemas, not \"", here(pos))
        else:
            raise SchemaError(f"unexpected character {char!r}", here(pos))
    yield Token("eof", None, Location(file, line, pos - line_start + 1))


def _rest_of_line(text: str, pos: int) -> str:
    stop = text.find("\n", pos)
    return text[pos : len(text) if stop < 0 else stop].rstrip()


def _string(text: str, pos: int, here: Callable[[int], Location]) -> tuple[str, int]:
    """Read a single-quoted string starting at ``pos``; return it and the position after it."""
    opening = here(pos)
    out: list[str] = []
    pos += 1
    while True:
        if pos >= len(text) or text[pos] == "\n":
            raise SchemaError("string is not closed before the end of the line (missing ')", opening)
        char = text[pos]
        if char == "'":
            return "".join(out), pos + 1
        if char == "\\":
            escaped = text[pos + 1 : pos + 2]
            if escaped not in ESCAPES:
                raise SchemaError(f"unknown escape \\{escaped} in string", here(pos))
            out.append(ESCAPES[escaped])
            pos += 2
            continue
        if not char.isprintable():
            raise SchemaError(f"control character {char!r} in string", here(pos))
        out.append(char)
        pos += 1


def _doc_comment(text: str, pos: int, line: int, file: Path) -> tuple[list[DocLine], int, int]:
    """Read the documentation comment opened by the ``##`` line at ``pos``.

    Return its lines (``#`` and one following space removed), the position
    after the closing ``##`` line, and the line number there.
    """
    opening = Location(file, line, 1)
    lines: list[DocLine] = []
    pos = text.find("\n", pos)
    while True:
        if pos < 0 or pos + 1 >= len(text):
            raise SchemaError("documentation comment is not closed with a '##' line", opening)
        pos, line = pos + 1, line + 1
        stop = text.find("\n", pos)
        raw = text[pos : len(text) if stop < 0 else stop].rstrip("\r")
        stripped = raw.lstrip(" \t")
        if not stripped:
            # QEMU's lexer skips whitespace between comment lines, so a stray
            # empty line inside a block (4.2's sockets.json has one) is allowed.
            pos = stop if stop >= 0 else len(text) - 1
            continue
        if not stripped.startswith("#"):
            where = Location(file, line, len(raw) - len(stripped) + 1)
            raise SchemaError("documentation comment must end with '##' before its text ends", where)
        if stripped.rstrip() == "##":
            after = len(text) if stop < 0 else stop + 1
            return lines or [DocLine("", Location(file, line, 1))], after, line + 1
        body = stripped[1:]
        if body.startswith(" "):
            body = body[1:]
        elif body:
            raise SchemaError("documentation lines start with '# ' (a space after #)", Location(file, line, 2))
        lines.append(DocLine(body.rstrip(), Location(file, line, 3)))
        pos = stop if stop >= 0 else len(text) - 1
