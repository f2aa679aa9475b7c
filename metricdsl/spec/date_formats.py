"""The `format:` of a `datetime` or `date` column: the strftime directives Polars reads, and what is wrong with one.

Polars reads text with chrono's strftime (`str.to_datetime(format=...)`), which differs from Python's where it
matters most: `%f` is nanoseconds, not microseconds, and a zone name (`%Z`) is skipped, not read. An unknown
directive fails on every row, and a format without a year reads year 1. Each is found here, before any data is
read, with the span of the directive at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The directives chrono parses and Polars reads (https://docs.rs/chrono/latest/chrono/format/strftime/).
DATE_LETTERS = "YCymbBhdeaAwuUWGgVjDxFv"
TIME_LETTERS = "HkIlPpMSRTXr"
BOTH_LETTERS = "c+s"  # a date and a time at once, or seconds since 1970
SPECIAL_LETTERS = "tn%"
PADDED = "YCymdewuUWGgVjHkIlMS"  # the numeric directives that take a padding modifier: `%-d`, `%_H`, `%0e`
YEAR_LETTERS = "YyGgDxFvc+s"  # those that read a year
DIRECTIVE = re.compile(r"%(?:[-_0][A-Za-z]|\.[369]?f|[369]f|:z|#z|.)?", re.DOTALL)

# Polars refuses these combinations before reading a row (`compile_fmt` in polars-time); the same patterns.
HOUR = re.compile(r"%[_-]?[HkIl]")
MINUTE = re.compile(r"%[_-]?M")
SECOND = re.compile(r"%[_-]?S")
TWELVE_HOUR = re.compile(r"%[_-]?[Il]")
MERIDIEM = re.compile(r"%[_-]?[pP]")

CHRONO = "https://docs.rs/chrono/latest/chrono/format/strftime/"


@dataclass(frozen=True)
class FormatProblem:
    """What is wrong with a format, how to fix it, and the characters `[start, end)` of the format at fault."""

    message: str
    hint: str
    start: int = 0
    end: int | None = None


def format_problem(text: str) -> FormatProblem | None:
    """The first thing wrong with the strftime format `text`, or None when Polars reads it as meant."""
    directives = [(match.group(), match.start(), match.end()) for match in DIRECTIVE.finditer(text)]
    for directive, start, end in directives:
        problem = _directive_problem(text, directive, start, end)
        if problem is not None:
            return problem
    letters = {directive[-1] for directive, _, _ in directives}
    if not letters & set(YEAR_LETTERS):
        hint = "add the year, as in `%m/%d/%Y %H:%M` or `%d.%m.%Y`"
        return FormatProblem(f"format `{text}` reads no year: every date would fall in year 1", hint)
    return _combination_problem(text)


def _directive_problem(text: str, directive: str, start: int, end: int) -> FormatProblem | None:
    letter = directive[-1]
    if directive == "%":
        return FormatProblem("the format ends in a lone `%`", "write `%%` for a percent sign", start, end)
    if directive == "%Z":
        hint = "read offsets with `%z` (+0100) or `%:z` (+01:00); a time without one is local to the source's `timezone:`"
        return FormatProblem("`%Z`: time zone names cannot be read (Polars skips them)", hint, start, end)
    if directive == "%f":
        after_dot = text[start - 1 : start] == "."
        hint = "write `%.f` in place of `.%f`" if after_dot else "write `%3f`, `%6f` or `%9f` for that many digits"
        message = "`%f` reads nanoseconds in Polars, not microseconds as in Python"
        return FormatProblem(message, hint, start - 1 if after_dot else start, end)
    modifier = directive[1] if len(directive) == 3 and directive[1] in "-_0" else None
    known = set(DATE_LETTERS + TIME_LETTERS + BOTH_LETTERS + SPECIAL_LETTERS + "z")
    if (modifier and letter not in PADDED) or (len(directive) == 2 and letter not in known):
        hint = f"Polars reads chrono's directives, such as %Y %m %d %H %M %S %.f %z: {CHRONO}"
        return FormatProblem(f"`{directive}` is not a date or time directive that Polars reads", hint, start, end)
    return None


def _combination_problem(text: str) -> FormatProblem | None:
    """What Polars refuses to read: an hour without minutes or the reverse, seconds without an hour, a 12-hour
    clock without AM/PM or the reverse."""
    if HOUR.search(text) and not MINUTE.search(text):
        return FormatProblem(f"format `{text}` reads an hour without minutes", "add the minutes, as in `%H:%M`")
    if MINUTE.search(text) and not HOUR.search(text):
        return FormatProblem(f"format `{text}` reads minutes without an hour", "add the hour, as in `%H:%M`")
    if SECOND.search(text) and not HOUR.search(text):
        message = f"format `{text}` reads seconds without `%H`, which Polars refuses"
        return FormatProblem(message, "write the time as `%H:%M:%S`")
    if TWELVE_HOUR.search(text) and not MERIDIEM.search(text):
        hint = "add `%p` for AM/PM, as in `%I:%M %p`, or read a 24-hour clock with `%H`"
        return FormatProblem(f"format `{text}` reads a 12-hour clock without AM/PM", hint)
    if MERIDIEM.search(text) and not TWELVE_HOUR.search(text):
        hint = "read the hour with `%I` (01–12), as in `%I:%M %p`"
        return FormatProblem(f"format `{text}` reads AM/PM without a 12-hour clock", hint)
    return None
