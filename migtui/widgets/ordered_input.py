"""An Input whose editing keys take effect in the order they were typed.

Textual's Input inserts a printable key at once, in its own key handler, but a bound key
(backspace, the arrows, Ctrl+K ...) bubbles to the app and its action runs later. Keys that
arrive in one burst, as a fast typist's do over SSH (the network gathers them), are then applied
out of order: "77", Backspace, Backspace, "55" leaves "77" (measured: the 5s went in first and
the backspaces took them out again; Textual issue 6605). Here the Input's own bindings run in its
key handler, in order with the typing; the app's and the screen's bindings are untouched.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class OrderedInput(Input):
    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            for key in event.aliases:
                own = [binding for binding in self._bindings.key_to_bindings.get(key, ()) if not binding.priority]
                if own:
                    event.stop()
                    event.prevent_default()
                    await self.run_action(own[0].action)
                    return
        await super()._on_key(event)
