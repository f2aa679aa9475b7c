"""`Definitions` in, a checked `model.Model` out, with every diagnostic of the project.

`checker.check(definitions)` parses each expression, resolves names, types, units and aggregation levels,
infers each metric's source and finds cycles; it never raises on a user's mistake. `graph` derives the
dependencies between sources, columns, metrics, targets, rules, scorecards and dashboards from the model.
"""
