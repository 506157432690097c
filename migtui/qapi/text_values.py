"""Values as people type them on one line, and back: the CLI's ``--set`` and the form's editors.

Text goes to the generated model mostly as it is: the model itself parses
``500``, ``64M``, ``true``/``off`` and refuses what does not fit, with a
message worded from the field spec. Only what the model cannot read from a
single string is turned into a value here: ``null`` for a string-or-null,
lists (``a, b`` or JSON), and structs (JSON).
"""

from __future__ import annotations

import json
from typing import Any

from migtui.qapi.fields import FieldKind, FieldSpec
from migtui.units import format_size

LIST_KINDS = (FieldKind.LIST_STR, FieldKind.LIST_INT, FieldKind.LIST_ENUM)
JSON_KINDS = (FieldKind.STRUCT, FieldKind.LIST_STRUCT, FieldKind.ANY)


class TextValueError(ValueError):
    """Text that is no value of its kind (bad JSON); the message is for the field."""


def value_from_text(spec: FieldSpec, text: str) -> Any:
    """What to hand the model for ``text`` typed for ``spec``."""
    if spec.kind is FieldKind.STR_OR_NULL and text.strip() == "null":
        return None
    if spec.kind in LIST_KINDS:
        stripped = text.strip()
        if stripped.startswith("["):
            return _json(stripped, "a list")
        return [item.strip() for item in stripped.split(",") if item.strip()]
    if spec.kind in JSON_KINDS:
        return _json(text, "a list of objects" if spec.kind is FieldKind.LIST_STRUCT else "JSON")
    return text


def text_from_value(spec: FieldSpec, value: Any) -> str:
    """How a value QEMU reported reads in an input (and parses back to the same value)."""
    if value is None:
        return "null" if spec.kind is FieldKind.STR_OR_NULL else ""
    if spec.kind is FieldKind.BOOL:
        return "on" if value else "off"
    if spec.kind is FieldKind.SIZE and isinstance(value, int):
        return format_size(value)
    if spec.kind in LIST_KINDS and isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if spec.kind in JSON_KINDS:
        return json.dumps(value)
    return str(value)


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise TextValueError(f"expects {what} as JSON ({error.msg} at column {error.colno})") from None
