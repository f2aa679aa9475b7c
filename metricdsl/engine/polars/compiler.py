"""Compile checked expressions to native Polars expressions and one lazy query per request.

Row-level expressions (derived columns, filters, aggregate arguments) compile against a source's
frame; derived columns are inlined, so Polars reads only the columns that are needed. Window
functions (`followed_by`, `preceded_by`) are materialised beforehand: per key, one stack of the rows and the rows they
look for, sorted once, in which the next (previous) time looked for is a fill (`Compiler.window_stack`); a window's
`value=` is read at the position that fill finds, its `count=` and `sum=` are differences of prefix sums.
Aggregates become hidden columns of one `group_by` per source; metrics are then computed from them
per group, so that ratios are ratios of sums.

Windows at the edge of the data are censored (DESIGN.md §4a): `followed_by(S, W)` of a row at `t` is known only
when `t + W` is not after S's horizon (the request's `as_of`, else S's `complete_until`, else the latest time in
S's rows), `preceded_by(S, W)` only when `t - W` is not before S's first time. A censored row's window is null, and a
hidden flag beside the window column marks it, so that each aggregate counts the rows it read that were censored.

Datetimes are local to their source's zone (`metricdsl.engine.zones`): a date that meets a datetime stands for
the first moment of that local day, and windows compare instants, so that 7d is 168 hours across a DST change.
"""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl

from metricdsl.engine.across import Across, across_column
from metricdsl.engine.columns import TIME_COLUMN, aggregate_part, window_column
from metricdsl.engine.plan import Aggregate, window_calls, window_key_names, zone_of
from metricdsl.engine.polars import functions as translations
from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.engine.polars.functions import safe_divide
from metricdsl.engine.zones import in_utc, local_midnight
from metricdsl.language import ast
from metricdsl.language.functions import ACROSS_TOTAL, FUNCTIONS, WINDOWS, Function, Kind, window_form
from metricdsl.semantics.filters import Variant
from metricdsl.semantics.model import PERIOD_FUNCTIONS, Model
from metricdsl.spec.definitions import DEFAULT_ZONE

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

ARITHMETIC: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}
COMPARISONS: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "and": operator.and_,
    "or": operator.or_,
}


def _reads_rows(node: ast.Expr) -> bool:
    """Whether `node` reads a column (or a window) rather than being a constant."""
    return any(isinstance(n, ast.Name) or (isinstance(n, ast.Call) and n.func in WINDOWS) for n in ast.walk(node))


# The type a `null` argument takes when its parameter accepts several: a number as a float.
NULL_PREFERENCE = ("float", "int", "str", "datetime", "date", "duration", "bool")


def rule_function(func: str, argument: ast.Expr) -> pl.Expr:
    """A rule function over the graded table, whose hidden columns hold each metric's previous value,
    number of observations, standard error and interval (see `grading/grader.py`)."""
    return translations.RULE_FUNCTIONS[func](argument)


def pooled_parts(aggregate: Aggregate, values: pl.Expr) -> list[pl.Expr]:
    """What a trailing sum, mean or share is pooled from besides its number of observations: the sum of its
    values, and for a mean's interval the sum of their squares."""
    if aggregate.trailing is None or aggregate.node.func not in ("sum", "mean", "share"):
        return []
    parts = [values.sum().alias(aggregate_part(aggregate.column, "sum"))]
    if aggregate.sd_column is not None:
        parts.append((values * values).sum().alias(aggregate_part(aggregate.column, "squares")))
    return parts


def censored_column(window: str) -> str:
    """The hidden flag beside a window column: true on the rows whose window reaches past its horizon."""
    return f"{window}_censored"


def hit_column(window: str) -> str:
    """The hidden flag of a stacked row: whether window `window` looks for it."""
    return f"{window}_hit"


# The stacked rows of windows: the number of a row of the frame the windows are computed for (null for the rows they
# look for), the key columns (`__stack_key0`, ...) and the time in microseconds.
STACK_ROW, STACK_KEY, STACK_TIME = "__stack_row", "__stack_key", "__stack_time"
# The values the windows of a stack read (`value=COL`, `sum=COL`), and the numbers of the rows their probes end.
STACK_VALUE, STACK_PROBE = "__stack_value", "__stack_probe"
# A float `sum=` window's running sums (`Compiler.running_sums`): of its values, of the rounding errors of that sum,
# and of the rounding errors of the errors' sum. Each level's column of a window is COLUMN + its suffix.
RUNNING = ("__running0", "__running1", "__running2")
ERROR = "__error"  # + the level: a row's rounding error in the running sum of a level
# Beyond any time: no row looked for after (before) this one within its key.
NONE_AFTER, NONE_BEFORE = 2**63 - 1, -(2**63)


def _same_key(keys: list[str], offset: int) -> pl.Expr:
    """Whether the stacked row `offset` away (-1: the next one, 1: the previous one) has the same key, all known."""
    return pl.all_horizontal(pl.col(k).shift(offset) == pl.col(k) for k in keys).fill_null(False)


