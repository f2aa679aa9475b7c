"""Commands beside the pipeline, built on `metricdsl.project`: `fmt` rewrites spec files in canonical form,
`explain` shows a metric's typed tree and plan, `spectest` runs the specs' own tests, `revision` finds the
specs' git revision.
"""
