"""Compile checked expressions to native Polars expressions and one lazy query per request.

Row-level expressions (derived columns, filters, aggregate arguments) compile against a source's
frame; derived columns are inlined, so Polars reads only the columns that are needed. Window
functions (`followed_by`, `preceded_by`) are materialised beforehand by sorted `join_asof`s.
Aggregates become hidden columns of one `group_by` per source; metrics are then computed from them
per group, so that ratios are ratios of sums.
"""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from metricdsl.engine import stats
from metricdsl.engine.columns import TIME_COLUMN, hidden, window_column
from metricdsl.language import ast
from metricdsl.language.functions import AGGREGATES, PERCENTILES, RULE_FUNCTIONS, WINDOWS
from metricdsl.semantics.model import Model

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
SCALARS: dict[str, Callable[..., pl.Expr]] = {
    "coalesce": lambda *args: pl.coalesce(*args),
    "abs": lambda x: x.abs(),
    "round": lambda x, digits=pl.lit(0): x.round(_literal_int(digits)),
    "lower": lambda s: s.str.to_lowercase(),
    "upper": lambda s: s.str.to_uppercase(),
    "contains": lambda s, part: s.str.contains(part, literal=True),
    "starts_with": lambda s, prefix: s.str.starts_with(prefix),
    "hour": lambda t: t.dt.hour().cast(pl.Int64),
    "weekday": lambda t: t.dt.weekday().cast(pl.Int64),
    "date": lambda t: t.dt.date(),
    "days_between": lambda a, b: (b.dt.date() - a.dt.date()).dt.total_days().cast(pl.Int64),
    "least": lambda *args: pl.min_horizontal(*args),
    "greatest": lambda *args: pl.max_horizontal(*args),
}


def _reads_rows(node: ast.Expr) -> bool:
    """Whether `node` reads a column (or a window) rather than being a constant."""
    return any(isinstance(n, ast.Name) or (isinstance(n, ast.Call) and n.func in WINDOWS) for n in ast.walk(node))


def _literal_int(expr: pl.Expr) -> int:
    return int(pl.select(expr).item())


def safe_divide(numerator: pl.Expr, denominator: pl.Expr, op: str = "/") -> pl.Expr:
    """`numerator / denominator` (or `%`), null when the denominator is zero or null."""
    result = numerator / denominator if op == "/" else numerator % denominator
    return pl.when(denominator != 0).then(result)


def rule_function(func: str, argument: ast.Expr) -> pl.Expr:
    """A rule function over the graded table, whose hidden columns hold each metric's previous value,
    number of observations, standard error and interval (see `grade.py`)."""
    if func == "significant":
        assert isinstance(argument, ast.Call) and isinstance(argument.args[0], ast.Name)
        m = argument.args[0].name
        return stats.significant_change(
            pl.col(m), pl.col(hidden("se", m)), pl.col(hidden("prev", m)), pl.col(hidden("prev_se", m))
        )
    assert isinstance(argument, ast.Name)
    m = argument.name
    previous = pl.col(hidden("prev", m))
    if func in ("change", "pct_change"):
        change = pl.col(m) - previous
        return change if func == "change" else safe_divide(change, previous.abs())
    return previous if func == "prev" else pl.col(hidden(func, m))  # n, ci_low, ci_high


@dataclass
class Aggregate:
    """One aggregate call of a metric, computed as hidden columns of its source's `group_by`."""

    node: ast.Call
    where: ast.Expr | None  # the metric's own `where`, which filters every aggregate in it
    column: str
    n_column: str
    counts: bool = False  # count-like: 0, not null, for a group without rows
    sd_column: str | None = None  # also the sample standard deviation, for a mean's interval


