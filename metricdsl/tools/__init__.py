"""Commands beside the pipeline, built on `metricdsl.project`: `fmt` rewrites spec files in canonical form,
`explain` gathers the facts about a metric (typed tree, dependencies, Polars plan), `spectest` runs the specs'
own tests, `revision` finds the specs' git revision, `default_paths` finds what a command reads without PATHS.
They return data; `metricdsl.render` writes what people read.
"""
