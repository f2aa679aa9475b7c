"""Build the one lazy query that computes a request: metrics by dimensions and time grain."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from metricdsl.engine.across import PRESENT_COLUMN, Across, Level, across_calls, plan_levels
from metricdsl.engine.columns import (
    GRAIN_COLUMN,
    ONE_COLUMN,
    PERIOD,
    PROVISIONAL,
    aggregate_part,
    hidden,
    interval_column,
)
from metricdsl.engine.confidence import metric_interval
from metricdsl.engine.grains import grain_label, period_number, period_start
from metricdsl.engine.plan import Aggregate, Request, aggregates_by_source, layers, variant_columns, windowed_counts
from metricdsl.engine.polars import across
from metricdsl.engine.polars.compiler import Compiler
from metricdsl.engine.spine import complete_periods, in_range
from metricdsl.language import ast
from metricdsl.language.functions import AGGREGATES
from metricdsl.semantics.filters import Variant, used_variant, variants
from metricdsl.semantics.model import Model


def build_query(model: Model, request: Request, scan: Callable[[str], pl.LazyFrame]) -> tuple[pl.LazyFrame, Compiler]:
    """The lazy query of `request`; `scan(source)` gives each source's typed rows."""
    aggregated, finish, compiler = build_stages(model, request, scan)
    return finish(aggregated), compiler


def build_stages(
    model: Model, request: Request, scan: Callable[[str], pl.LazyFrame], compiler: Compiler | None = None
) -> tuple[pl.LazyFrame, Callable[[pl.LazyFrame], pl.LazyFrame], Compiler]:
    """The query of `request` in two stages: the aggregated groups (one row per group and period), which read the
    data, and `finish`, which computes the table from them (complete periods, metrics, the table's columns).

    Collecting the first stage, then finishing the small frame it gives, is cheaper than collecting both at once
    when the plan is collected with others (the data-quality counts, `pl.collect_all`): the complete periods read
    the aggregated groups four times (their groups, first and last period, a join, the rows of no period), and in
    such a plan that cost about 1 s of CPU on 10M rows, against a few milliseconds on the collected groups.

    `compiler` is a fresh one by default; one prepared to read windows already computed is given when they were
    computed in buckets (`metricdsl.engine.polars.partition`)."""
    return _stages(model, request, scan, compiler)


def _stages(
    model: Model,
    request: Request,
    scan: Callable[[str], pl.LazyFrame],
    compiler: Compiler | None = None,
    level: Level | None = None,
) -> tuple[pl.LazyFrame, Callable[[pl.LazyFrame], pl.LazyFrame], Compiler]:
    """`build_stages`, or for a `level` of the functions across groups its stages, whose finish gives its computed
    groups (`across.level_output`) in place of a table."""
    compiler = compiler or Compiler(model, request.as_of)
    order = model.metric_order(list(request.metrics))
    needed = variants(model, order) if level is None else list(level.needed)
    columns = variant_columns(needed)
    plans, owned = aggregates_by_source(model, needed, request)
    frames = [_grouped(model, compiler, request, source, aggregates, scan) for source, aggregates in plans.items()]
    frame = _join(frames, request.keys)
    if len(frames) > 1 and request.keys:  # a group without rows of a source: its counts are 0, not unknown
        aggregates = [a for source_aggregates in plans.values() for a in source_aggregates]
        counts = [a.n_column for a in aggregates] + [a.column for a in aggregates if a.counts]
        frame = frame.with_columns(pl.col(c).fill_null(0) for c in counts)
    # The groupings that functions across groups read, stacked below the request's own groups.
    levels, calls = plan_levels(model, request, needed)
    stages = []
    for lv in levels:
        stage, done, used = _stages(model, lv.request, scan, _level_compiler(compiler), lv)
        for source, read in used.columns_read.items():  # the columns its groups read are read too
            compiler.columns_read.setdefault(source, set()).update(read)
        stages.append((lv, stage, done))
    frame = across.stack_levels(frame, [(lv.index, stage) for lv, stage, _ in stages])

    def finish(frame: pl.LazyFrame) -> pl.LazyFrame:
        frame, computed = across.split_levels(frame, [(lv, done) for lv, _, done in stages])
        return _finish(frame, model, compiler, request, order, needed, columns, plans, owned, computed, calls, level)

    return frame, finish, compiler


def _level_compiler(compiler: Compiler) -> Compiler:
    """A compiler for a level's groups that reads the windows as `compiler` does: by the same columns, and from the
    frames that already hold them when they were computed in buckets (the level's metrics read no window that the
    request's own do not, as they are metrics the request computes too)."""
    found = Compiler(compiler.model, compiler.as_of)
    found.window_names, found.precomputed = compiler.window_names, compiler.precomputed
    found.buckets, found.in_bucket, found.bounds = compiler.buckets, compiler.in_bucket, compiler.bounds
    return found


