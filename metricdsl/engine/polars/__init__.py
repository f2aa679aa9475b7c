"""The Polars backend: a checked `Model` and a `query.Request` in, one `polars.LazyFrame` out.

`compiler` turns typed trees into Polars expressions (windows as sorted as-of joins, aggregates as hidden
columns of one `group_by` per source), translating calls through `functions`, the Polars row of every function
of the registry; `query.build_query` joins them into the request's table; `dtypes` maps declared column types
to Polars types.
"""
