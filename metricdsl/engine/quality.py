"""The data-quality report: the invalid values of each source's columns, found while reading them.

A value is invalid when it does not read as its column's declared `type`, lies outside its `range`, is not
one of its `values`, or is NaN or infinite. Invalid values become missing before any metric sees them (or,
with `on_invalid: error`, are a `DataError`); each column with any is one `DataProblem`. An empty source is
one too, with no column.

Counting is cheap: each column's failures are hidden boolean columns beside its typed value, summed by a
one-row query (`Checks.tally`) that Polars runs together with the metrics' query, sharing its scan. Only when
a count is not zero are the files read again, one at a time, to find the first such row: its file and line
(or row), its value, and which of the column's checks it failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from metricdsl.engine import csv_files, temporal
from metricdsl.engine.columns import ROW_COLUMN, check_column
from metricdsl.engine.conversions import Failure, Typed, any_of
from metricdsl.errors import DataError
from metricdsl.spec.definitions import CsvDialect, Source

NOT_QUOTED = "not shown, as a spec's `path:` named the file; give it with --data to see it"
ROWS = "__rows"


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


@dataclass(frozen=True)
class Part:
    """One file of a source's input (or the frame given), to find a problem's first row in."""

    name: str  # the file as given, or "the frame given"
    rows: Callable[[], pl.LazyFrame]  # its rows as read
    # A CSV file's UTF-8 text and dialect: its rows are placed by line. Other files' rows are placed by row, from 0,
    # as Polars counts them: Parquet has no lines, and Polars skips an NDJSON file's blank ones.
    lines: tuple[Path, CsvDialect] | None = None
    json_lines: bool = False  # an NDJSON file: its rows are placed by line, its blank lines skipped

    def place(self, row: int) -> tuple[str, str]:
        """Where row `row` (from 0) is: as in a message (`calls.csv, line 14`) and as in a report (`calls.csv:14`)."""
        if self.lines is not None:
            line = csv_files.line_of(*self.lines, row)
            return f"{self.name}, line {line}", f"{self.name}:{line}"
        if self.json_lines:
            line = ndjson_line(Path(self.name), row)
            return f"{self.name}, line {line}", f"{self.name}:{line}"
        if self.name == FRAME:
            return f"row {row}", f"row {row}"
        return f"{self.name}, row {row}", f"{self.name} row {row}"


FRAME = "the frame given"


def ndjson_line(path: Path, row: int) -> int:
    """The line (from 1) of row `row` (from 0) of an NDJSON file, whose blank lines hold no row."""
    # Each line is one field: JSON text holds no raw NUL, and no quote is special here.
    lines = pl.scan_csv(path, has_header=False, separator="\x00", quote_char=None, infer_schema=False)
    found = (
        lines.with_row_index("line", offset=1)
        .filter(pl.nth(1).str.strip_chars().fill_null("") != "")
        .slice(row, 1)
        .select("line")
        .collect()
    )
    return int(found.item()) if found.height else row + 1


@dataclass
class Found:
    """The first row of a part where a column fails: its place, its value as text, and the failure's reason."""

    where: str
    first: str
    value: str | None
    failure: Failure


