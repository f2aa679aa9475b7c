"""Read a source's rows (CSV, Parquet, NDJSON, Arrow IPC, or a frame) with its declared types.

`scan()` opens an input and returns a `Reading`: its rows with every declared column in its declared type
(`Reading.frame`, what the metrics read), and what the data-quality report needs. Converting is native
Polars: each column is one expression chosen by the physical type found (see `conversions`), and each check
a hidden boolean column beside it, summed by `Reading.tally()` in a query that the caller collects together
with the metrics' (`pl.collect_all`), so that both share one scan. `Reading.report()` turns those counts into
`DataProblem`s and notices, or a `DataError`.

Messages about bad data quote a value only from data the user named (`--data`, the API's `data`): a file
that a spec's `path:` names may hold what its reader was not meant to see, so its values, column names and
Polars' messages (which quote the file) are left out; the file, column and line are still named. Globs
are expanded by `metricdsl.spec.data_paths.files`, the expansion the loader checked. A corrupt Parquet or
Arrow IPC file can make Polars abort the process: Parquet files are checked first (`parquet_files`), Arrow
IPC files read first in a child process (`ipc_files`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeAlias

import polars as pl

from metricdsl.engine import csv_files
from metricdsl.engine.columns import CHECK_PREFIX
from metricdsl.engine.conversions import FLOATS, INTEGERS, NESTED, Typed, Unconvertible, convert
from metricdsl.engine.ipc_files import ipc_problem
from metricdsl.engine.ndjson_files import ndjson_problem
from metricdsl.engine.parquet_files import parquet_problem
from metricdsl.engine.quality import FRAME, NOT_QUOTED, Checks, DataProblem, Part
from metricdsl.errors import DataError
from metricdsl.spec.data_paths import files
from metricdsl.spec.definitions import DEFAULT_ZONE, CsvDialect, Source

Data: TypeAlias = pl.DataFrame | pl.LazyFrame | str | Path  # a frame, or a path or glob of files
SCANNERS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
}

__all__ = ["NOT_QUOTED", "POLARS_FAILURES", "Data", "DataProblem", "Reading", "check_columns", "describe", "scan"]

# What Polars raises on input it cannot read: its errors, a panic of its Rust core on a corrupt file (a
# `BaseException`, so that a plain `except Exception` would miss it), and `OSError`, for a file it cannot open
# and for a compressed buffer it cannot decompress (an LZ4 error in an Arrow IPC file).
POLARS_FAILURES = (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError)


def describe(data: Data) -> str:
    return str(data) if isinstance(data, (str, Path)) else FRAME


@dataclass
class Reading:
    """A source's input, opened: `frame` has its declared columns in their declared types (invalid values null).

    Collect `tally(columns)` with the query that reads `frame` (`pl.collect_all`), then pass its one row to
    `report()`; `close()` deletes the temporary UTF-8 copies of files in other encodings, once the queries
    have run.
    """

    source: Source
    data: Data
    frame: pl.LazyFrame  # the hidden columns that mark failing values too, which a query that reads
    # only the declared ones leaves out; when it is collected with `tally()`, both share one scan
    checks: Checks
    transcoded: csv_files.Transcoded

    def tally(self, columns: Iterable[str]) -> pl.LazyFrame:
        """A one-row query: the number of rows, and how many fail each check of `columns`."""
        return self.checks.tally(self.frame, columns)

    def report(self, counts: dict[str, int]) -> tuple[list[DataProblem], list[str]]:
        """The data-quality problems and the notices of a `tally` row; raises `DataError` for an error."""
        return self.checks.report(counts)

    def explain(self, quote: bool) -> str | None:
        """Why reading failed, when a file is not in its declared encoding after its start, a CSV file has a
        malformed record (a quote not closed, more fields than its header), or a Parquet or Arrow file cannot be
        read (it is named: Polars' error on a glob would not say which); else None."""
        if not isinstance(self.data, (str, Path)):
            return None
        kind = SCANNERS.get(Path(self.data).suffix.lower())
        if kind in ("parquet", "ipc"):
            return self._unreadable_file(kind, quote)
        if kind == "ndjson":
            return next(
                (f"source `{self.source.name}`: {f}, {p}" for f in files(self.data) if (p := ndjson_problem(Path(f)))),
                None,
            )
        if kind != "csv":
            return None
        for file in files(self.data) if self.source.csv.encoding in (None, "utf-8", "utf-8-sig") else ():
            problem = csv_files.sniff(Path(file), whole=True)
            if problem is not None:
                return f"source `{self.source.name}`: {file}, {problem}"
        for part in self.checks.parts:  # a quote not closed, a record with more fields than the header
            if part.lines is not None and (problem := csv_files.malformed(*part.lines)):
                return f"source `{self.source.name}`: {part.name}, {problem}"
        return None

    def _unreadable_file(self, kind: str, quote: bool) -> str | None:
        """The first file of a Parquet or Arrow input that Polars fails to read alone, named with its error; else
        the first file whose columns differ from the first file's (Polars reads a glob's files as one table)."""
        reader = pl.scan_parquet if kind == "parquet" else pl.scan_ipc
        found = files(self.data)  # type: ignore[arg-type]
        for file in found:
            try:
                reader(file, glob=False).collect()
            except POLARS_FAILURES as error:
                return f"source `{self.source.name}`: cannot read {file}: {polars_problem(error, quote)}"
        read_schema = pl.read_parquet_schema if kind == "parquet" else pl.read_ipc_schema
        try:
            schemas = [read_schema(file) for file in found]
        except POLARS_FAILURES:
            return None
        for file, schema in zip(found[1:], schemas[1:], strict=True):
            if schema != schemas[0]:
                return (
                    f"source `{self.source.name}`: {file} does not have the columns of {found[0]} "
                    f"({_differences(schemas[0], schema) if quote else f'its columns are {NOT_QUOTED}'}); "
                    "the files of one source are read as one table and must agree"
                )
        return None

    def most_rows(self, fields: int) -> int | None:
        """At most how many rows the input holds, known without reading it, when its records have at least `fields`
        fields: a data frame's height; for CSV files, their bytes over `fields` (a record takes a byte per field at
        the least: a separator or the line's end); None for other inputs (a Parquet or Arrow footer counts them)."""
        if isinstance(self.data, pl.DataFrame):
            return self.data.height
        if not isinstance(self.data, (str, Path)) or SCANNERS.get(Path(self.data).suffix.lower()) != "csv":
            return None
        return sum(Path(file).stat().st_size for file in files(self.data)) // max(1, fields)

    def close(self) -> None:
        self.transcoded.close()


def scan(source: Source, data: Data, *, zone: str | None = None, quote: bool = True) -> Reading:
    """Open `data` as `source`'s rows, with datetimes in `zone` (None: no zone declared, so UTC, and a notice for
    input that has offsets or a zone); `quote=False` when a spec's `path:` named it, not the user."""
    transcoded = csv_files.Transcoded()
    try:
        raw, parts = _open(source, data, transcoded, quote)
        try:
            schema = raw.collect_schema()
        except POLARS_FAILURES as error:
            raise DataError(
                f"source `{source.name}`: cannot read {describe(data)}: {polars_problem(error, quote)}"
            ) from None
        typed = _convert(source, schema, zone or DEFAULT_ZONE, describe(data))
    except BaseException:
        transcoded.close()
        raise
    checks = Checks(source, typed, parts, quote, zone is not None)
    flags = checks.flags()
    changed = [t.value for t in typed.values() if not t.value.meta.undo_aliases().meta.eq(pl.col(t.name))]
    checked = raw.with_columns(*changed, *flags) if changed or flags else raw
    return Reading(source, data, checked, checks, transcoded)


def _convert(source: Source, schema: pl.Schema, zone: str, where: str) -> dict[str, Typed]:
    typed = {}
    for name, column in source.columns.items():
        if name in schema:
            try:
                typed[name] = convert(column, schema[name], source.csv, zone)
            except Unconvertible as error:
                raise DataError(
                    f"source `{source.name}`: {where}, column `{name}` (declared {column.type}): {error}"
                ) from None
    return typed


def _open(source: Source, data: Data, transcoded: csv_files.Transcoded, quote: bool) -> tuple[pl.LazyFrame, list[Part]]:
    """The rows of `data` as read, and its parts (files) to place problems in."""
    if isinstance(data, (pl.DataFrame, pl.LazyFrame)):
        frame = data.lazy()
        return frame, [Part(FRAME, lambda: frame)]
    path = Path(data)
    kind = SCANNERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"source `{source.name}`: cannot tell the format of {path}: use one of {', '.join(sorted(SCANNERS))}"
        )
    found = files(path)
    if not found:
        raise DataError(f"source `{source.name}`: no file {path}")
    if kind == "csv":
        tabs = path.suffix.lower() == ".tsv" and source.csv.separator == ","  # unless `csv:` says otherwise
        return _open_csv(source, replace(source.csv, separator="\t") if tabs else source.csv, found, transcoded)
    if kind == "ndjson":
        return _open_ndjson(source, found, quote)
    for file in found if kind == "parquet" else ():  # a corrupt file can crash Polars: check it first
        if problem := parquet_problem(Path(file)):
            raise DataError(f"source `{source.name}`: cannot read {file}: {problem}")
    if kind == "ipc" and (unsafe := ipc_problem(found)):  # likewise, read in a child process first
        raise DataError(f"source `{source.name}`: cannot read {unsafe[0]}: {unsafe[1]}")
    widened = _same_schemas(source, found, kind, quote)
    reader = pl.scan_parquet if kind == "parquet" else pl.scan_ipc
    parts = [Part(f, lambda f=f: reader(f, glob=False)) for f in found]  # type: ignore[misc]
    if len(found) < 2:
        return reader(found, glob=False), parts
    # Each file apart, its declared columns alone (a later file may have others) and its numbers widened to the
    # type that holds those of every file (Int32 here, Int64 there), then one after another.
    return pl.concat([_declared(source, reader(f, glob=False), widened) for f in found]), parts


