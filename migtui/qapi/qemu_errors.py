"""Which member a QEMU refusal is about, so a form can show it at that field.

QEMU's messages name parameters in both spellings:
``Parameter 'downtime_limit' expects an integer in the range of 0 to (2000 * 1000) ms``
(from the range checks, C field names) and
``Invalid parameter type for 'tls-creds', expected: StrOrNull`` (from the
input visitor, QAPI names, sometimes with a path such as
``block-bitmap-mapping[0].alias``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

QUOTED = re.compile(r"'([^']+)'")


def member_for_error(message: str, members: Iterable[str]) -> str | None:
    """The member (QEMU spelling) a QEMU error message is about, or ``None``.

    ``members`` are the candidate names, e.g. the field specs' names. A message
    about several parameters ("Multifd is not compatible with compress") or
    none gives ``None``: show it at the form, not at a field.
    """
    by_folded = {_fold(name): name for name in members}
    for quoted in QUOTED.findall(message):
        head = re.split(r"[\[.]", quoted, maxsplit=1)[0]
        found = by_folded.get(_fold(head))
        if found is not None:
            return found
    return None


def _fold(name: str) -> str:
    return name.replace("_", "-").lower()
