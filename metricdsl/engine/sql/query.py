"""Stage (1) of a request as one SQL query: the aggregated groups, with the column names of the Polars engine's.

Per source, one GROUP BY of its rows computes every aggregate the request needs from it; distinct counts get a
GROUP BY of their own, joined on the keys (a distinct next to a quantile in one GROUP BY did not finish on Spark).
The sources' groups are then full-outer-joined on the keys (null keys equal), the keys coalesced, and the count-like
columns of a group without rows of a source are 0.

A window call (`followed_by(S, 7d)`) becomes a column of its source's rows without a join per row. The window calls
of one source that share their keys are computed together, in one stack: the source's rows (only the columns the rest
of the query reads, their keys, their time in microseconds) and one copy of the other rows each call looks for (their
keys and time, under the union of the calls' filters) are stacked (UNION ALL), each stacked row marked per call when
it is one the call looks for (its time); one window function per call finds the first such time strictly after the
row's (the last strictly before, looking back), all partitioned by the keys and ordered by the time alike, so that an
engine sorts once; the window is true when that time lies in `(t, t + W]` (`[t - W, t)`); then the source's own rows
are kept. A call that looks for rows of its own source by the
same keys marks the rows themselves instead of stacking a copy of them. Then each window is censored at its horizon
as in the Polars compiler (a source's first and last time computed once). Calls with other keys get a stack of their
own, chained. A window that counts or sums (`count=true`, `sum=COL`) is one window function over the range of times
`(t, t + W]` (`[t - W, t)`) of the same stack; one that gives a value (`value=COL`) finds the nearest time as the
boolean does, then the least value of COL at that time and key, grouped once and joined.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from metricdsl.engine.across import LEVEL_COLUMN, Level, level_column, plan_levels
from metricdsl.engine.columns import GRAIN_COLUMN, ONE_COLUMN
from metricdsl.engine.plan import Aggregate, Request, aggregates_by_source
from metricdsl.engine.sql.compiler import Compiler, Window, column
from metricdsl.engine.sql.dialects import EpochMicros, PeriodStart, StrictFrame
from metricdsl.engine.sql.functions import BIGINT, DATE, DOUBLE, when
from metricdsl.language import ast
from metricdsl.semantics.filters import Variant, variants
from metricdsl.semantics.model import Model

# A typed null: Postgres types the untyped nulls of two stacked rows as text, which the next row's BIGINT does not meet.
NO_TIME = exp.cast(exp.null(), exp.DataType.build("BIGINT"))
TIME, HOST, FOUND = "__time", "__host", "__found"
# Whether a row's window is known (its time and keys are); the columns of the values that `value=` windows find.
KNOWN, LOOKED, LOOKED_KEY, LOOKED_TIME = "__known", "__looked", "__looked_key", "__looked_time"


# A source, its window calls, its keys by name, its aggregates, and its distinct counts.
Compiled = tuple[str, list[ast.Call], list[tuple[str, exp.Expr]], list[exp.Expr], list[exp.Expr]]


def _key(index: int) -> str:
    return f"__key{index}"


def _at(index: int) -> str:
    """The column of a stacked row's time where the `index`-th window of its stack looks for the row, else null."""
    return f"__at{index}"


def _added(index: int) -> str:
    """The column of the value that the `index`-th window of a stack (a `sum=`) adds for a stacked row it looks for."""
    return f"__add{index}"


def _nearest(index: int) -> str:
    """The column of the `index`-th window function of a stack: a nearest time, a count or a sum."""
    return f"__nearest{index}"


def _looked_alias(index: int) -> str:
    return f"__v{index}"


def _looked_for(stack: list[Window], looking: list[Window], keys: list[exp.Expr], time: exp.Expr) -> list[exp.Expr]:
    """The columns of a stacked row per window of `stack` (`_at`, and `_added` for a `sum=`): for the windows of
    `looking` that look for it (its filter true, its `keys` and `time` known), its time and value, else null."""

    def target(window: Window, value: exp.Expr) -> exp.Expr:
        known = [exp.Not(this=exp.Is(this=k.copy(), expression=exp.null())) for k in (*keys, time)]
        where = [exp.Paren(this=window.where.copy())] if window.where is not None else []
        return when(exp.and_(*where, *known), value.copy())

    found: list[exp.Expr] = []
    for i, window in enumerate(stack):
        looks = any(window is w for w in looking)
        found.append(exp.alias_(target(window, time) if looks else NO_TIME.copy(), _at(i), quoted=True))
    for i, window in enumerate(stack):
        if window.form == "sum":
            assert window.value is not None
            value = target(window, window.value) if any(window is w for w in looking) else exp.null()
            found.append(exp.alias_(exp.cast(value, _sum_type(window)), _added(i), quoted=True))
    return found


