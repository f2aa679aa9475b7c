"""Read a source's rows (CSV, Parquet, NDJSON, Arrow IPC, or a frame) with its declared types."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import TypeAlias

import polars as pl

from metricdsl.engine.columns import ROW_COLUMN
from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.errors import DataError
from metricdsl.spec.definitions import Source

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


def describe(data: Data) -> str:
    return str(data) if isinstance(data, (str, Path)) else "the frame given"


def scan(source: Source, data: Data) -> pl.LazyFrame:
    """`data` as a lazy frame whose declared columns have their declared types."""
    declared = {name: DTYPES[column.type] for name, column in source.columns.items()}
    if isinstance(data, pl.DataFrame):
        frame = data.lazy()
    elif isinstance(data, pl.LazyFrame):
        frame = data
    else:
        frame = _scan_file(source, Path(data), declared)
    try:
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as error:
        raise DataError(f"source `{source.name}`: cannot read {describe(data)}: {_first_line(error)}") from None
    casts = [
        _convert(pl.col(name), schema[name], source.columns[name].type).alias(name)
        for name, dtype in declared.items()
        if name in schema and schema[name] != dtype
    ]
    return frame.with_columns(casts) if casts else frame


def _scan_file(source: Source, path: Path, declared: dict[str, pl.DataType]) -> pl.LazyFrame:
    kind = SCANNERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"source `{source.name}`: cannot tell the format of {path}: use one of {', '.join(sorted(SCANNERS))}"
        )
    if not glob.glob(str(path)):
        raise DataError(f"source `{source.name}`: no file {path}")
    if kind == "csv":
        return pl.scan_csv(path, schema_overrides=declared, separator=_separator(path))
    if kind == "ndjson":
        return pl.scan_ndjson(path)
    return pl.scan_parquet(path) if kind == "parquet" else pl.scan_ipc(path)


def _separator(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def check_columns(source: Source, frame: pl.LazyFrame, data: Data, needed: set[str]) -> None:
    """Raise `DataError` when `frame` lacks a column of `source` that the request reads."""
    present = set(frame.collect_schema())
    missing = sorted(needed - present)
    if missing:
        names = ", ".join(f"`{m}`" for m in missing)
        raise DataError(
            f"source `{source.name}`: {describe(data)} has no column {names} "
            f"(it has: {', '.join(sorted(present)) or 'no columns'})"
        )


def find_bad_value(source: Source, data: Data) -> str | None:
    """Name the first value of `data` that is not of its column's declared type, if any."""
    if isinstance(data, (pl.DataFrame, pl.LazyFrame)):
        raw = data.lazy()
    else:
        path = Path(data)
        if SCANNERS.get(path.suffix.lower()) == "csv":
            raw = pl.scan_csv(path, infer_schema=False, separator=_separator(path))
        else:
            raw = _scan_file(source, path, {})
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
            where = f"line {row + 2}" if not isinstance(data, (pl.DataFrame, pl.LazyFrame)) else f"row {row}"
            return f"source `{source.name}`: {describe(data)}, {where}, column `{name}`: `{text}` is not a {column.type}"
    return None


def _convert(value: pl.Expr, dtype: pl.DataType, kind: str) -> pl.Expr:
    """`value` (of `dtype`) as `kind`, failing on a value that does not convert."""
    if dtype == pl.String and kind in ("datetime", "date"):
        return value.str.to_datetime(time_unit="us") if kind == "datetime" else value.str.to_date()
    return value.cast(DTYPES[kind], strict=True)


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
