"""Beside the editor: what Apply would send (old → new), and what stops it."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from migtui.params.draft import Draft, Verdict


def problems_of(draft: Draft, verdict: Verdict) -> dict[str, str]:
    """Member key -> why its value cannot be sent (the model's words, or QEMU's when it refused it)."""
    return {**verdict.errors, **{key: f"QEMU refused: {why}" for key, why in draft.refused.items()}}


def unsent(draft: Draft, verdict: Verdict) -> str | None:
    """What leaving would drop, counted as this panel counts it (``1 change and 1 invalid value``),
    or None when nothing would be lost (no edit, or edits that equal what QEMU holds)."""
    changes, invalid = len(verdict.changes), len(problems_of(draft, verdict))
    parts = ([f"{changes} change{'s' if changes != 1 else ''}"] if changes else []) + (
        [f"{invalid} invalid value{'s' if invalid != 1 else ''}"] if invalid else [])
    return " and ".join(parts) or None


def pending_text(draft: Draft, verdict: Verdict) -> Text:
    """``downtime-limit 300 ms → 500 ms`` per change, then ``✗ name: why`` per refused value."""
    lines = [Text(f"Pending changes ({len(verdict.changes)})", style="bold")]
    for change in verdict.changes.changes:
        line = Text(f"{change.name}", style="bold")
        line.append(f": {change.old_text} → {change.new_text}")
        lines.append(line)
    if not verdict.changes:
        lines.append(Text("none: edit a member; Ctrl+S sends what is listed here", style="dim"))
    problems = problems_of(draft, verdict)
    if problems:
        lines.append(Text(f"\nNot valid ({len(problems)})", style="bold"))
        for key, why in problems.items():
            lines.append(Text(f"✗ {draft.member(key).name}: {why}"))
    return Text("\n").join(lines)


class PendingChanges(Static):
    DEFAULT_CSS = """
    PendingChanges {
        height: auto;
        max-height: 45%;
        padding: 0 1;
        overflow-y: auto;
        border-top: solid $primary 50%;
    }
    """

    def show(self, draft: Draft, verdict: Verdict) -> None:
        self.update(pending_text(draft, verdict))
