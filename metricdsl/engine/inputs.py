"""Read a source's rows (CSV, Parquet, NDJSON, Arrow IPC, or a frame) with its declared types.

Messages about bad data quote a value only from data the user named (`--data`, the API's `data`): a file
that a spec's `path:` names may hold what its reader was not meant to see, so its values, column names and
Polars' messages (which quote the file) are left out; the file, column and line are still named. Globs
are expanded by `metricdsl.spec.data_paths.files`, the expansion the loader checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import polars as pl

from metricdsl.engine.columns import ROW_COLUMN
from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.errors import DataError
from metricdsl.spec.data_paths import files
from metricdsl.spec.definitions import DEFAULT_ZONE, Source

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
NOT_QUOTED = "not shown, as a spec's `path:` named the file; give it with --data to see it"


# What Polars raises on input it cannot read: its errors, and a panic of its Rust core on a corrupt file
# (a `BaseException`, so that a plain `except Exception` would miss it).
POLARS_FAILURES = (pl.exceptions.PolarsError, pl.exceptions.PanicException)


def describe(data: Data) -> str:
    return str(data) if isinstance(data, (str, Path)) else "the frame given"


def scan(source: Source, data: Data, *, quote: bool = True, zone: str = DEFAULT_ZONE) -> pl.LazyFrame:
    """`data` as a lazy frame whose declared columns have their declared types; `quote=False` when a spec's
    `path:` named it, not the user. Datetimes are in `zone`, the source's: zoned ones converted to it, naive
    ones taken as local time in it."""
    declared = {name: DTYPES[column.type] for name, column in source.columns.items()}
    if isinstance(data, pl.DataFrame):
        frame = data.lazy()
    elif isinstance(data, pl.LazyFrame):
        frame = data
    else:
        frame = _scan_file(source, Path(data), declared)
    try:
        schema = frame.collect_schema()
    except (*POLARS_FAILURES, OSError) as error:
        raise DataError(f"source `{source.name}`: cannot read {describe(data)}: {polars_problem(error, quote)}") from None
    casts = [
        _convert(pl.col(name), schema[name], source.columns[name].type).alias(name)
        for name, dtype in declared.items()
        if name in schema and schema[name] != dtype and dtype != pl.Datetime
    ]
    casts += [
        _zoned(pl.col(name), schema[name], zone).alias(name)
        for name, dtype in declared.items()
        if name in schema and dtype == pl.Datetime and schema[name] != pl.Datetime("us", zone)
    ]
    return frame.with_columns(casts) if casts else frame


def _scan_file(source: Source, path: Path, declared: dict[str, pl.DataType]) -> pl.LazyFrame:
    kind = SCANNERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"source `{source.name}`: cannot tell the format of {path}: use one of {', '.join(sorted(SCANNERS))}"
        )
    found = files(path)
    if not found:
        raise DataError(f"source `{source.name}`: no file {path}")
    if kind == "csv":
        return pl.scan_csv(found, schema_overrides=declared, separator=_separator(path), glob=False)
    if kind == "ndjson":
        return pl.scan_ndjson(found)
    return pl.scan_parquet(found, glob=False) if kind == "parquet" else pl.scan_ipc(found, glob=False)


def _separator(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def check_columns(source: Source, frame: pl.LazyFrame, data: Data, needed: set[str], *, quote: bool = True) -> None:
    """Raise `DataError` when `frame` lacks a column of `source` that the request reads; its columns are listed
    only with `quote` (a file's header is its content too)."""
    present = set(frame.collect_schema())
    missing = sorted(needed - present)
    if missing:
        names = ", ".join(f"`{m}`" for m in missing)
        has = f"it has: {', '.join(sorted(present)) or 'no columns'}" if quote else f"its columns are {NOT_QUOTED}"
        raise DataError(f"source `{source.name}`: {describe(data)} has no column {names} ({has})")


def find_bad_value(source: Source, data: Data, *, quote: bool = True) -> str | None:
    """Name the first value of `data` that is not of its column's declared type, if any: its file, line and
    column, and the value itself only with `quote`."""
    if isinstance(data, (pl.DataFrame, pl.LazyFrame)):
        return _bad_value(source, data.lazy(), describe(data), quote, ("row", 0))
    for file in map(Path, files(data)):
        if SCANNERS.get(file.suffix.lower()) == "csv":
            raw = pl.scan_csv(file, infer_schema=False, separator=_separator(file), glob=False)
        else:
            raw = _scan_file(source, file, {})
        try:
            problem = _bad_value(source, raw, str(file), quote, ("line", 2))
        except (*POLARS_FAILURES, OSError):  # unreadable, not ill-typed: the caller says so
            continue
        if problem:
            return problem
    return None


def _bad_value(source: Source, raw: pl.LazyFrame, where: str, quote: bool, counted: tuple[str, int]) -> str | None:
    """The first bad value of `raw`, placed by `counted`: a frame's `row` from 0, a file's `line` from 2 (its
    header is line 1)."""
    schema = raw.collect_schema()
    for name, column in source.columns.items():
        if name not in schema:
            continue
        value = pl.col(name)
        parsed = _parse(value, column.type) if schema[name] == pl.String else value.cast(DTYPES[column.type], strict=False)
        rows = (
            raw.with_row_index(ROW_COLUMN)
            .filter(value.is_not_null() & parsed.is_null())
            .select(ROW_COLUMN, value.cast(pl.String))
            .head(1)
            .collect()
        )
        if rows.height:
            row, text = rows.row(0)
            place = f"{counted[0]} {row + counted[1]}"
            kind = f"{'an' if column.type[:1] in 'aeiou' else 'a'} {column.type}"
            problem = f"`{text}` is not {kind}" if quote else f"a value is not {kind} (the value is {NOT_QUOTED})"
            return f"source `{source.name}`: {where}, {place}, column `{name}`: {problem}"
    return None


def polars_problem(error: BaseException, quote: bool) -> str:
    """The first line of a Polars error, which may quote the data; without `quote`, its kind alone."""
    return _first_line(error) if quote else f"{type(error).__name__} (its message is {NOT_QUOTED})"


def _convert(value: pl.Expr, dtype: pl.DataType, kind: str) -> pl.Expr:
    """`value` (of `dtype`) as `kind`, failing on a value that does not convert."""
    if dtype == pl.String and kind in ("datetime", "date"):
        return value.str.to_datetime(time_unit="us") if kind == "datetime" else value.str.to_date()
    return value.cast(DTYPES[kind], strict=True)


def _zoned(value: pl.Expr, dtype: pl.DataType, zone: str) -> pl.Expr:
    """`value` (of `dtype`) as a datetime in `zone`: text and naive datetimes are local time there."""
    if dtype == pl.String:
        return value.str.to_datetime(time_unit="us", time_zone=zone)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return value.dt.convert_time_zone(zone).cast(pl.Datetime("us", zone), strict=True)
    return value.cast(pl.Datetime("us"), strict=True).dt.replace_time_zone(zone)


def _parse(text: pl.Expr, kind: str) -> pl.Expr:
    if kind == "bool":
        lowered = text.str.to_lowercase()
        return pl.when(lowered.is_in(["true", "false"])).then(lowered == "true")
    if kind == "datetime":
        return text.str.to_datetime(strict=False, time_unit="us")
    if kind == "date":
        return text.str.to_date(strict=False)
    return text.cast(DTYPES[kind], strict=False)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