class Compiler:
    """Turns a checked model's trees into Polars expressions."""

    def __init__(self, model: Model) -> None:
        self.model = model
        # Window calls materialised as hidden columns of their source's frame, by id(node).
        self.window_columns: dict[int, str] = {}
        # Aggregate calls computed as hidden columns after grouping, by id(node).
        self.aggregate_columns: dict[int, str] = {}
        # The declared columns each source's compiled expressions read.
        self.columns_read: dict[str, set[str]] = {}

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
                return pl.lit(datetime.timedelta(seconds=seconds), dtype=pl.Duration("us"))
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
                return table[op](self.expr(left), self.expr(right))
            case ast.In(operand=operand, items=items, negated=negated):
                return self.membership(self.expr(operand), items, negated)
            case ast.Between(operand=operand, low=low, high=high):
                value, lowest, highest = (self.expr(part) for part in (operand, low, high))
                unknown = pl.any_horizontal(value.is_null(), lowest.is_null(), highest.is_null())
                return pl.when(unknown).then(None).otherwise((value >= lowest) & (value <= highest))
            case ast.IsNull(operand=operand, negated=negated):
                inner = self.expr(operand)
                return inner.is_not_null() if negated else inner.is_null()
            case ast.Case(whens=whens, otherwise=otherwise):
                (first, value), *rest = whens
                chain = pl.when(self.expr(first)).then(self.expr(value))
                for condition, value in rest:
                    chain = chain.when(self.expr(condition)).then(self.expr(value))
                return chain.otherwise(self.expr(otherwise) if otherwise is not None else pl.lit(None))
            case ast.Call(func=func) if func in AGGREGATES:
                return pl.col(self.aggregate_columns[id(node)])
            case ast.Call(func=func) if func in WINDOWS:
                return pl.col(self.window_columns[id(node)])
            case ast.Call(func=func, args=(argument,)) if func in RULE_FUNCTIONS:
                return rule_function(func, argument)
            case ast.Call(func=func, args=args, keywords=keywords):
                kwargs = {k.name: self.expr(k.value) for k in keywords}
                return SCALARS[func](*(self.expr(a) for a in args), **kwargs)
        raise AssertionError(f"unhandled node {node!r}")

    def name(self, node: ast.Name) -> pl.Expr:
        ref = self.model.refs[id(node)]
        # Metrics and dimensions are columns of the aggregated or graded table.
        return self.column(ref.source, ref.name) if ref.source is not None else pl.col(ref.name)

    def membership(self, value: pl.Expr, items: ast.ListOf, negated: bool) -> pl.Expr:
        literals = [i for i in items.items if isinstance(i, (ast.Number, ast.String, ast.Bool))]
        if len(literals) == len(items.items):
            values = [i.value for i in literals]  # type: ignore[union-attr]
            if any(isinstance(i, ast.Number) for i in literals):  # ints and floats compare as floats
                value, values = value.cast(pl.Float64), [float(v) for v in values]
            found = value.is_in(values)
        else:
            found = pl.any_horizontal(*((value == self.expr(i)).fill_null(False) for i in items.items))
            found = pl.when(value.is_null()).then(None).otherwise(found)
        return ~found if negated else found

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
        conditions = [self.expr(c) for c in (aggregate.where, node.where) if c is not None]
        keep = functools.reduce(operator.and_, conditions) if conditions else None

        if keep is None and node.args and not _reads_rows(node.args[0]):
            keep = pl.int_range(pl.len()) >= 0  # a constant has one value per row, not one in all

        def masked(value: pl.Expr) -> pl.Expr:
            return value if keep is None else pl.when(keep).then(value)

        if node.func == "count" and not node.args:
            value = pl.len() if keep is None else keep.fill_null(False).sum()
            value = value.cast(pl.Int64)
            return [value.alias(aggregate.column), value.alias(aggregate.n_column)]
        argument = self.expr(node.args[0])
        if self.model.type_of(node.args[0]).kind == "bool" and node.func not in ("count", "count_distinct"):
            argument = argument.cast(pl.Int64 if node.func in ("sum", "min", "max") else pl.Float64)
        value_in = masked(argument)
        n = value_in.count().cast(pl.Int64)
        func = node.func
        if func == "count":
            value = n
        elif func == "count_distinct":
            value = value_in.drop_nulls().n_unique().cast(pl.Int64)
        elif func == "sum":
            value = pl.when(n > 0).then(value_in.sum())
        elif func in ("mean", "share"):
            value = value_in.mean()
        elif func in PERCENTILES or func == "quantile":
            q = PERCENTILES.get(func) or node.args[1].value  # type: ignore[union-attr]
            value = value_in.quantile(q, interpolation="linear")
        elif func == "stddev":
            value = value_in.std(ddof=1)
        else:
            value = getattr(value_in, func)()
        spread = [value_in.std(ddof=1).alias(aggregate.sd_column)] if aggregate.sd_column else []
        return [value.alias(aggregate.column), n.alias(aggregate.n_column), *spread]

    # -- windows ----------------------------------------------------------------------------------

    def add_windows(
        self, frame: pl.LazyFrame, source: str, windows: list[ast.Call], scan: Callable[[str], pl.LazyFrame]
    ) -> pl.LazyFrame:
        """Materialise each window call of `source` as a boolean hidden column of `frame`."""
        if not windows:
            return frame
        spec = self.model.definitions.sources
        time = self.column(source, spec[source].time or "")
        frame = frame.with_columns(time.cast(pl.Datetime("us")).alias(TIME_COLUMN)).sort(TIME_COLUMN)
        for call in windows:
            column = self.window_columns.setdefault(id(call), window_column(len(self.window_columns)))
            target = call.args[0].name  # type: ignore[union-attr]
            mine, theirs = self.window_keys(call, source, target)
            key_names = [f"{column}_key{i}" for i in range(len(mine))]
            frame = frame.with_columns(*(key.alias(name) for key, name in zip(mine, key_names)))
            other = self.source_frame(target, [call.where] if call.where is not None else [], scan)
            if call.where is not None:
                other = other.filter(self.expr(call.where))
            other = (
                other.select(
                    *(key.alias(name) for key, name in zip(theirs, key_names)),
                    self.column(target, spec[target].time or "").cast(pl.Datetime("us")).alias(column),
                )
                .drop_nulls()
                .sort(column)
            )
            forward = call.func == "followed_by"
            frame = frame.join_asof(
                other,
                left_on=TIME_COLUMN,
                right_on=column,
                by_left=key_names,
                by_right=key_names,
                strategy="forward" if forward else "backward",
                allow_exact_matches=False,
                check_sortedness=False,
            )
            window = datetime.timedelta(seconds=call.args[1].seconds)  # type: ignore[union-attr]
            found = (
                pl.col(column) <= pl.col(TIME_COLUMN) + window if forward else pl.col(column) >= pl.col(TIME_COLUMN) - window
            )
            unknown = pl.any_horizontal(pl.col(TIME_COLUMN).is_null(), *(pl.col(k).is_null() for k in key_names))
            frame = frame.with_columns(pl.when(unknown).then(None).otherwise(found.fill_null(False)).alias(column)).drop(
                key_names
            )
        return frame.drop(TIME_COLUMN)

    def window_keys(self, call: ast.Call, source: str, target: str) -> tuple[list[pl.Expr], list[pl.Expr]]:
        """The key expressions on this side and on the other side of a window call."""
        on = call.keyword("on")
        if on is None:
            defs = self.model.definitions
            entity = defs.shared_entity(source, target)
            assert entity is not None  # the checker made sure
            return (
                [self.column(source, defs.sources[source].entities[entity])],
                [self.column(target, defs.sources[target].entities[entity])],
            )
        pairs = on.items if isinstance(on, ast.ListOf) else (on,)
        mine, theirs = [], []
        for pair in pairs:
            left, right = (pair.left, pair.right) if isinstance(pair, ast.Binary) else (pair, pair)
            mine.append(self.column(source, left.name))  # type: ignore[union-attr]
            theirs.append(self.column(target, right.name))  # type: ignore[union-attr]
        return mine, theirs

    def source_frame(self, source: str, trees: list[ast.Expr], scan: Callable[[str], pl.LazyFrame]) -> pl.LazyFrame:
        """`source`'s rows with the window columns that `trees` (row-level, of `source`) need."""
        windows = self.windows_in(source, trees)
        return self.add_windows(scan(source), source, windows, scan)

    def windows_in(self, source: str, trees: list[ast.Expr]) -> list[ast.Call]:
        """The window calls evaluated on `source`'s rows by `trees`, through derived columns too."""
        found: dict[int, ast.Call] = {}
        derived = self.model.sources[source].derived

        def visit(node: ast.Expr) -> None:
            if isinstance(node, ast.Call) and node.func in WINDOWS:
                found.setdefault(id(node), node)
                return  # its filter and keys belong to the other source
            ref = self.model.refs.get(id(node))
            if ref is not None and ref.kind == "derived" and ref.source == source:
                visit(derived[ref.name])
            for child in ast.children(node):
                visit(child)

        for tree in trees:
            visit(tree)
        return list(found.values())