@dataclass
class Checks:
    """The typed columns of one source's input, and how their failures are counted, found and reported."""

    source: Source
    typed: dict[str, Typed]
    parts: list[Part]
    quote: bool
    zone_declared: bool
    read: set[str] = field(default_factory=set)  # the columns tallied: those a request reads

    def flags(self) -> list[pl.Expr]:
        """The hidden columns that mark each row's failures, beside the typed values."""
        found = []
        for name, typed in self.typed.items():
            if typed.invalid:
                found.append(any_of(typed.invalid).alias(check_column("invalid", name)))
            if len(typed.invalid) > 1:  # each row counted once, for the first check it fails
                for i, failure in enumerate(typed.invalid):
                    earlier = [~f.condition.fill_null(False) for f in typed.invalid[:i]]
                    found.append(pl.all_horizontal(failure.condition.fill_null(False), *earlier).alias(cause(i, name)))
            if typed.unreadable:
                found.append(any_of(typed.unreadable).alias(check_column("unreadable", name)))
            if typed.offsets is not None and not self.zone_declared:
                found.append(typed.offsets.alias(check_column("offsets", name)))
        return found

    def tally(self, checked: pl.LazyFrame, columns: Iterable[str]) -> pl.LazyFrame:
        """One row: the rows of `checked`, and how many fail each check of `columns` (the ones a request reads)."""
        present = set(checked.collect_schema())
        self.read = set(columns) & set(self.typed)
        sums = [
            pl.col(flag).sum().alias(flag)
            for name in sorted(self.read)
            for part in ("unreadable", "invalid", "offsets", *(cause(i) for i in range(len(self.typed[name].invalid))))
            if (flag := check_column(part, name)) in present
        ]
        return checked.select(pl.len().alias(ROWS), *sums)

    def report(self, counts: dict[str, int]) -> tuple[list[DataProblem], list[str]]:
        """The problems and notices that `counts` (a row of `tally`) show; raises `DataError` for a value that is
        unreadable, or invalid in a column whose `on_invalid` is `error`."""
        problems: list[DataProblem] = []
        notices = [
            offsets_notice(self.source.name, name)
            for name in sorted(self.read)
            if self.typed[name].zoned and not self.zone_declared
        ]
        if counts.get(ROWS) == 0:
            problems.append(DataProblem(self.source.name, None, 0, "no rows"))
        for name, typed in self.typed.items():
            if counts.get(check_column("unreadable", name)):
                raise DataError(self._unreadable(name, typed))
            if counts.get(check_column("offsets", name)):
                notices.append(offsets_notice(self.source.name, name))
            invalid = counts.get(check_column("invalid", name), 0)
            if invalid:
                found = self.first(name, typed.invalid)
                if self.source.on_invalid_of(name) == "error":
                    raise DataError(self._message(found, name, "(on_invalid: error)"))
                value = found.value if self.quote else None
                reason = self._reason(name, typed, counts) or found.failure.reason
                problems.append(DataProblem(self.source.name, name, invalid, reason, found.first, value))
        return problems, notices

    def _reason(self, name: str, typed: Typed, counts: dict[str, int]) -> str | None:
        """Each check that the invalid values of `name` fail, with its count (`1 not an int, 2 outside [0, 10]`),
        when they fail more than one; else None."""
        causes = [(counts.get(cause(i, name)) or 0, f.reason) for i, f in enumerate(typed.invalid)]
        causes = [(count, reason) for count, reason in causes if count]
        return ", ".join(f"{count} {reason}" for count, reason in causes) if len(causes) > 1 else None

    def first(self, name: str, failures: tuple[Failure, ...]) -> Found:
        """The first row, over the parts in order, where `name` fails one of `failures`."""
        for part in self.parts:
            read = part.rows()
            rows = (
                read.with_row_index(ROW_COLUMN)
                .filter(any_of(failures))
                .select(
                    ROW_COLUMN,
                    as_text(pl.col(name), read.collect_schema()[name]),
                    *(f.condition.alias(f"__{i}") for i, f in enumerate(failures)),
                )
                .head(1)
                .collect()
            )
            if rows.height:
                row, value, *which = rows.row(0)
                where, first = part.place(row)
                return Found(where, first, value, next(f for f, hit in zip(failures, which, strict=True) if hit))
        # The same rows read again: a file that reads otherwise the second time is corrupt (a page that decodes
        # differently alone), and no place can be given for what was counted.
        raise DataError(
            f"source `{self.source.name}`, column `{name}`: invalid values were counted, but not found when "
            f"{', '.join(p.name for p in self.parts)} was read again: is it corrupt?"
        )

    def _message(self, found: Found, name: str, after: str = "") -> str:
        quoted = f"`{found.value}` is {found.failure.reason}" if self.quote else f"a value is {found.failure.reason}"
        hidden = "" if self.quote else f" (the value is {NOT_QUOTED})"
        return f"source `{self.source.name}`: {found.where}, column `{name}`: {quoted}{hidden}{' ' + after if after else ''}"

    def _unreadable(self, name: str, typed: Typed) -> str:
        found = self.first(name, typed.unreadable)
        message = self._message(found, name)
        if found.failure.suggest is None:
            return message
        unread = pl.concat(
            [p.rows().filter(found.failure.condition).select(pl.col(name).unique()).collect() for p in self.parts]
        ).to_series()
        formats = temporal.suggest_formats(unread, found.failure.suggest)
        if len(formats) == 1:
            return f'{message}; to read it, add `format: "{formats[0]}"` to the column'
        if formats:
            shown = " or ".join(f'`format: "{f}"`' for f in formats)
            return f"{message}; its values read both day-first and month-first: say which with {shown}"
        return f"{message}; give the column the `format:` (strftime) its values are written in"


def as_text(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A value of a column read as `dtype`, as text to quote: a duration as Polars writes it (`1s 500ms`), which
    a cast to text does not give."""
    if isinstance(dtype, pl.Duration):
        return value.dt.to_string("polars")
    return value.cast(pl.String)


def cause(index: int, column: str | None = None) -> str:
    """The hidden column that marks the rows of `column` failing its `index`th invalid check first (the check
    part of that name alone, without `column`)."""
    return f"invalid{index}" if column is None else check_column(f"invalid{index}", column)


def offsets_notice(source: str, column: str) -> str:
    """The one line said when times with a zone or offset are read where no zone is declared."""
    return (
        f"source `{source}`: `{column}` has times with a UTC offset or time zone, shown in UTC as no time zone "
        "is declared (set the source's `timezone:` or `calendar: {timezone: ...}`)"
    )
