"""QEMU versions: from release names, ``query-version`` replies and user input."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

VERSION_TEXT = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")


class QemuVersion(NamedTuple):
    major: int
    minor: int
    micro: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.micro}"

    @classmethod
    def parse(cls, text: str) -> QemuVersion | None:
        """``7.2``, ``7.2.0`` or ``v7.2.0``; ``None`` if ``text`` is no version."""
        found = VERSION_TEXT.match(text.strip())
        if not found:
            return None
        return cls(int(found.group(1)), int(found.group(2)), int(found.group(3) or 0))

    @classmethod
    def from_query_version(cls, reply: dict[str, Any]) -> QemuVersion:
        """From ``query-version``: ``{"qemu": {"major": 7, "minor": 2, "micro": 22}, ...}``."""
        qemu = reply.get("qemu", reply)
        return cls(int(qemu["major"]), int(qemu["minor"]), int(qemu.get("micro", 0)))
