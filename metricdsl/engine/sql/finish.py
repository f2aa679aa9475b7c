"""Stage (2) of a request in SQL: the table from its aggregated groups, as `metricdsl.engine.polars.query` finishes it
in Polars (complete periods, trailing windows, the values across groups, the metrics layer by layer, `min_n`,
`prev`/`change`, the range of periods, the `provisional` flag, sorted groups with readable period labels). The groups
of each level of the functions across groups are finished by steps of their own (`metricdsl.engine.sql.across`).

The groups of stage (1) are the first common table expression; each step is another, which selects all the columns of
the one before and adds its own. Periods are numbered so that consecutive ones differ by a step (days for days and
weeks, months for months and quarters, years), which `prev` and trailing windows compare: no integer division, whose
rounding differs between dialects.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping

import polars as pl
from sqlglot import exp
from sqlglot.errors import ParseError

from metricdsl.engine.across import (
    LEVEL_COLUMN,
    PRESENT_COLUMN,
    Level,
    across_calls,
    across_column,
    plan_levels,
    reads_across,
)
from metricdsl.engine.columns import GRAIN_COLUMN, PERIOD, PROVISIONAL, aggregate_part, hidden, interval_column
from metricdsl.engine.grains import period_start
from metricdsl.engine.plan import (
    Aggregate,
    Request,
    aggregates_by_source,
    layers,
    variant_columns,
    window_calls,
    windowed_counts,
)
from metricdsl.engine.sql.across import joined_level, reduced_level, split_level
from metricdsl.engine.sql.dialects import DIALECTS, render
from metricdsl.engine.sql.functions import double
from metricdsl.engine.sql.intervals import metric_interval
from metricdsl.engine.sql.metric_level import MetricCompiler, skipping_nulls
from metricdsl.engine.sql.query import groups_query
from metricdsl.errors import RequestError, unknown_name
from metricdsl.language import ast
from metricdsl.language.functions import AGGREGATES
from metricdsl.semantics.filters import Variant, used_variant, variants
from metricdsl.semantics.model import Model

GROUPS = "__groups"
# Period numbers: days since a Monday for days and weeks, months since year 0 for months and quarters, the year.
STEP = {"day": 1, "week": 7, "month": 1, "quarter": 3, "year": 1}
SERIES_UNIT = {"day": "DAY", "week": "WEEK", "month": "MONTH", "quarter": "MONTH", "year": "YEAR"}
_A_MONDAY = "1970-01-05"


def col(name: str, table: str | None = None) -> exp.Column:
    """A column, quoted as stage (1) names its columns (a warehouse folds the case of names that are not)."""
    return exp.column(name, table=table, quoted=True)


def named(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def table(name: str) -> exp.Table:
    return exp.Table(this=named(name))


def date(day: datetime.date | str) -> exp.Expr:
    text = day if isinstance(day, str) else day.isoformat()
    return exp.cast(exp.Literal.string(text), exp.DataType.build("DATE"))


def bigint(value: exp.Expr) -> exp.Expr:
    return exp.cast(value, exp.DataType.build("BIGINT"))


def text(value: exp.Expr) -> exp.Expr:
    return exp.cast(value, exp.DataType.build("VARCHAR"))


def is_null(value: exp.Expr) -> exp.Expr:
    return exp.Is(this=value, expression=exp.Null())


def table_query(model: Model, request: Request, groups: exp.Select) -> exp.Select:
    """The request's table computed from `groups`, the query of its aggregated groups (stage (1), with Polars' column
    names): the columns and rows that `Project.evaluate` gives, in its order."""
    return _Finish(model, request).query(groups)


class _Finish:
    """The steps of one request, each a common table expression named after it. For a `level` of the functions across
    groups (`metricdsl.engine.across`), the steps of its groups, whose names begin with `prefix`, into `ctes`."""

    def __init__(
        self,
        model: Model,
        request: Request,
        level: Level | None = None,
        ctes: list[tuple[str, exp.Select]] | None = None,
        prefix: str = "",
    ) -> None:
        self.model, self.request, self.level, self.prefix = model, request, level, prefix
        self.order = model.metric_order(list(request.metrics))
        self.needed = list(level.needed) if level is not None else variants(model, self.order)
        self.levels, self.calls = plan_levels(model, request, self.needed)
        self.columns = variant_columns(self.needed)
        self.plans, self.owned = aggregates_by_source(model, self.needed, request)
        self.aggregates = [a for found in self.plans.values() for a in found]
        # The aggregates that read a window: their groups hold a count of censored rows.
        self.censored = {a.column for a in self.aggregates if self._reads_window(a)}
        self.week_start = model.definitions.calendar.week_start
        self.ctes: list[tuple[str, exp.Select]] = ctes if ctes is not None else []

    def _reads_window(self, aggregate: Aggregate) -> bool:
        node = aggregate.node
        trees = [*node.args[:1], *(c for c in (aggregate.where, node.where, *aggregate.added) if c is not None)]
        return aggregate.source is not None and bool(window_calls(self.model, aggregate.source, trees))

    def add(self, name: str, select: exp.Select) -> str:
        name = f"{self.prefix}{name}"
        self.ctes.append((name, select))
        return name

    def stage_columns(self) -> list[str]:
        """The columns of the aggregated groups, in Polars' order within each aggregate."""
        found: list[str] = [*self.request.keys]
        for a in self.aggregates:
            found += [a.column, a.n_column]
            found += [a.sd_column] if a.sd_column is not None else []
            if a.trailing is not None and a.node.func in ("sum", "mean", "share"):
                found.append(aggregate_part(a.column, "sum"))
                found += [aggregate_part(a.column, "squares")] if a.sd_column is not None else []
            if a.column in self.censored:
                found.append(aggregate_part(a.column, "censored"))
        return found + ([PRESENT_COLUMN] if self.level is not None else [])

    def counts(self) -> list[str]:
        """The count-like columns: 0, not null, in a period without rows."""
        found = [a.n_column for a in self.aggregates] + [a.column for a in self.aggregates if a.counts]
        return found + [aggregate_part(a.column, "censored") for a in self.aggregates if a.column in self.censored]

    # -- the steps ------------------------------------------------------------------------------------------------

    def query(self, groups: exp.Select) -> exp.Select:
        groups = groups.copy()
        inner = groups.args.get("with_")
        if inner is not None:  # its own common tables come first, beside this query's
            groups.set("with_", None)
            for cte in inner.expressions:
                self.ctes.append((cte.alias, cte.this))
        current = self.computed(self.add(GROUPS, groups), list(groups.named_selects))
        final = self.present(current)
        for name, select in self.ctes:
            final = final.with_(named(name), as_=select, copy=False)  # a copy per CTE made the build quadratic
        return final

    def computed(self, groups: str, names: list[str]) -> str:
        """The CTE of the metrics computed from the CTE `groups` of the aggregated groups (columns `names`, with the
        groups of the levels stacked below the request's own): complete periods, pooled trailing aggregates, the values
        across groups, the metrics layer by layer, their intervals."""
        current = groups
        if self.levels or self.level is not None:  # the request's own groups; a level's are present in their period
            own: list[exp.Expr] = [col(c) for c in self.stage_columns() if c != PRESENT_COLUMN]
            own += [exp.true().as_(PRESENT_COLUMN, quoted=True)] if self.level is not None else []
            select = exp.select(*own).from_(table(current))
            if self.levels:
                select = select.where(exp.EQ(this=col(LEVEL_COLUMN), expression=exp.Literal.number(0)))
            current = self.add("__own", select)
        grain = self.request.grain
        if grain is not None:
            current = self.complete_periods(current, grain)
            current = self.add(
                "__numbered", exp.select("*", self.period_number(grain).as_(PERIOD, quoted=True)).from_(table(current))
            )
            if any(a.trailing is not None for a in self.aggregates):
                current = self.add("__pooled", self.pooled(current, grain))
        for level in self.levels:
            current = self.joined_level(current, level, groups, names)
        for index, layer in enumerate(layers(self.model, self.needed)):
            current = self.layer(current, index, layer)
        if self.request.with_ci:
            current = self.intervals(current)
        return current

    # -- functions across groups -----------------------------------------------------------------------------------

    def joined_level(self, current: str, level: Level, groups: str, names: list[str]) -> str:
        """`current` with the value of each function across groups that `level` serves, and whether it is pending
        (`metricdsl.engine.sql.across`): the level's groups, stacked in `groups` (columns `names`), computed by a finish
        of their own into the same common tables."""
        split, inner = split_level(groups, names, level)
        finish = _Finish(self.model, level.request, level, self.ctes, f"{self.prefix}__l{level.index}")
        found = finish.level_output(finish.computed(self.add(f"__split{level.index}", split), inner))
        reduced, keys = reduced_level(found, level, self.request)
        return self.add(
            f"__with_level{level.index}", joined_level(current, self.add(f"__across{level.index}", reduced), keys, level)
        )

    def level_output(self, current: str) -> str:
        """A level's computed groups (`current`): its keys, whether the group had rows, and per variant the request
        reads from it (by its index among the level's targets) its value and whether it is pending."""
        assert self.level is not None
        values: list[exp.Expr] = [col(k) for k in self.request.keys]
        values.append(exp.Coalesce(this=col(PRESENT_COLUMN), expressions=[exp.false()]).as_(PRESENT_COLUMN, quoted=True))
        for i, target in enumerate(self.level.targets):
            values.append(col(self.columns[target]).as_(f"__target{i}", quoted=True))
            values.append(self.pending(target).as_(f"__target{i}_pending", quoted=True))
        return self.add("__output", exp.select(*values).from_(table(current)))

    def pending(self, variant: Variant) -> exp.Expr:
        """Whether `variant`'s value in a group may change when the data is complete: an aggregate it depends on read
        rows whose window was censored, or a function across groups it depends on reduced such a value."""
        zero = exp.Literal.number(0)
        counts = dict.fromkeys(windowed_counts(self.model, self.censored, self.owned, variant))
        flags: list[exp.Expr] = [
            exp.GT(this=exp.Coalesce(this=col(c), expressions=[zero.copy()]), expression=zero.copy()) for c in counts
        ]
        flags += [exp.Coalesce(this=col(c), expressions=[exp.false()]) for c in self.across_pending(variant)]
        return exp.or_(*flags) if flags else exp.false()

    def across_pending(self, variant: Variant) -> list[str]:
        """The pending flags of the values across groups that `variant` depends on."""
        found = {
            across_column(self.calls[(v, id(c))].column, "pending")
            for v in reads_across(self.model, variant)
            for c in across_calls(self.model, v)
            if (v, id(c)) in self.calls
        }
        return sorted(found)

    def complete_periods(self, current: str, grain: str) -> str:
        """Every group with a row for every period from the first to the last (or `start`/`end`), its counts 0 where
        it had no rows; the rows of no period kept as they are when no range is given (`metricdsl.engine.spine`)."""
        request, period = self.request, col(GRAIN_COLUMN, current)
        first: exp.Expr = exp.Min(this=period)
        last: exp.Expr = exp.Max(this=period.copy())
        if request.start is not None:
            start = date(self.period_start(request.start, grain))
            first = exp.Least(this=start, expressions=[exp.Coalesce(this=first, expressions=[start.copy()])])
        if request.end is not None:
            end = date(self.period_start(request.end, grain))
            last = exp.Greatest(this=end, expressions=[exp.Coalesce(this=last, expressions=[end.copy()])])
        bounds = self.add(
            "__bounds",
            exp.select(first.as_("__first", quoted=True), last.as_("__last", quoted=True)).from_(table(current)),
        )
        series = exp.GenerateDateArray(
            start=exp.select(col("__first", bounds)).from_(table(bounds)).subquery(),
            end=exp.select(col("__last", bounds)).from_(table(bounds)).subquery(),
            step=exp.Interval(this=exp.Literal.string("1"), unit=exp.var(SERIES_UNIT[grain])),
        )
        alias = exp.TableAlias(this=named("__series"), columns=[named("__start")])
        starts = exp.select(col("__start").as_(GRAIN_COLUMN, quoted=True)).from_(
            exp.Unnest(expressions=[series], alias=alias)
        )
        if grain == "quarter":  # months, of which every third starts a quarter (no dialect steps by 3 months alike)
            month = exp.Month(this=col("__start"))
            starts = starts.where(exp.In(this=month, expressions=[exp.Literal.number(m) for m in (1, 4, 7, 10)]))
        periods = self.add("__periods", starts)
        by = list(request.by)
        spine: exp.Select
        if by:
            keys = self.add("__keys", exp.select(*(col(b) for b in by)).distinct().from_(table(current)))
            spine = exp.select(*(col(b, keys) for b in by), col(GRAIN_COLUMN, periods)).from_(table(keys))
            spine = spine.join(table(periods), join_type="cross")
            on: list[exp.Expr] = [exp.NullSafeEQ(this=col(b, keys), expression=col(b, current)) for b in by]
        else:
            spine = exp.select(col(GRAIN_COLUMN, periods)).from_(table(periods))
            on = []
        on.append(exp.EQ(this=col(GRAIN_COLUMN, periods), expression=col(GRAIN_COLUMN, current)))
        counts = set(self.counts())
        values = [
            (
                exp.Coalesce(this=col(c, current), expressions=[exp.Literal.number(0)]).as_(c, quoted=True)
                if c in counts
                else col(c, current).as_(c, quoted=True)
            )
            for c in self.stage_columns()[len(by) + 1 :]
        ]
        spine = spine.select(*values).join(table(current), on=exp.and_(*on), join_type="left")
        if request.start is None and request.end is None:
            undated = (
                exp.select(*(col(c) for c in self.stage_columns())).from_(table(current)).where(is_null(col(GRAIN_COLUMN)))
            )
            return self.add("__complete", exp.union(spine, undated, distinct=False))  # type: ignore[arg-type]
        return self.add("__complete", spine)

    def period_start(self, day: datetime.date, grain: str) -> datetime.date:
        found = pl.select(period_start(pl.lit(day), grain, self.week_start)).item()
        assert isinstance(found, datetime.date)
        return found

    def period_number(self, grain: str) -> exp.Expr:
        start = col(GRAIN_COLUMN)
        if grain in ("day", "week"):
            return bigint(exp.DateDiff(this=start, expression=date(_A_MONDAY), unit=exp.var("DAY")))
        year = bigint(exp.Year(this=start))
        if grain == "year":
            return year
        months = exp.Mul(this=year, expression=exp.Literal.number(12))
        return exp.Sub(
            this=exp.Add(this=months, expression=bigint(exp.Month(this=start.copy()))), expression=exp.Literal.number(1)
        )

    def group_window(self, order: str) -> exp.Window:
        """The periods of the same group, in order; the rows of no period a group of their own."""
        partition = [col(b) for b in self.request.by] + [is_null(col(GRAIN_COLUMN))]
        return exp.Window(partition_by=partition, order=exp.Order(expressions=[exp.Ordered(this=col(order))]))

    def pooled(self, current: str, grain: str) -> exp.Select:
        """The aggregates of trailing metrics pooled over the periods of their window (`_pooled` in Polars)."""
        replaced: dict[str, exp.Expr] = {}
        dated = exp.Not(this=is_null(col(PERIOD)))
        for aggregate in (a for a in self.aggregates if a.trailing is not None):
            span = ((aggregate.trailing or 1) - 1) * STEP[grain]

            def rolling(column: str, how: str = "sum", span: int = span) -> exp.Expr:
                value: exp.Expr = col(column)
                if how == "sum":
                    value = exp.Sum(this=exp.Coalesce(this=value, expressions=[exp.Literal.number(0)]))
                else:
                    value = exp.Min(this=value) if how == "min" else exp.Max(this=value)
                window = self.group_window(PERIOD)
                window.set(
                    "spec",
                    exp.WindowSpec(
                        kind="RANGE",
                        start=exp.Literal.number(span) if span else "CURRENT ROW",
                        start_side="PRECEDING" if span else None,
                        end="CURRENT ROW",
                    ),
                )
                window.set("this", value)
                return exp.Case(ifs=[exp.If(this=dated.copy(), true=window)])

            column, func = aggregate.column, aggregate.node.func
            n = rolling(aggregate.n_column)
            replaced[aggregate.n_column] = n
            if column in self.censored:
                censored = aggregate_part(column, "censored")
                replaced[censored] = rolling(censored)
            if func in ("min", "max"):
                replaced[column] = rolling(column, func)
            elif func == "count":
                replaced[column] = rolling(column)
            else:
                total = rolling(aggregate_part(column, "sum"))
                value = total if func == "sum" else exp.Div(this=double(total), expression=n.copy())
                positive = exp.GT(this=n.copy(), expression=exp.Literal.number(0))
                replaced[column] = exp.Case(ifs=[exp.If(this=positive, true=value)])
            if aggregate.sd_column is not None:
                replaced[aggregate.sd_column] = self.pooled_spread(aggregate, rolling)
        names = [*self.stage_columns(), PERIOD]
        return exp.select(*(replaced[c].as_(c, quoted=True) if c in replaced else col(c) for c in names)).from_(
            table(current)
        )

    @staticmethod
    def pooled_spread(aggregate: Aggregate, rolling: Callable[[str], exp.Expr]) -> exp.Expr:
        """A trailing mean's standard deviation over its window, for its interval, from the pooled sums of its values
        and of their squares (as `_pooled` in Polars): null below two observations."""
        total, squares = (
            rolling(aggregate_part(aggregate.column, "sum")),
            rolling(aggregate_part(aggregate.column, "squares")),
        )
        n = double(rolling(aggregate.n_column))
        ratio = exp.Div(this=exp.Mul(this=double(total), expression=total.copy()), expression=n)
        variance = exp.Div(
            this=exp.paren(exp.Sub(this=double(squares), expression=ratio)),
            expression=exp.paren(exp.Sub(this=n.copy(), expression=exp.Literal.number(1))),
        )
        zero = double(exp.Literal.number(0))
        clipped = exp.Case(
            ifs=[exp.If(this=exp.LT(this=variance.copy(), expression=zero), true=zero.copy())], default=variance
        )
        many = exp.GT(this=n.copy(), expression=exp.Literal.number(1))
        return exp.Case(ifs=[exp.If(this=many, true=exp.Sqrt(this=clipped))])

    def intervals(self, current: str) -> str:
        """Each requested metric's 95 % interval (`metricdsl.engine.sql.intervals`) as hidden columns, in three steps
        (the t quantiles of means, the bounds, then the bounds kept): null where the metric's value is null (below
        its `min_n`) and where a bound is not a finite number."""
        quantiles: list[exp.Expr] = []
        bounds: list[exp.Expr] = []
        kept: list[exp.Expr] = []
        for name in self.request.metrics:
            column = self.columns[Variant(name)]
            found = metric_interval(self.model, self.owned[Variant(name)], name, f"__t_{column}")
            if found is not None and found.quantile is not None:
                quantiles.append(found.quantile.as_(f"__t_{column}", quoted=True))
            pairs: list[tuple[str, exp.Expr | None]] = [("ci_low", None), ("ci_high", None)]
            if found is not None:
                pairs = [("ci_low", found.low), ("ci_high", found.high)]
            for part, bound in pairs:
                value: exp.Expr = exp.cast(exp.Null(), exp.DataType.build("DOUBLE"))
                if bound is not None:
                    bounds.append(bound.as_(f"__raw_{part}_{column}", quoted=True))
                    raw = col(f"__raw_{part}_{column}")
                    known = exp.Not(this=is_null(col(column)))
                    difference = exp.Sub(this=raw, expression=raw.copy())
                    finite = exp.EQ(this=difference, expression=exp.Literal.number(0))
                    value = exp.Case(ifs=[exp.If(this=exp.and_(known, finite), true=raw.copy())])
                kept.append(value.as_(hidden(part, column), quoted=True))
        if quantiles:
            current = self.add("__quantiles", exp.select("*", *quantiles).from_(table(current)))
        if bounds:
            current = self.add("__bounds_of_intervals", exp.select("*", *bounds).from_(table(current)))
        return self.add("__intervals", exp.select("*", *kept).from_(table(current)))

    def previous(self, value: exp.Expr) -> exp.Expr:
        """The value of the previous period of the same group; null after a gap, in a group's first period and in
        rows without a period."""
        lag = self.group_window(GRAIN_COLUMN)
        lag.set("this", exp.Lag(this=value))
        before = self.group_window(GRAIN_COLUMN)
        before.set("this", exp.Lag(this=col(PERIOD)))
        assert self.request.grain is not None
        step = exp.Literal.number(STEP[self.request.grain])
        follows = exp.EQ(this=exp.Sub(this=col(PERIOD), expression=before), expression=step)
        return exp.Case(ifs=[exp.If(this=follows, true=lag)])

    def layer(self, current: str, index: int, layer: list[Variant]) -> str:
        """The variants of one level of metrics of metrics: their values, as computed, with their numbers of
        observations; then each value null below its `min_n` and where it is not a finite number."""
        raw, final = [], []
        for variant in layer:
            checked = self.model.metrics[variant.metric]
            column, aggregates = self.columns[variant], self.owned[variant]
            used = {name: self.columns[used_variant(self.model, variant, name)] for name in checked.metrics}
            previous = self.previous if self.request.grain is not None else None
            across = {id(c): self.calls[(variant, id(c))] for c in across_calls(self.model, variant)}
            value = MetricCompiler(self.model, variant.metric, aggregates, used, previous, across).expr(checked.tree)
            counts: list[exp.Expr] = [
                col(aggregate_part(aggregates[id(n)], "n"))
                for n in ast.walk(checked.tree)
                if isinstance(n, ast.Call) and n.func in AGGREGATES and id(n) in aggregates
            ]
            counts += [col(hidden("n", c)) for c in used.values()]
            n = bigint(skipping_nulls(exp.Least, counts)) if counts else exp.cast(exp.Null(), exp.DataType.build("BIGINT"))
            raw += [value.as_(hidden("value", column), quoted=True), n.as_(hidden("n", column), quoted=True)]
            keep: list[exp.Expr] = []
            min_n = checked.metric.min_n
            if min_n is not None and self.request.apply_min_n and counts:
                keep.append(exp.GTE(this=col(hidden("n", column)), expression=exp.Literal.number(min_n)))
            if checked.type.kind == "float":  # finite: `inf - inf` and `NaN - NaN` are NaN, not 0
                computed = col(hidden("value", column))
                keep.append(
                    exp.EQ(this=exp.Sub(this=computed, expression=computed.copy()), expression=exp.Literal.number(0))
                )
            shown: exp.Expr = col(hidden("value", column))
            if keep:
                shown = exp.Case(ifs=[exp.If(this=exp.and_(*keep), true=shown)])
            final.append(shown.as_(column, quoted=True))
        computed_at = self.add(f"__layer{index}", exp.select("*", *raw).from_(table(current)))
        return self.add(f"__metrics{index}", exp.select("*", *final).from_(table(computed_at)))

    def present(self, current: str) -> exp.Select:
        """The request's columns (dimensions, the period's label, the metrics, the `provisional` flag) of the rows in
        its range, sorted by group and period, nulls last."""
        request = self.request
        shown: list[exp.Expr] = [col(b) for b in request.by]
        if request.grain is not None:
            shown.append(label(col(GRAIN_COLUMN), request.grain, self.week_start).as_(request.grain, quoted=True))
        for name in request.metrics:
            shown.append(col(name))
            if request.with_ci:
                column = self.columns[Variant(name)]
                shown += [
                    col(hidden(part, column)).as_(interval_column(name, part), quoted=True)
                    for part in ("n", "ci_low", "ci_high")
                ]
        variants = [Variant(name) for name in request.metrics]
        counts = [c for v in variants for c in windowed_counts(self.model, self.censored, self.owned, v)]
        if counts:  # some metric reads a window: a group is provisional where one of them is pending
            zero = exp.Literal.number(0)
            flags: list[exp.Expr] = [
                exp.GT(this=exp.Coalesce(this=col(c), expressions=[zero.copy()]), expression=zero.copy())
                for c in dict.fromkeys(counts)
            ]
            across = dict.fromkeys(c for v in variants for c in self.across_pending(v))
            flags += [exp.Coalesce(this=col(c), expressions=[exp.false()]) for c in across]
            shown.append(exp.or_(*flags).as_(PROVISIONAL, quoted=True))
        select = exp.select(*shown).from_(table(current))
        if request.grain is not None:
            start = None if request.keep_hidden else request.start
            if start is not None:
                select = select.where(
                    exp.GTE(this=col(GRAIN_COLUMN), expression=date(self.period_start(start, request.grain)))
                )
            if request.end is not None:
                select = select.where(
                    exp.LTE(this=col(GRAIN_COLUMN), expression=date(self.period_start(request.end, request.grain)))
                )
        if request.keys:
            select = select.order_by(*(exp.Ordered(this=col(k), nulls_first=False) for k in request.keys))
        return select