def _finish(
    frame: pl.LazyFrame,
    model: Model,
    compiler: Compiler,
    request: Request,
    order: list[str],
    needed: list[Variant],
    columns: dict[Variant, str],
    plans: dict[str, list[Aggregate]],
    owned: dict[Variant, dict[int, str]],
    computed: list[tuple[Level, pl.LazyFrame]],
    calls: dict[tuple[Variant, int], Across],
    level: Level | None,
) -> pl.LazyFrame:
    """The request's table from its aggregated groups: complete periods, the values of the functions across groups
    from the `computed` groups of their levels, then the metrics by layer. For a `level`, its computed groups."""
    if level is not None:  # the groups with rows, before the spine adds the others
        frame = frame.with_columns(pl.lit(True).alias(PRESENT_COLUMN))
    frame = _complete_periods(frame, request, plans, compiler)
    if request.grain is not None:
        frame = frame.with_columns(period_number(pl.col(GRAIN_COLUMN), request.grain).alias(PERIOD))
        frame = frame.with_columns(_pooled(plans, request, compiler))
    frame = across.join_levels(frame, request, computed)
    compiler.across_calls = calls
    for layer in layers(model, needed):  # one step per level of metrics of metrics, not one per metric
        frame = frame.with_columns(
            *(e for variant in layer for e in _metric(model, compiler, variant, columns, owned[variant], request))
        )
    if request.grain is not None:  # after `prev()` and trailing windows read the periods before the range
        start = None if request.keep_hidden else request.start  # grading reads the periods before it too
        frame = in_range(frame, request.grain, start, request.end, model.definitions.calendar.week_start)
    # The metrics' own aggregates, for their intervals and for what else reads the compiled query.
    compiler.aggregate_columns = {i: c for v, found in owned.items() if not v.filters for i, c in found.items()}
    if request.with_ci or request.keep_hidden:
        frame = frame.with_columns(*(e for name in order for e in _interval(model, compiler, name)))
    if level is not None:
        found = {t: _pending(model, compiler, owned, t, calls) for t in level.targets}
        return across.level_output(frame, request, level, columns, found)
    pending = {name: _pending(model, compiler, owned, Variant(name), calls) for name in order}
    flag = provisional(model, compiler, owned, request.metrics, pending)
    return _present(frame, request, order, model.definitions.calendar.week_start, pending, flag)


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
    week_start = compiler.model.definitions.calendar.week_start
    return complete_periods(frame, request.by, request.grain, counts, request.start, request.end, week_start)


def _pending(
    model: Model,
    compiler: Compiler,
    owned: dict[Variant, dict[int, str]],
    variant: Variant,
    calls: dict[tuple[Variant, int], Across],
) -> pl.Expr:
    """Whether `variant`'s value in a group may change when the data is complete: an aggregate it depends on read
    rows whose window was censored, or a function across groups it depends on reduced such a value."""
    counts = windowed_counts(model, compiler.censored_aggregates, owned, variant)
    flags = [pl.col(c).fill_null(0) > 0 for c in counts] + across.pending_flags(model, variant, calls)
    return pl.any_horizontal(flags) if flags else pl.lit(False)


def provisional(
    model: Model,
    compiler: Compiler,
    owned: dict[Variant, dict[int, str]],
    metrics: tuple[str, ...],
    pending: dict[str, pl.Expr],
) -> pl.Expr | None:
    """A group's `provisional` flag: some of `metrics` is pending there; None when none of them reads a window."""
    if not any(windowed_counts(model, compiler.censored_aggregates, owned, Variant(name)) for name in metrics):
        return None
    return pl.any_horizontal(pending[name] for name in metrics)


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
    trees += [added for a in aggregates for added in a.added]
    trees += [derived[name] for name in [*request.by, time] if name in derived]
    frame = compiler.source_frame(source, trees, scan)
    keys = [compiler.column(source, name).alias(name) for name in request.by]
    if request.grain:
        assert time is not None
        moment = compiler.column(source, time)
        week_start = model.definitions.calendar.week_start
        keys.append(period_start(moment, request.grain, week_start).alias(GRAIN_COLUMN))
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


