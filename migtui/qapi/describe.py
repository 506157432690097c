"""Schemas and definitions described for people and for scripts (``migtui schema``)."""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import Any

from migtui.qapi.diff import Change
from migtui.qapi.entities import Alternate, Command, Enum, EnumValue, Member, Union, type_text
from migtui.qapi.fields import capability_values
from migtui.qapi.schema import Schema

KIND_ORDER = ("command", "event", "struct", "enum", "union", "alternate")
WIDTH = 100


def describe_definition(schema: Schema, name: str) -> dict[str, Any]:
    """One definition as a JSON object.

    Structs, commands and events: ``{"name", "kind", "since", "features",
    "members": [{"name", "type", "optional", "features", "since", "doc"}]}``
    (a command's members are its arguments). Enums: ``{"name", "kind",
    "since", "features", "values": [{"name", "features", "since", "doc"}]}``.
    Unions add ``"discriminator"`` and ``"variants"``; alternates have
    ``"alternatives"``.
    """
    definition = schema.lookup(name)
    head: dict[str, Any] = {
        "name": definition.name,
        "kind": definition.kind,
        "since": definition.since,
        "features": list(definition.features),
    }
    if isinstance(definition, Enum):
        return head | {"values": [_value_json(value) for value in definition.values]}
    if isinstance(definition, Alternate):
        alternatives = [{"name": alt.name, "type": alt.type} for alt in definition.alternatives]
        return head | {"alternatives": alternatives}
    head["members"] = [_member_json(member) for member in schema.members(name)]
    if isinstance(definition, Union):
        head["discriminator"] = definition.discriminator
        head["variants"] = [{"name": branch.name, "type": branch.type} for branch in definition.branches]
    return head


def _member_json(member: Member) -> dict[str, Any]:
    return {
        "name": member.name,
        "type": member.type,
        "optional": member.optional,
        "features": list(member.features),
        "since": member.since,
        "doc": member.doc,
    }


def _value_json(value: EnumValue) -> dict[str, Any]:
    return {"name": value.name, "features": list(value.features), "since": value.since, "doc": value.doc}


def definition_text(schema: Schema, name: str) -> list[str]:
    """One definition for a terminal: a header, then each member with its doc."""
    described = describe_definition(schema, name)
    definition = schema.lookup(name)
    lines = [f"{described['kind']} {described['name']}{_tags(described)}   [{schema.origin}]"]
    if definition.doc:
        lines += _wrap(definition.doc, WIDTH, initial_indent="  ", subsequent_indent="  ")
    if isinstance(definition, Command) and definition.returns:
        lines.append(f"  returns {type_text(definition.returns)}")
    items = described.get("members") or described.get("values") or described.get("alternatives") or []
    label = "values" if "values" in described else "members" if "members" in described else "alternatives"
    lines.append(f"  {label} ({len(items)}):")
    for item in items:
        kind = f"  {type_text(item['type'])}" if "type" in item else ""
        optional = " (optional)" if item.get("optional") else ""
        lines.append(f"    {item['name']}{kind}{optional}{_tags(item)}")
        if item.get("doc"):
            lines += _wrap(item["doc"], WIDTH, initial_indent="        ", subsequent_indent="        ")
    for variant in described.get("variants", []):
        lines.append(f"    when {described['discriminator']} = {variant['name']}: {type_text(variant['type'])}")
    return lines


def _wrap(text: str, width: int, initial_indent: str, subsequent_indent: str) -> list[str]:
    # Member names like "migrate-set-parameters" must not be split at their hyphens.
    return textwrap.wrap(
        text, width, initial_indent=initial_indent, subsequent_indent=subsequent_indent, break_on_hyphens=False
    )


def _tags(item: dict[str, Any]) -> str:
    tags = [*item.get("features", [])]
    if item.get("since"):
        tags.append(f"since {item['since']}")
    return f"  [{', '.join(tags)}]" if tags else ""


def summary_text(schema: Schema) -> list[str]:
    """What a schema holds: counts, parameters, capabilities, and every name by kind."""
    lines = [schema.origin]
    if schema.files:
        folders = {path.parent for path in schema.files}
        if len(folders) == 1:
            lines.append(f"files: {', '.join(path.name for path in schema.files)} in {folders.pop()}")
        else:
            lines.append("files: " + ", ".join(str(path) for path in schema.files))
    lines += [f"note: {note}" for note in schema.notes]
    counts = Counter(definition.kind for definition in schema)
    parts = [f"{counts[kind]} {kind}{'s' if counts[kind] != 1 else ''}" for kind in KIND_ORDER if counts[kind]]
    lines.append(f"{len(schema.definitions)} definitions: {', '.join(parts)}")
    if isinstance(schema.get("migrate-set-parameters"), Command):
        members = schema.members("migrate-set-parameters")
        lines.append(f"migration parameters (migrate-set-parameters): {len(members)}{_flagged(members)}")
    try:
        capabilities = capability_values(schema)
        lines.append(f"migration capabilities: {len(capabilities)}{_flagged(capabilities)}")
    except Exception:  # a schema without migration capabilities: nothing to count
        pass
    for kind in KIND_ORDER:
        names = sorted(d.name for d in schema if d.kind == kind and not d.name.isdigit())
        if names:
            lines.append(f"{kind}s:")
            lines += _wrap(", ".join(names), WIDTH, initial_indent="  ", subsequent_indent="  ")
    return lines


def _flagged(items: tuple[Member, ...] | tuple[EnumValue, ...]) -> str:
    counts = Counter(feature for item in items for feature in item.features if feature in ("deprecated", "unstable"))
    flagged = [f"{count} {feature}" for feature, count in sorted(counts.items())]
    return f" ({', '.join(flagged)})" if flagged else ""


def diff_text(before: Schema, after: Schema, changes: list[Change]) -> list[str]:
    """Changes grouped by where they are, for a terminal."""
    lines = [f"migration changes from {before.origin} to {after.origin}:"]
    if not changes:
        return [*lines, "  none"]
    marks = {"added": "+", "removed": "-"}
    current = None
    for change in changes:
        if change.where != current:
            current = change.where
            lines.append(f"{current}:")
        mark = marks.get(change.what, "~")
        what = "" if change.what in marks else f" {change.what}"
        detail = f"  ({change.detail})" if change.detail else ""
        lines.append(f"  {mark} {change.name}{what}{detail}")
    return lines

