"""Command palette provider: every action for every VM, found by typing.

"open vm1", "migrate vm1", "cancel vm1", "postcopy vm1", "parameters vm1", "refresh vm1";
the actions that change a VM are not offered in read-only mode.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from migtui.app import MigtuiApp

# (verb, help, changes the VM)
VM_ACTIONS: tuple[tuple[str, str, bool], ...] = (
    ("open", "charts, latest sample, events and prediction of {vm}", False),
    ("migrate", "migrate {vm} to a waiting VM or a URI (pre-flight checks first)", True),
    ("cancel", "cancel the migration of {vm}", True),
    ("postcopy", "switch the migration of {vm} to postcopy", True),
    ("parameters", "edit the migration parameters and capabilities of {vm}", False),
    ("snapshots", "snapshots and snapshot jobs of {vm}", False),
    ("refresh", "read the state, parameters and capabilities of {vm} again", False),
)


class VMCommands(Provider):
    """The per-VM actions of the dashboard."""

    _commands: list[tuple[str, Callable[[], object], str]]

    async def startup(self) -> None:
        app: MigtuiApp = self.app  # type: ignore[assignment]
        methods = {"open": app.open_vm, "migrate": app.ask_migrate, "cancel": app.ask_cancel,
                   "postcopy": app.ask_postcopy, "parameters": app.open_params, "snapshots": app.open_snapshots,
                   "refresh": app.refresh_vm}
        self._commands = [
            (f"{verb} {vm}", partial(methods[verb], vm), help_text.format(vm=vm))
            for vm in app.fleet.states
            for verb, help_text, mutating in VM_ACTIONS
            if not (mutating and app.read_only)
        ]

    async def discover(self) -> Hits:
        for name, command, help_text in self._commands:
            if name.startswith("open "):
                yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, command, help_text in self._commands:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)
