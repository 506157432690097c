"""One schema from a live VM and a bundled release: the VM decides, the files explain.

The live schema says which commands, members and enum values exist; the
files give what introspection loses: type names and integer widths as
written (``uint8``, ``size``, ``StrOrNull``), docs, ``since`` and the
definitions' features. Numbered live types are matched to the files' types by
walking both from the same command and event names, member by member.
A member the files do not know (a newer VM) keeps its live type and no doc.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from migtui.qapi.entities import (
    BUILTIN_TYPES,
    Alternate,
    Command,
    Definition,
    Enum,
    EnumValue,
    Event,
    Member,
    Struct,
    TypeRef,
    Union,
    element_type,
    is_array,
)  # fmt: skip
from migtui.qapi.schema import Schema

#: What introspection shows for each integer type of the files.
INTEGER_TYPES = frozenset({"int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "size"})


def merge(live: Schema, files: Schema) -> Schema:
    """``live`` with names, widths, docs and features from ``files``."""
    names = match_types(live, files)
    merger = _Merger(live, files, names)
    definitions: dict[str, Definition] = {}
    for definition in live:
        merged = merger.definition(definition)
        if merged.name in definitions:  # two live types matched one file type: keep both
            merged = replace(merged, name=definition.name)
        definitions[merged.name] = merged
    still_used = _referenced(definitions)
    for name in merger.inlined - still_used:
        definitions.pop(name, None)
    return Schema(
        definitions,
        origin=f"{live.origin}, docs from {files.origin}",
        version=live.version,
        release=files.version,
        live=live.live,
    )


def match_types(live: Schema, files: Schema) -> dict[str, str]:
    """Live type name -> file type name, found by walking from shared command and event names."""
    names: dict[str, str] = {}

    def pair(live_ref: TypeRef | None, file_ref: TypeRef | None) -> None:
        if live_ref is None or file_ref is None or is_array(live_ref) != is_array(file_ref):
            return
        live_name, file_name = element_type(live_ref), element_type(file_ref)
        if live_name in BUILTIN_TYPES or live_name in names or file_name not in files:
            return
        live_def, file_def = live.get(live_name), files.get(file_name)
        if live_def is None or file_def is None or live_def.kind != file_def.kind:
            return
        if not _alike(live, live_name, files, file_name):
            return
        names[live_name] = file_name
        pair_members(live_name, file_name)
        if isinstance(live_def, Union) and isinstance(file_def, Union):
            pair_by_name(live_def.branches, file_def.branches)

    def pair_members(live_name: str, file_name: str) -> None:
        live_def = live.get(live_name)
        if isinstance(live_def, (Struct, Union, Command, Event)):
            pair_by_name(live.members(live_name), files.members(file_name))

    def pair_by_name(live_members: tuple[Member, ...], file_members: tuple[Member, ...]) -> None:
        by_name = {member.name: member for member in file_members}
        for member in live_members:
            if member.name in by_name:
                pair(member.type, by_name[member.name].type)

    for definition in live:
        counterpart = files.get(definition.name)
        if isinstance(definition, (Command, Event)) and type(counterpart) is type(definition):
            if counterpart.arg_type:
                pair(definition.arg_type, counterpart.arg_type)
            else:
                pair_members(definition.name, definition.name)
            if isinstance(definition, Command):
                pair(definition.returns, counterpart.returns)  # type: ignore[union-attr]
    return names


def _alike(live: Schema, live_name: str, files: Schema, file_name: str) -> bool:
    """Whether two object types could be the same: some member name in common (or both empty).

    Guards against pairing an old "simple" union's implicit wrapper
    (``{'data': InetSocketAddress}``) with the type it wraps.
    """
    if not isinstance(live.get(live_name), (Struct, Union)):
        return True
    live_names = {member.name for member in live.members(live_name)}
    file_names = {member.name for member in files.members(file_name)}
    return bool(live_names & file_names) or live_names == file_names


def compatible(live_ref: TypeRef, file_ref: TypeRef, names: dict[str, str]) -> bool:
    """Whether a file's type describes what the VM introspects as ``live_ref``."""
    if is_array(live_ref) != is_array(file_ref):
        return False
    live_name, file_name = element_type(live_ref), element_type(file_ref)
    if live_name == "int":
        return file_name in INTEGER_TYPES
    if live_name in BUILTIN_TYPES:
        return live_name == file_name
    return names.get(live_name) == file_name


