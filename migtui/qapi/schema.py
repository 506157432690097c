"""A whole schema: definitions by name, their members, and loading from files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from migtui.errors import UsageError
from migtui.qapi.check import definition_from
from migtui.qapi.entities import (
    BUILTIN_TYPES,
    Alternate,
    Command,
    Definition,
    Enum,
    Event,
    Member,
    Struct,
    TypeRef,
    Union,
    element_type,
)  # fmt: skip
from migtui.qapi.errors import SchemaError
from migtui.qapi.reader import read_schema
from migtui.qapi.version import QemuVersion


@dataclass
class Schema:
    """Definitions by name, with where they came from."""

    definitions: dict[str, Definition]
    origin: str
    """For people: "release 7.2.0", a file path, "VM web-1 (QEMU 7.2.22)"."""
    version: QemuVersion | None = None
    """The QEMU release of the files, or the live VM's version."""
    files: tuple[Path, ...] = ()
    release: QemuVersion | None = None
    """For a live VM: the bundled release its docs come from, if any."""
    notes: list[str] = field(default_factory=list)
    live: bool = False
    """Read from a running QEMU (``query-qmp-schema``), not from files."""

    @property
    def source(self) -> str:
        """Where the definitions come from, said beside the VM's name and version (which origin repeats)."""
        if self.live:
            return "its own schema" + (f", docs of release {self.release}" if self.release else "")
        return f"the schema of {self.origin}"

    def __contains__(self, name: str) -> bool:
        return name in self.definitions

    def __iter__(self) -> Iterator[Definition]:
        return iter(self.definitions.values())

    def get(self, name: str) -> Definition | None:
        return self.definitions.get(name)

    def lookup(self, name: str) -> Definition:
        """The definition called ``name``, or a :class:`UsageError` naming close ones."""
        found = self.definitions.get(name)
        if found is None:
            folded = name.lower().replace("_", "-")
            close = sorted(n for n in self.definitions if folded in n.lower().replace("_", "-"))[:8]
            hint = f" (did you mean: {', '.join(close)})" if close else ""
            raise UsageError(f"{self.origin} has no definition named {name!r}{hint}")
        return found

    def members(self, name: str) -> tuple[Member, ...]:
        """The members of a struct (base first), union base, command or event.

        A command's or event's members are its arguments: inline, or those of
        its argument type.
        """
        definition = self.lookup(name)
        if isinstance(definition, Struct):
            inherited = self.members(definition.base) if definition.base else ()
            return inherited + definition.members
        if isinstance(definition, Union):
            return self.members(definition.base) if definition.base else definition.base_members
        if isinstance(definition, (Command, Event)):
            if definition.arg_type:
                return self.members(definition.arg_type)
            return definition.arguments
        raise UsageError(f"{definition.kind} '{name}' has no members")

    def enum(self, name: str) -> Enum:
        definition = self.lookup(name)
        if not isinstance(definition, Enum):
            raise UsageError(f"'{name}' is a {definition.kind}, not an enum")
        return definition

    def member(self, owner: str, name: str) -> Member | None:
        for member in self.members(owner):
            if member.name == name:
                return member
        return None

    def by_kind(self, kind: str) -> list[Definition]:
        return [definition for definition in self if definition.kind == kind]


def load_schema(path: str | Path, *, origin: str | None = None, extra: Iterable[str | Path] = ()) -> Schema:
    """Read, check and walk the schema in ``path`` (and ``extra`` files beside it).

    Raises :class:`SchemaError` with file, line and column for any mistake.
    """
    expressions, files = read_schema(path)
    for more in extra:
        more_expressions, more_files = read_schema(more)
        expressions += more_expressions
        files += more_files
    definitions: dict[str, Definition] = {}
    for expression in expressions:
        definition = definition_from(expression)
        if definition is None:
            continue
        if definition.name in definitions:
            first = definitions[definition.name].location
            raise SchemaError(f"'{definition.name}' is defined twice (first at {first})", expression.location)
        definitions[definition.name] = definition
    schema = Schema(definitions, origin=origin or str(path), files=tuple(files))
    check_references(schema)
    return schema


def check_references(schema: Schema) -> None:
    """Every type a definition names exists (a built-in or defined here)."""

    def known(type_ref: TypeRef | None) -> bool:
        return type_ref is None or element_type(type_ref) in BUILTIN_TYPES or element_type(type_ref) in schema

    for definition in schema:
        for what, type_ref in _references(definition):
            if type_ref is not None and not known(type_ref):
                raise SchemaError(
                    f"{definition.kind} '{definition.name}': {what} uses unknown type '{element_type(type_ref)}'",
                    definition.location,
                )


def _references(definition: Definition) -> Iterator[tuple[str, TypeRef | None]]:
    members: tuple[Member, ...] = ()
    if isinstance(definition, Struct):
        yield "base", definition.base
        members = definition.members
    elif isinstance(definition, Union):
        yield "base", definition.base
        members = definition.base_members + definition.branches
    elif isinstance(definition, Alternate):
        members = definition.alternatives
    elif isinstance(definition, (Command, Event)):
        yield "'data'", definition.arg_type
        members = definition.arguments
        if isinstance(definition, Command):
            yield "'returns'", definition.returns
    for member in members:
        yield f"member '{member.name}'", member.type
