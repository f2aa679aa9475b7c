"""Scorecards: each item's metric mapped linearly from `floor` (0 points) to `ceiling` (100 points),
clamped, then a weighted mean over the items that have data. A critical item whose target fails caps
the score. Every item's points are kept, so each score can be explained item by item."""

from __future__ import annotations

import polars as pl

from metricdsl.engine.columns import graded_column, points_column
from metricdsl.spec.definitions import Scorecard, ScorecardItem


def item_points(item: ScorecardItem, statuses: tuple[str, ...], pending: pl.Expr | None = None) -> pl.Expr:
    """0 to 100 points for one item; null when its metric has no data (null, or below its min_n) or is pending (its
    value depends on a window past the data's horizon): the item is skipped."""
    value = pl.col(item.metric).cast(pl.Float64)
    # `abs` makes the -0.0 of a value on the floor of a lower-is-better item 0.0 (printed "-0" else); the points are
    # clipped to [0, 100] already. (Polars simplifies `x + 0.0` to `x`, which keeps the sign.)
    points = ((value - item.floor) / (item.ceiling - item.floor)).clip(0.0, 1.0).abs() * 100.0
    if item.metric in statuses:
        points = pl.when(pl.col(graded_column(item.metric, "status")) != "no_data").then(points)
    if pending is not None:
        points = pl.when(~pending).then(points)
    return points


def score_columns(
    scorecard: Scorecard, statuses: tuple[str, ...], pending: dict[str, pl.Expr] | None = None
) -> list[pl.Expr]:
    """`<scorecard>__<metric>__points` per item, `<scorecard>__capped` and `<scorecard>__score`; `pending` gives the
    flag of the metrics whose values may be pending."""
    name = scorecard.name
    found = pending or {}
    points = {item.metric: item_points(item, statuses, found.get(item.metric)) for item in scorecard.items}
    weighted = [points[item.metric] * item.weight for item in scorecard.items]
    # Items without data drop out, and the other weights are renormalised.
    weights = [
        pl.when(points[item.metric].is_not_null()).then(pl.lit(item.weight)).otherwise(0.0) for item in scorecard.items
    ]
    total = pl.sum_horizontal(weights)
    raw = pl.when(total > 0).then(pl.sum_horizontal(weighted) / total)
    critical = [
        pl.col(graded_column(item.metric, "status")) == "fail"
        for item in scorecard.items
        if item.critical and item.metric in statuses
    ]
    capped = pl.any_horizontal(critical).fill_null(False) if critical else pl.lit(False)
    return [
        *(expr.alias(points_column(name, metric)) for metric, expr in points.items()),
        capped.alias(graded_column(name, "capped")),
        pl.when(capped)
        .then(pl.min_horizontal(raw, pl.lit(scorecard.cap)))
        .otherwise(raw)
        .alias(graded_column(name, "score")),
    ]
