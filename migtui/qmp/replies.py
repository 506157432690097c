"""What QEMU answered, checked for its shape before anyone reads it.

``VMSession.execute`` returns ``object``: a JSON value of unknown shape.
Queries whose answer migtui reads go through :func:`json_object` or
:func:`json_objects` (``VMSession.query`` / ``query_list``), so an answer of
the wrong shape is one readable line (:class:`UnexpectedAnswer`) at the
boundary, not an ``AttributeError`` deep in the model. The members stay
JSON values (``Any``): the model parses them (pydantic, or ``.get`` with
defaults), since QEMU adds members in every release.
"""

from __future__ import annotations

from typing import Any

from migtui.qmp.errors import UnexpectedAnswer

JSONObject = dict[str, Any]
"""A JSON object QEMU sent; its members are read (and checked) by the model."""


def json_object(vm: str, command: str, reply: object) -> JSONObject:
    if not isinstance(reply, dict):
        raise UnexpectedAnswer(vm, command, f"expected a JSON object, got {_kind(reply)}")
    return reply


def json_objects(vm: str, command: str, reply: object) -> list[JSONObject]:
    if not isinstance(reply, list):
        raise UnexpectedAnswer(vm, command, f"expected a JSON array, got {_kind(reply)}")
    for entry in reply:
        if not isinstance(entry, dict):
            raise UnexpectedAnswer(vm, command, f"expected an array of objects, found {_kind(entry)} in it")
    return reply


def capability_states(reply: list[JSONObject]) -> dict[str, bool]:
    """``{"postcopy-ram": False, ...}`` from a ``query-migrate-capabilities`` answer."""
    return {str(entry.get("capability")): bool(entry.get("state")) for entry in reply}


def qemu_version(reply: JSONObject | None) -> str | None:
    """'7.2.22' from a ``query-version`` answer (None if it says no version)."""
    qemu = (reply or {}).get("qemu")
    if not isinstance(qemu, dict):
        return None
    return f"{qemu.get('major')}.{qemu.get('minor')}.{qemu.get('micro')}"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}")
