"""The forms of one VM: the field specs and model for the QEMU it runs.

The live schema (``query-qmp-schema`` merged with the closest bundled
release) is asked for once per QEMU a session is connected to: it costs
about 50 ms and 1,000 entries, and it only changes when the session reaches
another QEMU (a restart, an upgrade), which ``query-version`` tells. Until
it is there, :func:`known_forms` gives the forms of the bundled release of
the VM's own QEMU version at once, so an editor can show the values
without waiting for QEMU.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from functools import cache
from typing import Any

from migtui.qapi.bundled import load_release, release_for
from migtui.qapi.entities import EnumValue
from migtui.qapi.fields import FieldSpec, capability_values, field_specs
from migtui.qapi.models import ArgumentsModel, build_model
from migtui.qapi.schema import Schema
from migtui.qapi.sources import live_schema
from migtui.qapi.version import QemuVersion
from migtui.qmp.errors import QEMURefused
from migtui.qmp.queries import Queries, Settable

PARAMETERS_COMMAND = "migrate-set-parameters"


@dataclass(frozen=True)
class VMForms:
    """What a form for this VM's QEMU is built from."""

    schema: Schema
    parameters: tuple[FieldSpec, ...]
    """One spec per member of ``MigrateSetParameters``, in the schema's order."""
    capabilities: tuple[EnumValue, ...]
    """The values of ``MigrationCapability``, with their docs and features."""
    model: type[ArgumentsModel]

    @classmethod
    def from_schema(cls, schema: Schema) -> VMForms:
        specs = field_specs(schema, PARAMETERS_COMMAND)
        return cls(schema, specs, capability_values(schema), build_model(specs, "MigrateSetParameters"))

    @property
    def qemu(self) -> str:
        return str(self.schema.version) if self.schema.version else "?"

    def only(self, settable: Settable) -> VMForms:
        """The forms with only what ``settable`` allows (a libvirt domain's)."""
        specs = tuple(spec for spec in self.parameters if spec.name in settable.parameters)
        return VMForms(self.schema, specs, tuple(value for value in self.capabilities
                                                 if value.name in settable.capabilities),
                       build_model(specs, "MigrateSetParameters"))

    def parameter(self, name: str) -> FieldSpec | None:
        return next((spec for spec in self.parameters if spec.name == name), None)

    def capability(self, name: str) -> EnumValue | None:
        return next((value for value in self.capabilities if value.name == name), None)


_cache: weakref.WeakKeyDictionary[Queries, tuple[str, VMForms]] = weakref.WeakKeyDictionary()


async def forms_of(session: Queries) -> VMForms:
    """The forms for the QEMU ``session`` is connected to (asked once per QEMU), with only
    what the VM's manager lets migtui set."""
    forms = await _all_forms(session)
    return forms.only(session.settable) if session.settable is not None else forms


async def _all_forms(session: Queries) -> VMForms:
    version = _version_key(session.version)
    cached = _cache.get(session)
    if cached is not None and cached[0] == version and version:
        return cached[1]
    try:
        schema_json = await session.query_list("query-qmp-schema")
    except QEMURefused:
        # No live schema to ask (a libvirt domain: libvirt holds the monitor): the bundled
        # release its QEMU version picks.
        release = release_for(QemuVersion.from_query_version(dict(session.version or {})))
        if release is None:
            raise
        return _release_forms(release)
    schema = live_schema(list(schema_json), dict(session.version or {}), origin=f"VM {session.name}")
    forms = VMForms.from_schema(schema)
    _cache[session] = (_version_key(session.version), forms)
    return forms


def known_forms(session: Queries) -> VMForms | None:
    """The forms already at hand for ``session``'s QEMU, without asking it: its live forms
    if :func:`forms_of` read them, else those of the bundled release of the same
    major.minor version; ``None`` when there is neither."""
    cached = _cache.get(session)
    if cached is not None and cached[0] == _version_key(session.version) and cached[0]:
        return cached[1]
    release = release_of(session)
    if release is None:
        return None
    forms = _release_forms(release)
    return forms.only(session.settable) if session.settable is not None else forms


def release_of(session: Queries) -> QemuVersion | None:
    """The bundled release of the same major.minor as ``session``'s QEMU (None: none, or not connected yet)."""
    if not session.version:
        return None
    version = QemuVersion.from_query_version(dict(session.version))
    release = release_for(version)
    return release if release is not None and release[:2] == version[:2] else None


@cache
def _release_forms(release: QemuVersion) -> VMForms:
    return VMForms.from_schema(load_release(release))


def _version_key(version: dict[str, Any] | None) -> str:
    return json.dumps(version, sort_keys=True) if version else ""
