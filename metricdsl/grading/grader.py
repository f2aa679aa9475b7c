"""Grade a metrics table: a status per target, the rules that fire, and scorecard scores.

Grading works on the table of `Project.evaluate` with its hidden columns (period start, n, standard
error and interval of every metric). Rows of earlier runs from a history file join it, so that
`prev()` and `for: N periods` see past periods; findings are reported for this run's rows only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from metricdsl.engine.columns import CURRENT, GRAIN_COLUMN, GROUP, NEXT, PERIOD, graded_column, hidden
from metricdsl.engine.grains import grain_label, next_period, period_number, period_start
from metricdsl.engine.polars.compiler import Compiler
from metricdsl.grading.scorecards import score_columns
from metricdsl.language import ast
from metricdsl.semantics.model import PERIOD_FUNCTIONS, CheckedThresholds, Model
from metricdsl.spec.definitions import Scorecard

# `pending`: the value depends on a window that reaches past the data's horizon, and may change when the data is
# complete; it is not graded (and rules and scorecards skip it).
STATUSES = ("ok", "warn", "fail", "no_data", "pending")

# Why a target or rule was not graded: the target's own metric, or a metric the rule reads, is not computed
# for these dimensions; or the rule's `for: N periods` has no grain to count periods by.
SkipReason = Literal["target_metric_not_computed", "metric_not_computed", "needs_grain"]


@dataclass(frozen=True)
class Skipped:
    """A target or rule left ungraded, and why (`metricdsl.render.findings.skipped_text` writes it)."""

    reason: SkipReason
    metric: str | None = None  # the metric not computed
    periods: int | None = None  # the rule's `for: N periods`


@dataclass(frozen=True)
class Graded:
    """A graded table: dimensions, period, metrics, `m__status` per target, `s__score` per scorecard."""

    table: pl.DataFrame  # this run's rows, with the hidden columns
    by: tuple[str, ...]
    grain: str | None
    metrics: tuple[str, ...]
    targets: tuple[str, ...]
    rules: tuple[str, ...]
    scorecard: Scorecard | None
    skipped: dict[str, Skipped] = field(default_factory=dict)  # rule or target → why it was not graded
    week_start: str = "monday"  # the calendar's: how week periods are labelled


def graded_table(
    model: Model,
    table: pl.DataFrame,
    by: tuple[str, ...],
    grain: str | None,
    scorecard: Scorecard | None,
    past: pl.DataFrame | None = None,
    start: datetime.date | None = None,
) -> Graded:
    """Grade `table` (with hidden columns), joined with `past` rows of the same layout if given. With `start`, the
    rows of `table` in periods before the one holding it are read as `past` rows are (by `prev()` and `for:`), and
    not graded."""
    shown = set(table.columns) - {*by, grain}  # a column named like a metric may be a dimension instead
    metrics = tuple(m for m in model.metrics if m in shown)
    week_start = model.definitions.calendar.week_start
    graded = pl.lit(True)
    if start is not None and grain:
        graded = (pl.col(GRAIN_COLUMN) >= period_start(pl.lit(start), grain, week_start)).fill_null(False)
    frame = table.with_columns(_group_key(by), graded.alias(CURRENT))
    if past is not None and grain:
        frame = _with_past(frame, past)
    if grain:
        frame = _with_previous(frame, metrics, grain)
    else:
        frame = frame.with_columns(
            *(pl.lit(None, dtype=pl.Float64).alias(hidden(part, m)) for m in metrics for part in ("prev", "prevse")),
            *(pl.lit(False).alias(hidden("prevpending", m)) for m in metrics),
        )
    skipped: dict[str, Skipped] = {}
    dimensions = {r.name for r in model.refs.values() if r.kind == "dimension"}
    frame = frame.with_columns(pl.lit(None).alias(d) for d in dimensions if d not in frame.columns)
    compiler = Compiler(model)
    targets = tuple(t for t in model.targets if t in metrics)
    skipped.update({t: Skipped("target_metric_not_computed", metric=t) for t in model.targets if t not in metrics})
    frame = frame.with_columns(
        _status(model, compiler, name, grain).alias(graded_column(name, "status")) for name in targets
    )
    frame = frame.with_columns(
        _threshold(model, compiler, name, grain).alias(graded_column(name, "threshold")) for name in targets
    )
    rules = []
    for name, checked in model.rules.items():
        missing = _missing_metric(model, checked.when, metrics)
        if missing:
            skipped[name] = Skipped("metric_not_computed", metric=missing)
            continue
        if checked.rule.periods > 1 and not grain:
            skipped[name] = Skipped("needs_grain", periods=checked.rule.periods)
            continue
        rules.append(name)
        holds = _settled(model, checked.when, metrics)
        frame = frame.with_columns(
            _fires(compiler, checked.when, checked.rule.periods, grain, holds).alias(graded_column(name, "fires"))
        )
        frame = frame.with_columns(
            compiler.expr(tree).alias(graded_column(name, str(i)))
            for i, (_, tree) in enumerate(checked.placeholders)
            if not _missing_metric(model, tree, metrics)
        )
    if scorecard is not None:
        frame = frame.with_columns(score_columns(scorecard, targets, {m: _pending(m) for m in metrics}))
    current = frame.filter(pl.col(CURRENT)).drop(CURRENT)
    return Graded(current, by, grain, metrics, targets, tuple(rules), scorecard, skipped, week_start)


def _missing_metric(model: Model, tree: ast.Expr, metrics: tuple[str, ...]) -> str | None:
    """A metric that `tree` reads but the graded table lacks, if any."""
    return next(
        (r.name for n in ast.walk(tree) if (r := model.refs.get(id(n))) and r.kind == "metric" and r.name not in metrics),
        None,
    )


def _pending(metric: str) -> pl.Expr:
    """Whether a metric's value in a row is pending (see `STATUSES`); a row of an earlier run's history is when it was
    recorded pending (histories written before pending values were recorded say nothing: not pending)."""
    return pl.col(hidden("pending", metric)).fill_null(False)


def _settled(model: Model, tree: ast.Expr, metrics: tuple[str, ...]) -> pl.Expr:
    """True in the rows where none of the metrics `tree` reads is pending, nor the previous period's value of those
    it reads through `prev`, `change` or `pct_change` (or an earlier run's, from the history): a rule holds on
    settled values only."""
    read = {r.name for n in ast.walk(tree) if (r := model.refs.get(id(n))) and r.kind == "metric" and r.name in metrics}
    before = {
        r.name
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and call.func in PERIOD_FUNCTIONS
        for n in ast.walk(call)
        if (r := model.refs.get(id(n))) and r.kind == "metric" and r.name in metrics
    }
    flags = [_pending(m) for m in sorted(read)] + [pl.col(hidden("prevpending", m)).fill_null(False) for m in sorted(before)]
    return ~pl.any_horizontal(flags) if flags else pl.lit(True)


def _group_key(by: tuple[str, ...]) -> pl.Expr:
    """The group as one text, the same across runs: JSON of its dimension values."""
    if not by:
        return pl.lit("{}").alias(GROUP)
    return pl.struct([pl.col(d).cast(pl.String) for d in by]).struct.json_encode().alias(GROUP)


def _with_past(frame: pl.DataFrame, past: pl.DataFrame) -> pl.DataFrame:
    """Earlier periods from the history, for the groups and periods this run does not cover."""
    earlier = past.join(frame.select(GROUP, GRAIN_COLUMN), on=[GROUP, GRAIN_COLUMN], how="anti", nulls_equal=True)
    earlier = earlier.select([c for c in earlier.columns if c in frame.columns]).with_columns(pl.lit(False).alias(CURRENT))
    return pl.concat([earlier, frame], how="diagonal_relaxed")


def _with_previous(frame: pl.DataFrame, metrics: tuple[str, ...], grain: str) -> pl.DataFrame:
    """Each metric's value and standard error in the previous period of the same group."""
    previous = frame.select(
        GROUP,
        next_period(pl.col(GRAIN_COLUMN), grain).alias(NEXT),
        *(pl.col(m).alias(hidden("prev", m)) for m in metrics),
        *(pl.col(hidden("se", m)).alias(hidden("prevse", m)) for m in metrics),
        *(_pending(m).alias(hidden("prevpending", m)) for m in metrics),
    )
    joined = frame.join(previous, left_on=[GROUP, GRAIN_COLUMN], right_on=[GROUP, NEXT], how="left", nulls_equal=True)
    return joined.with_columns(period_number(pl.col(GRAIN_COLUMN), grain).alias(PERIOD))


def _status(model: Model, compiler: Compiler, metric: str, grain: str | None) -> pl.Expr:
    """`pending` (see `STATUSES`), else `ok`, `warn`, `fail` or `no_data` (null value, or below `min_n`), by the first
    thresholds that apply."""
    checked = model.targets[metric]
    value, n = pl.col(metric), pl.col(hidden("n", metric))
    min_n = model.metrics[metric].metric.min_n
    no_data = value.is_null() | ((n < min_n).fill_null(True) if min_n else pl.lit(False))

    def level(name: str) -> pl.Expr:
        chain: pl.Expr = _met(compiler, getattr(checked.base, name))
        for override in reversed(checked.overrides):
            applies = _applies(compiler, override, grain)
            chain = pl.when(applies).then(_met(compiler, getattr(override, name))).otherwise(chain)
        return chain

    def threshold_given(name: str) -> bool:
        return any(getattr(t, name) is not None for t in (checked.base, *checked.overrides))

    status = (
        pl.when(_pending(metric))
        .then(pl.lit("pending"))
        .when(no_data)
        .then(pl.lit("no_data"))
        .when(level("fail"))
        .then(pl.lit("fail"))
        .when(level("warn"))
        .then(pl.lit("warn"))
    )
    if threshold_given("target") and not (threshold_given("warn") or threshold_given("fail")):
        status = status.when(~level("target")).then(pl.lit("warn"))  # with a target alone, missing it warns
    return status.otherwise(pl.lit("ok"))


def _threshold(model: Model, compiler: Compiler, metric: str, grain: str | None) -> pl.Expr:
    """The text of the threshold that set the status (`< -10`), null for `ok` and `no_data`."""
    checked = model.targets[metric]

    def text(thresholds: CheckedThresholds, name: str) -> pl.Expr:
        given = getattr(thresholds.thresholds, name)
        return pl.lit(given.text[len(metric) + 1 :] if given is not None else None, dtype=pl.String)

    def level(name: str) -> pl.Expr:
        chain = text(checked.base, name)
        for override in reversed(checked.overrides):
            chain = pl.when(_applies(compiler, override, grain)).then(text(override, name)).otherwise(chain)
        return chain

    status = pl.col(graded_column(metric, "status"))
    return (
        pl.when(status == "fail")
        .then(level("fail"))
        .when(status == "warn")
        .then(pl.coalesce(level("warn"), level("target")))
    )


def _met(compiler: Compiler, tree: ast.Expr | None) -> pl.Expr:
    return pl.lit(False) if tree is None else compiler.expr(tree).fill_null(False)


def _applies(compiler: Compiler, thresholds: CheckedThresholds, grain: str | None) -> pl.Expr:
    """Whether an override applies to a row: its segment, and its dates (by the period's start)."""
    condition = _met(compiler, thresholds.when) if thresholds.thresholds.when is not None else pl.lit(True)
    start, until = thresholds.thresholds.start, thresholds.thresholds.until
    if (start or until) and not grain:
        return pl.lit(False)  # without periods, a dated override never applies
    if start:
        condition = condition & (pl.col(GRAIN_COLUMN) >= start)
    if until:
        condition = condition & (pl.col(GRAIN_COLUMN) <= until)
    return condition


def _fires(compiler: Compiler, when: ast.Expr, periods: int, grain: str | None, settled: pl.Expr) -> pl.Expr:
    """True when the rule holds in this period and, with `for: N periods`, the N − 1 before it; it never holds on a
    pending value (`settled` is false), and such a period breaks a run."""
    holds = compiler.expr(when).fill_null(False) & settled
    if periods == 1 or not grain:
        return holds
    # Runs of consecutive periods in which the rule holds: a new run starts after a gap or a miss.
    ordered = pl.col(PERIOD)
    starts = (~holds) | (ordered - ordered.shift(1).over(GROUP, order_by=PERIOD) != 1).fill_null(True)
    run = starts.cast(pl.Int64).cum_sum().over(GROUP, order_by=PERIOD)
    length = holds.cast(pl.Int64).cum_sum().over([GROUP, run], order_by=PERIOD)
    return holds & (length >= periods)


def period_label(graded: Graded) -> pl.Expr:
    return grain_label(pl.col(GRAIN_COLUMN), graded.grain, graded.week_start) if graded.grain else pl.lit(None)