def _addend(call: ast.Call, keys: list[str], hit: str, values: dict[tuple[str, str], str]) -> pl.Expr:
    """What a stacked row adds to the running count (`count=`) or sum (`sum=COL`) of window `call`: 1 or its COL
    when it is a row the window looks for, else 0. A row without a time or key is looked for by no window: it adds
    nothing, and no float of it rounds the running sum of the key whose rows it sorts beside (rows without a time
    sort first in the stack)."""
    known = pl.all_horizontal(pl.col(STACK_TIME).is_not_null(), *(pl.col(k).is_not_null() for k in keys))
    looked_for = pl.col(hit).fill_null(False) & known
    form = window_form(call)
    if form is None or form[0] != "sum":
        return looked_for.cast(pl.Int64)
    return pl.when(looked_for).then(pl.col(values[(call.args[0].name, form[1].name)])).fill_null(0)  # type: ignore[union-attr]


def _before(running: pl.Expr, keys: list[str]) -> pl.Expr:
    """A running sum at the row before, within the key: 0 at the key's first row."""
    return pl.when(_same_key(keys, 1)).then(running.shift(1)).otherwise(0.0)


def _found_sums(column: str) -> list[str]:
    """The columns of a float `sum=` window's running sums found at each row (`window_fill`): the window's own, then
    one per level of rounding errors."""
    return [column, *(f"{column}__found{level}" for level in range(1, len(RUNNING)))]


def _difference(prefix: str, forward: bool) -> pl.Expr:
    """The rows of a window between a row and its probe row: the difference of column `prefix` at the two."""
    return pl.col(f"{prefix}_end") - pl.col(prefix) if forward else pl.col(prefix) - pl.col(f"{prefix}_end")


def _microseconds(seconds: float) -> int:
    """A window's width in whole microseconds, as the times are compared."""
    return datetime.timedelta(seconds=seconds) // datetime.timedelta(microseconds=1)


def looked_up(call: ast.Call) -> list[ast.Expr]:
    """What a window reads of the rows it looks for: its filter, and the column of its `value=` or `sum=`."""
    form = window_form(call)
    return [t for t in (call.where, form[1] if form is not None and form[0] != "count" else None) if t is not None]


def bound_column(source: str, bound: str) -> str:
    """The hidden column that holds a source's latest (`max`) or first (`min`) time while censored rows are found."""
    return f"__{bound}_time_{source}"


