"""What changed for migration between two schemas (releases or VMs).

Compared: the arguments of the migration commands and the data of the
migration events (:data:`MIGRATION_ROOTS`), the migration capabilities, and
the values of enums that parameters take (``MultiFDCompression``,
``MigMode``...). Reported per member: added, removed, retyped, newly
deprecated or unstable (and the reverse), optional-ness changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from migtui.qapi.entities import Command, Enum, EnumValue, Event, Member, element_type, type_text
from migtui.qapi.fields import INTEGER_BOUNDS, capability_values
from migtui.qapi.introspect import MIGRATION_ROOTS
from migtui.qapi.schema import Schema

WATCHED_FEATURES = ("deprecated", "unstable")
MOVED_OUT: dict[str, tuple[str, str]] = {"client_migrate_info": ("ui.json", "8.1")}
"""Commands QEMU moved out of migration.json into a file migtui does not bundle: (file, release).
Between two bundled releases such a command looks removed; it is not. Checked against every pair
of bundled releases: the other commands that leave migration.json (6.0's migrate_set_speed,
migrate_set_downtime, migrate-set-cache-size, query-migrate-cache-size) were removed from QEMU."""


@dataclass(frozen=True)
class Change:
    where: str
    """The command, event or enum the change is in ("capabilities" for capabilities)."""
    name: str
    """The member, value or command that changed."""
    what: str
    """added, removed, moved (to a schema file not compared), retyped, deprecated,
    unstable, no longer deprecated, no longer unstable, now optional, now required."""
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        return asdict(self)


def diff_migration(before: Schema, after: Schema) -> list[Change]:
    changes: list[Change] = []
    for root in _commands_and_events(before, after):
        old, new = before.get(root), after.get(root)
        kind = "events" if isinstance(old or new, Event) else "commands"
        if root in MOVED_OUT and not (isinstance(old, (Command, Event)) and isinstance(new, (Command, Event))):
            file, release = MOVED_OUT[root]
            changes.append(Change(kind, root, "moved", f"in {file} from {release} on, a file migtui does not "
                                                       "bundle: still a QEMU command"))
            continue
        if not isinstance(old, (Command, Event)):
            changes.append(Change(kind, root, "added", _since(new)))
            continue
        if not isinstance(new, (Command, Event)):
            changes.append(Change(kind, root, "removed", _condition(old)))
            continue
        changes += _feature_changes(kind, root, old.features, new.features)
        changes += _member_changes(root, before.members(root), after.members(root))
    changes += _value_changes("capabilities", _capabilities(before), _capabilities(after))
    changes += _parameter_enum_changes(before, after)
    return changes


def _commands_and_events(before: Schema, after: Schema) -> list[str]:
    """Names to compare: the migration roots first, then the other commands and events."""
    names = {d.name for schema in (before, after) for d in schema if isinstance(d, (Command, Event))}
    ordered = [name for name in MIGRATION_ROOTS if name in names]
    return ordered + sorted(names - set(ordered))


def _condition(definition: object) -> str:
    condition = getattr(definition, "condition", None)
    return f"only built with {condition}" if condition else ""


def _capabilities(schema: Schema) -> tuple[EnumValue, ...]:
    try:
        return capability_values(schema)
    except Exception:  # a schema without migration capabilities compares as empty
        return ()


def _member_changes(where: str, old: tuple[Member, ...], new: tuple[Member, ...]) -> list[Change]:
    changes: list[Change] = []
    old_by_name = {member.name: member for member in old}
    new_by_name = {member.name: member for member in new}
    for member in old:
        if member.name not in new_by_name:
            changes.append(Change(where, member.name, "removed", type_text(member.type)))
    for member in new:
        previous = old_by_name.get(member.name)
        if previous is None:
            detail = type_text(member.type) + (f", since {member.since}" if member.since else "")
            changes.append(Change(where, member.name, "added", detail))
            continue
        coarse = "live" in (previous.source, member.source)
        if _type_key(previous, coarse) != _type_key(member, coarse):
            retyped = f"{type_text(previous.type)} -> {type_text(member.type)}"
            changes.append(Change(where, member.name, "retyped", retyped))
        if previous.optional != member.optional:
            changes.append(Change(where, member.name, "now optional" if member.optional else "now required"))
        changes += _feature_changes(where, member.name, previous.features, member.features)
    return changes


def _value_changes(where: str, old: tuple[EnumValue, ...], new: tuple[EnumValue, ...]) -> list[Change]:
    changes: list[Change] = []
    old_by_name = {value.name: value for value in old}
    new_names = {value.name for value in new}
    changes += [Change(where, value.name, "removed") for value in old if value.name not in new_names]
    for value in new:
        previous = old_by_name.get(value.name)
        if previous is None:
            changes.append(Change(where, value.name, "added", f"since {value.since}" if value.since else ""))
        else:
            changes += _feature_changes(where, value.name, previous.features, value.features)
    return changes


def _parameter_enum_changes(before: Schema, after: Schema) -> list[Change]:
    """Value changes of the enums that migrate-set-parameters' members take."""
    if "migrate-set-parameters" not in before or "migrate-set-parameters" not in after:
        return []
    changes: list[Change] = []
    old_members = {m.name: m for m in before.members("migrate-set-parameters")}
    for member in after.members("migrate-set-parameters"):
        previous = old_members.get(member.name)
        if previous is None:
            continue
        old_enum, new_enum = before.get(element_type(previous.type)), after.get(element_type(member.type))
        if isinstance(old_enum, Enum) and isinstance(new_enum, Enum):
            changes += _value_changes(f"{member.name} values", old_enum.values, new_enum.values)
    return changes


def _feature_changes(where: str, name: str, old: tuple[str, ...], new: tuple[str, ...]) -> list[Change]:
    changes = []
    for feature in WATCHED_FEATURES:
        if feature in new and feature not in old:
            changes.append(Change(where, name, feature))
        elif feature in old and feature not in new:
            changes.append(Change(where, name, f"no longer {feature}"))
    return changes


def _type_key(member: Member, coarse: bool) -> str:
    """A member's type for comparison; against a live-only type, only the JSON kind counts."""
    if not coarse:
        return type_text(member.type)
    name = element_type(member.type)
    kind = "int" if name in INTEGER_BOUNDS else name if not name.isdigit() else "named"
    return f"[{kind}]" if isinstance(member.type, list) else kind


def _since(definition: object) -> str:
    since = getattr(definition, "since", None)
    return f"since {since}" if since else ""