def _window_function(window: Window, index: int, keys: list[str]) -> exp.Window:
    """The `index`-th window function of a stack partitioned by `keys` and ordered by time: the first time it looks
    for strictly after the row's, or the last strictly before (`value=` and whether a row was found), over the rows
    after it (before it); the number of rows it looks for (`count=`), or the sum of their values (`sum=`), over the
    range of times `(t, t + W]` (`[t - W, t)`), which on whole microseconds is `1` to `W` following (`W` to `1`
    preceding)."""
    spec: exp.Expr
    if window.form not in ("count", "sum"):
        value: exp.Expr = exp.Min(this=column(_at(index))) if window.forward else exp.Max(this=column(_at(index)))
        spec = StrictFrame(forward=exp.Boolean(this=window.forward))
    else:
        width, one = exp.Literal.number(window.micros), exp.Literal.number(1)
        ends = (one, "FOLLOWING", width, "FOLLOWING") if window.forward else (width, "PRECEDING", one, "PRECEDING")
        spec = exp.WindowSpec(kind="RANGE", start=ends[0], start_side=ends[1], end=ends[2], end_side=ends[3])
        value = exp.Count(this=column(_at(index))) if window.form == "count" else exp.Sum(this=column(_added(index)))
    return exp.Window(
        this=value,
        partition_by=[column(k) for k in keys],
        order=exp.Order(expressions=[exp.Ordered(this=column(TIME), nulls_first=True)]),  # BigQuery's order
        spec=spec,
    )


def _sum_type(window: Window) -> exp.DataType:
    """The type of a `sum=` window: a BIGINT for an int column (not DuckDB's HUGEINT), else a DOUBLE."""
    return BIGINT if window.value_kind == "int" else DOUBLE


def groups_query(model: Model, request: Request, tables: Mapping[str, exp.Expr] | None = None) -> exp.Select:
    """Stage (1) of `request` (the aggregated groups) as one query; `tables` maps a source to the table expression it
    reads (by default, a table named as the source)."""
    return Builder(model, request, tables or {}).query()


