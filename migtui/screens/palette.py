"""Command palette provider: every action of the table (migtui.ops.actions) for every VM.

"open vm1", "migrate vm1", "cancel vm1", "postcopy vm1", "advised-downtime vm1",
"parameters vm1", "refresh vm1"...; the actions that change a VM are not
offered in read-only mode. An action that cannot act now says why when picked.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from migtui.ops.actions import VM_ACTIONS


class VMCommands(Provider):
    """The per-VM actions of the dashboard."""

    _commands: list[tuple[str, Callable[[], object], str]]

    async def startup(self) -> None:
        controls = self.app.controls  # type: ignore[attr-defined]
        self._commands = [
            (f"{action.name} {vm}", partial(controls.run, action.name, vm), action.help.format(vm=vm))
            for vm in controls.states
            for action in VM_ACTIONS
            if not (action.mutating and controls.read_only)
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
