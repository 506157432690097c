"""Beside the editor: what Apply would send (old → new), and what stops it."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from migtui.params.draft import Draft, Verdict


def pending_text(draft: Draft, verdict: Verdict) -> Text:
    """``downtime-limit 300 ms → 500 ms`` per change, then ``✗ name: why`` per refused value."""
    lines = [Text(f"Pending changes ({len(verdict.changes)})", style="bold")]
    for change in verdict.changes.changes:
        line = Text(f"{change.name}", style="bold")
        line.append(f": {change.old_text} → {change.new_text}")
        lines.append(line)
    if not verdict.changes:
        lines.append(Text("none: edit a member; Ctrl+S sends what is listed here", style="dim"))
    problems = {**verdict.errors, **{key: f"QEMU refused: {why}" for key, why in draft.refused.items()}}
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
