"""Tables: drawn for a terminal, and the output files of `eval` (CSV, Parquet, JSON rows) with what it says of them."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from metricdsl.engine.columns import interval_column
from metricdsl.files import output_name, replace_atomically, write_text_atomically
from metricdsl.render.terminal import inline, inline_expr, multiline_expr
from metricdsl.render.values import column_digits, counted, format_count, format_value, unit_header
from metricdsl.spec.definitions import Metric

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


@dataclass(frozen=True)
class Shown:
    """How a column of a table is shown on a terminal: its header, and its values' unit, or that it is a key (a
    dimension or the period, written as they are and repeated in every block) or a count (`1,204`)."""

    header: str
    unit: str | None = None
    kind: Literal["key", "value", "count"] = "value"


def as_formatted_text(table: pl.DataFrame, shown: Mapping[str, Shown], width: int) -> str:
    """The table for a reader: each column under its header (a metric's label), its values in their unit (`9m 10s`,
    `64.2%`), right-aligned, fitted to `width` characters.

    A header is wrapped on its words to its column's width (the widest value, and at least 12 characters or its
    longest word). When the columns are still wider than `width`, the table is drawn in blocks of columns, one under
    the other, each with the key columns (dimensions and period) first, so that each row of a block reads on its own
    line: wrapping a row of twenty metrics over several lines would lose which value is under which header. Columns
    not in `shown` are written as they are (a flag as `yes` or blank: `provisional`). Text is written with control
    characters visible (`terminal.inline`).
    """
    if not table.columns:
        return as_text(table)
    columns = [_column(table.get_column(name), shown.get(name, Shown(name, kind="key"))) for name in table.columns]
    keys = [c for c in columns if c.key]
    values = [c for c in columns if not c.key]
    blocks: list[list[_Column]] = []
    for column in values:
        if blocks and _width(keys + blocks[-1] + [column]) <= width:
            blocks[-1].append(column)
        else:
            blocks.append([column])
    return "\n\n".join(_draw(keys + block) for block in blocks or [[]])


def shown_columns(columns: Collection[str], metrics: Mapping[str, Metric]) -> dict[str, Shown]:
    """How `eval` shows each column of its table: a metric under its short label (else its label, else its name) in
    its unit, and its `--with-ci` columns (`m_n`, `m_ci_low`, `m_ci_high`) beside it; the others are keys."""
    shown: dict[str, Shown] = {}
    for name, metric in metrics.items():
        header = metric.short or metric.label or name
        shown[name] = Shown(header, metric.unit)
        shown[interval_column(name, "n")] = Shown(f"{header} n", kind="count")
        shown[interval_column(name, "ci_low")] = Shown(f"{header} low", metric.unit)
        shown[interval_column(name, "ci_high")] = Shown(f"{header} high", metric.unit)
    return {name: shown[name] for name in columns if name in shown}


@dataclass(frozen=True)
class _Column:
    header: list[str]
    cells: list[str]
    width: int
    key: bool


def _column(series: pl.Series, shown: Shown) -> _Column:
    values = series.to_list()
    header = inline(shown.header)
    if shown.kind == "key":
        cells = ["" if v is None else ("yes" if v else "") if isinstance(v, bool) else inline(v) for v in values]
    elif shown.kind == "count":
        cells = ["n/a" if v is None else format_count(v) for v in values]
    elif series.dtype == pl.Duration:
        seconds = (series.dt.total_microseconds() / 1_000_000).to_list()
        cells = [format_value(v, "s") for v in seconds]
    elif series.dtype.is_numeric():
        digits = column_digits(values)
        cells = [format_value(v, shown.unit, digits=digits, bare=True) for v in values]
        header = inline(unit_header(shown.header, shown.unit))
    else:  # a metric's text, flag or date (`max(day)`), as it reads
        cells = ["n/a" if v is None else inline(v) for v in values]
    longest_word = max((len(word) for word in header.split()), default=0)
    width = max([len(c) for c in cells] + [min(len(header), max(12, longest_word))])
    return _Column(textwrap.wrap(header, width) or [""], cells, width, shown.kind == "key")


def _width(columns: list[_Column]) -> int:
    return sum(c.width + 3 for c in columns) + 1


def _draw(columns: list[_Column]) -> str:
    """Drawn with box characters as Polars draws a table: a header of one or more lines, a double rule, the rows."""
    height = max(len(c.header) for c in columns)

    def line(cells: list[str]) -> str:
        return "│ " + " ┆ ".join(cells) + " │"

    def rule(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * (c.width + 2) for c in columns) + right

    header = [line([(c.header[i] if i < len(c.header) else "").ljust(c.width) for c in columns]) for i in range(height)]
    rows = [
        line([c.cells[r].ljust(c.width) if c.key else c.cells[r].rjust(c.width) for c in columns])
        for r in range(len(columns[0].cells))
    ]
    return "\n".join([rule("┌", "─", "┬", "┐"), *header, rule("╞", "═", "╪", "╡"), *rows, rule("└", "─", "┴", "┘")])