def _declared(source: Source, frame: pl.LazyFrame, widened: dict[str, pl.DataType]) -> pl.LazyFrame:
    """The declared columns of one file of several, those in `widened` cast to its type."""
    names = [name for name in source.columns if name in frame.collect_schema()]
    return frame.select(pl.col(n).cast(widened[n]) if n in widened else pl.col(n) for n in names)


def _open_csv(
    source: Source, dialect: CsvDialect, found: list[str], transcoded: csv_files.Transcoded
) -> tuple[pl.LazyFrame, list[Part]]:
    utf8: list[tuple[str, Path]] = []
    headers: list[list[str]] = []
    for file in found:
        if csv_files.is_empty(Path(file)):
            continue
        text = transcoded.utf8(Path(file), dialect, source.name)
        headers.append(csv_files.header(text, dialect))
        _no_duplicate_names(source, file, headers[-1])
        if problem := csv_files.ragged(text, dialect):
            raise DataError(f"source `{source.name}`: {file}, {problem}")
        utf8.append((file, text))
    if not utf8:  # no file has even a header: no rows, of the declared columns
        empty = pl.LazyFrame(schema={name: pl.String for name in source.columns})
        return empty, [Part(found[0], lambda: empty)]
    parts = [
        Part(file, lambda text=text: csv_files.scan([str(text)], dialect), lines=(text, dialect))  # type: ignore[misc]
        for file, text in utf8
    ]
    if all(h == headers[0] for h in headers):
        return csv_files.scan([str(text) for _, text in utf8], dialect), parts
    # Headers that differ (in order, or in columns not declared): each file apart, its declared columns alone, by
    # name, then one after another; a declared column that one file has and another lacks is an error.
    declared = [name for name in source.columns if any(name in h for h in headers)]
    for name in declared:
        having = next(file for (file, _), h in zip(utf8, headers, strict=True) if name in h)
        lacking = next((file for (file, _), h in zip(utf8, headers, strict=True) if name not in h), None)
        if lacking is not None:
            raise DataError(f"source `{source.name}`: {lacking} has no column `{name}`, which {having} has")
    return pl.concat([csv_files.scan([str(text)], dialect).select(declared) for _, text in utf8]), parts


