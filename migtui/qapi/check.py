"""Check each parsed expression's shape and turn it into a typed definition.

The second step after :mod:`migtui.qapi.reader`: keys allowed per kind of
definition, member and value forms (``'*name': 'type'`` or
``'*name': {'type': ..., 'if': ..., 'features': [...]}``), features as names
or ``{'name': ..., 'if': ...}``. A wrong expression is reported at its
opening brace with the definition and key at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from migtui.qapi.docs import DocBlock, collapse
from migtui.qapi.entities import Alternate, Command, Definition, Enum, EnumValue, Event, Member, Struct, TypeRef, Union
from migtui.qapi.errors import Location, SchemaError
from migtui.qapi.reader import Expression, Value

_Kind = TypeVar("_Kind", list[Value], dict[str, Value])

COMMON_KEYS = {"if", "features"}
ALLOWED_KEYS: dict[str, set[str]] = {
    "enum": {"data", "prefix"},
    "struct": {"data", "base"},
    "union": {"data", "base", "discriminator"},
    "alternate": {"data"},
    "command": {"data", "returns", "boxed", "gen", "success-response", "allow-oob", "allow-preconfig", "coroutine"},
    "event": {"data", "boxed"},
    "pragma": set(),
}


def definition_from(expression: Expression) -> Definition | None:
    """The definition an expression makes, or ``None`` for a pragma."""
    checker = _ExpressionChecker(expression)
    return checker.build()


class _ExpressionChecker:
    def __init__(self, expression: Expression) -> None:
        self.data = expression.data
        self.location: Location = expression.location
        self.doc: DocBlock | None = expression.doc
        kinds = [key for key in ALLOWED_KEYS if key in self.data]
        if len(kinds) != 1:
            names = ", ".join(f"'{kind}'" for kind in ALLOWED_KEYS)
            raise SchemaError(f"a definition needs exactly one of {names}", self.location)
        self.kind = kinds[0]
        self.name = self.data[self.kind]
        self.what = f"{self.kind} '{self.name}'" if isinstance(self.name, str) else self.kind

    def fail(self, message: str) -> SchemaError:
        return SchemaError(f"{self.what}: {message}", self.location)

    def build(self) -> Definition | None:
        if self.kind == "pragma":
            if not isinstance(self.name, dict):
                raise self.fail("the value of 'pragma' must be a dict")
            return None
        if not isinstance(self.name, str) or not self.name:
            raise self.fail(f"the value of '{self.kind}' must be a name")
        allowed = ALLOWED_KEYS[self.kind] | COMMON_KEYS | {self.kind}
        for key in self.data:
            if key not in allowed:
                raise self.fail(f"unknown key '{key}'")
        if self.doc is not None and self.doc.symbol != self.name:
            raise SchemaError(
                f"documentation comment is for '{self.doc.symbol}' but the definition is '{self.name}'",
                self.doc.location,
            )
        common = dict(
            name=self.name,
            doc=collapse(self.doc.body) or None if self.doc else None,
            since=self.doc.since if self.doc else None,
            features=self.features(self.data.get("features", []), "features"),
            feature_docs=tuple(sorted(self.doc.features.items())) if self.doc else (),
            condition=self.data.get("if"),
            location=self.location,
        )
        builders: dict[str, Callable[[dict[str, Any]], Definition]] = {
            "enum": self.enum,
            "struct": self.struct,
            "union": self.union,
            "alternate": self.alternate,
            "command": self.command,
            "event": self.event,
        }
        return builders[self.kind](common)

    # -- the kinds of definition ------------------------------------------

    def enum(self, common: dict[str, Any]) -> Enum:
        data = self.require("data", list)
        values = tuple(self.enum_value(item) for item in data)
        prefix = self.data.get("prefix")
        if prefix is not None and not isinstance(prefix, str):
            raise self.fail("'prefix' must be a string")
        return Enum(**common, values=values, prefix=prefix)

    def struct(self, common: dict[str, Any]) -> Struct:
        return Struct(**common, base=self.optional_name("base"), members=self.members(self.require("data", dict)))

    def union(self, common: dict[str, Any]) -> Union:
        base = self.data.get("base")
        discriminator = self.data.get("discriminator")
        if discriminator is not None and not isinstance(discriminator, str):
            raise self.fail("'discriminator' must be a member name")
        branches = self.members(self.require("data", dict), branches=True)
        if isinstance(base, dict):
            return Union(**common, base_members=self.members(base), discriminator=discriminator, branches=branches)
        return Union(**common, base=self.optional_name("base"), discriminator=discriminator, branches=branches)

    def alternate(self, common: dict[str, Any]) -> Alternate:
        return Alternate(**common, alternatives=self.members(self.require("data", dict), branches=True))

    def command(self, common: dict[str, Any]) -> Command:
        given = self.data.get("returns")
        returns = self.type_ref(given, "'returns'") if given is not None else None
        return Command(**common, **self.arguments(), returns=returns)

    def event(self, common: dict[str, Any]) -> Event:
        return Event(**common, **self.arguments())

    # -- parts ------------------------------------------------------------

    def arguments(self) -> dict[str, Any]:
        boxed = self.data.get("boxed", False)
        if not isinstance(boxed, bool):
            raise self.fail("'boxed' must be true or false")
        data = self.data.get("data")
        if data is None:
            if boxed:
                raise self.fail("'boxed': true needs 'data' naming a type")
            return {"boxed": False}
        if isinstance(data, str):
            return {"arg_type": data, "boxed": boxed}
        if isinstance(data, dict) and not boxed:
            return {"arguments": self.members(data), "boxed": False}
        raise self.fail("'data' must name a type, or (without 'boxed') be a dict of members")

    def members(self, data: dict[str, Value], branches: bool = False) -> tuple[Member, ...]:
        result = []
        for key, value in data.items():
            optional = key.startswith("*") and not branches
            name = key[1:] if optional else key
            if not name:
                raise self.fail(f"member name '{key}' is empty")
            where = f"member '{name}'"
            features: tuple[str, ...] = ()
            condition = None
            if isinstance(value, dict):
                for inner in value:
                    if inner not in ("type", "if", "features"):
                        raise self.fail(f"{where} has unknown key '{inner}'")
                if "type" not in value:
                    raise self.fail(f"{where} needs a 'type'")
                features = self.features(value.get("features", []), where)
                condition = value.get("if")
                value = value["type"]
            doc = self.doc.member_doc(name) if self.doc else None
            member = Member(
                name=name, type=self.type_ref(value, where), optional=optional,
                features=features, condition=condition, doc=doc,
            )  # fmt: skip
            result.append(member)
        return tuple(result)

    def enum_value(self, item: Value) -> EnumValue:
        features: tuple[str, ...] = ()
        condition = None
        if isinstance(item, dict):
            for inner in item:
                if inner not in ("name", "if", "features"):
                    raise self.fail(f"a value has unknown key '{inner}'")
            name = item.get("name")
            features = self.features(item.get("features", []), f"value '{name}'")
            condition = item.get("if")
        else:
            name = item
        if not isinstance(name, str) or not name:
            raise self.fail("each value must be a name or { 'name': ... }")
        doc = self.doc.member_doc(name) if self.doc else None
        return EnumValue(name=name, features=features, condition=condition, doc=doc)

    def features(self, value: Value, where: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(f"{where}: 'features' must be a list")
        names = []
        for item in value:
            name = item.get("name") if isinstance(item, dict) else item
            if not isinstance(name, str) or not name:
                raise self.fail(f"{where}: each feature must be a name or {{ 'name': ... }}")
            names.append(name)
        return tuple(names)

    def type_ref(self, value: Value, where: str) -> TypeRef:
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and value[0]:
            return [value[0]]
        raise self.fail(f"{where}: a type is a name or a list of one name")

    def require(self, key: str, kind: type[_Kind]) -> _Kind:
        value = self.data.get(key)
        if not isinstance(value, kind):
            article = "a list" if kind is list else "a dict"
            raise self.fail(f"needs '{key}' as {article}")
        return value

    def optional_name(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(f"'{key}' must be a type name")
        return value
