"""pydantic models generated from field specs, and the QMP arguments they produce.

``model = build_model(specs)`` makes a model class whose fields are the
members (aliased to QEMU's spelling). ``model.to_arguments(values, current)``
validates what a user typed and returns exactly the arguments to send:
members left unchanged (absent, :data:`UNCHANGED`, ``None`` for anything but
a string-or-null, or equal to ``current``) are omitted. Invalid input raises
:class:`FieldErrors` with one readable message per member.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model, model_validator
from pydantic_core import PydanticCustomError

from migtui.qapi.errors import FieldErrors
from migtui.qapi.fields import FieldKind, FieldSpec
from migtui.qapi.model_messages import message_for
from migtui.units import parse_size


class _Unchanged:
    """The value that means "leave this member as it is"."""

    _instance: _Unchanged | None = None

    def __new__(cls) -> _Unchanged:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED"

    def __bool__(self) -> bool:
        return False


UNCHANGED: Any = _Unchanged()


class StructModel(BaseModel):
    """Base of generated models; knows its specs and QEMU's member names."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    field_specs: ClassVar[tuple[FieldSpec, ...]] = ()
    field_names: ClassVar[dict[str, str]] = {}
    """QEMU member name -> Python field name."""

    @model_validator(mode="before")
    @classmethod
    def _drop_unchanged(cls, data: Any) -> Any:
        """At every depth, UNCHANGED (and None, except for a string-or-null) means "not given"."""
        if not isinstance(data, Mapping):
            return data
        kinds = {spec.name: spec.kind for spec in cls.field_specs}
        by_python = {python: qemu for qemu, python in cls.field_names.items()}
        return {
            key: value
            for key, value in data.items()
            if value is not UNCHANGED
            and (value is not None or kinds.get(by_python.get(key) or key) is FieldKind.STR_OR_NULL)
        }

    def to_qmp(self) -> dict[str, Any]:
        """The members that were given, by QEMU's names (nested models too)."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class ArgumentsModel(StructModel):
    """A command's arguments (or a struct) as a form edits them."""

    @classmethod
    def spec(cls, name: str) -> FieldSpec:
        for spec in cls.field_specs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @classmethod
    def validate_values(cls, values: Mapping[str, Any]) -> ArgumentsModel:
        """The validated model of ``values``; :class:`FieldErrors` if any is invalid."""
        given, errors = cls._given(values)
        try:
            model = cls.model_validate(given)
        except ValidationError as error:
            errors.update(_field_errors(cls, error))
            raise FieldErrors(errors) from None
        if errors:
            raise FieldErrors(errors)
        return model

    @classmethod
    def to_arguments(cls, values: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Exactly the QMP arguments for ``values``, leaving out what would not change.

        ``current`` is what the VM reports now (``query-migrate-parameters``);
        an optional member equal to it is left out. Keys of ``values`` may be
        QEMU's names (``downtime-limit``) or Python's (``downtime_limit``).
        """
        model = cls.validate_values(values)
        sent = model.to_qmp()
        arguments: dict[str, Any] = {}
        for spec in cls.field_specs:
            if spec.name not in sent:
                continue
            value = sent[spec.name]
            if spec.optional and current is not None and spec.name in current and current[spec.name] == value:
                continue
            arguments[spec.name] = value
        return arguments

    @classmethod
    def _given(cls, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The values that ask for a change, by Python field name; unknown keys as errors."""
        given: dict[str, Any] = {}
        errors: dict[str, str] = {}
        by_python = {python: qemu for qemu, python in cls.field_names.items()}
        for key, value in values.items():
            qemu = key if key in cls.field_names else by_python.get(key) or key.replace("_", "-")
            if qemu not in cls.field_names:
                errors[key] = "is not a member here"
                continue
            spec = cls.spec(qemu)
            if value is UNCHANGED or (value is None and spec.kind is not FieldKind.STR_OR_NULL):
                continue
            given[cls.field_names[qemu]] = value
        return given, errors


def build_model(specs: tuple[FieldSpec, ...] | list[FieldSpec], name: str = "Arguments") -> type[ArgumentsModel]:
    """A model class with one field per spec (nested models for structs)."""
    return _build(tuple(specs), name, ArgumentsModel)  # type: ignore[return-value]


def python_name(member: str) -> str:
    """A Python identifier for a member name: ``downtime-limit`` -> ``downtime_limit``."""
    name = member.replace("-", "_").replace(".", "_").replace("+", "_")
    if keyword.iskeyword(name) or not name.isidentifier() or name.startswith("model_") or hasattr(BaseModel, name):
        name = f"{name}_"
    if not name.isidentifier():
        name = f"m_{name}"
    return name


def _build(specs: tuple[FieldSpec, ...], name: str, base: type[StructModel]) -> type[StructModel]:
    fields: dict[str, Any] = {}
    names: dict[str, str] = {}
    for spec in specs:
        python = python_name(spec.name)
        names[spec.name] = python
        annotation = _annotation(spec, f"{name}_{python}")
        default = ... if not spec.optional else None
        fields[python] = (annotation, Field(default, alias=spec.name, description=spec.doc))
    model = create_model(name, __base__=base, **fields)
    model.field_specs = specs
    model.field_names = names
    return model


def _annotation(spec: FieldSpec, nested_name: str) -> Any:
    item = _item_annotation(spec, nested_name)
    if spec.kind.name.startswith("LIST_"):
        return list[item]  # type: ignore[valid-type]
    return item


def _item_annotation(spec: FieldSpec, nested_name: str) -> Any:
    kind = spec.kind
    if kind in (FieldKind.INT, FieldKind.LIST_INT):
        return Annotated[int, Field(ge=spec.minimum, le=spec.maximum), BeforeValidator(_not_bool)]
    if kind is FieldKind.SIZE:
        return Annotated[int, Field(ge=spec.minimum, le=spec.maximum), BeforeValidator(_size)]
    if kind is FieldKind.BOOL:
        return bool
    if kind is FieldKind.NUMBER:
        return Annotated[float, BeforeValidator(_not_bool)]
    if kind in (FieldKind.STR, FieldKind.LIST_STR):
        return str
    if kind is FieldKind.STR_OR_NULL:
        return str | None
    if kind in (FieldKind.ENUM, FieldKind.LIST_ENUM):
        return Literal[spec.value_names] if spec.values else str
    if kind in (FieldKind.STRUCT, FieldKind.LIST_STRUCT):
        return _build(spec.members, nested_name, StructModel)
    return Any


def _not_bool(value: Any) -> Any:
    # pydantic would read True as 1; QEMU would refuse it, so refuse it here.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "expects a number, not true/false")
    return value


def _size(value: Any) -> Any:
    try:
        return parse_size(value)
    except ValueError as error:
        raise PydanticCustomError("size_parsing", str(error)) from None


def _field_errors(model: type[ArgumentsModel], error: ValidationError) -> dict[str, str]:
    """One message per top-level member, in QEMU's spelling."""
    by_python = {python: qemu for qemu, python in model.field_names.items()}
    messages: dict[str, str] = {}
    for item in error.errors():
        location = item["loc"]
        top = str(location[0]) if location else ""
        qemu = top if top in model.field_names else by_python.get(top, top)
        if qemu in messages:
            continue
        spec = model.spec(qemu) if qemu in model.field_names else None
        messages[qemu] = message_for(item, spec, location[1:])
    return messages
