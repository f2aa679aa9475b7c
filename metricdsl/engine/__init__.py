"""A checked `Model` and input data in, metric tables out.

`inputs` reads and types a source's files (with `csv_files` for dialects and encodings, `conversions` and
`temporal` for the declared types, formats and time zones, `quality` for the data-quality report); `grains`
and `columns` say how periods are cut and what the hidden columns are called; `zones` how a source's local days
meet instants; `stats` and `confidence` give intervals and tests as expressions. Each backend lives in a
sub-package: `polars` compiles a request to one lazy Polars query.
"""