def _metric(
    model: Model,
    compiler: Compiler,
    variant: Variant,
    columns: dict[Variant, str],
    aggregates: dict[int, str],
    request: Request,
) -> list[pl.Expr]:
    """A variant's value and its number of observations, from the aggregated columns and those of the variants it
    is computed from."""
    checked = model.metrics[variant.metric]
    used = {name: columns[used_variant(model, variant, name)] for name in checked.metrics}
    compiler.aggregate_columns, compiler.metric_columns = aggregates, used
    compiler.across = {id(c): compiler.across_calls[(variant, id(c))] for c in across_calls(model, variant)}
    compiler.previous = _previous(request) if request.grain is not None else None
    try:
        value = compiler.expr(checked.tree)
    finally:
        compiler.metric_columns, compiler.previous = {}, None
    counts = [
        pl.col(aggregate_part(aggregates[id(n)], "n"))
        for n in ast.walk(checked.tree)
        if isinstance(n, ast.Call) and n.func in AGGREGATES and id(n) in aggregates
    ]
    counts += [pl.col(hidden("n", column)) for column in used.values()]
    n = pl.min_horizontal(*counts) if counts else pl.lit(None, dtype=pl.Int64)
    min_n = checked.metric.min_n
    if min_n is not None and request.apply_min_n and counts:  # a constant has no observations to count
        value = pl.when(n >= min_n).then(value)
    if checked.type.kind == "float":
        value = finite(value)
    return [value.alias(columns[variant]), n.cast(pl.Int64).alias(hidden("n", columns[variant]))]


def _previous(request: Request) -> Callable[[pl.Expr], pl.Expr]:
    """A value of the previous period of the same group: of the period just before, null for a group's first period,
    for a period after a gap (a period the group has no row for) and for rows without a period."""
    groups: list[pl.Expr] = [pl.col(name) for name in request.by] or [pl.lit(True)]

    def previous(value: pl.Expr) -> pl.Expr:
        before = pl.col(PERIOD).shift(1).over(groups, order_by=GRAIN_COLUMN)
        return pl.when(pl.col(PERIOD) - before == 1).then(value.shift(1).over(groups, order_by=GRAIN_COLUMN))

    return previous


def _pooled(plans: dict[str, list[Aggregate]], request: Request, compiler: Compiler) -> list[pl.Expr]:
    """The aggregates of trailing metrics pooled over their windows, in place of their values per period: sums and
    counts added up over the periods of the window (of the same group), extremes taken over them; the number of
    observations is that of the window, and so is a mean's standard deviation, for its interval, and so are the
    rows whose window was censored (a trailing value is pending while any of its periods is)."""
    groups: list[pl.Expr] = [pl.col(name) for name in request.by] or [pl.lit(True)]
    found: list[pl.Expr] = []
    for aggregate in (a for aggregates in plans.values() for a in aggregates if a.trailing is not None):
        window = f"{aggregate.trailing}i"

        def rolling(column: str, how: str = "sum", window: str = window) -> pl.Expr:
            if how == "min":
                return pl.col(column).rolling_min_by(PERIOD, window_size=window).over(groups)
            if how == "max":
                return pl.col(column).rolling_max_by(PERIOD, window_size=window).over(groups)
            return pl.col(column).fill_null(0).rolling_sum_by(PERIOD, window_size=window).over(groups)

        column, func = aggregate.column, aggregate.node.func
        n = rolling(aggregate.n_column)
        found.append(n.alias(aggregate.n_column))
        if column in compiler.censored_aggregates:
            found.append(rolling(aggregate_part(column, "censored")).alias(aggregate_part(column, "censored")))
        if func in ("min", "max"):
            found.append(rolling(column, func).alias(column))
        elif func == "count":
            found.append(rolling(column).alias(column))
        else:
            total = rolling(aggregate_part(column, "sum"))
            value = total if func == "sum" else total / n
            found.append(pl.when(n > 0).then(value).alias(column))
        if aggregate.sd_column is not None:
            total, squares = rolling(aggregate_part(column, "sum")), rolling(aggregate_part(column, "squares"))
            spread = ((squares - total * total / n) / (n - 1)).clip(lower_bound=0).sqrt()
            found.append(pl.when(n > 1).then(spread).alias(aggregate.sd_column))
    return found


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
    frame: pl.LazyFrame,
    request: Request,
    order: list[str],
    week_start: str,
    pending: dict[str, pl.Expr],
    provisional: pl.Expr | None,
) -> pl.LazyFrame:
    """Sorted groups with readable grain labels (weeks by `week_start`), the requested metrics only, and the
    `provisional` flag when they read a window (with the hidden columns, each metric's `pending` flag)."""
    if request.keys:
        frame = frame.sort(request.keys, nulls_last=True)
    columns: list[pl.Expr] = [pl.col(name) for name in request.by]
    if request.grain:
        columns.append(grain_label(pl.col(GRAIN_COLUMN), request.grain, week_start).alias(request.grain))
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
