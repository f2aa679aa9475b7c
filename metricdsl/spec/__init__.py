"""Spec files in, `Definitions` out: YAML read safely, every value kept with its file, line and column.

`loader.load_files(paths)` returns the project's `definitions.Definitions` (sources, metrics, targets, rules,
scorecards, dashboards, spec tests) and every diagnostic about the files' shape. Expression texts stay text
(`ExprText`, with a map from each character to its position); they are parsed by the checker, not here.
`json_schema` describes the same keys for editors.
"""
