"""Free-text members narrowed to the values a VM really offers.

The schema types a snapshot's ``vmstate`` as ``str`` and ``devices`` as
``['str']``: any node name. A form is kinder when it offers the VM's nodes,
so the spec keeps its docs, since and features and becomes an enum (or a
list of enum values) whose values are those names; the generated model then
refuses any other name before anything is sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from migtui.qapi.entities import EnumValue
from migtui.qapi.fields import FieldKind, FieldSpec

_NARROWED = {FieldKind.STR: FieldKind.ENUM, FieldKind.LIST_STR: FieldKind.LIST_ENUM}


def with_choices(specs: Iterable[FieldSpec], choices: Mapping[str, Sequence[str]]) -> tuple[FieldSpec, ...]:
    """``specs`` with each member named in ``choices`` limited to those values."""
    narrowed = []
    for spec in specs:
        names = choices.get(spec.name)
        if names is not None and spec.kind in _NARROWED:
            spec = dataclasses.replace(spec, kind=_NARROWED[spec.kind],
                                       values=tuple(EnumValue(name=name) for name in names))
        narrowed.append(spec)
    return tuple(narrowed)
