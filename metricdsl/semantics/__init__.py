"""`Definitions` in, a checked `model.Model` out, with every diagnostic of the project.

`checker.check(definitions)` parses each expression, resolves names, types, units and aggregation levels,
infers each metric's source and finds cycles; it never raises on a user's mistake. It types expressions with a
`typer.Typer`, which hands calls to the rules of `calls` and asks a `resolution.Resolution` for the types of the
metrics and derived columns it reads (each typed once, without recursion); `types` holds the invalid type and
the common type of branches, `scope` where an expression stands and where diagnostics go; `nesting` bounds how
far definitions build on one another. `graph` derives the dependencies between sources, columns, metrics,
targets, rules, scorecards and dashboards from the model.
"""
