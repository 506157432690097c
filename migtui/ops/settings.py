"""Apply migration parameters and capabilities: what is said of a change once QEMU took it.

The checking and sending live with the forms (:mod:`migtui.params.apply`,
:mod:`migtui.params.bulk`); the command line (``migtui params``) and the
dashboard's editor say the outcome in these words.
"""

from __future__ import annotations

from migtui.params.apply import Applied
from migtui.qapi.human_values import human_value


def held_back(applied: Applied) -> list[str]:
    """Members QEMU (or libvirt) accepted but reports otherwise (7.2 keeps multifd-zlib-level at 1), a phrase each."""
    phrases = []
    for name, held in applied.not_held.items():
        spec = next((s for s in applied.settings.specs if s.name == name), None)
        phrases.append(f"{name} was accepted but reads back as {human_value(spec, held) if spec else held!r}")
    return phrases


def outcome(applied: Applied) -> str:
    """The change in one line: what changed, and what QEMU kept otherwise."""
    if not applied.changes:
        return f"{applied.vm}: nothing to change"
    kept = held_back(applied)
    return f"{applied.vm}: {applied.text}" + (f" ({'; '.join(kept)})" if kept else "")
