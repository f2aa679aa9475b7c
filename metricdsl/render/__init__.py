"""Records in, text out: every user-visible rendering of diagnostics, findings, tables and graphs.

One module per output family: `diagnostics`, `codes` (what a code means), `findings` (with `values`, a
value by its unit), `tables`, `graph`, `explain` (a metric's facts), `junit`, `spectests`, `formatted`
(what `fmt` reports) and `history` (what the history file says). `github` is the one escaper of GitHub
workflow commands and `markdown` the one of Markdown table cells. Nothing here runs a query or reads a spec.
"""
