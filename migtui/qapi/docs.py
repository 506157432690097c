"""Documentation comments: the ``##`` blocks above QAPI definitions.

A block names its symbol on the first line (``@MigrateSetParameters:``), then
has free text, ``@member: description`` paragraphs (continued on following
lines, indented in newer files, flush in older ones), a ``Features:`` section
whose ``@name:`` paragraphs describe features, and tagged sections such as
``Since: 2.4``, ``Returns:``, ``Example:``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from migtui.qapi.errors import Location
from migtui.qapi.lexer import DocLine

SYMBOL_LINE = re.compile(r"^@([\w.+-]+):\s*(.*)$")
DESCRIPTION_LINE = re.compile(r"^@([\w.+-]+):(?:\s+(.*)|\s*)$")
SECTION_LINE = re.compile(r"^(Since|Returns|Errors|Examples?|Notes?|TODO|Features|Arguments)\s*:\s*(.*)$")
# 8.2's migration.json writes "Since 8.2" without a colon in a few blocks;
# QEMU reads that as prose, but the intent is plain, so honour it.
BARE_SINCE_LINE = re.compile(r"^Since\s+(\d+\.\d+(?:\.\d+)?)\.?$")
VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?")
# A member's own version: the first "since X.Y" of its description.
MEMBER_SINCE = re.compile(r"\bsince:?\s+(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)
# Sections whose lines are kept as they are, even ones that look like "@x:".
VERBATIM_SECTIONS = ("Example", "Examples")


@dataclass(frozen=True)
class DocBlock:
    """A parsed documentation comment; texts keep their line breaks."""

    symbol: str | None
    location: Location
    body: str = ""
    members: dict[str, str] = field(default_factory=dict)
    features: dict[str, str] = field(default_factory=dict)
    sections: tuple[tuple[str, str], ...] = ()

    def section(self, tag: str) -> str | None:
        for name, text in self.sections:
            if name == tag:
                return text
        return None

    @property
    def since(self) -> str | None:
        """The version of the ``Since:`` section, or its text if it holds no version."""
        text = self.section("Since")
        if text is None:
            return None
        found = VERSION.search(text)
        return found.group(0) if found else collapse(text) or None

    def member_doc(self, name: str) -> str | None:
        text = self.members.get(name)
        return collapse(text) if text is not None else None


def collapse(text: str | None) -> str | None:
    """Whitespace collapsed to single spaces; ``None`` for no text."""
    if text is None:
        return None
    return " ".join(text.split())


def since_of(description: str | None) -> str | None:
    """The version in the first "since X.Y" of a member's description."""
    if not description:
        return None
    found = MEMBER_SINCE.search(description)
    return found.group(1) if found else None


def parse_doc(lines: Sequence[DocLine], location: Location) -> DocBlock:
    """Split a documentation comment into its symbol, descriptions and sections."""
    first = SYMBOL_LINE.match(lines[0].text) if lines else None
    if first is None:
        # A free-form block (a heading like "= Migration") documents nothing.
        return DocBlock(symbol=None, location=location, body="\n".join(line.text for line in lines))
    return _DocParser(first.group(1), location).parse(first.group(2), lines[1:])


class _DocParser:
    def __init__(self, symbol: str, location: Location) -> None:
        self.symbol = symbol
        self.location = location
        self.body: list[str] = []
        self.members: dict[str, list[str]] = {}
        self.features: dict[str, list[str]] = {}
        self.sections: list[tuple[str, list[str]]] = []
        # Where text goes now: ("body", ""), ("member", name), ("feature", name), ("section", tag).
        self.where: tuple[str, str] = ("body", "")
        self.in_features = False

    def parse(self, first_text: str, lines: Sequence[DocLine]) -> DocBlock:
        if first_text:
            self.body.append(first_text)
        after_blank = False
        for line in lines:
            text = line.text
            if not text.strip():
                after_blank = True
                self._append("")
                continue
            self._take(text, after_blank)
            after_blank = False
        return DocBlock(
            symbol=self.symbol,
            location=self.location,
            body=_join(self.body),
            members={name: _join(text) for name, text in self.members.items()},
            features={name: _join(text) for name, text in self.features.items()},
            sections=tuple((tag, _join(text)) for tag, text in self.sections),
        )

    def _take(self, text: str, after_blank: bool) -> None:
        kind, name = self.where
        verbatim = kind == "section" and name in VERBATIM_SECTIONS
        flush = not text[0].isspace()
        if flush:
            if section := SECTION_LINE.match(text):
                self._start_section(section.group(1), section.group(2))
                return
            if bare_since := BARE_SINCE_LINE.match(text):
                self._start_section("Since", bare_since.group(1))
                return
            description = DESCRIPTION_LINE.match(text)
            if description and not verbatim:
                target = self.features if self.in_features else self.members
                target[description.group(1)] = [description.group(2) or ""]
                self.where = ("feature" if self.in_features else "member", description.group(1))
                return
            if after_blank and kind in ("member", "feature"):
                # A flush paragraph after a blank line is prose, not more of the description.
                self.where = ("body", "")
        self._append(text if verbatim else text.strip())

    def _start_section(self, tag: str, rest: str) -> None:
        self.in_features = tag == "Features"
        if self.in_features:
            self.where = ("body", "")
            return
        self.sections.append((tag, [rest] if rest else []))
        self.where = ("section", tag)

    def _append(self, text: str) -> None:
        kind, name = self.where
        if kind == "member":
            self.members[name].append(text)
        elif kind == "feature":
            self.features[name].append(text)
        elif kind == "section":
            self.sections[-1][1].append(text)
        else:
            self.body.append(text)


def _join(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")
