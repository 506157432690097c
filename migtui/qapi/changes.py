"""From what a user asked for to what must be sent: validated requests and change sets.

A *request* is every parameter and capability the user gave, validated by
the VM's generated model (parameters) and its capability list. A *change
set* is the part of a request that differs from what the VM holds now, with
old and new values for a preview ("downtime-limit 300 ms → 500 ms"). Only a
change set is ever sent, so an unchanged member is never touched.

Pure functions of the model and the VM's current values: the CLI, the form
and bulk apply validate exactly the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from migtui.qapi.errors import FieldErrors
from migtui.qapi.fields import FieldSpec
from migtui.qapi.human_values import human_value
from migtui.qapi.models import ArgumentsModel
from migtui.qapi.text_values import TextValueError, value_from_text

ON_WORDS = frozenset({"on", "true", "yes"})
OFF_WORDS = frozenset({"off", "false", "no"})


@dataclass(frozen=True)
class Change:
    """One member that will change (or did): its old and new value as QEMU spells them."""

    name: str
    old: Any
    new: Any
    spec: FieldSpec | None = None
    """The parameter's spec; ``None`` for a capability."""
    reported: bool = True
    """False when QEMU did not report the member before (``block-bitmap-mapping`` until first set)."""

    @property
    def capability(self) -> bool:
        return self.spec is None

    @property
    def old_text(self) -> str:
        return human_value(self.spec, self.old) if self.reported else "(not set)"

    @property
    def new_text(self) -> str:
        return human_value(self.spec, self.new)

    @property
    def text(self) -> str:
        """``max-bandwidth 128 MiB/s → 8 MiB/s``, ``auto-converge off → on``."""
        return f"{self.name} {self.old_text} → {self.new_text}"


@dataclass(frozen=True)
class SettingsRequest:
    """Validated values for ``migrate-set-parameters`` and ``migrate-set-capabilities``."""

    parameters: dict[str, Any] = field(default_factory=dict)
    capabilities: dict[str, bool] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.parameters or self.capabilities)


@dataclass(frozen=True)
class ChangeSet:
    """What a request changes on one VM: exactly the arguments to send, and the changes to show."""

    parameters: dict[str, Any] = field(default_factory=dict)
    capabilities: dict[str, bool] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    @property
    def text(self) -> str:
        """All changes on one line (a chart mark, a log line)."""
        return "; ".join(change.text for change in self.changes)


def validate_request(model: type[ArgumentsModel], capability_names: Iterable[str],
                     parameters: Mapping[str, Any], capabilities: Mapping[str, Any]) -> SettingsRequest:
    """Check every value; :class:`FieldErrors` lists every refused one (parameters and capabilities).

    Values may be typed (``500``, ``True``, a list) or text as typed on one
    line (``"500"``, ``"64M"``, ``"on"``, ``"null"``, ``"a, b"``, JSON for
    structs): text is read by :func:`value_from_text` for its member's kind.
    """
    errors: dict[str, str] = {}
    given: dict[str, Any] = {}
    for name, value in parameters.items():
        try:
            spec = model.spec(name) if isinstance(value, str) else None
        except KeyError:
            spec = None  # the model names it as not a member
        try:
            given[name] = value_from_text(spec, value) if spec is not None else value
        except TextValueError as error:
            errors[name] = str(error)
    arguments: dict[str, Any] = {}
    try:
        arguments = model.to_arguments(given) if given else {}
    except FieldErrors as refused:
        errors.update(refused.errors)
    known = set(capability_names)
    states: dict[str, bool] = {}
    for name, wanted in capabilities.items():
        if name not in known:
            errors[name] = "is not a migration capability of this QEMU"
        elif (state := capability_state(wanted)) is None:
            errors[name] = f"expects on or off, not {wanted!r}"
        else:
            states[name] = state
    if errors:
        raise FieldErrors(errors)
    return SettingsRequest(arguments, states)


def capability_state(value: Any) -> bool | None:
    """``True``/``False`` for a switch or a word (on/off, true/false, yes/no); ``None`` otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ON_WORDS:
            return True
        if word in OFF_WORDS:
            return False
    return None


def change_set(request: SettingsRequest, model: type[ArgumentsModel], parameters: Mapping[str, Any],
               capabilities: Mapping[str, bool]) -> ChangeSet:
    """The part of ``request`` that differs from the VM's ``parameters`` and ``capabilities``.

    A member QEMU does not report (``block-bitmap-mapping`` before it is
    first set) counts as different from any value.
    """
    sent: dict[str, Any] = {}
    changes: list[Change] = []
    for name, new in request.parameters.items():
        if name in parameters and parameters[name] == new:
            continue
        sent[name] = new
        changes.append(Change(name, parameters.get(name), new, model.spec(name), reported=name in parameters))
    switched: dict[str, bool] = {}
    for name, state in request.capabilities.items():
        if bool(capabilities.get(name, False)) == state:
            continue
        switched[name] = state
        changes.append(Change(name, bool(capabilities.get(name, False)), state))
    return ChangeSet(sent, switched, tuple(changes))
