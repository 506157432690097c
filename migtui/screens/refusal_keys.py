"""Keys whose control cannot act still answer, with the reason.

Textual skips a binding whose ``check_action`` says None (greyed out) or
False (hidden) and tries the next binding of the same key. These come after
the screens' own m, c and p, so pressing a greyed-out key reaches
``action_explain`` instead of doing nothing. They are never shown: the
footer keeps the control's own binding, dimmed, and the help screen
leaves them out (``system``).
"""

from __future__ import annotations

from textual.binding import Binding

EXPLAIN_BINDINGS = [
    Binding(key, f"explain('{action}')", f"Why no {action}", show=False, system=True)
    for key, action in (("m", "migrate"), ("c", "cancel"), ("p", "postcopy"))
]
