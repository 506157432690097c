"""Where a schema comes from: a file, a bundled release, or a live VM's replies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migtui.errors import UsageError
from migtui.qapi.bundled import bundled_releases, load_release, release_for, release_named
from migtui.qapi.entities import Command, Event
from migtui.qapi.introspect import MIGRATION_ROOTS, introspect
from migtui.qapi.merge import merge
from migtui.qapi.schema import Schema, load_schema
from migtui.qapi.version import QemuVersion


def live_schema(schema_json: list[dict[str, Any]], version_reply: dict[str, Any], origin: str = "live VM") -> Schema:
    """A live VM's schema, explained by the newest bundled release not newer than it.

    Walks the migration roots and every command and event that release's
    files define. Without such a release (a VM older than all of them) the
    schema is the VM's alone: fields, but no docs.
    """
    version = QemuVersion.from_query_version(version_reply)
    release = release_for(version)
    if release is None:
        live = introspect(schema_json, version, origin=origin)
        oldest = bundled_releases()[0] if bundled_releases() else None
        live.notes.append(f"no bundled release is as old as QEMU {version} (oldest: {oldest}): no docs")
        return live
    files = load_release(release)
    defined = [d.name for d in files if isinstance(d, (Command, Event))]
    live = introspect(schema_json, version, roots=[*MIGRATION_ROOTS, *defined], origin=origin)
    merged = merge(live, files)
    if version[:2] > release[:2]:
        merged.notes.append(f"QEMU {version} is newer than the newest bundled release {release}: "
                            "new members have no docs")
    return merged


def offline_schema(source: str) -> Schema:
    """The schema a user names: a bundled release (``7.2``) or a schema file path."""
    if QemuVersion.parse(source) is not None and not Path(source).exists():
        return load_release(release_named(source))
    path = Path(source)
    if path.exists():
        return load_schema(path)
    names = ", ".join(str(release) for release in bundled_releases())
    raise UsageError(f"{source!r} is neither a schema file nor a bundled release (bundled: {names})")
