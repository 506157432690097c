"""A VM's session as a view sees it: it can ask QEMU, and nothing more.

Screens get this, never a :class:`~migtui.qmp.session.VMSession`: a change
made through it would skip the fleet's re-read (every view showing what
QEMU holds once a change returns), so "every change goes through the
engine" is a type, not a promise. The engine's read-only calls (the
pre-flight, a dirty-rate measurement, the schema behind a form) take it too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from migtui.qmp.replies import JSONObject


@dataclass(frozen=True)
class Settable:
    """What can be set on a VM whose manager sets only some of QEMU's migration settings (libvirt)."""

    parameters: frozenset[str]
    capabilities: frozenset[str]


class Queries(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def version(self) -> JSONObject | None:
        """QEMU's ``query-version`` answer (None before the first connect)."""

    @property
    def settable(self) -> Settable | None:
        """The parameters and capabilities this VM's manager lets migtui set (None: all QEMU has)."""

    def consequence(self, names: Collection[str]) -> str | None:
        """What setting these parameters or capabilities does beyond QEMU, for the confirmation
        (None: nothing; a libvirt domain's QEMU settings sent through libvirt's monitor taint it)."""

    @property
    def snapshots_refused(self) -> str | None:
        """Why migtui runs no snapshot job on this VM (None: it runs them; a libvirt domain's are libvirt's)."""

    async def query(self, command: str, arguments: dict[str, Any] | None = None) -> JSONObject:
        """A command that answers a JSON object, as QEMU sent it."""

    async def query_list(self, command: str, arguments: dict[str, Any] | None = None) -> list[JSONObject]:
        """A command that answers an array of objects (``query-jobs``...)."""