def label(start: exp.Expr, grain: str, week_start: str) -> exp.Expr:
    """The label of the period starting at `start` (a date): the date, `2026-W01` (ISO year and week; a Sunday week
    `2026-01-04`), `2026-01`, `2026-Q1` or the year, as `metricdsl.engine.grains.grain_label`."""
    if grain == "day":
        return start
    if grain == "week" and week_start == "sunday":
        return text(start)
    if grain == "week":  # the ISO year and week are those of the week's Thursday
        thursday = exp.cast(
            exp.DateAdd(this=start, expression=exp.Literal.number(3), unit=exp.var("DAY")), exp.DataType.build("DATE")
        )
        january = exp.DateTrunc(this=thursday.copy(), unit=exp.var("YEAR"))  # type: ignore[no-untyped-call]
        days = exp.DateDiff(this=thursday, expression=january, unit=exp.var("DAY"))
        week = exp.Add(
            this=bigint(exp.Floor(this=exp.Div(this=days, expression=exp.Literal.number(7)))),
            expression=exp.Literal.number(1),
        )
        return _joined(bigint(exp.Year(this=thursday.copy())), "-W", _two_digits(week))
    year = bigint(exp.Year(this=start))
    if grain == "month":
        return _joined(year, "-", _two_digits(bigint(exp.Month(this=start.copy()))))
    if grain == "quarter":
        quarter = bigint(
            exp.Floor(
                this=exp.Div(
                    this=exp.Paren(this=exp.Add(this=exp.Month(this=start.copy()), expression=exp.Literal.number(2))),
                    expression=exp.Literal.number(3),
                )
            )
        )
        return _joined(year, "-Q", quarter)
    return year


