"""A footer that greys its keys out and back in place.

Textual's footer builds itself again (new key widgets, mounted, and the
screen laid out) whenever the screen's bindings are refreshed. The fleet
screen refreshes them when the highlighted VM's controls come and go (its
migration starts or ends): the same keys, some greyed out now. Then only
those keys' state changes here; any other change of the bindings builds the
footer again, as Textual's does.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # no public name (textual is pinned, see pyproject.toml)


class SteadyFooter(Footer):
    def bindings_changed(self, screen: Screen[object]) -> None:
        if not (self.is_attached and screen is self.screen and self._restate(screen)):
            super().bindings_changed(screen)

    def _restate(self, screen: Screen[object]) -> bool:
        """Set each key's state from the bindings; False (nothing touched) if the keys differ."""
        shown: dict[str, tuple[str, bool, str, str]] = {}
        for _, binding, enabled, tooltip in screen.active_bindings.values():
            if binding.show:  # as Footer.compose: an action's first binding is its key
                shown.setdefault(binding.action, (binding.key, enabled, tooltip, binding.description))
        keys = [key for key in self.query(FooterKey) if not key.has_class("-command-palette")]
        if not keys or [(key.action, key.key) for key in keys] != [(action, k[0]) for action, k in shown.items()]:
            return False
        for key, (_, enabled, tooltip, description) in zip(keys, shown.values(), strict=False):
            key._disabled = not enabled  # what a click on it reads
            key.set_class(not enabled, "-disabled")
            wanted = (tooltip or description) if key.has_class("-grouped") else (tooltip or None)
            if key.tooltip != wanted:
                key.tooltip = wanted
        return True
