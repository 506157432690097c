"""QMP sockets found by pattern: ``qmp = "/var/run/qemu-server/*.qmp"`` in a ``[[vm]]``.

A pattern makes one VM per socket that matches it, named by the entry's
``name`` template (``"{stem}"`` by default: ``101`` for ``101.qmp``;
``"pve-{stem}"``, ``"{host}-{stem}"`` and ``{file}`` also work). The fleet
looks again every few seconds (:mod:`migtui.qmp.socket_finder`), so VMs that
start and stop come and go.

Only characters that mean the same to Python's glob and to a POSIX shell
are taken (on an SSH host the pattern is expanded by the host's shell):
letters, digits, ``_ . - /`` and the wildcards ``* ? [ ]``.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

DEFAULT_NAME = "{stem}"
_WILDCARDS = re.compile(r"[*?\[]")
_SAFE = re.compile(r"^/[A-Za-z0-9_.*?\[\]/-]+$")
_FIELDS = ("stem", "file", "host")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def is_pattern(qmp: str) -> bool:
    """Whether a ``qmp`` value is a pattern (a path with a wildcard), not one socket's address."""
    return not qmp.startswith("tcp:") and bool(_WILDCARDS.search(qmp))


def is_template(name: str) -> bool:
    return "{" in name


def check_pattern(pattern: str) -> None:
    """Raise ValueError, in the user's terms, for a pattern migtui cannot use."""
    if not _SAFE.match(pattern):
        raise ValueError(f"{pattern!r}: a pattern is an absolute path of letters, digits, '_ . - /' "
                         "and the wildcards '* ? [ ]'")
    if _WILDCARDS.search(str(PurePosixPath(pattern).parent)):
        raise ValueError(f"{pattern!r}: only the file name may have wildcards (one directory is listed)")


def check_template(template: str) -> None:
    """Raise ValueError when ``template`` names no VM (unknown field, or a name migtui refuses)."""
    try:
        sample = name_for(template, "/run/x-1.qmp", "h")
    except (KeyError, IndexError, ValueError):
        raise ValueError(f"{template!r}: a name template may use {', '.join('{' + f + '}' for f in _FIELDS)}") \
            from None
    if not _NAME.match(sample):
        raise ValueError(f"{template!r} makes names such as {sample!r}: letters, digits and '_ . -' only")


def name_for(template: str, path: str, host: str | None) -> str:
    """The VM name ``template`` gives the socket at ``path`` (on ``host``, None: this machine)."""
    file = PurePosixPath(path)
    return template.format(stem=file.stem, file=file.name, host=host or "local")
