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
    the value is aligned with the raw text character by character: each character of the value is
    at the next place of the raw text that holds it (any whitespace for whitespace), or, in a
    double-quoted scalar, at the escape sequence that stands for it. Linear in the scalar's length.
    """
    start, end = node.start_mark.index, node.end_mark.index
    raw = text[start:end]
    value: str = node.value
    inner = 1 if node.style in ('"', "'") else 0
    if node.style in ("", None, '"', "'") and raw[inner : len(raw) - inner] == value:  # written as it reads
        return tuple(range(start + inner, start + inner + len(value) + 1))
    cursor = 0
    if node.style in ("|", ">"):
        cursor = raw.find("\n") + 1
    elif node.style in ('"', "'"):
        cursor = 1
    escapes = node.style == '"'
    following = _Following(raw)
    offsets = []
    for char in value:
        probe = following.find(char, cursor)
        escape = following.find("\\", cursor) if escapes else None
        while escape is not None and (probe is None or escape <= probe) and _is_line_continuation(raw, escape):
            cursor = _after_line_continuation(raw, escape)  # `\` at the end of a line stands for nothing
            probe, escape = following.find(char, cursor), following.find("\\", cursor)
        if escape is not None and (probe is None or escape <= probe):  # the character is the escape's
            offsets.append(start + escape)
            cursor = _escape_end(raw, escape)
            continue
        if probe is None:
            probe = min(cursor, len(raw) - 1) if raw else 0
        offsets.append(start + probe)
        cursor = probe + 1
    offsets.append(start + min(cursor, len(raw)))
    return tuple(offsets)


# The number of hexadecimal digits after `\x`, `\u` and `\U` in a double-quoted YAML scalar.
HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _escape_end(raw: str, backslash: int) -> int:
    """Where the escape sequence starting at `backslash` ends."""
    return min(backslash + 2 + HEX_ESCAPES.get(raw[backslash + 1 : backslash + 2], 0), len(raw))


def _is_line_continuation(raw: str, backslash: int) -> bool:
    return raw[backslash + 1 : backslash + 2] in ("\n", "\r")


def _after_line_continuation(raw: str, backslash: int) -> int:
    """The end of a backslash that ends a line: the line break and the next line's indentation."""
    position = backslash + 1
    position += 2 if raw.startswith("\r\n", position) else 1
    while position < len(raw) and raw[position] in " \t":
        position += 1
    return position


class _Following:
    """The next place of each character in a text, at or after a cursor that only moves forward.

    Every whitespace character counts as one. Each character's list of places is walked once, so
    that all the look-ups of a scalar take time linear in its length.
    """

    def __init__(self, raw: str) -> None:
        self.places: dict[str, list[int]] = {}
        for index, char in enumerate(raw):
            self.places.setdefault(" " if char.isspace() else char, []).append(index)
        self.passed: dict[str, int] = {}

    def find(self, char: str, cursor: int) -> int | None:
        key = " " if char.isspace() else char
        places = self.places.get(key, [])
        index = self.passed.get(key, 0)
        while index < len(places) and places[index] < cursor:
            index += 1
        self.passed[key] = index
        return places[index] if index < len(places) else None
