"""Declared column types (`int`, `float`, …, as in `metricdsl.spec.definitions.COLUMN_TYPES`) as Polars types."""

from __future__ import annotations

import polars as pl

DTYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "str": pl.String(),
    "datetime": pl.Datetime("us"),
    "date": pl.Date(),
    "duration": pl.Duration("us"),
}
