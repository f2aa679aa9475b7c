"""The SQL backend: the checked model compiled to SQL, and the engines that run it (DuckDB, Spark)."""