class Builder:
    """Builds the CTEs of one request's groups: the rows of each source with its windows, then its groups."""

    def __init__(self, model: Model, request: Request, tables: Mapping[str, exp.Expr], level: Level | None = None) -> None:
        self.model, self.request, self.tables = model, request, tables
        # For a level of the functions across groups (`metricdsl.engine.across`): its variants, and its CTEs' prefix.
        self.level, self.prefix = level, f"l{level.index}_" if level is not None else ""
        self.compiler = Compiler(model, request.as_of)
        self.ctes: list[tuple[str, exp.Expr]] = []
        self.relations: dict[tuple[str, tuple[int, ...]], tuple[str, list[str]]] = {}
        self.demands: dict[tuple[str, tuple[int, ...]], set[str]] = {}  # the columns each relation's readers read
        self.limits: dict[str, tuple[str, str, str]] = {}  # the CTE of a source's first and last time

    def table(self, source: str) -> exp.Expr:
        found = self.tables.get(source)
        return found.copy() if found is not None else exp.Table(this=exp.to_identifier(source, quoted=True))

    def cte(self, prefix: str, query: exp.Expr) -> str:
        name = f"__{self.prefix}{prefix}{len(self.ctes)}"
        self.ctes.append((name, query))
        return name

    def query(self) -> exp.Select:
        select = self.body()
        for name, query in self.ctes:
            select = select.with_(exp.to_identifier(name, quoted=True), as_=query, copy=False)
        return select

    def body(self) -> exp.Select:
        """The groups' query without its CTEs, which `self.ctes` holds; with the groups of the levels of functions
        across groups stacked below the request's own (UNION ALL), as `metricdsl.engine.polars.across` stacks them."""
        select = self.own_groups()
        levels, _ = plan_levels(self.model, self.request, self.needed())
        if not levels:
            return select
        branches = [(0, self.cte("level", select), list(select.named_selects))]
        for level in levels:
            builder = Builder(self.model, level.request, self.tables, level)
            builder.prefix = f"{self.prefix}{builder.prefix}"
            found = builder.body()
            self.ctes += builder.ctes
            name = self.cte("level", found)
            branches.append((level.index, name, [level_column(level.index, c) for c in found.named_selects]))
        everything = [c for _, _, names in branches for c in names]
        # A first branch of no rows that gives every column its type: Postgres types a column that is null in the first
        # two branches of a UNION as text, which the type of the column in its own branch then does not meet.
        typed = [
            exp.alias_(column(c[len(level_column(index, "")) :] if index else c, f"t{index}"), c, quoted=True)
            for index, _, names in branches
            for c in names
        ]
        typed.append(exp.alias_(exp.Literal.number(0), LEVEL_COLUMN, quoted=True))
        header = exp.select(*typed).from_(self.aliased(branches[0][1], "t0"))
        for index, name, _ in branches[1:]:
            header = header.join(self.aliased(name, f"t{index}"), join_type="cross")
        stacked: exp.Query = header.where(exp.false())
        for index, name, names in branches:
            own = set(names)
            values = [
                exp.alias_(column(c[len(level_column(index, "")) :] if index else c), c, quoted=True)
                if c in own
                else exp.alias_(exp.null(), c, quoted=True)
                for c in everything
            ]
            values.append(exp.alias_(exp.Literal.number(index), LEVEL_COLUMN, quoted=True))
            branch = exp.select(*values).from_(exp.to_identifier(name, quoted=True))
            stacked = exp.union(stacked, branch, distinct=False)
        alias = exp.TableAlias(this=exp.to_identifier("s", quoted=True))
        return exp.select(*(column(c) for c in [*everything, LEVEL_COLUMN])).from_(exp.Subquery(this=stacked, alias=alias))

    @staticmethod
    def aliased(name: str, alias: str) -> exp.Table:
        return exp.Table(
            this=exp.to_identifier(name, quoted=True), alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))
        )

    def needed(self) -> list[Variant]:
        if self.level is not None:
            return list(self.level.needed)
        return variants(self.model, self.model.metric_order(list(self.request.metrics)))

    def own_groups(self) -> exp.Select:
        model, request = self.model, self.request
        needed = self.needed()
        plans, owned = aggregates_by_source(model, needed, request)
        metric_of = {column: variant.metric for variant, found in owned.items() for column in found.values()}
        # Everything is compiled first, so that each source's rows hold every column read, then the CTEs are built.
        compiled = [self.compile(source, aggregates, metric_of) for source, aggregates in plans.items()]
        for source, calls, keys, plain, distinct in compiled:
            self.demand(source, calls, [*(k for _, k in keys), *plain, *distinct])
        grouped = [self.grouped(*found) for found in compiled]
        if not grouped:
            select = exp.select(exp.alias_(exp.Literal.number(1), ONE_COLUMN, quoted=True))
        else:
            counts = [a.n_column for aggregates in plans.values() for a in aggregates]
            counts += [a.column for aggregates in plans.values() for a in aggregates if a.counts]
            select = self.joined(grouped, counts if len(grouped) > 1 and request.keys else [])
        return select

    # -- rows ---------------------------------------------------------------------------------------

    def demand(self, source: str, calls: list[ast.Call], reads: list[exp.Expr]) -> None:
        """Record that the rows of `source` with the window `calls` must hold the columns that `reads` reads, and
        what their stacks need from the other sources' rows, recursively."""
        key = (source, tuple(id(c) for c in calls))
        first = key not in self.demands
        self.demands.setdefault(key, set()).update(self.names(source, reads))
        if not first:
            return
        for stack in self.stacks(calls):
            for copy in self.copies(stack):
                window = copy[0]
                theirs = [*window.theirs, self.compiler.instant(window.target)]
                read = [e for w in copy for e in (w.where, w.value) if e is not None]
                self.demand(window.target, window.needs, theirs + read)

    def names(self, source: str, reads: list[exp.Expr]) -> set[str]:
        """The columns of `source` that the expressions `reads` read."""
        declared = self.compiler.columns_read.get(source, set())
        return {c.name for e in reads for c in e.find_all(exp.Column)} & declared

    def stacks(self, calls: list[ast.Call]) -> list[list[Window]]:
        """The window `calls` of one source by their keys: each list is computed in one stack, by one sort."""
        found: dict[tuple[str, ...], list[Window]] = {}
        for call in calls:
            window = self.compiler.windows[id(call)]
            found.setdefault(tuple(k.sql() for k in window.mine), []).append(window)
        return list(found.values())

    @staticmethod
    def on_itself(window: Window) -> bool:
        """Whether the window looks for rows of its own source by the same keys, so that the rows themselves are
        its targets (no copy of them is stacked)."""
        return (
            window.target == window.source
            and not window.needs
            and [k.sql() for k in window.mine] == [k.sql() for k in window.theirs]
        )

    def copies(self, stack: list[Window]) -> list[list[Window]]:
        """The windows of `stack` that look for other rows, by the rows they read (their source, the windows those
        rows need, their keys): one copy of those rows is stacked for each list."""
        found: dict[tuple[object, ...], list[Window]] = {}
        for window in stack:
            if not self.on_itself(window):
                rows = (window.target, tuple(id(c) for c in window.needs), tuple(k.sql() for k in window.theirs))
                found.setdefault(rows, []).append(window)
        return list(found.values())

    def host_reads(self, source: str, stack: list[Window]) -> set[str]:
        """The columns of `source` that a stack reads from its rows: the keys, the time, the filters and values of the
        windows on itself."""
        window = stack[0]
        reads = [*window.mine, self.compiler.instant(source)]
        reads += [e for w in stack if self.on_itself(w) for e in (w.where, w.value) if e is not None]
        return self.names(source, reads)

    def rows(self, source: str, calls: list[ast.Call]) -> tuple[str, list[str]]:
        """The CTE of `source`'s rows with the columns of the window `calls` (and their censored flags), and the
        names of its columns: only the columns of the source that the rest of the query reads."""
        key = (source, tuple(id(c) for c in calls))
        if key in self.relations:
            return self.relations[key]
        needed = self.demands.get(key, set())
        stacks = self.stacks(calls)
        reads = [self.host_reads(source, stack) for stack in stacks]
        columns = sorted(needed.union(*reads))
        selected: list[exp.Expr] = [column(c) for c in columns] or [
            exp.alias_(exp.Literal.number(1), ONE_COLUMN, quoted=True)
        ]
        name = self.cte("rows", exp.select(*selected).from_(self.table(source)))
        found: list[str] = []
        for i, stack in enumerate(stacks):
            columns = sorted(needed.union(*reads[i + 1 :]))
            name = self.stack(name, [*columns, *found], stack)
            found += [n for w in stack for n in (w.column, w.flag)]
        self.relations[key] = name, [*columns, *found]
        return self.relations[key]

    def stack(self, rows: str, columns: list[str], stack: list[Window]) -> str:
        """`rows` (keeping `columns`) with the columns of the windows of `stack`, which share their keys, and their
        censored flags. The rows and one copy of the other rows each window looks for are stacked (`stacked`), and
        one window function per call reads them, all partitioned and ordered alike (`_window_function`); then the rows
        themselves are kept (`kept`), and each window is censored at its limit."""
        keys = [_key(i) for i in range(len(stack[0].mine))]
        source_rows = exp.Subquery(
            this=self.stacked(rows, columns, stack), alias=exp.TableAlias(this=exp.to_identifier("__stacked", quoted=True))
        )
        windowed = self.cte(
            "window",
            exp.select(
                *(column(c) for c in columns),
                *(column(k) for k in keys),
                column(TIME),
                column(HOST),
                *(exp.alias_(_window_function(w, i, keys), _nearest(i), quoted=True) for i, w in enumerate(stack)),
            ).from_(source_rows),
        )
        kept = self.cte("window", self.kept(rows, windowed, columns, stack))
        return self.cte("window", self.censor(kept, columns, stack))

    def stacked(self, rows: str, columns: list[str], stack: list[Window]) -> exp.Query:
        """The rows of `rows` (keeping `columns`, their keys and their time in microseconds) and, below them (UNION
        ALL), one copy of the other rows each window of `stack` looks for (their keys and time); per window, the time
        again where the row is one it looks for (`_at`), and the value a `sum=` adds for it (`_added`)."""
        compiler = self.compiler
        source, mine = stack[0].source, stack[0].mine
        keys = [_key(i) for i in range(len(mine))]
        time = EpochMicros(this=compiler.instant(source))
        own = [w for w in stack if self.on_itself(w)]
        stacked: exp.Query = exp.select(
            *(column(c) for c in columns),
            *(exp.alias_(k.copy(), n, quoted=True) for k, n in zip(mine, keys, strict=True)),
            exp.alias_(time, TIME, quoted=True),
            exp.alias_(exp.Literal.number(1), HOST, quoted=True),
            *_looked_for(stack, own, mine, time),
        ).from_(exp.to_identifier(rows, quoted=True))
        for copy in self.copies(stack):
            window = copy[0]
            other_rows, _ = self.rows(window.target, window.needs)
            their_time = EpochMicros(this=compiler.instant(window.target))
            known: list[exp.Expr] = [
                exp.Not(this=exp.Is(this=k.copy(), expression=exp.null())) for k in (*window.theirs, their_time)
            ]
            conditions = [w.where for w in copy]
            if all(c is not None for c in conditions):
                known.append(exp.Paren(this=exp.or_(*(exp.Paren(this=c.copy()) for c in conditions if c is not None))))
            other = (
                exp.select(
                    *(exp.alias_(exp.null(), c, quoted=True) for c in columns),
                    *(exp.alias_(k.copy(), n, quoted=True) for k, n in zip(window.theirs, keys, strict=True)),
                    exp.alias_(their_time.copy(), TIME, quoted=True),
                    exp.alias_(exp.Literal.number(0), HOST, quoted=True),
                    *_looked_for(stack, copy, [], their_time),
                )
                .from_(exp.to_identifier(other_rows, quoted=True))
                .where(exp.and_(*known))
            )
            stacked = exp.union(stacked, other, distinct=False)
        return stacked

    def kept(self, rows: str, windowed: str, columns: list[str], stack: list[Window]) -> exp.Select:
        """The rows of `rows` in the CTE `windowed` (keeping `columns` and the time), whether their window is known
        (their time and keys are), and each window's column: null where unknown; whether the nearest time looked for
        is within the window (`(t, t + W]`, or `[t - W, t)`); the value at that time, of `looked_up`, joined by the
        key and that time (`value=`); the count or sum, 0 where none (`count=`, `sum=`)."""
        keys = [_key(i) for i in range(len(stack[0].mine))]
        unknown = exp.or_(*(exp.Is(this=column(n), expression=exp.null()) for n in (TIME, *keys)))

        def result(i: int, window: Window) -> exp.Expr:
            if window.form in ("count", "sum"):
                total: exp.Expr = exp.Coalesce(this=column(_nearest(i)), expressions=[exp.Literal.number(0)])
                total = exp.cast(total, _sum_type(window) if window.form == "sum" else BIGINT)
                return exp.Case(ifs=[exp.If(this=unknown.copy(), true=exp.null())], default=total)
            width = exp.Literal.number(window.micros)
            within: exp.Expr = (
                exp.LTE(this=column(_nearest(i)), expression=exp.Add(this=column(TIME), expression=width))
                if window.forward
                else exp.GTE(this=column(_nearest(i)), expression=exp.Sub(this=column(TIME), expression=width))
            )
            if window.form == "value":
                found = column(LOOKED, _looked_alias(i))
                return exp.Case(ifs=[exp.If(this=unknown.copy(), true=exp.null()), exp.If(this=within, true=found)])
            return exp.Case(
                ifs=[exp.If(this=unknown.copy(), true=exp.null())],
                default=exp.Coalesce(this=within, expressions=[exp.false()]),
            )

        query = (
            exp.select(
                *(column(c) for c in columns),
                column(TIME),
                exp.alias_(exp.Not(this=exp.Paren(this=unknown.copy())), KNOWN, quoted=True),
                *(exp.alias_(result(i, w), w.column, quoted=True) for i, w in enumerate(stack)),
            )
            .from_(exp.to_identifier(windowed, quoted=True))
            .where(exp.EQ(this=column(HOST), expression=exp.Literal.number(1)))
        )
        for i, window in enumerate(stack):
            if window.form != "value":
                continue
            alias = _looked_alias(i)
            on = [exp.EQ(this=column(f"{LOOKED_KEY}{k}", alias), expression=column(key)) for k, key in enumerate(keys)]
            on.append(exp.EQ(this=column(LOOKED_TIME, alias), expression=column(_nearest(i))))
            looked = exp.Table(
                this=exp.to_identifier(self.looked_up(rows, window), quoted=True),
                alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
            )
            query = query.join(looked, on=exp.and_(*on), join_type="left")
        return query

    def looked_up(self, rows: str, window: Window) -> str:
        """The CTE of the values a `value=` window finds: per key and time of the rows it looks for (from `rows`, the
        window's own source's, when it looks for them), the least known value of its column at that time."""
        compiler = self.compiler
        assert window.value is not None
        if not self.on_itself(window):
            rows, _ = self.rows(window.target, window.needs)
        time = EpochMicros(this=compiler.instant(window.target))
        known = [exp.Not(this=exp.Is(this=k.copy(), expression=exp.null())) for k in (*window.theirs, time)]
        where = [exp.Paren(this=window.where.copy())] if window.where is not None else []
        value = window.value.copy()
        least = exp.LogicalAnd(this=value) if window.value_kind == "bool" else exp.Min(this=value)  # false < true
        query = (
            exp.select(
                *(exp.alias_(k.copy(), f"{LOOKED_KEY}{i}", quoted=True) for i, k in enumerate(window.theirs)),
                exp.alias_(time, LOOKED_TIME, quoted=True),
                exp.alias_(least, LOOKED, quoted=True),
            )
            .from_(exp.to_identifier(rows, quoted=True))
            .where(exp.and_(*where, *known))
            .group_by(*(k.copy() for k in window.theirs), time.copy())
        )
        return self.cte("values", query)

    def bounds(self, source: str) -> tuple[str, str, str]:
        """The CTE of the first and the last time of `source`'s rows (null without rows), computed once, and the
        names of its two columns."""
        if source not in self.limits:
            time = EpochMicros(this=self.compiler.instant(source))
            name = f"__{self.prefix}bounds{len(self.ctes)}"
            first, last = f"{name}_first", f"{name}_last"
            query = exp.select(
                exp.alias_(exp.Min(this=time), first, quoted=True), exp.alias_(exp.Max(this=time.copy()), last, quoted=True)
            ).from_(self.table(source))
            self.ctes.append((name, query))
            self.limits[source] = name, first, last
        return self.limits[source]

    def censor(self, rows: str, columns: list[str], stack: list[Window]) -> exp.Select:
        """Each window null where it reaches past its limit (a null limit, the other source having no rows, censors
        all), and its flag beside it: `t + W` on the horizon is known, as is `t - W` on the first time."""
        joined: list[str] = []
        values: list[exp.Expr] = []
        for window in stack:
            if window.horizon is not None:
                limit: exp.Expr = exp.Literal.number(window.horizon)
            else:
                name, first, last = self.bounds(window.target)
                limit = column(last if window.forward else first)
                joined += [name] if name not in joined else []
            width = exp.Literal.number(window.micros)
            if window.forward:
                past: exp.Expr = exp.GT(this=exp.Add(this=column(TIME), expression=width), expression=limit)
            else:
                past = exp.LT(this=exp.Sub(this=column(TIME), expression=width), expression=limit)
            flag = exp.and_(column(KNOWN), exp.Coalesce(this=past, expressions=[exp.true()]))
            value = exp.Case(ifs=[exp.If(this=flag.copy(), true=exp.null())], default=column(window.column))
            values += [exp.alias_(value, window.column, quoted=True), exp.alias_(flag, window.flag, quoted=True)]
        query = exp.select(*(column(c) for c in columns), *values).from_(exp.to_identifier(rows, quoted=True))
        for name in joined:
            query = query.join(exp.to_identifier(name, quoted=True), join_type="cross")
        return query

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
        ).from_(
            exp.Table(
                this=exp.to_identifier(main, quoted=True), alias=exp.TableAlias(this=exp.to_identifier("m", quoted=True))
            )
        )
        other = exp.Table(
            this=exp.to_identifier(counted, quoted=True), alias=exp.TableAlias(this=exp.to_identifier("d", quoted=True))
        )
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
            ).from_(
                exp.Table(
                    this=exp.to_identifier(name, quoted=True),
                    alias=exp.TableAlias(this=exp.to_identifier(left, quoted=True)),
                )
            )
            table = exp.Table(
                this=exp.to_identifier(other, quoted=True), alias=exp.TableAlias(this=exp.to_identifier(right, quoted=True))
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
