"""Keys that arrive in one burst (a fast typist over SSH: the network gathers keystrokes) are
applied in the order they were typed, the editing keys among them."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult

from migtui.widgets.ordered_input import OrderedInput
from waiting import settle


class Typing(App[None]):
    def compose(self) -> ComposeResult:
        yield OrderedInput(id="value")


def burst(widget: OrderedInput, *keys: str) -> None:
    """Every key queued before the first is handled, as when they come in one read of the terminal."""
    for key in keys:
        printable = len(key) == 1
        widget.post_message(events.Key(key, key if printable else None))


async def test_a_burst_with_backspaces_is_applied_in_order() -> None:
    app = Typing()
    async with app.run_test() as pilot:
        field = app.query_one(OrderedInput)
        field.focus()
        burst(field, "7", "7", "backspace", "backspace", "5", "5")
        await settle(pilot, lambda: field.value == "55", 5, "55, as typed")
        burst(field, "home", "1", "end", "backspace", "0")
        await settle(pilot, lambda: field.value == "150", 5, "150: the cursor keys in order too")
