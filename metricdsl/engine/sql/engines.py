"""The engines a request can run on, `polars` (the default), `duckdb` and `spark`, and what each needs to run here.

`sql_engine()` checks an engine before any data is read (its extra imports, Java is there, Spark answers) and gives
how to run a query on it; a problem is one line naming what to install or check (`EngineUnavailable`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from metricdsl.errors import EngineUnavailable, RequestError, unknown_name

Engine = Literal["polars", "duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("polars", "duckdb", "spark")
# The table contract: the SQL types (Spark's names) a catalog table may hold a declared column in.
CONTRACT_TYPES = {
    "int": ("bigint", "int", "smallint", "tinyint"),
    "float": ("double", "float"),
    "bool": ("boolean",),
    "str": ("string", "varchar", "char"),
    "date": ("date",),
    "datetime": ("timestamp", "timestamp_ntz"),
    "duration": ("double", "float", "bigint", "int"),
}


@dataclass(frozen=True)
class SqlEngine:
    """An engine that runs the aggregated groups as SQL: its dialect, how to run a query over frames named as the
    sources, and the sources read from catalog tables (source → qualified table name) with their columns' types."""

    dialect: str
    execute: Callable[[str, Mapping[str, pl.DataFrame]], pl.DataFrame]
    tables: Mapping[str, str] = field(default_factory=dict)
    table_columns: Callable[[str], dict[str, str]] | None = None


def sql_engine(engine: str, remote: str | None = None, tables: Mapping[str, str] | None = None) -> SqlEngine | None:
    """The SQL engine named `engine`, checked and ready (a Spark session is started or reached here), or None for
    Polars. `remote` (a Spark Connect address) and `tables` (catalog tables of sources) are for Spark only."""
    if engine not in ENGINES:
        raise RequestError(unknown_name("engine", engine, ENGINES))
    if engine != "spark" and (remote or tables):
        raise RequestError(f"{'--spark-remote' if remote else '--table'} needs --engine spark, not {engine}")
    if engine == "polars":
        return None
    if engine == "duckdb":
        try:
            importlib.import_module("pyarrow")
            importlib.import_module("duckdb")
        except ImportError:
            raise EngineUnavailable("--engine duckdb needs duckdb and pyarrow: pip install 'metricdsl[duckdb]'") from None
        from metricdsl.engine.sql import run_duckdb

        return SqlEngine("duckdb", run_duckdb.execute)
    from metricdsl.engine.sql import run_spark

    spark = run_spark.session(remote)
    return SqlEngine(
        "spark",
        lambda sql, frames: run_spark.execute(spark, sql, frames),
        dict(tables or {}),
        lambda table: run_spark.table_columns(spark, table),
    )
