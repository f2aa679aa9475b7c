"""The SQL backend: a checked model compiled to sqlglot expression trees, rendered per dialect."""
