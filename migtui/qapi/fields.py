"""Field specs: what a form (or a model) needs to know about each member.

A :class:`FieldSpec` is built from a schema, whichever its origin: bundled
files, a live VM merged with the files (:func:`migtui.qapi.merge.merge`), or a
live VM alone. Bounds come from the type's width, narrowed by the reviewed
prose table; a default is read from the member's doc when it states one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from migtui.errors import UsageError
from migtui.qapi.entities import (
    Alternate,
    Command,
    Enum,
    EnumValue,
    Event,
    Member,
    Source,
    Struct,
    TypeRef,
    element_type,
    is_array,
)  # fmt: skip
from migtui.qapi.prose_ranges import prose_range
from migtui.qapi.schema import Schema


class FieldKind(StrEnum):
    BOOL = "bool"
    INT = "int"
    SIZE = "size"
    NUMBER = "number"
    STR = "str"
    ENUM = "enum"
    STR_OR_NULL = "str_or_null"
    STRUCT = "struct"
    LIST_STR = "list_str"
    LIST_INT = "list_int"
    LIST_ENUM = "list_enum"
    LIST_STRUCT = "list_struct"
    ANY = "any"
    """Anything a form cannot edit (unions, other alternates, ``any``)."""


#: Integer widths: (minimum, maximum). ``int`` is QEMU's int64.
INTEGER_BOUNDS: dict[str, tuple[int, int]] = {
    "int": (-(2**63), 2**63 - 1),
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "size": (0, 2**64 - 1),
}

LIST_KINDS = {
    FieldKind.STR: FieldKind.LIST_STR,
    FieldKind.STR_OR_NULL: FieldKind.LIST_STR,
    FieldKind.INT: FieldKind.LIST_INT,
    FieldKind.SIZE: FieldKind.LIST_INT,
    FieldKind.ENUM: FieldKind.LIST_ENUM,
    FieldKind.STRUCT: FieldKind.LIST_STRUCT,
}

# "The default value is 50", "Defaults to 1", "Default is 'normal'", "Defaults to none".
DEFAULT_IN_DOC = re.compile(r"\b(?:the default value is|defaults? to|default is)\s+'?([\w.-]+)'?", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    """One member, ready to become a form field or a model field."""

    name: str
    """As QEMU spells it: ``downtime-limit``."""
    type: TypeRef
    """As written in the files (``'uint8'``, ``['str']``); a live-only member has its live type."""
    kind: FieldKind
    optional: bool
    minimum: int | None = None
    maximum: int | None = None
    range_evidence: str | None = None
    """Where a range narrower than the type comes from (the prose table)."""
    values: tuple[EnumValue, ...] = ()
    """For enums (and lists of them): the values, with their docs and features."""
    members: tuple[FieldSpec, ...] = ()
    """For structs (and lists of them): their members."""
    doc: str | None = None
    since: str | None = None
    features: tuple[str, ...] = ()
    default: object = None
    """The default the doc states, if any (``None``: not known)."""
    source: Source = "files"
    """"files" when the bundled files know the member, "live" when only the VM does."""

    @property
    def deprecated(self) -> bool:
        return "deprecated" in self.features

    @property
    def unstable(self) -> bool:
        return "unstable" in self.features

    @property
    def value_names(self) -> tuple[str, ...]:
        return tuple(value.name for value in self.values)


def field_specs(schema: Schema, owner: str) -> tuple[FieldSpec, ...]:
    """Specs for the members of ``owner``: a command's or event's arguments, a struct's members."""
    definition = schema.lookup(owner)
    if not isinstance(definition, (Command, Event, Struct)):
        raise UsageError(f"{definition.kind} '{owner}' has no members to edit")
    owners = {owner}
    if isinstance(definition, (Command, Event)) and definition.arg_type:
        owners.add(definition.arg_type)
    return tuple(_spec(schema, member, owners, depth=0) for member in schema.members(owner))


def capability_values(schema: Schema) -> tuple[EnumValue, ...]:
    """The migration capabilities, found from ``migrate-set-capabilities`` (or by name)."""
    enum = _capability_enum(schema)
    if enum is None:
        raise UsageError(f"{schema.origin} has no migration capabilities")
    return enum.values


def _capability_enum(schema: Schema) -> Enum | None:
    if isinstance(schema.get("migrate-set-capabilities"), Command):
        listed = schema.member("migrate-set-capabilities", "capabilities")
        if listed is not None and element_type(listed.type) in schema:
            status = schema.member(element_type(listed.type), "capability")
            if status is not None and isinstance(schema.get(element_type(status.type)), Enum):
                return schema.enum(element_type(status.type))
    found = schema.get("MigrationCapability")
    return found if isinstance(found, Enum) else None


def _spec(schema: Schema, member: Member, owners: set[str], depth: int) -> FieldSpec:
    kind, nested, values = _kind_of(schema, element_type(member.type), depth)
    if is_array(member.type):
        kind = LIST_KINDS.get(kind, FieldKind.ANY)
    minimum, maximum = INTEGER_BOUNDS.get(element_type(member.type), (None, None))
    evidence = None
    for owner in owners:
        if (narrower := prose_range(owner, member.name)) is not None:
            minimum = _tighter(minimum, narrower.minimum, max)
            maximum = _tighter(maximum, narrower.maximum, min)
            evidence = narrower.evidence
    return FieldSpec(
        name=member.name,
        type=member.type,
        kind=kind,
        optional=member.optional,
        minimum=minimum,
        maximum=maximum,
        range_evidence=evidence,
        values=values,
        members=nested,
        doc=member.doc,
        since=member.since,
        features=member.features,
        default=_default_from_doc(member.doc, kind, values),
        source=member.source,
    )


def _kind_of(schema: Schema, name: str, depth: int) -> tuple[FieldKind, tuple[FieldSpec, ...], tuple[EnumValue, ...]]:
    if name == "bool":
        return FieldKind.BOOL, (), ()
    if name == "size":
        return FieldKind.SIZE, (), ()
    if name in INTEGER_BOUNDS:
        return FieldKind.INT, (), ()
    if name == "number":
        return FieldKind.NUMBER, (), ()
    if name == "str":
        return FieldKind.STR, (), ()
    definition = schema.get(name)
    if isinstance(definition, Enum):
        return FieldKind.ENUM, (), definition.values
    # StrOrNull, whatever the VM numbers it: exactly a string or null.
    if isinstance(definition, Alternate) and \
            sorted(element_type(alt.type) for alt in definition.alternatives) == ["null", "str"]:
            return FieldKind.STR_OR_NULL, (), ()
    if isinstance(definition, Struct) and depth < 8:
        nested = tuple(_spec(schema, m, {name}, depth + 1) for m in schema.members(name))
        return FieldKind.STRUCT, nested, ()
    return FieldKind.ANY, (), ()


def _tighter(current: int | None, narrower: int | None, pick: Callable[[int, int], int]) -> int | None:
    if narrower is None:
        return current
    return narrower if current is None else pick(current, narrower)


def _default_from_doc(doc: str | None, kind: FieldKind, values: tuple[EnumValue, ...]) -> object:
    found = DEFAULT_IN_DOC.search(doc or "")
    if not found:
        return None
    word = found.group(1).rstrip(".")
    if kind in (FieldKind.INT, FieldKind.SIZE):
        digits = re.match(r"\d+", word)
        return int(digits.group(0)) if digits else None
    if kind is FieldKind.BOOL and word.lower() in ("true", "false"):
        return word.lower() == "true"
    if kind is FieldKind.ENUM and word in {value.name for value in values}:
        return word
    return None
