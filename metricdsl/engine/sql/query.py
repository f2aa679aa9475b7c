"""Stage (1) of a request as one SQL query: the aggregated groups, with the column names of the Polars engine's.

Per source, one GROUP BY of its rows computes every aggregate the request needs from it; distinct counts get a
GROUP BY of their own, joined on the keys (a distinct next to a quantile in one GROUP BY did not finish on Spark).
The sources' groups are then full-outer-joined on the keys (null keys equal), the keys coalesced, and the count-like
columns of a group without rows of a source are 0.

A window call (`followed_by(S, 7d)`) becomes a column of its source's rows without a join per row: the rows and the
other source's matching rows (its keys and its time in microseconds) are stacked (UNION ALL), a window function
counts the other source's rows in `(t, t + W]` (`[t - W, t)` looking back) per key, by a RANGE frame over the
microseconds, and the source's own rows are kept. Then the window is censored at its horizon as in the Polars
compiler. One such step per window call, chained.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from metricdsl.engine.columns import GRAIN_COLUMN, ONE_COLUMN
from metricdsl.engine.plan import Aggregate, Request, aggregates_by_source
from metricdsl.engine.sql.compiler import Compiler, Window, column
from metricdsl.engine.sql.dialects import EpochMicros, PeriodStart
from metricdsl.engine.sql.functions import DATE, when
from metricdsl.language import ast
from metricdsl.semantics.filters import variants
from metricdsl.semantics.model import Model

TIME, HOST, FOUND = "__time", "__host", "__found"


# A source, its window calls, its keys by name, its aggregates, and its distinct counts.
Compiled = tuple[str, list[ast.Call], list[tuple[str, exp.Expr]], list[exp.Expr], list[exp.Expr]]


def _key(index: int) -> str:
    return f"__key{index}"


def groups_query(model: Model, request: Request, tables: Mapping[str, exp.Expr] | None = None) -> exp.Select:
    """Stage (1) of `request` (the aggregated groups) as one query; `tables` maps a source to the table expression it
    reads (by default, a table named as the source)."""
    return Builder(model, request, tables or {}).query()


class Builder:
    """Builds the CTEs of one request's groups: the rows of each source with its windows, then its groups."""

    def __init__(self, model: Model, request: Request, tables: Mapping[str, exp.Expr]) -> None:
        self.model, self.request, self.tables = model, request, tables
        self.compiler = Compiler(model, request.as_of)
        self.ctes: list[tuple[str, exp.Expr]] = []
        self.relations: dict[tuple[str, tuple[int, ...]], str] = {}

    def table(self, source: str) -> exp.Expr:
        found = self.tables.get(source)
        return found.copy() if found is not None else exp.Table(this=exp.to_identifier(source, quoted=True))

    def cte(self, prefix: str, query: exp.Expr) -> str:
        name = f"__{prefix}{len(self.ctes)}"
        self.ctes.append((name, query))
        return name

    def query(self) -> exp.Select:
        model, request = self.model, self.request
        needed = variants(model, model.metric_order(list(request.metrics)))
        plans, owned = aggregates_by_source(model, needed, request)
        metric_of = {column: variant.metric for variant, found in owned.items() for column in found.values()}
        # Everything is compiled first, so that each source's rows hold every column read, then the CTEs are built.
        compiled = [self.compile(source, aggregates, metric_of) for source, aggregates in plans.items()]
        grouped = [self.grouped(*found) for found in compiled]
        if not grouped:
            select = exp.select(exp.alias_(exp.Literal.number(1), ONE_COLUMN, quoted=True))
        else:
            counts = [a.n_column for aggregates in plans.values() for a in aggregates]
            counts += [a.column for aggregates in plans.values() for a in aggregates if a.counts]
            select = self.joined(grouped, counts if len(grouped) > 1 and request.keys else [])
        for name, query in self.ctes:
            select = select.with_(exp.to_identifier(name, quoted=True), as_=query)
        return select

    # -- rows -------------------------------------------------------------------------------------

    def rows(self, source: str, calls: list[ast.Call]) -> tuple[str, list[str]]:
        """The CTE of `source`'s rows with the columns of the window `calls` (and their censored flags), and the
        names of its columns."""
        key = (source, tuple(id(c) for c in calls))
        columns = sorted(self.compiler.columns_read.get(source, set()))
        if key in self.relations:
            windows = [self.compiler.windows[id(c)] for c in calls]
            return self.relations[key], columns + [n for w in windows for n in (w.column, w.flag)]
        selected: list[exp.Expr] = [column(c) for c in columns] or [
            exp.alias_(exp.Literal.number(1), ONE_COLUMN, quoted=True)
        ]
        query = exp.select(*selected).from_(self.table(source))
        name = self.cte("rows", query)
        for call in calls:
            window = self.compiler.windows[id(call)]
            name = self.window_step(name, columns, window)
            columns = [*columns, window.column, window.flag]
        self.relations[key] = name
        return name, columns

    def window_step(self, rows: str, columns: list[str], window: Window) -> str:
        """`rows` with the column of one window call and its censored flag."""
        compiler = self.compiler
        keys = [exp.alias_(k.copy(), _key(i), quoted=True) for i, k in enumerate(window.mine)]
        host = exp.select(
            *(column(c) for c in columns),
            *keys,
            exp.alias_(EpochMicros(this=compiler.instant(window.source)), TIME, quoted=True),
            exp.alias_(exp.Literal.number(1), HOST, quoted=True),
        ).from_(exp.to_identifier(rows, quoted=True))
        other_rows, _ = self.rows(window.target, window.needs)
        their_time = EpochMicros(this=compiler.instant(window.target))
        known = [exp.Not(this=exp.Is(this=k.copy(), expression=exp.null())) for k in (*window.theirs, their_time)]
        conditions = [*([exp.Paren(this=window.where.copy())] if window.where is not None else []), *known]
        other = (
            exp.select(
                *(exp.alias_(exp.null(), c, quoted=True) for c in columns),
                *(exp.alias_(k.copy(), _key(i), quoted=True) for i, k in enumerate(window.theirs)),
                exp.alias_(their_time.copy(), TIME, quoted=True),
                exp.alias_(exp.Literal.number(0), HOST, quoted=True),
            )
            .from_(exp.to_identifier(other_rows, quoted=True))
            .where(exp.and_(*conditions))
        )
        stacked = exp.union(host, other, distinct=False)
        bounds = (
            {
                "start": exp.Literal.number(1),
                "start_side": "FOLLOWING",
                "end": exp.Literal.number(window.micros),
                "end_side": "FOLLOWING",
            }
            if window.forward
            else {
                "start": exp.Literal.number(window.micros),
                "start_side": "PRECEDING",
                "end": exp.Literal.number(1),
                "end_side": "PRECEDING",
            }
        )
        counted = exp.Window(
            this=exp.Count(this=when(exp.EQ(this=column(HOST), expression=exp.Literal.number(0)), exp.Literal.number(1))),
            partition_by=[column(_key(i)) for i in range(len(window.mine))],
            order=exp.Order(expressions=[exp.Ordered(this=column(TIME), nulls_first=True)]),  # BigQuery's order
            spec=exp.WindowSpec(kind="RANGE", **bounds),
        )
        found = self.cte(
            "window",
            exp.select(
                *(column(c) for c in columns),
                *(column(_key(i)) for i in range(len(window.mine))),
                column(TIME),
                column(HOST),
                exp.alias_(counted, FOUND, quoted=True),
            ).from_(exp.Subquery(this=stacked, alias=exp.TableAlias(this=exp.to_identifier("__stacked", quoted=True)))),
        )
        unknown = exp.or_(
            *(exp.Is(this=column(n), expression=exp.null()) for n in (TIME, *(_key(i) for i in range(len(window.mine)))))
        )
        result = exp.Case(
            ifs=[exp.If(this=unknown, true=exp.null())],
            default=exp.GT(this=column(FOUND), expression=exp.Literal.number(0)),
        )
        kept = self.cte(
            "window",
            exp.select(*(column(c) for c in columns), column(TIME), exp.alias_(result, window.column, quoted=True))
            .from_(exp.to_identifier(found, quoted=True))
            .where(exp.EQ(this=column(HOST), expression=exp.Literal.number(1))),
        )
        return self.cte("window", self.censor(kept, columns, window))

    def censor(self, rows: str, columns: list[str], window: Window) -> exp.Select:
        """The window null where it reaches past its limit (a null limit, the other source having no rows, censors
        all), and its flag beside it: `t + W` on the horizon is known, as is `t - W` on the first time."""
        if window.horizon is not None:
            limit: exp.Expr = exp.Literal.number(window.horizon)
        else:
            time = EpochMicros(this=self.compiler.instant(window.target))
            bound = exp.Max(this=time) if window.forward else exp.Min(this=time)
            limit = exp.Subquery(this=exp.select(bound).from_(self.table(window.target)))
        width = exp.Literal.number(window.micros)
        if window.forward:
            past: exp.Expr = exp.GT(this=exp.Add(this=column(TIME), expression=width), expression=limit)
        else:
            past = exp.LT(this=exp.Sub(this=column(TIME), expression=width), expression=limit)
        flag = exp.and_(
            exp.Not(this=exp.Is(this=column(window.column), expression=exp.null())),
            exp.Coalesce(this=past, expressions=[exp.true()]),
        )
        value = exp.Case(ifs=[exp.If(this=flag.copy(), true=exp.null())], default=column(window.column))
        return exp.select(
            *(column(c) for c in columns),
            exp.alias_(value, window.column, quoted=True),
            exp.alias_(flag, window.flag, quoted=True),
        ).from_(exp.to_identifier(rows, quoted=True))

    # -- groups -----------------------------------------------------------------------------------

    def compile(self, source: str, aggregates: list[Aggregate], metric_of: dict[str, str]) -> Compiled:
        """`source`'s window calls, keys, aggregates and distinct counts, compiled."""
        model, request, compiler = self.model, self.request, self.compiler
        derived = model.sources[source].derived
        time = model.definitions.sources[source].time
        trees: list[ast.Expr] = [a.node for a in aggregates] + [a.where for a in aggregates if a.where is not None]
        trees += [added for a in aggregates for added in a.added]
        trees += [derived[name] for name in [*request.by, time] if name in derived]
        calls = compiler.windows_in(source, trees)
        compiler.plan_windows(source, calls)
        keys = [(name, compiler.column(source, name)) for name in request.by]
        if request.grain:
            keys.append((GRAIN_COLUMN, self.period(source, request.grain)))
        plain = [
            e for a in aggregates if a.node.func != "count_distinct" for e in compiler.aggregate(a, metric_of[a.column])
        ]
        distinct = [
            e for a in aggregates if a.node.func == "count_distinct" for e in compiler.aggregate(a, metric_of[a.column])
        ]
        return source, calls, keys, plain, distinct

    def grouped(
        self,
        source: str,
        calls: list[ast.Call],
        keys: list[tuple[str, exp.Expr]],
        plain: list[exp.Expr],
        distinct: list[exp.Expr],
    ) -> tuple[str, list[str]]:
        """The CTE of `source`'s groups: its keys and every aggregate the request needs from it; and its columns."""
        rows, _ = self.rows(source, calls)

        def group(values: list[exp.Expr]) -> exp.Select:
            query = exp.select(*(exp.alias_(k.copy(), n, quoted=True) for n, k in keys), *values).from_(
                exp.to_identifier(rows, quoted=True)
            )
            return query.group_by(*(k.copy() for _, k in keys)) if keys else query

        names = [n for n, _ in keys]
        outputs = [e.alias for e in (*plain, *distinct)]
        if not distinct:
            return self.cte("groups", group(plain)), names + outputs
        counted = self.cte("distinct", group(distinct))
        if not plain and not keys:
            return counted, outputs
        main = self.cte("groups", group(plain))
        joined = exp.select(
            *(column(n, "m") for n in names),
            *(column(e.alias, "m") for e in plain),
            *(column(e.alias, "d") for e in distinct),
        ).from_(exp.Table(this=exp.to_identifier(main, quoted=True), alias=exp.TableAlias(this=exp.to_identifier("m"))))
        other = exp.Table(this=exp.to_identifier(counted, quoted=True), alias=exp.TableAlias(this=exp.to_identifier("d")))
        if keys:
            on = exp.and_(*(exp.NullSafeEQ(this=column(n, "m"), expression=column(n, "d")) for n in names))
            joined = joined.join(other, on=on, join_type="inner")
        else:
            joined = joined.join(other, join_type="cross")
        return self.cte("groups", joined), names + outputs

    def period(self, source: str, grain: str) -> exp.Expr:
        """The first day of the period of `grain` that holds the local date of `source`'s time (ISO Monday weeks;
        Sunday weeks when the calendar says so), as a DATE."""
        day = self.compiler.local_date(source)
        if grain == "day":
            return exp.cast(day, DATE)
        if grain == "week" and self.model.definitions.calendar.week_start == "sunday":  # the Monday week of the next day
            next_day = exp.cast(exp.DateAdd(this=day, expression=exp.Literal.number(1), unit=exp.var("DAY")), DATE)
            start = PeriodStart(this=next_day, grain=exp.var("week"))
            return exp.cast(exp.DateAdd(this=start, expression=exp.Literal.number(-1), unit=exp.var("DAY")), DATE)
        return PeriodStart(this=day, grain=exp.var(grain))

    def joined(self, grouped: list[tuple[str, list[str]]], counts: list[str]) -> exp.Select:
        """The sources' groups side by side: full outer joins on the keys (null keys equal), keys coalesced; a cross
        join without keys. Count-like columns are 0 where a group has no rows of a source."""
        keys = self.request.keys
        name, columns = grouped[0]
        for other, other_columns in grouped[1:]:
            left, right = "l", "r"
            values = [c for c in columns if c not in keys]
            other_values = [c for c in other_columns if c not in keys]
            query = exp.select(
                *(
                    exp.alias_(exp.Coalesce(this=column(k, left), expressions=[column(k, right)]), k, quoted=True)
                    for k in keys
                ),
                *(column(c, left) for c in values),
                *(column(c, right) for c in other_values),
            ).from_(exp.Table(this=exp.to_identifier(name, quoted=True), alias=exp.TableAlias(this=exp.to_identifier(left))))
            table = exp.Table(
                this=exp.to_identifier(other, quoted=True), alias=exp.TableAlias(this=exp.to_identifier(right))
            )
            if keys:
                on = exp.and_(*(exp.NullSafeEQ(this=column(k, left), expression=column(k, right)) for k in keys))
                query = query.join(table, on=on, join_type="full outer")
            else:
                query = query.join(table, join_type="cross")
            name, columns = self.cte("joined", query), [*keys, *values, *other_values]
        return exp.select(
            *(
                exp.alias_(exp.Coalesce(this=column(c), expressions=[exp.Literal.number(0)]), c, quoted=True)
                if c in counts
                else column(c)
                for c in columns
            )
        ).from_(exp.to_identifier(name, quoted=True))
