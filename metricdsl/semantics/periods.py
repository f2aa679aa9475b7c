"""Metrics over periods: trailing windows (`trailing: 4w`) and period arithmetic (`change(nps)`).

Both need a grain. A trailing window is a whole number of periods of the grain it is evaluated at: `N periods`
at any grain; a duration in whole days at the day grain and in whole weeks at the week grain (a day or week of
local time, whatever a DST change does to its hours). Months, quarters and years have no fixed length, so a
duration cannot be a whole number of them: at those grains a window is written `N periods`. The rows of a
window are pooled from per-period parts (sums, counts, extremes), so only aggregates that pool exactly may be
trailing: a quantile or a count of distinct values of four weeks is not computed from those of each week.
"""

from __future__ import annotations

from metricdsl.language import ast
from metricdsl.language.functions import AGGREGATES
from metricdsl.semantics.model import CheckedMetric
from metricdsl.semantics.scope import Reporter
from metricdsl.spec.definitions import Trailing

# Aggregates whose value over a window follows from their per-period parts.
POOLED = ("count", "sum", "mean", "share", "min", "max")
DAY, WEEK = 86_400, 604_800


def check_trailing(reporter: Reporter, name: str, trailing: Trailing, tree: ast.Expr, reads_rows: bool) -> None:
    """Report a `trailing:` on a metric that is not computed from poolable aggregates alone (MD231)."""
    if not reads_rows or any(isinstance(n, ast.Name) for n in _outside_aggregates(tree)):
        reporter.report(
            "MD231",
            f"metric `{name}` is trailing ({trailing.text}) but is computed from other metrics",
            None,
            hint="a trailing window pools the rows of a metric's aggregates: put `trailing:` on the metrics it uses",
            location=trailing.location,
        )
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.func in AGGREGATES and node.func not in POOLED:
            reporter.report(
                "MD231",
                f"metric `{name}` is trailing ({trailing.text}), but `{node.func}` cannot be pooled from its periods",
                None,
                hint=f"a trailing metric may use {', '.join(POOLED)}; compute `{node.func}` per period",
                location=trailing.location,
            )
            return


def _outside_aggregates(node: ast.Expr) -> list[ast.Expr]:
    if isinstance(node, ast.Call) and node.func in AGGREGATES:
        return []
    return [node, *(n for child in ast.children(node) for n in _outside_aggregates(child))]


def trailing_periods(trailing: Trailing, grain: str) -> int | None:
    """How many periods of `grain` the window spans; None when a duration is not a whole number of them."""
    if trailing.periods is not None:
        return trailing.periods
    length = {"day": DAY, "week": WEEK}.get(grain)
    seconds = trailing.seconds or 0
    if length is None or seconds % length:
        return None
    return seconds // length


def grain_problem(checked: CheckedMetric, name: str, grain: str | None) -> tuple[str, str] | None:
    """Why metric `name` cannot be evaluated at `grain` (None: without one), and what to do, if it cannot."""
    trailing = checked.metric.trailing
    if grain is None and checked.periodic:
        what = f"is trailing ({trailing.text})" if trailing else "compares periods"
        return f"metric `{name}` {what}: it needs a grain", "evaluate it by day, week, month, quarter or year"
    if grain is not None and trailing is not None and trailing_periods(trailing, grain) is None:
        allowed = {"day": "whole days (1d, 7d, 4w)", "week": "whole weeks (7d, 4w)"}.get(grain)
        hint = (
            f"at grain {grain}, a trailing duration is {allowed}; or write `trailing: N periods`"
            if allowed
            else f"a {grain} has no fixed length: write `trailing: N periods`"
        )
        return f"metric `{name}` is trailing {trailing.text}, which is not a whole number of {grain}s", hint
    return None
