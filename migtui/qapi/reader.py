"""Parse QAPI schema files into expressions, following ``include`` directives.

This is the first of three steps (parse, check, walk): it knows the syntax
only. Each expression keeps where it starts and the documentation comment
written right above it; what the keys mean is :mod:`migtui.qapi.check`'s job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from migtui.qapi.docs import DocBlock, parse_doc
from migtui.qapi.errors import Location, SchemaError
from migtui.qapi.lexer import Token, tokenize

#: Python values an expression is made of.
Value = str | bool | list["Value"] | dict[str, "Value"]


@dataclass(frozen=True)
class Expression:
    """One top-level ``{ ... }`` of a schema file."""

    data: dict[str, Value]
    location: Location
    doc: DocBlock | None


def read_schema(path: str | Path) -> tuple[list[Expression], list[Path]]:
    """All expressions of ``path`` and the files it includes, in reading order.

    Returns the expressions and the files read. Like QEMU, a file included a
    second time (``common.json`` from both ``migration.json`` and
    ``sockets.json``) is read only once.
    """
    reader = _SchemaReader()
    reader.read_file(Path(path), included_at=None)
    return reader.expressions, reader.files


class _SchemaReader:
    def __init__(self) -> None:
        self.expressions: list[Expression] = []
        self.files: list[Path] = []
        self._seen: set[Path] = set()

    def read_file(self, path: Path, included_at: Location | None) -> None:
        resolved = path.resolve()
        if resolved in self._seen:
            return
        self._seen.add(resolved)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            reason = error.strerror or str(error)
            if included_at is None:
                raise SchemaError(f"{path}: cannot read schema file: {reason}") from None
            raise SchemaError(f"cannot read include file '{path.name}' ({path}): {reason}", included_at) from None
        except UnicodeDecodeError as error:
            raise SchemaError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
        self.files.append(path)
        self._read_text(text, path)

    def _read_text(self, text: str, path: Path) -> None:
        tokens = _Tokens(tokenize(text, path))
        pending_doc: DocBlock | None = None
        while True:
            token = tokens.next()
            if token.kind == "eof":
                break
            if token.kind == "doc":
                doc = parse_doc(token.value, token.location)  # type: ignore[arg-type]
                if pending_doc is not None:
                    raise SchemaError(
                        f"documentation for '{pending_doc.symbol}' is not followed by its definition",
                        pending_doc.location,
                    )
                # A free-form comment (a section heading) documents nothing.
                pending_doc = doc if doc.symbol else None
                continue
            if token.kind != "{":
                raise SchemaError(f"expected '{{' to start a definition, found {_describe(token)}", token.location)
            data = _parse_dict(tokens, token)
            if "include" in data:
                if pending_doc is not None:
                    raise SchemaError("an include directive cannot have documentation", pending_doc.location)
                target = data["include"]
                if not isinstance(target, str) or len(data) != 1:
                    raise SchemaError("an include directive is { 'include': 'FILE' } and nothing else", token.location)
                # Relative to the including file, as QEMU resolves it.
                self.read_file(path.parent / target, included_at=token.location)
                continue
            self.expressions.append(Expression(data, token.location, pending_doc))
            pending_doc = None
        if pending_doc is not None:
            raise SchemaError(
                f"documentation for '{pending_doc.symbol}' is not followed by its definition", pending_doc.location
            )


class _Tokens:
    """A token stream with one token of look-ahead."""

    def __init__(self, tokens: Iterator[Token]) -> None:
        self._tokens = tokens
        self._peeked: Token | None = None

    def next(self) -> Token:
        if self._peeked is not None:
            token, self._peeked = self._peeked, None
            return token
        return next(self._tokens)

    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = next(self._tokens)
        return self._peeked


def _describe(token: Token) -> str:
    if token.kind == "eof":
        return "the end of the file"
    if token.kind == "doc":
        return "a documentation comment"
    if token.kind == "str":
        return f"the string '{token.value}'"
    if token.kind == "bool":
        return "true" if token.value else "false"
    return f"'{token.kind}'"


def _parse_value(tokens: _Tokens) -> Value:
    token = tokens.next()
    if token.kind == "{":
        return _parse_dict(tokens, token)
    if token.kind == "[":
        return _parse_list(tokens, token)
    if token.kind in ("str", "bool"):
        return token.value  # type: ignore[return-value]
    raise SchemaError(f"expected a value, found {_describe(token)}", token.location)


def _parse_dict(tokens: _Tokens, opening: Token) -> dict[str, Value]:
    result: dict[str, Value] = {}
    if tokens.peek().kind == "}":
        tokens.next()
        return result
    while True:
        key = tokens.next()
        if key.kind != "str":
            raise SchemaError(f"expected a quoted key, found {_describe(key)}", key.location)
        if key.value in result:
            raise SchemaError(f"duplicate key '{key.value}'", key.location)
        colon = tokens.next()
        if colon.kind != ":":
            raise SchemaError(f"expected ':' after key '{key.value}', found {_describe(colon)}", colon.location)
        result[key.value] = _parse_value(tokens)  # type: ignore[index]
        after = tokens.next()
        if after.kind == "}":
            return result
        if after.kind != ",":
            where = f"the '{{' at line {opening.location.line}"
            raise SchemaError(f"expected ',' or '}}' to close {where}, found {_describe(after)}", after.location)


def _parse_list(tokens: _Tokens, opening: Token) -> list[Value]:
    result: list[Value] = []
    if tokens.peek().kind == "]":
        tokens.next()
        return result
    while True:
        result.append(_parse_value(tokens))
        after = tokens.next()
        if after.kind == "]":
            return result
        if after.kind != ",":
            where = f"the '[' at line {opening.location.line}"
            raise SchemaError(f"expected ',' or ']' to close {where}, found {_describe(after)}", after.location)
