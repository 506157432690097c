"""The keys that take one piece of the model's advice, shared by the fleet and VM screens.

Each key names what it changes, so it means the same on every screen and
whatever else the advice lists: D a longer downtime limit, B more bandwidth,
O avail-switchover-bandwidth; postcopy keeps its own key (p). The App asks
first, showing old → new.
"""

from __future__ import annotations

from textual.binding import Binding

ADVICE_KEYS = {"downtime-limit": "D", "max-bandwidth": "B", "avail-switchover-bandwidth": "O",
               "migrate-start-postcopy": "p"}

ADVICE_BINDINGS = [
    Binding("D", "advice('downtime-limit')", "Advised downtime", show=False,
            tooltip="Raise downtime-limit to what the prediction advises (asks first)"),
    Binding("B", "advice('max-bandwidth')", "Advised bandwidth", show=False,
            tooltip="Raise max-bandwidth to what the prediction advises (asks first)"),
    Binding("O", "advice('avail-switchover-bandwidth')", "Advised switchover bandwidth", show=False,
            tooltip="Set avail-switchover-bandwidth as the prediction advises (QEMU 8.2+, asks first)"),
]
