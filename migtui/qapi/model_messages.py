"""Readable messages for what a generated model refuses, worded from the field spec."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from migtui.qapi.fields import FieldKind, FieldSpec
from migtui.qapi.human_values import value_hint
from migtui.units import SIZE_HINT


def message_for(error: Any, spec: FieldSpec | None, nested: Sequence[int | str]) -> str:
    """The message for one pydantic error of a member; ``nested`` is its place inside it."""
    path = ""
    for part in nested:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        inner = _member(spec, str(part))
        if inner is None:  # a key the struct does not have, or pydantic's own parts
            path += f".{part}" if not path.endswith(str(part)) else ""
            continue
        spec = inner
        path += f".{part}"
    message = _wording(error, spec)
    return f"{path.lstrip('.')}: {message}" if path else message


def _member(spec: FieldSpec | None, name: str) -> FieldSpec | None:
    if spec is None:
        return None
    for member in spec.members:
        if member.name == name or member.name.replace("-", "_") == name:
            return member
    return None


def _wording(error: Any, spec: FieldSpec | None) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a member here"
    if spec is None:
        return str(error["msg"])
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"must be from {spec.minimum} to {spec.maximum}, not {given}"
    # A member with a unit (announce-initial is a size in the schema, milliseconds in its doc) is
    # told in its unit; the kind's own wording is for the members without one.
    hint = value_hint(spec)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        if hint:
            return f"expects {hint} (from {spec.minimum} to {spec.maximum}), not {given!r}"
        return f"expects a whole number from {spec.minimum} to {spec.maximum}, not {given!r}"
    if kind == "size_parsing":
        if hint:
            return f"expects {hint}, not {given!r}"
        return str(error["msg"]) if "whole number" in str(error["msg"]) else f"expects {SIZE_HINT}, not {given!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expects true or false, not {given!r}"
    if kind == "literal_error":
        return f"must be one of {', '.join(spec.value_names)}, not {given!r}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"expects a number, not {given!r}"
    if kind in ("string_type", "string_unicode"):
        if spec.kind is FieldKind.STR_OR_NULL:
            return f"expects text or null, not {given!r}"
        return f"expects text, not {given!r}"
    if kind == "list_type":
        return f"expects a list, not {given!r}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        names = ", ".join(member.name for member in spec.members)
        return f"expects an object with members {names}, not {given!r}"
    return str(error["msg"])
