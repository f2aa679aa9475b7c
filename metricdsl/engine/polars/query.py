"""Build the one lazy query that computes a request: metrics by dimensions and time grain."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from metricdsl.engine.columns import (
    GRAIN_COLUMN,
    ONE_COLUMN,
    PROVISIONAL,
    aggregate_column,
    aggregate_part,
    hidden,
    interval_column,
)
from metricdsl.engine.confidence import metric_interval
from metricdsl.engine.grains import grain_label, period_start
from metricdsl.engine.polars.compiler import Aggregate, Compiler
from metricdsl.engine.spine import complete_periods
from metricdsl.language import ast
from metricdsl.language.functions import AGGREGATES
from metricdsl.semantics.model import Model


@dataclass(frozen=True)
class Request:
    """What to compute: `metrics`, grouped by the `by` columns and, optionally, a time `grain`."""

    metrics: tuple[str, ...]
    by: tuple[str, ...] = ()
    grain: str | None = None
    apply_min_n: bool = True  # off in spec tests whose small fixtures check a formula only
    with_ci: bool = False  # add each metric's n and 95 % confidence interval
    keep_hidden: bool = False  # keep the period start and the n, se and interval columns, for grading
    as_of: datetime.datetime | None = None  # the horizon of every `followed_by` (naive: local to each source)
    start: datetime.date | None = None  # with a grain, the first period (the one holding this day); else the data's
    end: datetime.date | None = None  # with a grain, the last period; else the data's

    @property
    def keys(self) -> list[str]:
        return [*self.by, GRAIN_COLUMN] if self.grain else list(self.by)


def build_query(model: Model, request: Request, scan: Callable[[str], pl.LazyFrame]) -> tuple[pl.LazyFrame, Compiler]:
    """The lazy query of `request`; `scan(source)` gives each source's typed rows."""
    compiler = Compiler(model, request.as_of)
    order = model.metric_order(list(request.metrics))
    plans = _aggregates_by_source(model, compiler, order, request.with_ci or request.keep_hidden)
    frames = [_grouped(model, compiler, request, source, aggregates, scan) for source, aggregates in plans.items()]
    frame = _join(frames, request.keys)
    if len(frames) > 1 and request.keys:  # a group without rows of a source: its counts are 0, not unknown
        aggregates = [a for source_aggregates in plans.values() for a in source_aggregates]
        counts = [a.n_column for a in aggregates] + [a.column for a in aggregates if a.counts]
        frame = frame.with_columns(pl.col(c).fill_null(0) for c in counts)
    frame = _complete_periods(frame, request, plans, compiler)
    for layer in _layers(model, order):  # one step per level of metrics of metrics, not one per metric
        frame = frame.with_columns(*(e for name in layer for e in _metric(model, compiler, name, request.apply_min_n)))
    if request.with_ci or request.keep_hidden:
        frame = frame.with_columns(*(e for name in order for e in _interval(model, compiler, name)))
    pending = {name: _pending(model, compiler, name) for name in order}
    return _present(frame, request, order, pending, provisional(model, compiler, request.metrics, pending)), compiler


def _complete_periods(
    frame: pl.LazyFrame, request: Request, plans: dict[str, list[Aggregate]], compiler: Compiler
) -> pl.LazyFrame:
    """With a grain, the aggregated groups with a row for every period (`metricdsl.engine.spine`), before any
    metric is computed from them; without one, unchanged."""
    if not request.grain:
        return frame
    aggregates = [a for source_aggregates in plans.values() for a in source_aggregates]
    counts = [a.n_column for a in aggregates] + [a.column for a in aggregates if a.counts]
    counts += [aggregate_part(a.column, "censored") for a in aggregates if a.column in compiler.censored_aggregates]
    return complete_periods(frame, request.by, request.grain, counts, request.start, request.end)


def _windowed(model: Model, compiler: Compiler, name: str) -> list[str]:
    """The censored-row counts of the aggregates that metric `name` is computed from, through the metrics it uses."""
    found: list[str] = []
    for metric in model.metric_order([name]):
        for node in ast.walk(model.metrics[metric].tree):
            column = compiler.aggregate_columns.get(id(node)) if isinstance(node, ast.Call) else None
            if column is not None and column in compiler.censored_aggregates:
                found.append(aggregate_part(column, "censored"))
    return found


def _pending(model: Model, compiler: Compiler, name: str) -> pl.Expr:
    """Whether metric `name`'s value in a group may change when the data is complete: an aggregate it depends on
    read rows whose window was censored."""
    counts = _windowed(model, compiler, name)
    return pl.any_horizontal(pl.col(c).fill_null(0) > 0 for c in counts) if counts else pl.lit(False)


def provisional(model: Model, compiler: Compiler, metrics: tuple[str, ...], pending: dict[str, pl.Expr]) -> pl.Expr | None:
    """A group's `provisional` flag: some of `metrics` is pending there; None when none of them reads a window."""
    if not any(_windowed(model, compiler, name) for name in metrics):
        return None
    return pl.any_horizontal(pending[name] for name in metrics)


def _layers(model: Model, order: list[str]) -> list[list[str]]:
    """The metrics of `order` by level: those of each layer are computed from those of earlier layers only."""
    layers: list[list[str]] = []
    for name, level in model.metric_levels(order).items():
        while len(layers) <= level:
            layers.append([])
        layers[level].append(name)
    return layers


