"""The Polars translation of each function of the language, by name: one table per kind of function.

Every row of `metricdsl.language.functions` has its translation here (a test checks it); the compiler looks
calls up in these tables.

- `SCALARS`: the compiled arguments, in parameter order (`Function.bind`), to the value;
- `AGGREGATES`: the values of a group (nulls for rows its filters leave out) and the call, to the aggregate,
  for `group_by().agg()`;
- `WINDOWS`: the direction in which `join_asof` looks for a matching row of the other source;
- `RULE_FUNCTIONS`: the argument (a metric's name, or a change of one) to an expression over the graded table,
  whose hidden columns hold each metric's previous value, number of observations, standard error and interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import polars as pl

from metricdsl.engine import stats
from metricdsl.engine.columns import hidden
from metricdsl.language import ast
from metricdsl.language.functions import PERCENTILES, quantile_probability

ScalarTranslation = Callable[[Sequence[pl.Expr]], pl.Expr]
AggregateTranslation = Callable[[pl.Expr, ast.Call], pl.Expr]
RuleTranslation = Callable[[ast.Expr], pl.Expr]


def safe_divide(numerator: pl.Expr, denominator: pl.Expr, op: str = "/") -> pl.Expr:
    """`numerator / denominator` (or `%`), null when the denominator is zero or null."""
    result = numerator / denominator if op == "/" else numerator % denominator
    return pl.when(denominator != 0).then(result)


def _literal_int(expr: pl.Expr) -> int:
    return int(pl.select(expr).item())


def _round(args: Sequence[pl.Expr]) -> pl.Expr:
    """`round(x)` or `round(x, digits)`: ties to even on x * 10**digits, as Polars rounds."""
    return args[0].round(_literal_int(args[1]) if len(args) > 1 else 0)


SCALARS: dict[str, ScalarTranslation] = {
    "coalesce": lambda args: pl.coalesce(*args),
    "abs": lambda args: args[0].abs(),
    "round": _round,
    "lower": lambda args: args[0].str.to_lowercase(),
    "upper": lambda args: args[0].str.to_uppercase(),
    "contains": lambda args: args[0].str.contains(args[1], literal=True),
    "starts_with": lambda args: args[0].str.starts_with(args[1]),
    "ends_with": lambda args: args[0].str.ends_with(args[1]),
    # Local time: a datetime is in its source's zone (`metricdsl.engine.zones`), and a date is a local day.
    "hour": lambda args: args[0].dt.hour().cast(pl.Int64),
    "weekday": lambda args: args[0].dt.weekday().cast(pl.Int64),
    "date": lambda args: args[0].dt.date(),
    "days_between": lambda args: (args[1].dt.date() - args[0].dt.date()).dt.total_days().cast(pl.Int64),
    "least": lambda args: pl.min_horizontal(*args),
    "greatest": lambda args: pl.max_horizontal(*args),
}


def _quantile(values: pl.Expr, call: ast.Call) -> pl.Expr:
    """Linear interpolation between the closest ranks, as DuckDB's `quantile_cont` and NumPy's default."""
    return values.quantile(quantile_probability(call), interpolation="linear")


AGGREGATES: dict[str, AggregateTranslation] = {
    "count": lambda values, _: values.count().cast(pl.Int64),
    "count_distinct": lambda values, _: values.drop_nulls().n_unique().cast(pl.Int64),
    "sum": lambda values, _: pl.when(values.count() > 0).then(values.sum()),  # null, not 0, of no values
    "mean": lambda values, _: values.mean(),
    "min": lambda values, _: values.min(),
    "max": lambda values, _: values.max(),
    "stddev": lambda values, _: values.std(ddof=1),
    "variance": lambda values, _: values.var(ddof=1),
    "quantile": _quantile,
    **dict.fromkeys(PERCENTILES, _quantile),
    "share": lambda values, _: values.mean(),
}

WINDOWS: dict[str, Literal["forward", "backward"]] = {
    "followed_by": "forward",
    "preceded_by": "backward",
}


def _metric(argument: ast.Expr) -> str:
    assert isinstance(argument, ast.Name), argument  # the checker lets only a metric's name through
    return argument.name


def _change(argument: ast.Expr) -> pl.Expr:
    metric = _metric(argument)
    return pl.col(metric) - pl.col(hidden("prev", metric))


def _significant(argument: ast.Expr) -> pl.Expr:
    """Whether a change of a metric is larger than chance, by its standard errors now and in the previous period."""
    assert isinstance(argument, ast.Call), argument  # change(m) or pct_change(m): the checker made sure
    m = _metric(argument.args[0])
    return stats.significant_change(
        pl.col(m), pl.col(hidden("se", m)), pl.col(hidden("prev", m)), pl.col(hidden("prevse", m))
    )


RULE_FUNCTIONS: dict[str, RuleTranslation] = {
    "prev": lambda argument: pl.col(hidden("prev", _metric(argument))),
    "change": _change,
    "pct_change": lambda argument: safe_divide(_change(argument), pl.col(hidden("prev", _metric(argument))).abs()),
    "n": lambda argument: pl.col(hidden("n", _metric(argument))),
    "ci_low": lambda argument: pl.col(hidden("ci_low", _metric(argument))),
    "ci_high": lambda argument: pl.col(hidden("ci_high", _metric(argument))),
    "significant": _significant,
}

# The functions across groups, by how each combines a metric's value in a group with its values at the level it reads
# (`metricdsl.engine.polars.across` and `Compiler.across_value`).
ACROSS: dict[str, str] = {
    "of_total": "the value over the total of the period",
    "spread": "the largest minus the smallest value over the dimension",
}
