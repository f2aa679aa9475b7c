"""Frames to and from the table contract of the SQL.

A source's table holds one column per declared column used: datetimes as instants (UTC), durations as numbers
in the column's unit (seconds when it has none), the other types as they are. The groups an engine computes
come back cast to the exact schema of the Polars engine's aggregated groups, so that the same finishing stage
reads them: instants back in their zone, durations (microseconds in the SQL) as durations, dates as dates.
"""

from __future__ import annotations

import polars as pl

from metricdsl.engine.plan import Request
from metricdsl.language.units import TIME_UNITS
from metricdsl.semantics.model import Model

UTC = "UTC"


def to_sql_frame(model: Model, source: str, frame: pl.DataFrame) -> pl.DataFrame:
    """A typed Polars frame of `source` (as the input layer reads it) converted to the table contract: datetimes
    to UTC, durations to numbers in their unit."""
    declared = model.definitions.sources[source].columns
    exprs = []
    for name, dtype in frame.schema.items():
        spec = declared.get(name)
        if spec is not None and isinstance(dtype, pl.Datetime):
            moment = pl.col(name) if dtype.time_zone else pl.col(name).dt.replace_time_zone(UTC)
            exprs.append(moment.dt.convert_time_zone(UTC).dt.cast_time_unit("us"))
        elif spec is not None and isinstance(dtype, pl.Duration):
            per_unit = TIME_UNITS.get(spec.unit or "s", 1.0)
            exprs.append((pl.col(name).dt.total_microseconds().cast(pl.Float64) / (per_unit * 1e6)).alias(name))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


def _cast(name: str, found: pl.DataType, dtype: pl.DataType) -> pl.Expr:
    value = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if isinstance(found, pl.Datetime):
            value = value if found.time_zone else value.dt.replace_time_zone(UTC)
            value = value.dt.cast_time_unit(dtype.time_unit)
            return value.dt.convert_time_zone(dtype.time_zone) if dtype.time_zone else value.dt.replace_time_zone(None)
        return value.cast(dtype)
    if isinstance(dtype, pl.Duration):  # microseconds
        return value.cast(pl.Int64).cast(pl.Duration("us")).cast(dtype)
    if isinstance(dtype, pl.Null):
        return pl.lit(None).alias(name)
    return value.cast(dtype)


def from_sql_groups(result: pl.DataFrame, schema: pl.Schema, model: Model, request: Request) -> pl.DataFrame:
    """The groups an engine computed (`metricdsl.engine.sql.query.groups_query`) cast to Polars' schema of the
    aggregated groups (`aggregated.collect_schema()`), in its column order."""
    del model, request  # the schema says all; kept in the signature for the engines
    return result.select(_cast(name, result.schema[name], dtype).alias(name) for name, dtype in schema.items())
