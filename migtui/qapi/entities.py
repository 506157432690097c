"""Typed QAPI definitions: what the checker builds from expressions.

The same classes describe a schema read from files and one introspected from
a live VM (``source`` says which). A type is kept as written: a name
(``'uint8'``, ``'StrOrNull'``) or a one-element list for an array
(``['BitmapMigrationNodeAlias']``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from migtui.qapi.docs import since_of
from migtui.qapi.errors import Location

#: A type as written in the schema: ``'size'`` or ``['str']``.
TypeRef = str | list[str]

#: Where a definition or member is known from.
Source = Literal["files", "live"]

#: The built-in types of the QAPI language.
BUILTIN_TYPES = frozenset(
    {
        "str", "number", "int", "int8", "int16", "int32", "int64",
        "uint8", "uint16", "uint32", "uint64", "size", "bool", "null", "any", "QType",
    }
)  # fmt: skip


def is_array(type_ref: TypeRef) -> bool:
    return isinstance(type_ref, list)


def element_type(type_ref: TypeRef) -> str:
    """The named type of ``type_ref``: itself, or an array's element type."""
    return type_ref[0] if isinstance(type_ref, list) else type_ref


def type_text(type_ref: TypeRef) -> str:
    """A type for people: ``uint8``, ``[str]``."""
    return f"[{type_ref[0]}]" if isinstance(type_ref, list) else type_ref


@dataclass(frozen=True, kw_only=True)
class Member:
    """A member of a struct, command or event (or a union/alternate branch)."""

    name: str
    type: TypeRef
    optional: bool = False
    features: tuple[str, ...] = ()
    condition: object = None
    """The ``'if'`` as written (a configuration symbol or a logic tree)."""
    doc: str | None = None
    """Its description, whitespace collapsed; ``None`` when undocumented."""
    source: Source = "files"

    @property
    def since(self) -> str | None:
        return since_of(self.doc)


@dataclass(frozen=True, kw_only=True)
class EnumValue:
    name: str
    features: tuple[str, ...] = ()
    condition: object = None
    doc: str | None = None
    source: Source = "files"

    @property
    def since(self) -> str | None:
        return since_of(self.doc)


@dataclass(frozen=True, kw_only=True)
class Definition:
    """What every definition has; subclasses add their own parts."""

    name: str
    doc: str | None = None
    """The free text of its documentation, whitespace collapsed."""
    since: str | None = None
    """The version of its ``Since:`` section."""
    features: tuple[str, ...] = ()
    feature_docs: tuple[tuple[str, str], ...] = ()
    condition: object = None
    location: Location | None = None
    source: Source = "files"

    kind = "definition"


@dataclass(frozen=True, kw_only=True)
class Struct(Definition):
    base: str | None = None
    members: tuple[Member, ...] = ()
    """Its own members; :meth:`Schema.members` adds the base's."""

    kind = "struct"


@dataclass(frozen=True, kw_only=True)
class Enum(Definition):
    values: tuple[EnumValue, ...] = ()
    prefix: str | None = None

    kind = "enum"

    def value_names(self) -> list[str]:
        return [value.name for value in self.values]


@dataclass(frozen=True, kw_only=True)
class Union(Definition):
    base: str | None = None
    """A named base type, or ``None`` when the base is written inline."""
    base_members: tuple[Member, ...] = ()
    """The inline base's members."""
    discriminator: str | None = None
    """The tag member; ``None`` for an old "simple" union (implicit ``type`` tag)."""
    branches: tuple[Member, ...] = ()
    """One per tag value: its name is the value, its type the branch's type."""

    kind = "union"


@dataclass(frozen=True, kw_only=True)
class Alternate(Definition):
    alternatives: tuple[Member, ...] = ()

    kind = "alternate"


@dataclass(frozen=True, kw_only=True)
class Command(Definition):
    arg_type: str | None = None
    """The named argument type, when the arguments are not written inline."""
    arguments: tuple[Member, ...] = ()
    """Inline arguments."""
    boxed: bool = False
    returns: TypeRef | None = None

    kind = "command"


@dataclass(frozen=True, kw_only=True)
class Event(Definition):
    arg_type: str | None = None
    arguments: tuple[Member, ...] = ()
    boxed: bool = False

    kind = "event"


#: Every kind of definition, by its keyword in the schema language.
KINDS: dict[str, type[Definition]] = {
    cls.kind: cls for cls in (Struct, Enum, Union, Alternate, Command, Event)
}
