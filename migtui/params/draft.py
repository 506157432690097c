"""The user's edits to one VM's settings, judged against what the VM holds now.

A :class:`Draft` keeps what was entered for each member (as an editor gives
it: text for numbers and sizes), separately from what QEMU holds, which
changes under it as the poller reads the VM again. Whatever those values
are, :meth:`Draft.judge` tells which edits are invalid (the model's words,
in the member's unit) and what the valid ones would change (old → new), so
an edit that happens to equal what QEMU now holds is no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migtui.params.settings import VMSettings
from migtui.qapi.changes import ChangeSet, SettingsRequest
from migtui.qapi.errors import FieldErrors
from migtui.qapi.fields import FieldKind, FieldSpec


@dataclass(frozen=True)


class Member:
    """A parameter of ``migrate-set-parameters`` or a capability (a switch)."""

    spec: FieldSpec
    capability: bool

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def key(self) -> str:
        """Unique among a VM's members (a capability may share a parameter's name)."""
        return ("cap:" if self.capability else "par:") + self.spec.name


def members_of(settings: VMSettings) -> tuple[Member, ...]:
    """The parameters in the schema's order, then the capabilities."""
    capabilities = (FieldSpec(name=value.name, type="bool", kind=FieldKind.BOOL, optional=True, doc=value.doc,
                              since=value.since, features=value.features, source=value.source)
                    for value in settings.capability_values)
    return (*(Member(spec, False) for spec in settings.specs), *(Member(spec, True) for spec in capabilities))


@dataclass(frozen=True)


class Verdict:
    """What the edits come to: the model's objections, and the changes of the valid ones."""

    errors: dict[str, str]
    """Member key -> what is wrong with the value entered."""
    changes: ChangeSet
    request: SettingsRequest

    def change_of(self, member: Member) -> str | None:
        """``300 ms → 500 ms`` when the member would change."""
        found = next((change for change in self.changes.changes
                      if change.name == member.name and change.capability == member.capability), None)
        return None if found is None else f"{found.old_text} → {found.new_text}"


class Draft:
    def __init__(self, settings: VMSettings) -> None:
        self.settings = settings
        self.members = members_of(settings)
        self._by_key = {member.key: member for member in self.members}
        self.edits: dict[str, Any] = {}
        """Member key -> what the user entered."""
        self.refused: dict[str, str] = {}
        """Member key -> QEMU's words when it refused the last apply."""

    def same_members(self, settings: VMSettings) -> bool:
        """``settings`` (from another schema of the same QEMU) has exactly these members, alike."""
        return members_of(settings) == self.members

    def take(self, settings: VMSettings) -> set[str]:
        """QEMU holds ``settings`` now (same members, newer values); returns the keys of the members that moved."""
        before, self.settings = self.settings, settings
        return {member.key for member in self.members if _held(before, member) != _held(settings, member)}

    def has(self, key: str) -> bool:
        return key in self._by_key

    def member(self, key: str) -> Member:
        return self._by_key[key]

    def find(self, name: str, *, capability: bool) -> Member | None:
        return self._by_key.get(("cap:" if capability else "par:") + name)

    def held(self, member: Member) -> Any:
        """What QEMU holds (None: not reported)."""
        return _held(self.settings, member)

    def value(self, member: Member) -> Any:
        """What the editor shows: the edit, else what QEMU holds."""
        return self.edits.get(member.key, self.held(member))

    def edit(self, member: Member, value: Any) -> None:
        self.edits[member.key] = value
        self.refused.pop(member.key, None)

    def drop(self, member: Member) -> None:
        self.edits.pop(member.key, None)
        self.refused.pop(member.key, None)

    def clear(self) -> None:
        self.edits.clear()
        self.refused.clear()

    def judge(self) -> Verdict:
        # In the schema's order, whatever the order of the edits: what is sent and previewed follows it.
        edited = [member for member in self.members if member.key in self.edits]
        parameters = {member.name: self.edits[member.key] for member in edited if not member.capability}
        capabilities = {member.name: self.edits[member.key] for member in edited if member.capability}
        errors: dict[str, str] = {}
        try:
            request = self.settings.request(parameters, capabilities)
        except FieldErrors as invalid:
            errors = {f"par:{name}" if f"par:{name}" in self._by_key else f"cap:{name}": message
                      for name, message in invalid.errors.items()}
            valid = {name: value for name, value in parameters.items() if name not in invalid.errors}
            try:
                valid_caps = {n: v for n, v in capabilities.items() if n not in invalid.errors}
                request = self.settings.request(valid, valid_caps)
            except FieldErrors:  # objections across members: nothing is valid on its own
                request = SettingsRequest()
        return Verdict(errors, self.settings.changes(request), request)


def _held(settings: VMSettings, member: Member) -> Any:
    return (settings.capabilities if member.capability else settings.parameters).get(member.name)
