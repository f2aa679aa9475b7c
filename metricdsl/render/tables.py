"""Tables: drawn for a terminal, and the output files of `eval` (CSV, Parquet, JSON rows) with what it says of them."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

import polars as pl

from metricdsl.files import output_name, replace_atomically, write_text_atomically
from metricdsl.render.terminal import inline, inline_expr, multiline_expr
from metricdsl.render.values import counted

OUTPUT_FORMATS = ("csv", "parquet", "json")  # of the files that `write_table` writes, each its files' extension


def as_text(
    table: pl.DataFrame, *, float_precision: int | None = 3, text_width: int = 60, line_breaks: Collection[str] = ()
) -> str:
    """Every row and column, drawn with box characters, without the shape and the types.

    `float_precision` digits after the point (None: as Polars writes them); text cells are cut to `text_width`.
    Text cells and column names are written with control characters visible (`terminal.inline`), so that a value
    from data neither steers the terminal nor draws a row of its own; the columns of `line_breaks` keep theirs.
    """
    shown = table.with_columns(
        (multiline_expr if name in line_breaks else inline_expr)(pl.col(name).cast(pl.String))
        for name, dtype in table.schema.items()
        if dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum))
    ).rename(inline)
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=30_000,
        float_precision=float_precision,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        fmt_str_lengths=text_width,
    ):
        return str(shown)


def as_json(table: pl.DataFrame) -> str:
    """One JSON object per row; dates and other values JSON lacks are written as text."""
    return json.dumps(table.to_dicts(), default=str, indent=1) + "\n"


def written(rows: int, path: Path) -> str:
    """What `eval --output` says once it wrote the table: `wrote 3 rows to out.csv`, `to standard output`."""
    return f"wrote {counted(rows, 'row')} to {inline(output_name(path))}"


def format_of(path: Path) -> str | None:
    """The output format that the extension of `path` names (`.csv`: csv), if it names one of `OUTPUT_FORMATS`."""
    extension = path.suffix.lower().removeprefix(".")
    return extension if extension in OUTPUT_FORMATS else None


def write_table(table: pl.DataFrame, path: Path, output_format: str) -> None:
    """Write `table` in `output_format` (one of `OUTPUT_FORMATS`), whole or not at all (see `metricdsl.files`)."""
    if output_format == "csv":
        replace_atomically(path, table.write_csv)
    elif output_format == "parquet":
        replace_atomically(path, table.write_parquet)
    elif output_format == "json":
        write_text_atomically(path, as_json(table))
    else:
        raise ValueError(f"no table format `{output_format}`: use one of {', '.join(OUTPUT_FORMATS)}")
