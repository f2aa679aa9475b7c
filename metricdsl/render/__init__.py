"""Records in, text out: every user-visible rendering of diagnostics, findings, tables and graphs.

One module per output family: `diagnostics`, `codes` (what a code means), `findings` (with `values`, a
value by its unit), `tables`, `graph`, `explain` (a metric's facts), `junit`, `spectests`, `formatted`
(what `fmt` reports) and `history` (what the history file says). Text from data or specs is escaped for where it
goes, each in one place: `terminal` writes control characters visibly (for every text output, and under the other
escapers), `github` escapes GitHub workflow commands, `markdown` Markdown table cells; JSON and SARIF are
`json.dumps`, JUnit XML ElementTree. Nothing here runs a query or reads a spec.
"""
