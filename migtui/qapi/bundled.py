"""The QEMU releases whose schema files ship in ``migtui/schemas``."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from migtui.errors import UsageError
from migtui.qapi.schema import Schema, load_schema
from migtui.qapi.version import QemuVersion

#: The file a release's schema starts from, and the standalone files read beside it
#: (``job.json`` is included by QEMU's top-level schema, not by ``migration.json``).
ROOT_FILE = "migration.json"
EXTRA_FILES = ("job.json",)


def schemas_dir() -> Path:
    return Path(str(resources.files("migtui.schemas")))


def bundled_releases() -> list[QemuVersion]:
    """Every bundled release, oldest first."""
    found = []
    for entry in schemas_dir().iterdir():
        version = QemuVersion.parse(entry.name)
        if version is not None and entry.name.startswith("v") and (entry / ROOT_FILE).is_file():
            found.append(version)
    return sorted(found)


def release_for(version: QemuVersion) -> QemuVersion | None:
    """The newest bundled release not newer than ``version`` (``None`` if all are newer).

    A development build such as 8.0.50 gets 8.0.0: its schema is at least that.
    """
    candidates = [release for release in bundled_releases() if release <= version]
    return candidates[-1] if candidates else None


def release_named(text: str) -> QemuVersion:
    """The bundled release a user means by ``7.2``, ``7.2.0`` or ``v7.2.0``."""
    wanted = QemuVersion.parse(text)
    releases = bundled_releases()
    if wanted is not None:
        for release in releases:
            if release == wanted or (text.count(".") == 1 and release[:2] == wanted[:2]):
                return release
    names = ", ".join(str(release) for release in releases)
    raise UsageError(f"no bundled release {text!r} (bundled: {names})")


@cache
def load_release(release: QemuVersion) -> Schema:
    """The checked schema of a bundled release (read once per process)."""
    directory = schemas_dir() / f"v{release}"
    schema = load_schema(
        directory / ROOT_FILE,
        origin=f"release {release}",
        extra=[directory / name for name in EXTRA_FILES if (directory / name).is_file()],
    )
    schema.version = release
    return schema
