"""The members of a VM's settings as one list that filters as you type.

Parameters come first, then capabilities, each with what QEMU holds and a
mark: ``●`` for an edit, ``✗`` for a value the model or QEMU refused. The
filter matches every word typed against a member's name and doc; names that
match come before docs that do, an exact name first, so typing a member's
name and Enter always reaches that member.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from migtui.params.draft import Draft, Member, Verdict
from migtui.qapi.human_values import human_value
from migtui.widgets.ordered_input import OrderedInput
from migtui.widgets.schema_form import unstable

NAME_WIDTH = 28
VALUE_WIDTH = 12


def matches(members: Iterable[Member], query: str) -> list[Member]:
    """The members every word of ``query`` is found in (name or doc), best first."""
    words = query.lower().split()
    if not words:
        return list(members)
    ranked: list[tuple[int, int, Member]] = []
    for order, member in enumerate(members):
        name, doc = member.name.lower(), (member.spec.doc or "").lower()
        if not all(word in name or word in doc for word in words):
            continue
        if name == query.strip().lower():
            rank = 0
        elif all(word in name for word in words):
            rank = 1 if name.startswith(words[0]) else 2
        else:
            rank = 3
        ranked.append((rank, order, member))
    return [member for _, _, member in sorted(ranked, key=lambda entry: entry[:2])]


def held_text(draft: Draft, member: Member) -> str:
    held = draft.held(member)
    if held is None and not member.capability:
        return "(not set)"
    return human_value(member.spec, bool(held) if member.capability else held)


def cut_name(name: str, width: int) -> str:
    """``name`` in ``width`` columns: a long one loses its middle, since members that share a start
    differ at the end (cpu-throttle-initial, cpu-throttle-increment: 'cpu-thr…initial', 'cpu-thr…increment')."""
    if len(name) <= width:
        return name
    tail = (width - 1) // 2
    return name[:width - 1 - tail] + "…" + name[len(name) - tail:]


class MemberFilter(OrderedInput):
    """The filter: Up and Down move in the list, Enter edits the highlighted member."""

    BINDINGS = [
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]

    class Moved(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    def action_move(self, step: int) -> None:
        self.post_message(self.Moved(step))


class MemberList(OptionList):
    """One option per member shown; the option ids are the members' keys."""

    _query = ""

    DEFAULT_CSS = """
    MemberList {
        height: 1fr;
        border: none;
        padding: 0;
    }
    """

    def show(self, draft: Draft, verdict: Verdict, query: str, show_deprecated: bool) -> None:
        """List the members matching ``query``; the highlighted member stays highlighted if still listed."""
        self._shown = (draft, verdict, query, show_deprecated)
        shown = [member for member in matches(draft.members, query) if show_deprecated or not member.spec.deprecated]
        options: list[Option] = []
        for capability, title in ((False, "Parameters"), (True, "Capabilities")):
            part = [member for member in shown if member.capability is capability]
            if part:
                options.append(Option(Text(f"{title} ({len(part)})", style="bold"), id=f"head:{title}",
                                      disabled=True))
                options.extend(Option(self._prompt(draft, verdict, member), id=member.key) for member in part)
        if [option.id for option in options] == [option.id for option in self.options]:
            # Same members: new marks and values only, the highlight (and so the editor) stays.
            for index, option in enumerate(options):
                self.replace_option_prompt_at_index(index, option.prompt)
            return
        was, query_changed = self.highlighted_key, query != self._query
        self._query = query
        self.set_options(options)
        keys = [option.id for option in options if not option.disabled and option.id is not None]
        if keys:
            self.highlighted = self.get_option_index(was if was in keys and not query_changed else keys[0])

    _shown: tuple[Draft, Verdict, str, bool] | None = None

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)  # the names get the width there is

    def _prompt(self, draft: Draft, verdict: Verdict, member: Member) -> Text:
        if member.key in verdict.errors or member.key in draft.refused:
            mark, style = "✗ ", "bold red"
        elif member.key in draft.edits and verdict.change_of(member):
            mark, style = "● ", "bold"
        else:
            mark, style = "  ", ""
        # One line each, a column of values: long names are cut to the width there is.
        width = min(NAME_WIDTH, max(8, self.scrollable_content_region.width - VALUE_WIDTH - 3))
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(mark, style=style)
        name = cut_name(member.name, width)
        line.append(f"{name:<{width}} ", style=style or ("yellow" if unstable(member.spec) else ""))
        line.append(held_text(draft, member), style="dim" if member.spec.deprecated else "")
        return line

    @property
    def highlighted_key(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None and not option.disabled else None