def _open_ndjson(source: Source, found: list[str], quote: bool) -> tuple[pl.LazyFrame, list[Part]]:
    """The rows of NDJSON files, each declared column read as one type in every file (see `_ndjson_types`)."""
    types = _ndjson_types(source, found, quote)

    def rows(file: str) -> pl.LazyFrame:
        frame = pl.scan_ndjson(file, schema_overrides=types)
        names = frame.collect_schema().names()
        missing = [pl.lit(None, types.get(n, pl.Null())).alias(n) for n in source.columns if n not in names]
        return frame.with_columns(missing) if missing else frame  # a key absent from a file is null there

    parts = [Part(f, lambda f=f: rows(f), json_lines=True) for f in found]  # type: ignore[misc]
    if len(found) < 2:
        return rows(found[0]), parts
    return pl.concat([rows(f).select(n for n in source.columns) for f in found]), parts


def _ndjson_types(source: Source, found: list[str], quote: bool) -> dict[str, pl.DataType]:
    """The type to read each declared column as, in every file of an NDJSON glob. Polars would take the first
    file's types for all; here files that agree keep their type, integers and floats meet as Float64 (a writer
    may write 5.0 as 5), and a column of other mixed types is read as text, so that a value that is not of the
    declared type is placed by file and line like a CSV file's. A nested column is refused here, naming its file."""
    schemas = []
    for file in found:
        try:
            schemas.append(pl.scan_ndjson(file).collect_schema())
        except POLARS_FAILURES as error:
            problem = ndjson_problem(Path(file))
            if problem is not None:
                raise DataError(f"source `{source.name}`: {file}, {problem}") from None
            raise DataError(f"source `{source.name}`: cannot read {file}: {polars_problem(error, quote)}") from None
    types: dict[str, pl.DataType] = {}
    for name, column in source.columns.items():
        nested = next(((f, s[name]) for f, s in zip(found, schemas, strict=True) if isinstance(s.get(name), NESTED)), None)
        if nested is not None:
            raise DataError(
                f"source `{source.name}`: {nested[0]}, column `{name}` (declared {column.type}): holds nested values "
                f"({nested[1]}), which metricdsl does not read"
            )
        found_types = {s[name] for s in schemas if name in s and s[name] != pl.Null}
        if len(found_types) == 1:
            types[name] = found_types.pop()
        elif found_types and all(isinstance(t, (*INTEGERS, *FLOATS)) for t in found_types):
            types[name] = pl.Float64() if any(isinstance(t, FLOATS) for t in found_types) else pl.Int64()
        elif found_types:
            types[name] = pl.String()
    return types