class _Merger:
    def __init__(self, live: Schema, files: Schema, names: dict[str, str]) -> None:
        self.live = live
        self.files = files
        self.names = names
        self.inlined: set[str] = set()
        """Numbered live types the merged schema writes inline instead."""

    def rename(self, type_ref: TypeRef) -> TypeRef:
        name = self.names.get(element_type(type_ref), element_type(type_ref))
        return [name] if is_array(type_ref) else name

    def definition(self, live_def: Definition) -> Definition:
        file_name = self.names.get(live_def.name, live_def.name)
        file_def = self.files.get(file_name)
        if file_def is None or file_def.kind != live_def.kind:
            return self.live_only(live_def)
        explained: dict[str, Any] = dict(
            name=file_name,
            doc=file_def.doc,
            since=file_def.since,
            features=_union(file_def.features, live_def.features),
            feature_docs=file_def.feature_docs,
            condition=file_def.condition,
            location=file_def.location,
            source="files",
        )
        if isinstance(live_def, Struct):
            return Struct(**explained, members=self.members(live_def.members, self.files.members(file_name)))
        if isinstance(live_def, Union) and isinstance(file_def, Union):
            file_base = self.files.members(file_name)
            return Union(
                **explained,
                base_members=self.members(live_def.base_members, file_base),
                discriminator=live_def.discriminator,
                branches=self.members(live_def.branches, file_def.branches),
            )
        if isinstance(live_def, Enum) and isinstance(file_def, Enum):
            return Enum(**explained, values=self.values(live_def.values, file_def.values), prefix=file_def.prefix)
        if isinstance(live_def, Alternate):
            return Alternate(**explained, alternatives=tuple(self.live_member(m) for m in live_def.alternatives))
        if isinstance(live_def, (Command, Event)) and isinstance(file_def, (Command, Event)):
            parts: dict[str, Any] = {"boxed": file_def.boxed}
            live_members = self.live.members(live_def.name)
            if file_def.arg_type:
                parts["arg_type"] = self.names.get(live_def.arg_type or "", live_def.arg_type)
            else:
                # Inline arguments in the files: keep them inline; the VM's
                # implicit numbered argument type is then no longer needed.
                parts["arguments"] = self.members(live_members, file_def.arguments)
                parts["boxed"] = False
                self.inlined.add(live_def.arg_type or "")
            if isinstance(live_def, Command):
                parts["returns"] = self.returns(live_def.returns, file_def)  # type: ignore[arg-type]
                return Command(**explained, **parts)
            return Event(**explained, **parts)
        return self.live_only(live_def)

    def returns(self, live_returns: TypeRef | None, file_def: Command) -> TypeRef | None:
        if live_returns is None:
            return None
        empty = self.live.get(element_type(live_returns))
        if file_def.returns is None and isinstance(empty, Struct) and not empty.members:
            self.inlined.add(element_type(live_returns))
            return None  # the files' "returns nothing" is the VM's empty object
        return self.rename(live_returns)

    def live_only(self, live_def: Definition) -> Definition:
        if isinstance(live_def, Struct):
            return replace(live_def, members=tuple(self.live_member(m) for m in live_def.members))
        if isinstance(live_def, Union):
            return replace(
                live_def,
                base_members=tuple(self.live_member(m) for m in live_def.base_members),
                branches=tuple(self.live_member(m) for m in live_def.branches),
            )
        if isinstance(live_def, Alternate):
            return replace(live_def, alternatives=tuple(self.live_member(m) for m in live_def.alternatives))
        if isinstance(live_def, Command):
            arg_type = self.names.get(live_def.arg_type or "", live_def.arg_type)
            returns = self.rename(live_def.returns) if live_def.returns else None
            return replace(live_def, arg_type=arg_type, returns=returns)
        if isinstance(live_def, Event):
            return replace(live_def, arg_type=self.names.get(live_def.arg_type or "", live_def.arg_type))
        return live_def

    def live_member(self, member: Member) -> Member:
        return replace(member, type=self.rename(member.type))

    def members(self, live_members: tuple[Member, ...], file_members: tuple[Member, ...]) -> tuple[Member, ...]:
        by_name = {member.name: member for member in file_members}
        merged = []
        for member in live_members:
            known = by_name.get(member.name)
            if known is not None and compatible(member.type, known.type, self.names):
                merged.append(
                    replace(known, optional=member.optional, features=_union(known.features, member.features))
                )
            else:
                merged.append(self.live_member(member))
        return tuple(merged)

    def values(self, live_values: tuple[EnumValue, ...], file_values: tuple[EnumValue, ...]) -> tuple[EnumValue, ...]:
        by_name = {value.name: value for value in file_values}
        merged = []
        for value in live_values:
            known = by_name.get(value.name)
            if known is not None:
                merged.append(replace(known, features=_union(known.features, value.features)))
            else:
                merged.append(value)
        return tuple(merged)


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return first + tuple(name for name in second if name not in first)


def _referenced(definitions: dict[str, Definition]) -> set[str]:
    """Every type name some definition refers to."""
    used: set[str] = set()
    for definition in definitions.values():
        members: tuple[Member, ...] = ()
        if isinstance(definition, Struct):
            members = definition.members
            used.add(definition.base or "")
        elif isinstance(definition, Union):
            members = definition.base_members + definition.branches
            used.add(definition.base or "")
        elif isinstance(definition, Alternate):
            members = definition.alternatives
        elif isinstance(definition, (Command, Event)):
            members = definition.arguments
            used.add(definition.arg_type or "")
            if isinstance(definition, Command) and definition.returns:
                used.add(element_type(definition.returns))
        used.update(element_type(member.type) for member in members)
    return used
