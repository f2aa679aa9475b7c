"""Markdown tables (GitHub-flavoured), with every cell escaped in one place."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence


def cell(value: object) -> str:
    """A value as the text of one table cell (None: empty).

    HTML's special characters are escaped, so text such as `<b>` shows as written; a backslash and a
    `|` are backslash-escaped, so neither ends the cell; a line break becomes `<br>`, as a cell is one line.
    """
    if value is None:
        return ""
    text = html.escape(str(value), quote=False).replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(text.splitlines())


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a table: the header, the delimiter row, then one line per row."""
    lines = [_line(header), "|" + "---|" * len(header)]
    return lines + [_line(row) for row in rows]


def _line(values: Sequence[object]) -> str:
    return "| " + " | ".join(cell(v) for v in values) + " |"
