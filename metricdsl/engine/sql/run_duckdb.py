"""Run a query on an in-process DuckDB, with Polars frames as its tables."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from metricdsl.errors import DataError


def execute(sql: str, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """The result of `sql` on a fresh DuckDB connection where each frame is a table by its name. The session's
    zone is UTC, so that instants come back as they are. A query DuckDB cannot compute (a sum beyond BIGINT) is a
    `DataError` in one line."""
    import duckdb  # an optional dependency: the `duckdb` extra

    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        for name, frame in tables.items():
            connection.register(name, frame.to_arrow())
        try:
            table = connection.sql(sql).to_arrow_table()
        except duckdb.Error as error:
            raise DataError(f"cannot evaluate on DuckDB: {str(error).strip().splitlines()[0]}") from None
        return pl.DataFrame(pl.from_arrow(table))
    finally:
        connection.close()
