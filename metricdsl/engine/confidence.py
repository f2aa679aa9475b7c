"""Confidence intervals of metrics, by the shape of their expression.

- `share(c)`: the Wilson score interval of the share;
- `mean(x)`: the Student t interval of the mean;
- `k * (share(a) - share(b))` with one filter (NPS): the interval of a difference of two exclusive
  shares of the same respondents;
- any other metric: no interval (null).
The standard error of each feeds `significant(change(m))`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from metricdsl.engine import stats
from metricdsl.engine.columns import aggregate_part
from metricdsl.engine.polars.compiler import Compiler
from metricdsl.language import ast
from metricdsl.semantics.model import Model


@dataclass(frozen=True)
class MetricInterval:
    se: pl.Expr
    low: pl.Expr
    high: pl.Expr


def metric_interval(model: Model, compiler: Compiler, name: str) -> MetricInterval | None:
    """The standard error and 95 % interval of metric `name` from its aggregated columns, if it has a shape
    with a known interval."""
    tree = model.metrics[name].tree
    columns = compiler.aggregate_columns
    if isinstance(tree, ast.Call) and tree.func == "share" and (column := columns.get(id(tree))):
        p, n = pl.col(column), pl.col(aggregate_part(column, "n"))
        low, high = stats.wilson_interval(p, n)
        return MetricInterval(stats.share_se(p, n), low, high)
    if isinstance(tree, ast.Call) and tree.func == "mean" and (column := columns.get(id(tree))):
        mean, sd, n = pl.col(column), pl.col(aggregate_part(column, "sd")), pl.col(aggregate_part(column, "n"))
        low, high = stats.mean_interval(mean, sd, n)
        return MetricInterval(stats.mean_se(sd, n), low, high)
    difference = _difference(tree)
    if difference is not None:
        scale, first, second = difference
        if (column_a := columns.get(id(first))) and (column_b := columns.get(id(second))):
            p_a, p_b = pl.col(column_a), pl.col(column_b)
            n = pl.col(aggregate_part(column_a, "n"))
            low, high = stats.difference_interval(p_a, p_b, n, scale)
            return MetricInterval(stats.difference_se(p_a, p_b, n, scale), low, high)
    return None


def _difference(tree: ast.Expr) -> tuple[float, ast.Call, ast.Call] | None:
    """`k * (share(a) - share(b))` (or unscaled) over the same rows, as (k, share a, share b)."""
    scale = 1.0
    if isinstance(tree, ast.Binary) and tree.op == "*" and isinstance(tree.left, ast.Number):
        scale, tree = float(tree.left.value), tree.right
    if not (isinstance(tree, ast.Binary) and tree.op == "-"):
        return None
    first, second = tree.left, tree.right
    if (
        isinstance(first, ast.Call)
        and isinstance(second, ast.Call)
        and first.func == second.func == "share"
        and first.where == second.where
    ):
        return scale, first, second
    return None
