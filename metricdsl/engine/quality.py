"""The data-quality report: the invalid values of each source's columns, found while reading them.

A value is invalid when it does not read as its column's declared `type`, lies outside its `range`, is not
one of its `values`, or is NaN or infinite. Invalid values become missing before any metric sees them (or,
with `on_invalid: error`, are a `DataError`); each column with any is one `DataProblem`. An empty source is
one too, with no column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataProblem:
    """Invalid values of one column of one source (or, with `column` None, a source without rows).

    `rows` counts the rows with an invalid value; `first` places the first of them (`calls.csv:14`, or
    `row 13` of a frame given as data) and `value` quotes it, None when it may not be quoted (a file
    that a spec's `path:` named). `reason` says what is wrong in a few words: "not an int",
    "outside [0, 10]", "not one of phone, chat, email", "NaN", "no rows".
    """

    source: str
    column: str | None
    rows: int
    reason: str
    first: str | None = None
    value: str | None = None
