"""Spec files in, `Definitions` out: YAML read safely, every value kept with its file, line and column.

`loader.load_files(paths)` returns the project's `definitions.Definitions` (sources, metrics, targets, rules,
scorecards, dashboards, spec tests) and every diagnostic about the files' shape. `yaml_limits` first refuses a
file whose aliases or nesting expand beyond bounds. `yaml_reader.YamlReader` turns the nodes of one file into
values and reports what is wrong with them; the readers of each kind of definition (in `loader`,
`source_readers` and `grading_readers`) receive it explicitly. `data_keys` reads what a source's files hold
(time zone, CSV dialect, a column's domain); `date_formats` checks a column's strftime `format:` against what
Polars reads. `positions` maps offsets to lines and columns. Expression texts stay text (`ExprText`, with a map
from each character to its position); they are parsed by the checker, not here. `json_schema` describes the
keys of `definitions` for editors. `data_paths` bounds where a source's `path:` may lead (the project folder)
and expands its globs, for the loader and the engine.
"""
