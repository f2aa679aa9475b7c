"""The expression language alone: text in, typed-free syntax trees out.

`parser.parse(text)` turns one expression into an `ast.Expr` (frozen nodes with source spans) or raises
`SyntaxProblem` with offsets and a hint; `printer.format_expr` writes a tree back as canonical text; `functions`
is the registry of every function of the language. Nothing here knows YAML, Polars or SQL.
"""
