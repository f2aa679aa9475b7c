"""The expression language alone: text in, syntax trees out; nothing here knows YAML, Polars or SQL.

`parser.parse(text)` turns one expression (grammar: `metricdsl.lark`) into an `ast.Expr` (frozen nodes with
source spans) or raises `SyntaxProblem` with offsets and a hint; `printer.format_expr` writes a tree back as
canonical text. `functions` is the registry of every function of the language (signature, result type and unit
rule), and `units` the duration suffixes, column time units and how units combine.
"""