def _two_digits(number: exp.Expr) -> exp.Expr:
    return exp.func("LPAD", text(number), exp.Literal.number(2), exp.Literal.string("0"))


def _joined(first: exp.Expr, separator: str, second: exp.Expr) -> exp.Expr:
    return exp.DPipe(this=exp.DPipe(this=text(first), expression=exp.Literal.string(separator)), expression=text(second))


def request_sql(model: Model, request: Request, dialect: str, tables: Mapping[str, str] | None = None) -> str:
    """The request's whole query (stage (1) as common tables, then stage (2)) as text in `dialect`, formatted;
    `tables` maps a source to the qualified name of the table it reads (`db.schema.t`), by default its own name."""
    if dialect not in DIALECTS:
        raise RequestError(unknown_name("SQL dialect", dialect, DIALECTS))
    read: dict[str, exp.Expr] = {}
    for source, name in (tables or {}).items():
        if source not in model.definitions.sources:
            raise RequestError(unknown_name("source", source, model.definitions.sources))
        try:
            read[source] = exp.to_table(name, dialect=DIALECTS[dialect])
        except ParseError:
            raise RequestError(f"`{name}` (the table of source `{source}`) is not a table name in {dialect}") from None
    return render(table_query(model, request, groups_query(model, request, read)), dialect, pretty=True) + "\n"