def _aggregates_by_source(model: Model, compiler: Compiler, order: list[str], spread: bool) -> dict[str, list[Aggregate]]:
    plans: dict[str, list[Aggregate]] = {}
    for name in order:
        checked = model.metrics[name]
        for node in ast.walk(checked.tree):
            if isinstance(node, ast.Call) and node.func in AGGREGATES and checked.source is not None:
                column = aggregate_column(len(compiler.aggregate_columns))
                compiler.aggregate_columns[id(node)] = column
                counts = AGGREGATES[node.func].counts
                sd = aggregate_part(column, "sd") if spread and node.func == "mean" else None  # for the interval of a mean
                plans.setdefault(checked.source, []).append(
                    Aggregate(node, checked.where, column, aggregate_part(column, "n"), counts, sd, checked.source)
                )
    return plans


def _grouped(
    model: Model,
    compiler: Compiler,
    request: Request,
    source: str,
    aggregates: list[Aggregate],
    scan: Callable[[str], pl.LazyFrame],
) -> pl.LazyFrame:
    """One `group_by` of `source`: every aggregate the request needs from it, per group."""
    derived = model.sources[source].derived
    time = model.definitions.sources[source].time
    trees: list[ast.Expr] = [a.node for a in aggregates] + [a.where for a in aggregates if a.where is not None]
    trees += [derived[name] for name in [*request.by, time] if name in derived]
    frame = compiler.source_frame(source, trees, scan)
    keys = [compiler.column(source, name).alias(name) for name in request.by]
    if request.grain:
        assert time is not None
        moment = compiler.column(source, time)
        keys.append(period_start(moment, request.grain).alias(GRAIN_COLUMN))
    exprs = [e for aggregate in aggregates for e in compiler.aggregate(aggregate)]
    return frame.group_by(keys).agg(exprs) if keys else frame.select(exprs)


def _join(frames: list[pl.LazyFrame], keys: list[str]) -> pl.LazyFrame:
    """The sources' groups side by side: joined in pairs, then pairs of pairs, so that the plan is as deep as the
    logarithm of the number of sources (a chain of joins, each carrying every column before it, was quadratic)."""
    if not frames:
        return pl.LazyFrame({ONE_COLUMN: [1]})
    while len(frames) > 1:
        pairs = zip(frames[0::2], frames[1::2], strict=False)
        joined = [
            left.join(right, on=keys, how="full", coalesce=True, nulls_equal=True) if keys else left.join(right, how="cross")
            for left, right in pairs
        ]
        frames = joined + frames[len(joined) * 2 :]
    return frames[0]


def _metric(model: Model, compiler: Compiler, name: str, apply_min_n: bool) -> list[pl.Expr]:
    """A metric's value and its number of observations, from the aggregated columns."""
    checked = model.metrics[name]
    value = compiler.expr(checked.tree)
    counts = [
        pl.col(aggregate_part(compiler.aggregate_columns[id(n)], "n"))
        for n in ast.walk(checked.tree)
        if isinstance(n, ast.Call) and n.func in AGGREGATES and id(n) in compiler.aggregate_columns
    ]
    counts += [pl.col(hidden("n", dependency)) for dependency in checked.metrics]
    n = pl.min_horizontal(*counts) if counts else pl.lit(None, dtype=pl.Int64)
    min_n = checked.metric.min_n
    if min_n is not None and apply_min_n and counts:  # a constant has no observations to count
        value = pl.when(n >= min_n).then(value)
    if checked.type.kind == "float":
        value = finite(value)
    return [value.alias(name), n.cast(pl.Int64).alias(hidden("n", name))]


def finite(value: pl.Expr) -> pl.Expr:
    """`value` where it is a finite number, else null: an overflow (`inf`) or an undefined result (`NaN`) is
    missing, as a division by zero is, so that no output shows a non-finite number."""
    return pl.when(value.is_finite()).then(value)


def _interval(model: Model, compiler: Compiler, name: str) -> list[pl.Expr]:
    found = metric_interval(model, compiler, name)
    nothing = pl.lit(None, dtype=pl.Float64)
    se, low, high = (found.se, found.low, found.high) if found else (nothing, nothing, nothing)
    # No interval for a value hidden below its min_n.
    known = pl.col(name).is_not_null()
    return [
        pl.when(known).then(finite(se)).alias(hidden("se", name)),
        pl.when(known).then(finite(low)).alias(hidden("ci_low", name)),
        pl.when(known).then(finite(high)).alias(hidden("ci_high", name)),
    ]


def _present(
    frame: pl.LazyFrame, request: Request, order: list[str], pending: dict[str, pl.Expr], provisional: pl.Expr | None
) -> pl.LazyFrame:
    """Sorted groups with readable grain labels, the requested metrics only, and the `provisional` flag when they
    read a window (with the hidden columns, each metric's `pending` flag)."""
    if request.keys:
        frame = frame.sort(request.keys, nulls_last=True)
    columns: list[pl.Expr] = [pl.col(name) for name in request.by]
    if request.grain:
        columns.append(grain_label(pl.col(GRAIN_COLUMN), request.grain).alias(request.grain))
    for name in request.metrics:
        columns.append(pl.col(name))
        if request.with_ci:
            columns += [
                pl.col(hidden("n", name)).alias(interval_column(name, "n")),
                pl.col(hidden("ci_low", name)).alias(interval_column(name, "ci_low")),
                pl.col(hidden("ci_high", name)).alias(interval_column(name, "ci_high")),
            ]
    if provisional is not None:
        columns.append(provisional.alias(PROVISIONAL))
    if request.keep_hidden:
        columns += [pl.col(GRAIN_COLUMN)] if request.grain else []
        columns += [pl.col(hidden(part, name)) for name in order for part in ("n", "se", "ci_low", "ci_high")]
        columns += [pending[name].alias(hidden("pending", name)) for name in order]
    return frame.select(columns)
