"""QEMU's QAPI schema, read from files and from live VMs, turned into fields and models.

Parse, then check, then walk: :mod:`.reader` (syntax, with :mod:`.lexer` and
:mod:`.docs`), :mod:`.check` (shapes, into :mod:`.entities`), :mod:`.schema`
(references, lookups). Live VMs: :mod:`.introspect` (pure, on
``query-qmp-schema`` replies), :mod:`.merge` (live + bundled release),
:mod:`.fetch` (the one QMP call). Forms: :mod:`.fields`, :mod:`.models`,
:mod:`.qemu_errors`. Never imports Textual.
"""

from migtui.qapi.bundled import bundled_releases, load_release, release_for
from migtui.qapi.errors import FieldErrors, SchemaError
from migtui.qapi.fields import FieldKind, FieldSpec, capability_values, field_specs
from migtui.qapi.introspect import introspect
from migtui.qapi.merge import merge
from migtui.qapi.models import UNCHANGED, ArgumentsModel, build_model
from migtui.qapi.qemu_errors import member_for_error
from migtui.qapi.schema import Schema, load_schema
from migtui.qapi.sources import live_schema, offline_schema
from migtui.qapi.version import QemuVersion

__all__ = [
    "UNCHANGED", "ArgumentsModel", "FieldErrors", "FieldKind", "FieldSpec", "QemuVersion", "Schema",
    "SchemaError", "build_model", "bundled_releases", "capability_values", "field_specs", "introspect",
    "live_schema", "load_release", "load_schema", "member_for_error", "merge", "offline_schema", "release_for",
]  # fmt: skip
