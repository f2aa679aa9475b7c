"""The SQL backend: stage (1) of a request (the aggregated groups) as one query, rendered per dialect, and the engines
that run it.

- `dialects`: the dialects (`DIALECTS`), the nodes rendered per dialect, and `render`;
- `functions`: the SQL translation of each function of the language;
- `compiler`: row expressions, aggregates and window calls as sqlglot trees;
- `query`: `groups_query`, the request's aggregated groups as one SELECT;
- `finish`, `metric_level`, `intervals`, `across`: stage (2), the table from the groups, for `metricdsl sql`;
- `frames`: frames to and from the table contract of the SQL;
- `run_duckdb`: runs a query on an in-process DuckDB;
- `run_spark`: runs a query on Spark, local or through Spark Connect;
- `engines`: the engines by name, checked before any data is read.
"""
