"""Confidence intervals of metrics in SQL, as `metricdsl.engine.confidence` and `metricdsl.engine.stats` compute them
in Polars, by the shape of the metric's expression:

- `share(c)`: the Wilson score interval, in the same cancellation-free form;
- `mean(x)`: the Student t interval, with the t quantile as in `stats.t_quantile_expr`: a table of whole degrees of
  freedom up to `stats.EXPANSION_DF` (one `CASE`, fractional df rounded down), the Cornish–Fisher polynomial above;
- `k * (share(a) - share(b))` with one filter (NPS): the normal interval of a difference of two exclusive shares;
- any other metric: no interval (null).

Every operation is written in the order Polars computes it, on DOUBLEs (a literal is cast: Spark and DuckDB read `1.0`
as a DECIMAL), and every division and root is guarded as Polars guards it, so no engine divides by zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from metricdsl.engine import stats
from metricdsl.engine.columns import aggregate_part
from metricdsl.engine.confidence import _difference
from metricdsl.engine.sql.functions import double, number, when
from metricdsl.language import ast
from metricdsl.semantics.model import Model

CONFIDENCE = 0.95


def column(name: str) -> exp.Expr:
    return double(exp.column(name, quoted=True))


@dataclass(frozen=True)
class MetricInterval:
    """A metric's interval: its bounds, which read the column `quantile_column` when `quantile` is given (the t
    quantile of a mean, a large expression computed once, in a step before the bounds)."""

    low: exp.Expr
    high: exp.Expr
    quantile: exp.Expr | None = None


def metric_interval(model: Model, owned: Mapping[int, str], name: str, quantile_column: str) -> MetricInterval | None:
    """The 95 % interval of metric `name` from its aggregate columns (`owned`: the column of each aggregate call of
    its tree), if its shape has one."""
    tree = model.metrics[name].tree
    if isinstance(tree, ast.Call) and tree.func == "share" and (found := owned.get(id(tree))):
        return MetricInterval(*wilson_interval(column(found), column(aggregate_part(found, "n"))))
    if isinstance(tree, ast.Call) and tree.func == "mean" and (found := owned.get(id(tree))):
        sd, n = column(aggregate_part(found, "sd")), column(aggregate_part(found, "n"))
        quantile = t_quantile(0.5 + CONFIDENCE / 2.0, _sub(n.copy(), number(1.0)))
        return MetricInterval(*mean_interval(column(found), sd, n, column(quantile_column)), quantile=quantile)
    difference = _difference(tree)
    if difference is not None:
        scale, first, second = difference
        if (column_a := owned.get(id(first))) and (column_b := owned.get(id(second))):
            n = column(aggregate_part(column_a, "n"))
            return MetricInterval(*difference_interval(column(column_a), column(column_b), n, scale))
    return None


def _z() -> float:
    return stats.z_quantile(0.5 + CONFIDENCE / 2.0)


def grouped(a: exp.Expr) -> exp.Expr:
    """`a` in parentheses when it is an operation: sqlglot writes a tree as it is, without them."""
    return exp.paren(a, copy=False) if isinstance(a, (exp.Binary, exp.Between)) else a


def _add(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.Add(this=grouped(a), expression=grouped(b))


def _sub(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.Sub(this=grouped(a), expression=grouped(b))


def _mul(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.Mul(this=grouped(a), expression=grouped(b))


def _div(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.Div(this=grouped(a), expression=grouped(b))


def _sqrt(a: exp.Expr) -> exp.Expr:
    return exp.Sqrt(this=a)


def wilson_interval(p: exp.Expr, n: exp.Expr) -> tuple[exp.Expr, exp.Expr]:
    """`stats.wilson_interval`: null unless n > 0 and 0 ≤ p ≤ 1."""
    z = _z()

    def lower(p: exp.Expr, n: exp.Expr) -> exp.Expr:
        spread = _mul(_mul(_mul(number(4.0), n.copy()), p.copy()), _sub(number(1.0), p.copy()))
        root = _sqrt(_add(number(z * z), spread))
        numerator = _mul(_mul(_mul(number(2.0), n.copy()), p.copy()), p.copy())
        denominator = _add(_add(_mul(_mul(number(2.0), n.copy()), p.copy()), number(z * z)), _mul(number(z), root))
        return when(_valid_share(p, n), _div(numerator, denominator))

    return lower(p, n), _sub(number(1.0), lower(_sub(number(1.0), p), n))


def _valid_share(p: exp.Expr, n: exp.Expr) -> exp.Expr:
    between = exp.Between(this=p.copy(), low=number(0.0), high=number(1.0))
    return exp.and_(exp.GT(this=n.copy(), expression=exp.Literal.number(0)), between)


def mean_interval(mean: exp.Expr, sd: exp.Expr, n: exp.Expr, t: exp.Expr) -> tuple[exp.Expr, exp.Expr]:
    """`stats.mean_interval`: mean ± t·sd/sqrt(n), `t` the quantile t_{0.975, n−1}; null when n < 2."""
    se = when(exp.GTE(this=n.copy(), expression=exp.Literal.number(2)), _div(sd, _sqrt(n)))
    half = _mul(t, se)
    return _sub(mean.copy(), half.copy()), _add(mean, half)


def t_quantile(p: float, df: exp.Expr) -> exp.Expr:
    """`stats.t_quantile_expr`: the table of whole df up to `stats.EXPANSION_DF` (a fractional df rounded down), the
    Cornish–Fisher expansion above; df < 1 or null gives null."""
    whole = exp.cast(exp.Floor(this=df.copy()), exp.DataType.build("BIGINT"))
    table = stats._t_table(p)
    looked_up = exp.Case(
        this=whole,
        ifs=[exp.If(this=exp.Literal.number(d), true=number(t)) for d, t in enumerate(table, start=1)],
    )
    x = _div(number(1.0), df.copy())
    coefficients = stats._cornish_fisher(p)
    expanded: exp.Expr = number(coefficients[-1])
    for coefficient in reversed(coefficients[:-1]):
        expanded = _add(_mul(expanded, x.copy()), number(coefficient))
    within = exp.LTE(this=df.copy(), expression=exp.Literal.number(stats.EXPANSION_DF))
    beyond = exp.GT(this=df, expression=exp.Literal.number(stats.EXPANSION_DF))
    return exp.Case(ifs=[exp.If(this=within, true=looked_up), exp.If(this=beyond, true=expanded)])


def difference_interval(p_a: exp.Expr, p_b: exp.Expr, n: exp.Expr, scale: float) -> tuple[exp.Expr, exp.Expr]:
    """`stats.difference_interval`: scale·(p_a − p_b) ± z·scale·sqrt((p_a + p_b − (p_a − p_b)²)/n); null unless
    n > 0."""
    gap = _sub(p_a.copy(), p_b.copy())
    variance = _sub(_add(p_a.copy(), p_b.copy()), _mul(gap.copy(), gap.copy()))
    # Clipped at 0 only against rounding, as Polars clips: null stays null (GREATEST skips nulls in most dialects).
    clipped = exp.Case(
        ifs=[exp.If(this=exp.LT(this=variance.copy(), expression=number(0.0)), true=number(0.0))], default=variance
    )
    se = when(exp.GT(this=n.copy(), expression=exp.Literal.number(0)), _mul(number(abs(scale)), _sqrt(_div(clipped, n))))
    estimate = _mul(number(scale), gap)
    half = _mul(number(_z()), se)
    return _sub(estimate.copy(), half.copy()), _add(estimate, half)
