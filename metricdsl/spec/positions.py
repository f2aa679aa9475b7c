"""Positions in spec files: a file's text with its line starts, and where each character of a YAML scalar is."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from yaml.nodes import ScalarNode

from metricdsl.errors import Location


@dataclass(frozen=True)
class FileText:
    """A spec file's text, to turn offsets into lines and columns."""

    path: str
    text: str
    line_starts: tuple[int, ...]

    @classmethod
    def of(cls, path: str, text: str) -> FileText:
        """The text of the file at `path`, with the offset where each of its lines starts."""
        starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
        return cls(path, text, tuple(starts))

    def location(self, index: int, end_index: int | None = None) -> Location:
        """The location of character `index` (and of the span up to `end_index` on the same line)."""
        line = bisect.bisect_right(self.line_starts, index) - 1
        start = self.line_starts[line]
        stop = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.text)
        end_col = None
        if end_index is not None and end_index > index:
            end_col = min(end_index, stop) - start + 1
        return Location(self.path, line + 1, index - start + 1, end_col, self.text[start:stop].rstrip("\r"))


def scalar_offsets(text: str, node: ScalarNode) -> tuple[int, ...]:
    """The file offset of every character of a scalar's value, and of its end.

    Quoting, escapes, folding and block indentation make the value differ from the raw text, so
    the value is aligned with the raw text character by character.
    """
    start, end = node.start_mark.index, node.end_mark.index
    raw = text[start:end]
    cursor = 0
    if node.style in ("|", ">"):
        cursor = raw.find("\n") + 1
    elif node.style in ('"', "'"):
        cursor = 1
    offsets = []
    value: str = node.value
    for char in value:
        probe = cursor
        while probe < len(raw) and raw[probe] != char and not (char.isspace() and raw[probe].isspace()):
            probe += 1
        if probe >= len(raw):
            probe = min(cursor, len(raw) - 1) if raw else 0
        offsets.append(start + probe)
        cursor = probe + 1
    offsets.append(start + min(cursor, len(raw)))
    return tuple(offsets)