def as_instant(moment: datetime.datetime, zone: str) -> datetime.datetime:
    """A datetime as an instant in UTC: a naive one is local time in `zone` (the earlier of two, at a DST change)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(zone))
    return aware.astimezone(datetime.timezone.utc)


class Compiler:
    """Turns a checked model's trees into Polars expressions."""

    def __init__(self, model: Model, as_of: datetime.datetime | None = None) -> None:
        self.model = model
        self.as_of = as_of  # the horizon of every `followed_by`, in place of each source's own
        # Window calls materialised as hidden columns of their source's frame, by id(node).
        self.window_columns: dict[int, str] = {}
        # Aggregate calls computed as hidden columns after grouping, by id(node).
        self.aggregate_columns: dict[int, str] = {}
        # The declared columns each source's compiled expressions read.
        self.columns_read: dict[str, set[str]] = {}
        # While a metric is compiled: the columns of the metrics it uses (by name; a metric's own by default), and
        # its value in the previous period of the same group, for `prev`, `change` and `pct_change`.
        self.metric_columns: dict[str, str] = {}
        self.previous: Callable[[pl.Expr], pl.Expr] | None = None
        # The functions across groups of a request by variant and call, and those of the metric being compiled by call.
        self.across_calls: dict[tuple[Variant, int], Across] = {}
        self.across: dict[int, Across] = {}
        # The censored flag of each window call, by id(node), and the aggregates that count censored rows.
        self.censor_columns: dict[int, str] = {}
        self.censored_aggregates: set[str] = set()
        # The column of each distinct window call by its source and the call: equal calls share it.
        self.window_names: dict[tuple[str, ast.Call], str] = {}
        # When windows are computed one bucket of keys at a time (`metricdsl.engine.polars.partition`): the number of
        # buckets; what gives the rows of one bucket of the rows a window looks for (by a name of those rows, the rows,
        # and their bucket); each source's first and latest time (over all its rows: the bounds that censor); and the
        # sources whose frames already hold their windows' columns.
        self.buckets = 1
        self.in_bucket: Callable[[str, pl.LazyFrame, pl.Expr], pl.LazyFrame] | None = None
        self.bounds: dict[tuple[str, str], datetime.datetime | None] | None = None
        self.precomputed: set[str] = set()

    # -- expressions ------------------------------------------------------------------------------

    def expr(self, node: ast.Expr) -> pl.Expr:
        """The Polars expression of `node`: per row, or per group for metric-level nodes."""
        match node:
            case ast.Number(value=value):
                return pl.lit(value, dtype=pl.Int64 if isinstance(value, int) else pl.Float64)
            case ast.String(value=value):
                return pl.lit(value, dtype=pl.String)
            case ast.Bool(value=value):
                return pl.lit(value, dtype=pl.Boolean)
            case ast.Null():
                return pl.lit(None)
            case ast.Duration(seconds=seconds):
                per_unit = self.model.duration_units.get(id(node))
                if per_unit is not None:
                    return pl.lit(seconds / per_unit, dtype=pl.Float64)
                return pl.lit(datetime.timedelta(seconds=seconds), dtype=DTYPES["duration"])
            case ast.Date(value=value):
                return pl.lit(value, dtype=pl.Date)
            case ast.Name():
                return self.name(node)
            case ast.Unary(op="not", operand=operand):
                return ~self.expr(operand)
            case ast.Unary(operand=operand):
                return -self.expr(operand)
            case ast.Binary(op=op, left=left, right=right):
                if op in ("/", "%"):
                    return safe_divide(self.expr(left), self.expr(right), op)
                table = ARITHMETIC if op in ARITHMETIC else COMPARISONS
                first, second = self.temporal([left, right])
                return table[op](first, second)
            case ast.In():
                return self.membership(node)
            case ast.Between(operand=operand, low=low, high=high):
                tested, lowest, highest = self.temporal([operand, low, high])
                unknown = pl.any_horizontal(tested.is_null(), lowest.is_null(), highest.is_null())
                return pl.when(unknown).then(None).otherwise((tested >= lowest) & (tested <= highest))
            case ast.IsNull(operand=operand, negated=negated):
                inner = self.expr(operand)
                return inner.is_not_null() if negated else inner.is_null()
            case ast.Case(whens=whens, otherwise=otherwise):
                branches = [branch for _, branch in whens] + ([otherwise] if otherwise is not None else [])
                values = self.temporal(branches)  # a date branch among datetimes: its local midnight
                conditions = [self.expr(condition) for condition, _ in whens]
                chain: Then | ChainedThen = pl.when(conditions[0]).then(values[0])
                for condition, then in zip(conditions[1:], values[1 : len(whens)], strict=True):
                    chain = chain.when(condition).then(then)
                return chain.otherwise(values[-1] if otherwise is not None else pl.lit(None))
            case ast.Call():
                return self.call(node)
        raise AssertionError(f"unhandled node {node!r}")

    def call(self, node: ast.Call) -> pl.Expr:
        """An aggregate or a window by its hidden column, a rule function over the graded table, or a scalar
        function of its compiled arguments."""
        function = FUNCTIONS[node.func]
        match function.kind:
            case Kind.AGGREGATE:
                return pl.col(self.aggregate_columns[id(node)])
            case Kind.WINDOW:
                return pl.col(self.window_columns[id(node)])
            case Kind.RULE if self.previous is not None and node.func in PERIOD_FUNCTIONS:
                return self.period_function(node.func, self.expr(node.args[0]), self.previous)
            case Kind.RULE:
                return rule_function(node.func, node.args[0])
            case Kind.ACROSS:
                return self.across_value(node)
            case Kind.SCALAR:
                keywords = {k.name: self.expr(k.value) for k in node.keywords}
                arguments = [self.argument(function, index, a, node) for index, a in enumerate(node.args)]
                if self.kind(node) == "datetime":  # `coalesce(started_at, @2026-01-01)`: the date's local midnight
                    zone = self.zone_of(node)
                    arguments = [
                        local_midnight(a, zone) if self.kind(n) == "date" else a
                        for a, n in zip(arguments, node.args, strict=True)
                    ]
                return translations.SCALARS[node.func](function.bind(arguments, keywords))

    def across_value(self, node: ast.Call) -> pl.Expr:
        """`of_total(m)`: m over its total in the period (null when that is 0 or null); `spread(m, dim)`: its spread,
        both joined to the groups beforehand (`metricdsl.engine.polars.across`)."""
        total = pl.col(across_column(self.across[id(node)].column))
        return safe_divide(self.expr(node.args[0]), total) if node.func == ACROSS_TOTAL else total

    @staticmethod
    def period_function(func: str, value: pl.Expr, previous: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
        """`prev`, `change` or `pct_change` of a metric's `value` in a metric: null in a group's first period and
        next to a period without a value; `pct_change` of a previous value of 0 is null."""
        before = previous(value)
        if func == "prev":
            return before
        change = value - before
        return change if func == "change" else safe_divide(change, before.abs())

    def argument(self, function: Function, index: int, node: ast.Expr, call: ast.Call) -> pl.Expr:
        """A scalar function's argument; a `null` literal typed as its parameter wants, so the call is null
        rather than a Polars error on an untyped null (`lower(null)`, `weekday(null)`), and a null datetime in
        the zone of the call's other datetimes (`coalesce(started_at, null)`)."""
        accepts = function.parameter(index).accepts
        if isinstance(node, ast.Null) and accepts:
            kind = next((k for k in NULL_PREFERENCE if k in accepts), None)
            if kind == "datetime":
                return pl.lit(None, dtype=pl.Datetime("us", self.zone_of(call)))
            if kind is not None:
                return pl.lit(None, dtype=DTYPES[kind])
        return self.expr(node)

    # -- time zones -------------------------------------------------------------------------------

    def kind(self, node: ast.Expr) -> str | None:
        """The kind of `node`'s type (`datetime`, `date`, ...), if it was typed."""
        found = self.model.types.get(id(node))
        return found.kind if found is not None else None

    def temporal(self, nodes: list[ast.Expr]) -> list[pl.Expr]:
        """`nodes`, operands of one operator, compiled so that they compare: where a date meets a datetime, the
        date is the first moment of that day in the datetimes' zone; datetimes of sources in different zones (in
        a metric of metrics) are compared in UTC."""
        compiled = [self.expr(n) for n in nodes]
        kinds = [self.kind(n) for n in nodes]
        if "datetime" not in kinds:
            return compiled
        zones = {self.zone_of(n) for n, kind in zip(nodes, kinds, strict=True) if kind == "datetime"}
        zone = next(iter(zones)) if len(zones) == 1 else self.project_zone()
        compiled = [local_midnight(e, zone) if k == "date" else e for e, k in zip(compiled, kinds, strict=True)]
        if len(zones) > 1:
            compiled = [in_utc(e) if k in ("date", "datetime") else e for e, k in zip(compiled, kinds, strict=True)]
        return compiled

    def zone_of(self, node: ast.Expr) -> str:
        """The time zone of the datetimes in `node` (`metricdsl.engine.plan.zone_of`)."""
        return zone_of(self.model, node)

    def project_zone(self) -> str:
        """The zone of times that belong to no source: the project's `calendar:` zone, else the default."""
        return self.model.definitions.calendar.timezone or DEFAULT_ZONE

    def name(self, node: ast.Name) -> pl.Expr:
        ref = self.model.refs[id(node)]
        if ref.kind == "metric":  # a column of the aggregated or graded table
            return pl.col(self.metric_columns.get(ref.name, ref.name))
        # Dimensions are columns of the graded table.
        return self.column(ref.source, ref.name) if ref.source is not None else pl.col(ref.name)

    def membership(self, node: ast.In) -> pl.Expr:
        items = node.items.items
        literals = [i for i in items if isinstance(i, (ast.Number, ast.String, ast.Bool))]
        if len(literals) == len(items):
            value = self.expr(node.operand)
            values = [i.value for i in literals]
            if any(isinstance(i, ast.Number) for i in literals):  # ints and floats compare as floats
                value, values = value.cast(pl.Float64), [float(v) for v in values]
            found = value.is_in(values)
        else:
            value, *others = self.temporal([node.operand, *items])
            found = pl.any_horizontal(*((value == other).fill_null(False) for other in others))
            found = pl.when(value.is_null()).then(None).otherwise(found)
        return ~found if node.negated else found

    def column(self, source: str, name: str) -> pl.Expr:
        """A column or derived column of `source` by name."""
        derived = self.model.sources[source].derived.get(name)
        if derived is not None:
            return self.expr(derived)
        self.columns_read.setdefault(source, set()).add(name)
        return pl.col(name)

    # -- aggregates -------------------------------------------------------------------------------

    def aggregate(self, aggregate: Aggregate) -> list[pl.Expr]:
        """The value and observation-count expressions of one aggregate, for `group_by().agg()`."""
        node = aggregate.node
        filters = [c for c in (aggregate.where, node.where, *aggregate.added) if c is not None]
        conditions = [self.expr(c) for c in filters]
        keep = functools.reduce(operator.and_, conditions) if conditions else None

        if (filters or node.args) and not any(_reads_rows(n) for n in (*filters, *node.args[:1])):
            # Constants alone (`sum(1)`, `count(where true)`) have one value per row, not one in all.
            every_row = pl.int_range(pl.len()) >= 0
            keep = every_row if keep is None else every_row & keep

        def masked(value: pl.Expr) -> pl.Expr:
            return value if keep is None else pl.when(keep).then(value)

        censored = self.censored_rows(aggregate, keep)
        if not node.args:  # count(): the rows
            rows = (pl.len() if keep is None else keep.fill_null(False).sum()).cast(pl.Int64)
            return [rows.alias(aggregate.column), rows.alias(aggregate.n_column), *censored]
        argument = self.expr(node.args[0])
        if self.model.type_of(node.args[0]).kind == "bool":  # a condition: 1 when true, in the aggregate's type
            argument = argument.cast(DTYPES[self.model.type_of(node).kind])
        value_in = masked(argument)
        n = value_in.count().cast(pl.Int64)
        value = translations.AGGREGATES[node.func](value_in, node)
        spread = [value_in.std(ddof=1).alias(aggregate.sd_column)] if aggregate.sd_column else []
        return [
            value.alias(aggregate.column),
            n.alias(aggregate.n_column),
            *spread,
            *pooled_parts(aggregate, value_in),
            *censored,
        ]

    def censored_rows(self, aggregate: Aggregate, keep: pl.Expr | None) -> list[pl.Expr]:
        """The number of rows whose censored window the aggregate reads (in its argument or its filters), among the
        rows its filters do not exclude (a filter that is null, as a censored window in it is, does not exclude):
        the rows whose value may change when the data is complete. Nothing for an aggregate that reads no window."""
        node = aggregate.node
        trees = [*node.args[:1], *(c for c in (aggregate.where, node.where, *aggregate.added) if c is not None)]
        windows = self.windows_in(aggregate.source, trees) if aggregate.source is not None else []
        flags = [pl.col(self.censor_columns[id(w)]) for w in windows if id(w) in self.censor_columns]
        if not flags:
            return []
        rows = pl.any_horizontal(*flags)
        if keep is not None:
            rows = rows & keep.fill_null(True)
        self.censored_aggregates.add(aggregate.column)
        return [rows.sum().cast(pl.Int64).alias(aggregate_part(aggregate.column, "censored"))]

    # -- windows ----------------------------------------------------------------------------------

    def add_windows(
        self, frame: pl.LazyFrame, source: str, windows: list[ast.Call], scan: Callable[[str], pl.LazyFrame]
    ) -> pl.LazyFrame:
        """Materialise each window call of `source` as a boolean hidden column of `frame`.

        Equal calls (the same function, source, filter, width and keys, written in several metrics) share one
        column. The windows that key `source`'s rows by the same columns are computed together, in one stack sorted
        once (`window_stack`); each stack gives its columns in `frame`'s row order, beside `frame`'s own."""
        if not windows:
            return frame
        columns: dict[str, ast.Call] = {}  # each distinct window once, by its column
        for call in windows:
            column = self.window_names.setdefault((source, call), window_column(len(self.window_names)))
            self.window_columns[id(call)] = column
            self.censor_columns[id(call)] = censored_column(column)
            columns.setdefault(column, call)
        if source in self.precomputed:
            return frame
        frame = frame.with_columns(self.instant(source).alias(TIME_COLUMN))
        stacks: dict[tuple[str, ...], list[tuple[str, ast.Call]]] = {}
        for column, call in columns.items():
            target = call.args[0].name  # type: ignore[union-attr]
            mine = tuple(m for m, _ in window_key_names(self.model, call, source, target))
            stacks.setdefault(mine, []).append((column, call))
        found = [self.window_stack(frame, source, list(mine), calls, scan) for mine, calls in stacks.items()]
        frame = pl.concat([frame, *found], how="horizontal")
        bounds: dict[str, pl.LazyFrame] = {}  # the one-row frames of other sources' bounds, by their column name
        limits = [
            (call, column, self.limit(call, source, call.args[0].name, column, scan, bounds))  # type: ignore[union-attr]
            for column, call in columns.items()
        ]
        for bound in bounds.values():
            frame = frame.join(bound, how="cross")
        return self.censor(frame, source, limits).drop(TIME_COLUMN, *bounds)

    def window_stack(
        self,
        frame: pl.LazyFrame,
        source: str,
        mine: list[str],
        calls: list[tuple[str, ast.Call]],
        scan: Callable[[str], pl.LazyFrame],
    ) -> pl.LazyFrame:
        """The columns of window `calls`, which key `source`'s rows by its columns `mine`, in `frame`'s row order.

        One narrow stack holds `source`'s rows (their number, key and time: no other column travels through the sort)
        and the rows each window looks for (key and time, and per window whether the row is one it looks for: its
        filter), sorted once by key and time. A window over `source` itself by the same columns, whose filter reads no
        other window, looks for `source`'s own rows in the stack, which are not stacked a second time; the windows that
        look for the same other rows by the same columns share one copy of them. Then, per window, the time of the next
        row looked for strictly after each row's time (`followed_by`; the previous one strictly before it for
        `preceded_by`) within the key is a backward (forward) fill: of the next stacked row's time where that row is
        looked for, from the last row of each run of equal key and time, so that rows at the same time are not after
        one another. The window is true when that time is within its width; null when the row's time or key is null.

        A window with `value=COL` or `sum=COL` carries COL through the stack with the rows it looks for. A window that
        counts or sums reads the stack at both ends of each row's window: a probe row per row of `source`, at `t + W`
        (`t - W`), shares the stack, and the count (sum) is the difference of the prefixes at the probe and at the row
        (`window_fill`). Windows of the same direction and width share their probes.
        """
        keys = [f"{STACK_KEY}{i}" for i in range(len(mine))]
        own = [(c, call) for c, call in calls if self.on_itself(call, source)]
        # The flag of the rows each window looks for, shared by the windows that look for the same rows (the same
        # source, key and filter, in either direction, of any width): one flag, and one fill per direction.
        hits: dict[str, str] = {}
        shared: dict[tuple[str, tuple[str, ...], ast.Expr | None, bool], str] = {}
        looked_for: dict[tuple[str, tuple[str, ...]], dict[str, ast.Call]] = {}
        # The stacked column of each value a window reads (`value=COL`, `sum=COL`), by its source and name.
        values: dict[tuple[str, str], str] = {}
        carried: dict[tuple[str, tuple[str, ...]] | None, set[tuple[str, str]]] = {}  # what each part carries
        for column, call in calls:
            target = call.args[0].name  # type: ignore[union-attr]
            theirs = tuple(t for _, t in window_key_names(self.model, call, source, target))
            mark = (target, theirs, call.where, (column, call) in own)
            hits[column] = shared.setdefault(mark, hit_column(column))
            if (column, call) not in own:
                looked_for.setdefault((target, theirs), {}).setdefault(hits[column], call)
            form = window_form(call)
            if form is not None and isinstance(form[1], ast.Name):
                value = (target, form[1].name)
                values.setdefault(value, f"{STACK_VALUE}{len(values)}")
                carried.setdefault(None if (column, call) in own else (target, theirs), set()).add(value)
        host = frame.with_row_index(STACK_ROW).select(
            pl.col(STACK_ROW),
            *(self.column(source, name).alias(key) for name, key in zip(mine, keys, strict=True)),
            pl.col(TIME_COLUMN).dt.epoch("us").alias(STACK_TIME),
            *(self.hit(call).alias(hit) for hit, call in {hits[c]: call for c, call in own}.items()),
            *(self.column(t, name).alias(values[(t, name)]) for t, name in sorted(carried.get(None, ()))),
        )
        parts = [host]
        for (target, theirs), found in looked_for.items():
            read = [t for column, call in calls if hits[column] in found for t in looked_up(call)]
            rows = self.source_frame(target, read, scan)
            part = rows.select(
                *(self.column(target, name).alias(key) for name, key in zip(theirs, keys, strict=True)),
                self.instant(target).dt.epoch("us").alias(STACK_TIME),
                *(self.hit(call).alias(hit) for hit, call in found.items()),
                *(self.column(t, n).alias(values[(t, n)]) for t, n in sorted(carried.get((target, theirs), ()))),
            )
            known = [pl.col(STACK_TIME).is_not_null(), *(pl.col(k).is_not_null() for k in keys)]
            part = part.filter(pl.any_horizontal(pl.col(h) for h in found), *known)
            if self.in_bucket is not None:  # the rows of the keys of one bucket only
                bucket = self.bucket_of([pl.col(k) for k in keys], [self.column_kind(source, m) for m in mine])
                part = self.in_bucket(f"{target}-{'-'.join(found)}", part, bucket)
            parts.append(part)
        # The rows that end (start) the windows that count or sum: per direction and width, a probe row per row of
        # `source`, at `t + W` (`t - W`), which carries the number of its row.
        probes: dict[tuple[bool, int], str] = {}
        windows: dict[str, tuple[str, bool]] = {}  # each counting window's probe, and whether it looks forward
        for column, call in calls:
            if (form := window_form(call)) is not None and form[0] in ("count", "sum"):
                forward = translations.WINDOWS[call.func] == "forward"
                width = _microseconds(call.args[1].seconds)  # type: ignore[union-attr]
                windows[column] = (probes.setdefault((forward, width), f"{STACK_PROBE}{len(probes)}"), forward)
        for (forward, width), probe in probes.items():
            end = pl.col(STACK_TIME) + width if forward else pl.col(STACK_TIME) - width
            parts.append(host.select(pl.col(STACK_ROW).alias(probe), *keys, end.alias(STACK_TIME)))
        stack = pl.concat(parts, how="diagonal_relaxed")
        # A float `sum=` adds the rows of a key at the same time in the order the sort leaves them: a stable sort leaves
        # them in the order of their rows, whatever other keys are stacked (windows computed in buckets of keys stack
        # some keys only), so that the sum is the same to the bit.
        stable = any(self.float_sum(call) for _, call in calls)
        if self.integer_key(source, mine, calls):  # one integer key: one sort by a single 128-bit number
            ordered = pl.col(keys[0]).cast(pl.Int128) * 2**64 + pl.col(STACK_TIME).cast(pl.Int128)
            stack = stack.sort(ordered, maintain_order=stable)
        else:
            stack = stack.sort([*keys, STACK_TIME], maintain_order=stable)
        for step in self.running_sums([(c, call) for c, call in calls if self.float_sum(call)], keys, hits, values):
            stack = stack.with_columns(step)
        stack = stack.with_columns(
            expr for column, call in calls for expr in self.window_fill(column, call, keys, hits[column], values)
        )
        names = [c for c, _ in calls]
        # The running sums of the rounding errors of float `sum=` windows, beside their own (`window_fill`).
        errors = {c: _found_sums(c)[1:] for c, call in calls if self.float_sum(call)}
        finer = [e for columns in errors.values() for e in columns]
        results = [stack.filter(pl.col(STACK_ROW).is_not_null()).sort(STACK_ROW).select(*names, *finer)]
        if not probes:
            return results[0]
        # A count or a sum is the difference of the prefixes of its rows at the row's probe row and at the row; a float
        # sum adds the differences of the running sums of its rounding errors (`running_sums`).
        for probe in probes.values():
            ends = [c for c, (p, _) in windows.items() if p == probe]
            ends += [e for c in ends for e in errors.get(c, ())]
            results.append(
                stack.filter(pl.col(probe).is_not_null()).sort(probe).select(pl.col(c).alias(f"{c}_end") for c in ends)
            )
        differences = {}
        for c, (_, forward) in windows.items():
            difference = _difference(c, forward)
            if c in errors:  # plus the differences of the running sums of its errors, the smallest added first
                rounding = [_difference(e, forward) for e in errors[c]]
                difference = difference + functools.reduce(lambda total, finer: finer + total, reversed(rounding))
            differences[c] = difference.alias(c)
        return pl.concat(results, how="horizontal").select(differences.get(c, pl.col(c)) for c in names)

    def running_sums(
        self, sums: list[tuple[str, ast.Call]], keys: list[str], hits: dict[str, str], values: dict[tuple[str, str], str]
    ) -> list[list[pl.Expr]]:
        """The running sums of the float `sum=` windows `sums` over the sorted stack, in steps (Polars computes no
        window of a window), each within its key so that no other key's rows round it.

        A running float sum rounds away what is small beside it (1e17 + 1 is 1e17), and a window's sum is a
        difference of two of them. So the rounding error of each addition is found exactly (Knuth's TwoSum of the
        running sum before the row and the row's value) and summed in a running sum of its own, and the errors of that
        sum likewise, once more. A window's sum is the difference of the running sums plus the differences of the
        running sums of errors: exact to a rounding unless the values of a key span more than about 10^32 three
        times over; an empty window is exactly 0. Columns COLUMN + each of RUNNING, and COLUMN + ERROR + level."""
        if not sums:
            return []
        key = (~_same_key(keys, 1)).cum_sum()
        added = {column: _addend(call, keys, hits[column], values) for column, call in sums}
        steps = [[added[c].cum_sum().over(key).alias(f"{c}{RUNNING[0]}") for c, _ in sums]]
        for level in range(1, len(RUNNING)):
            step = []
            for c, _ in sums:
                running = pl.col(f"{c}{RUNNING[level - 1]}")
                earlier = _before(running, keys)
                value = added[c] if level == 1 else pl.col(f"{c}{ERROR}{level - 1}")
                back = running - earlier
                error = (earlier - (running - back)) + (value - back)  # TwoSum: exactly earlier + value - running
                step += [error.alias(f"{c}{ERROR}{level}"), error.cum_sum().over(key).alias(f"{c}{RUNNING[level]}")]
            steps.append(step)
        return steps

    def window_fill(
        self, column: str, call: ast.Call, keys: list[str], hit: str, values: dict[tuple[str, str], str]
    ) -> list[pl.Expr]:
        """One window's column over the sorted stack (see `window_stack`), null where the row's time or key is null.

        The boolean: the time of the next (previous) row looked for is a fill within the key, from the last (first)
        row of each run of equal key and time. `value=COL`: the same fill of that row's position, at which the least
        of COL over the rows looked for of its run is read. `count=` and `sum=`: the prefix, within the key, of the
        rows looked for up to the end of the row's run (`followed_by`: the rows at or before its time) or up to its
        start (`preceded_by`: the rows before its time); `window_stack` subtracts it from the prefix at the probe row
        of the window's other end."""
        time = pl.col(STACK_TIME)
        unknown = pl.any_horizontal(time.is_null(), *(pl.col(k).is_null() for k in keys))
        width = _microseconds(call.args[1].seconds)  # type: ignore[union-attr]
        forward = translations.WINDOWS[call.func] == "forward"
        form = window_form(call)
        following, preceding = _same_key(keys, -1), _same_key(keys, 1)
        run_end = ~(following & (time.shift(-1) == time).fill_null(False))
        run_start = ~(preceding & (time.shift(1) == time).fill_null(False))
        if form is not None and form[0] in ("count", "sum"):
            if self.float_sum(call):  # the running sums of `running_sums`, of the values and of their errors
                sums = [
                    pl.when(run_end).then(running).backward_fill()
                    if forward
                    else pl.when(run_start).then(_before(running, keys)).forward_fill()
                    for running in (pl.col(f"{column}{part}") for part in RUNNING)
                ]
                return [
                    pl.when(unknown).then(None).otherwise(e).alias(n) for e, n in zip(sums, _found_sums(column), strict=True)
                ]
            addend = _addend(call, keys, hit, values)
            prefix = addend.cum_sum()
            found = (
                pl.when(run_end).then(prefix).backward_fill()
                if forward
                else pl.when(run_start).then(prefix - addend).forward_fill()
            )
            return [pl.when(unknown).then(None).otherwise(found).alias(column)]
        looked = pl.when(pl.col(hit)).then(time)
        if forward:
            later = pl.when(following).then(looked.shift(-1)).otherwise(NONE_AFTER).backward_fill()
            at = pl.when(run_end).then(later).backward_fill()
            inside = at <= time + width
        else:
            earlier = pl.when(preceding).then(looked.shift(1)).otherwise(NONE_BEFORE).forward_fill()
            at = pl.when(run_start).then(earlier).forward_fill()
            inside = at >= time - width
        if form is None:
            return [pl.when(unknown).then(None).otherwise(inside).alias(column)]
        position = pl.when(pl.col(hit)).then(pl.int_range(pl.len()))
        if forward:
            nearest = pl.when(following).then(position.shift(-1)).otherwise(-1).backward_fill()
            nearest = pl.when(run_end).then(nearest).backward_fill()
        else:
            nearest = pl.when(preceding).then(position.shift(1)).otherwise(-1).forward_fill()
            nearest = pl.when(run_start).then(nearest).forward_fill()
        value = pl.col(values[(call.args[0].name, form[1].name)])  # type: ignore[union-attr]
        least = pl.when(pl.col(hit)).then(value).min().over(run_start.cum_sum())
        found = least.gather(pl.when(inside & (nearest >= 0)).then(nearest))
        return [pl.when(unknown).then(None).otherwise(found).alias(column)]

    def float_sum(self, call: ast.Call) -> bool:
        """Whether window `call` sums a float column (`sum=COL`)."""
        form = window_form(call)
        return form is not None and form[0] == "sum" and self.kind(form[1]) == "float"

    def bucket_of(self, keys: list[pl.Expr], kinds: list[str | None]) -> pl.Expr:
        """The bucket of a row by its window key: a hash of the key's values (in the types of their kinds, so that
        both sides of a window hash alike), modulo the number of buckets."""
        typed = [key.cast(DTYPES[kind]) if kind in DTYPES else key for key, kind in zip(keys, kinds, strict=True)]
        return pl.struct(*(k.alias(f"k{i}") for i, k in enumerate(typed))).hash(seed=0) % self.buckets

    def on_itself(self, call: ast.Call, source: str) -> bool:
        """Whether window `call` of `source`'s rows looks for `source`'s own rows by the same columns, with a filter
        that reads no window: they can be looked for among the rows it is computed for."""
        target = call.args[0].name  # type: ignore[union-attr]
        if target != source or any(m != t for m, t in window_key_names(self.model, call, source, target)):
            return False
        return not self.windows_in(source, looked_up(call))

    def hit(self, call: ast.Call) -> pl.Expr:
        """Whether a row of a window's other source is one it looks for: its filter is true (not null)."""
        return self.expr(call.where).fill_null(False) if call.where is not None else pl.lit(True)

    def integer_key(self, source: str, mine: list[str], calls: list[tuple[str, ast.Call]]) -> bool:
        """Whether the stack of windows `calls` has one key, an integer on every side."""
        if len(mine) != 1 or self.column_kind(source, mine[0]) != "int":
            return False
        for _, call in calls:
            target = call.args[0].name  # type: ignore[union-attr]
            if any(self.column_kind(target, t) != "int" for _, t in window_key_names(self.model, call, source, target)):
                return False
        return True

    def column_kind(self, source: str, name: str) -> str | None:
        """The kind of a column or derived column of `source` (`int`, `str`, ...)."""
        derived = self.model.sources[source].derived.get(name)
        if derived is not None:
            return self.kind(derived)
        declared = self.model.definitions.sources[source].columns.get(name)
        return declared.type if declared is not None else None

    def limit(
        self,
        call: ast.Call,
        source: str,
        target: str,
        column: str,
        scan: Callable[[str], pl.LazyFrame],
        bounds: dict[str, pl.LazyFrame],
    ) -> pl.Expr:
        """The horizon of a `followed_by` (the latest time its window may reach), the first time of a `preceded_by`
        (the earliest): a constant when given (`as_of`, `complete_until`); else found in the other source's rows,
        beside this source's own when the window is of this source (no other pass over the data), else from the
        other source's time column alone: a one-row frame added to `bounds` (once per source and bound) to join to
        every row."""
        forward = translations.WINDOWS[call.func] == "forward"
        given = self.horizon(target) if forward else None
        if given is not None:
            return pl.lit(given, dtype=pl.Datetime("us", "UTC"))
        if self.bounds is not None:  # found beforehand, over all the rows, when they are computed in buckets
            return pl.lit(self.bounds[(target, "max" if forward else "min")], dtype=pl.Datetime("us", "UTC"))
        if target == source:
            return pl.col(TIME_COLUMN).max() if forward else pl.col(TIME_COLUMN).min()
        name = bound_column(target, "max" if forward else "min")
        if name not in bounds:
            time = self.instant(target)
            bounds[name] = scan(target).select((time.max() if forward else time.min()).alias(name))
        return pl.col(name)

    def horizon(self, source: str) -> datetime.datetime | None:
        """The given horizon of `source`'s data as an instant in UTC: the request's `as_of`, else the source's
        `complete_until` (local time in its zone unless it has an offset); None when it is found in the data."""
        given = self.as_of or self.model.definitions.sources[source].complete_until
        return as_instant(given, self.model.definitions.zone(source)) if given is not None else None

    def censor(self, frame: pl.LazyFrame, source: str, limits: list[tuple[ast.Call, str, pl.Expr]]) -> pl.LazyFrame:
        """Each window null where it reaches past its limit (a limit that is null, the other source having no rows,
        censors all), with its censored flag beside it. `t + W` on the horizon is known (the window's end is
        inclusive), as is `t - W` on the first time. A row whose time or key is null is not censored: its window is
        null anyway. A value found in a censored window (`value=`) is null too, as the boolean is."""
        exprs = []
        for call, column, limit in limits:
            width = datetime.timedelta(seconds=call.args[1].seconds)  # type: ignore[union-attr]
            time = pl.col(TIME_COLUMN)
            past = time + width > limit if translations.WINDOWS[call.func] == "forward" else time - width < limit
            mine, _ = self.window_keys(call, source, call.args[0].name)  # type: ignore[union-attr]
            known = pl.all_horizontal(time.is_not_null(), *(key.is_not_null() for key in mine))
            flag = known & past.fill_null(True)
            exprs.append(flag.alias(self.censor_columns.setdefault(id(call), censored_column(column))))
            exprs.append(pl.when(flag).then(None).otherwise(pl.col(column)).alias(column))
        return frame.with_columns(exprs)

    def instant(self, source: str) -> pl.Expr:
        """The time of `source`'s rows as an instant in UTC: windows are exact elapsed time, and their two
        sources may be in different zones. A date is the first moment of that local day."""
        time = self.model.definitions.sources[source].time or ""
        derived = self.model.sources[source].derived.get(time)
        moment = self.column(source, time)
        kind = self.kind(derived) if derived is not None else self.model.definitions.sources[source].columns[time].type
        return in_utc(local_midnight(moment, self.model.definitions.zone(source)) if kind == "date" else moment)

    def window_keys(self, call: ast.Call, source: str, target: str) -> tuple[list[pl.Expr], list[pl.Expr]]:
        """The key expressions on this side and on the other side of a window call."""
        pairs = window_key_names(self.model, call, source, target)
        return [self.column(source, m) for m, _ in pairs], [self.column(target, t) for _, t in pairs]

    def source_frame(self, source: str, trees: list[ast.Expr], scan: Callable[[str], pl.LazyFrame]) -> pl.LazyFrame:
        """`source`'s rows with the window columns that `trees` (row-level, of `source`) need."""
        windows = self.windows_in(source, trees)
        return self.add_windows(scan(source), source, windows, scan)

    def windows_in(self, source: str, trees: list[ast.Expr]) -> list[ast.Call]:
        """The window calls evaluated on `source`'s rows by `trees`, through derived columns too."""
        return window_calls(self.model, source, trees)
