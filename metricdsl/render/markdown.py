"""Markdown tables (GitHub-flavoured), with every cell escaped in one place."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from metricdsl.render.terminal import multiline

# Inline syntax: code spans, emphasis, strikethrough, links and images (`[text](url)`, `![alt](url)`).
_INLINE_SYNTAX = re.compile(r"[\\`*_~\[\]|]")


def cell(value: object) -> str:
    """A value as the text of one table cell (None: empty), shown as written.

    Control characters are written visibly (`terminal`); HTML's special characters are escaped, so `<b>` or
    `<details>` shows as written; a backslash, `|` and the characters of inline syntax are backslash-escaped, so
    that nothing ends the cell, makes a code span, emphasis or a link; an `@` is followed by a zero-width space, so
    that it mentions no one; a line break becomes `<br>`, as a cell is one line.
    """
    if value is None:
        return ""
    text = _INLINE_SYNTAX.sub(r"\\\g<0>", html.escape(multiline(value), quote=False)).replace("@", "@&#8203;")
    return "<br>".join(text.splitlines())


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a table: the header, the delimiter row, then one line per row."""
    lines = [_line(header), "|" + "---|" * len(header)]
    return lines + [_line(row) for row in rows]


def _line(values: Sequence[object]) -> str:
    return "| " + " | ".join(cell(v) for v in values) + " |"