def _no_duplicate_names(source: Source, file: str, names: list[str]) -> None:
    """Raise `DataError` when a declared column is named twice in a CSV header (only the first would be read)."""
    for name in source.columns:
        if names.count(name) > 1:
            raise DataError(
                f"source `{source.name}`: {file}, line {source.csv.skip_rows + 1}: column `{name}` is named "
                f"{names.count(name)} times in the header; only one column may have a declared name"
            )


def _same_schemas(source: Source, found: list[str], kind: str, quote: bool) -> dict[str, pl.DataType]:
    """Raise `DataError` when the files of a glob disagree on the type of a declared column; integers of any
    width (not UInt64) agree, as Int64, and so do floats, as Float64: the columns to widen, with their type."""
    widened: dict[str, pl.DataType] = {}
    if len(found) < 2:
        return widened
    read_schema = pl.read_parquet_schema if kind == "parquet" else pl.read_ipc_schema
    try:
        schemas = [read_schema(f) for f in found]
    except POLARS_FAILURES as error:
        raise DataError(f"source `{source.name}`: cannot read {found[0]}: {polars_problem(error, quote)}") from None
    for name in source.columns:
        first = next(((f, s[name]) for f, s in zip(found, schemas, strict=True) if name in s), None)
        for file, schema in zip(found, schemas, strict=True):
            if first is not None and name not in schema:
                raise DataError(f"source `{source.name}`: {file} has no column `{name}`, which {first[0]} has")
            if first is not None and schema[name] != first[1]:
                wide = _wider(schema[name], first[1])
                if wide is not None:
                    widened[name] = wide
                    continue
                raise DataError(
                    f"source `{source.name}`: {file}, column `{name}`: its type {schema[name]} differs from "
                    f"{first[1]} in {first[0]}; the files of one source must agree"
                )
    return widened


def _wider(one: pl.DataType, other: pl.DataType) -> pl.DataType | None:
    """The type that holds the values of both number types without loss, when they are both integers (not UInt64)
    or both floats; else None."""
    integers = [t for t in INTEGERS if t != pl.UInt64]
    if isinstance(one, tuple(integers)) and isinstance(other, tuple(integers)):
        return pl.Int64()
    if isinstance(one, FLOATS) and isinstance(other, FLOATS):
        return pl.Float64()
    return None


def check_columns(source: Source, frame: pl.LazyFrame, data: Data, needed: set[str], *, quote: bool = True) -> None:
    """Raise `DataError` when `frame` lacks a column of `source` that the request reads; its columns are listed
    only with `quote` (a file's header is its content too)."""
    present = {c for c in frame.collect_schema() if not c.startswith(CHECK_PREFIX)}
    missing = sorted(needed - present)
    if missing:
        names = ", ".join(f"`{m}`" for m in missing)
        has = f"it has: {', '.join(sorted(present)) or 'no columns'}" if quote else f"its columns are {NOT_QUOTED}"
        raise DataError(f"source `{source.name}`: {describe(data)} has no column {names} ({has})")


def _differences(first: dict[str, pl.DataType], other: dict[str, pl.DataType]) -> str:
    """How the columns of a file (`other`) differ from those of the first file of its glob, in a few words."""
    said = [f"no `{name}`" for name in first if name not in other]
    said += [f"`{name}` too" for name in other if name not in first]
    said += [
        f"`{name}` as {other[name]}, not {first[name]}" for name in first if name in other and other[name] != first[name]
    ]
    return f"it has {', '.join(said)}" if said else "its columns are in another order"


def polars_problem(error: BaseException, quote: bool) -> str:
    """The first line of a Polars error, which may quote the data; without `quote`, its kind alone. A panic's
    message speaks of Rust internals, not of the data: it is never quoted."""
    if isinstance(error, pl.exceptions.PanicException):
        return "Polars failed inside its Rust core (corrupt data can make it fail)"
    return _first_line(error) if quote else f"{type(error).__name__} (its message is {NOT_QUOTED})"


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
