"""A live VM's ``query-qmp-schema`` turned into the same entities as the files.

A pure function of the two replies, so it runs on recorded data as well as on
a VM. ``query-qmp-schema`` names most types with numbers that differ between
builds (``"143"``), shows every integer width as ``int``, marks optional
members with ``"default": null`` and arrays as ``[N]`` entries with an
``element-type``; so the walk always starts from command and event names,
which are stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from migtui.qapi.entities import Alternate, Command, Definition, Enum, EnumValue, Event, Member, Struct, TypeRef, Union
from migtui.qapi.errors import SchemaError
from migtui.qapi.schema import Schema
from migtui.qapi.version import QemuVersion

#: What migtui drives or watches: the walk starts here. Names a VM lacks
#: (``snapshot-save`` before 6.0) are skipped.
MIGRATION_ROOTS: tuple[str, ...] = (
    # parameters and capabilities
    "migrate-set-parameters", "query-migrate-parameters",
    "migrate-set-capabilities", "query-migrate-capabilities",
    # migrations
    "migrate", "migrate-incoming", "query-migrate", "migrate_cancel", "migrate-continue",
    "migrate-start-postcopy", "migrate-pause", "migrate-recover",
    "calc-dirty-rate", "query-dirty-rate",
    # snapshot jobs
    "snapshot-save", "snapshot-load", "snapshot-delete",
    "query-jobs", "job-dismiss", "job-cancel",
    # events
    "MIGRATION", "MIGRATION_PASS", "JOB_STATUS_CHANGE",
)  # fmt: skip


def introspect(
    schema_json: list[dict[str, Any]],
    version: Mapping[str, Any] | QemuVersion | None,
    *,
    roots: Iterable[str] = MIGRATION_ROOTS,
    origin: str = "live VM",
) -> Schema:
    """Entities for everything reachable from ``roots`` in a ``query-qmp-schema`` reply.

    ``version`` is the ``query-version`` reply (or a :class:`QemuVersion`).
    Definitions keep the VM's (numbered) type names; members' types are
    written like the files' (``'int'``, ``['409']``).
    """
    walker = _Walker({entry["name"]: entry for entry in schema_json})
    for root in roots:
        if root in walker.entries:
            walker.visit(root)
    if isinstance(version, Mapping):
        version = QemuVersion.from_query_version(dict(version))
    label = f"{origin} (QEMU {version})" if version else origin
    return Schema(walker.definitions, origin=label, version=version, live=True)


class _Walker:
    def __init__(self, entries: dict[str, dict[str, Any]]) -> None:
        self.entries = entries
        self.definitions: dict[str, Definition] = {}

    def entry(self, name: str) -> dict[str, Any]:
        try:
            return self.entries[name]
        except KeyError:
            raise SchemaError(f"query-qmp-schema refers to a type it does not define: {name!r}") from None

    def type_ref(self, name: str) -> TypeRef:
        """A member's type written like the files': arrays as one-element lists."""
        entry = self.entry(name)
        if entry["meta-type"] == "array":
            return [self.type_ref(entry["element-type"])]  # type: ignore[list-item]
        if entry["meta-type"] != "builtin":
            self.visit(name)
        return name

    def visit(self, name: str) -> None:
        if name in self.definitions:
            return
        entry = self.entry(name)
        meta = entry["meta-type"]
        common: dict[str, Any] = dict(name=name, features=tuple(entry.get("features", ())), source="live")
        if meta in ("builtin", "array"):
            return
        # Placeholder first: types may refer to themselves through arrays.
        self.definitions[name] = Definition(**common)
        if meta == "object":
            self.definitions[name] = self.object(entry, common)
        elif meta == "enum":
            self.definitions[name] = self.enum(entry, common)
        elif meta == "alternate":
            alternatives = tuple(
                Member(name=alt["type"], type=self.type_ref(alt["type"]), source="live") for alt in entry["members"]
            )
            self.definitions[name] = Alternate(**common, alternatives=alternatives)
        elif meta == "command":
            arg_type = self.named(entry["arg-type"])
            returns = self.type_ref(entry["ret-type"])
            self.definitions[name] = Command(**common, arg_type=arg_type, returns=returns)
        elif meta == "event":
            self.definitions[name] = Event(**common, arg_type=self.named(entry["arg-type"]))
        else:
            raise SchemaError(f"query-qmp-schema: {name!r} has an unknown meta-type {meta!r}")

    def named(self, name: str) -> str:
        self.visit(name)
        return name

    def members(self, entries: list[dict[str, Any]]) -> tuple[Member, ...]:
        return tuple(
            Member(
                name=member["name"],
                type=self.type_ref(member["type"]),
                optional="default" in member,
                features=tuple(member.get("features", ())),
                source="live",
            )
            for member in entries
        )

    def object(self, entry: dict[str, Any], common: dict[str, Any]) -> Definition:
        members = self.members(entry.get("members", []))
        if "tag" in entry:
            branches = tuple(
                Member(name=variant["case"], type=self.type_ref(variant["type"]), source="live")
                for variant in entry.get("variants", [])
            )
            return Union(**common, base_members=members, discriminator=entry["tag"], branches=branches)
        return Struct(**common, members=members)

    def enum(self, entry: dict[str, Any], common: dict[str, Any]) -> Enum:
        # "members" (with features) appeared in QEMU 6.0; "values" is always there.
        described = entry.get("members") or [{"name": value} for value in entry.get("values", [])]
        values = tuple(
            EnumValue(name=value["name"], features=tuple(value.get("features", ())), source="live")
            for value in described
        )
        return Enum(**common, values=values)
