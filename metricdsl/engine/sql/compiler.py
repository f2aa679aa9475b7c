"""Compile checked expressions to sqlglot trees over a source's rows, with the semantics of the Polars compiler.

Row expressions keep SQL's three-valued logic, which is the language's; a division or remainder by zero is null;
derived columns are inlined. Datetimes are instants (the table contract): where local time matters (`hour()`,
`weekday()`, `date()`, `days_between()`, grains) the instant is converted to its source's zone, and a date that
meets a datetime is the instant of that day's local midnight. Durations are numbers of microseconds. Window
calls (`followed_by`, `preceded_by`, and their forms `value=`, `count=` and `sum=`) are columns of the source's rows,
which `metricdsl.engine.sql.query` computes; the compiler records, per window call, what that needs (`Window`).
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlglot import exp

from metricdsl.engine.columns import aggregate_part, window_column
from metricdsl.engine.plan import Aggregate, window_calls, window_key_names, zone_of
from metricdsl.engine.sql import functions as translations
from metricdsl.engine.sql.dialects import (
    AddMicros,
    EpochMicros,
    ExactQuantile,
    LocalMidnight,
    LocalTime,
)
from metricdsl.engine.sql.functions import BIGINT, DATE, DOUBLE, INT, double, number, safe_divide, when
from metricdsl.language import ast
from metricdsl.language.functions import FUNCTIONS, WINDOWS, Kind, window_form
from metricdsl.language.units import TIME_UNITS
from metricdsl.semantics.model import Model
from metricdsl.spec.definitions import DEFAULT_ZONE

MICROS = 1_000_000
OPERATORS: dict[str, type[exp.Binary]] = {
    "+": exp.Add,
    "-": exp.Sub,
    "*": exp.Mul,
    "==": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
    "and": exp.And,
    "or": exp.Or,
}
TYPES = {"int": BIGINT, "float": DOUBLE, "bool": exp.DataType.build("BOOLEAN"), "str": exp.DataType.build("VARCHAR")}


def column(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference."""
    return exp.column(name, table=table, quoted=True)


def grouped(value: exp.Expr) -> exp.Expr:
    """`value` in parentheses unless it is a single term: sqlglot writes trees as they are, so that `(a and b) is
    null` would read as `a and (b is null)`."""
    single = isinstance(value, (exp.Column, exp.Literal, exp.Paren, exp.Cast, exp.Null, exp.Boolean))
    if single or (isinstance(value, exp.Func) and not isinstance(value, (exp.Binary, exp.DateAdd))):
        return value
    return exp.Paren(this=value)


def censored_column(window: str) -> str:
    """The hidden flag beside a window column: true on the rows whose window reaches past its horizon."""
    return f"{window}_censored"


@dataclass
class Window:
    """A window call evaluated on `source`'s rows: the other source's rows it looks for (under `where`, with their
    own windows `needs`), the keys on each side, the width and direction, and the horizon when it is given. `form`
    is None for whether a row was found, else `value`, `count` or `sum`; `value` is the column that `value=` or `sum=`
    reads of the rows looked for, of kind `value_kind`."""

    call: ast.Call
    source: str
    target: str
    column: str
    mine: list[exp.Expr]
    theirs: list[exp.Expr]
    where: exp.Expr | None
    needs: list[ast.Call]
    micros: int
    forward: bool
    horizon: int | None  # microseconds since the epoch; None: the other source's latest (or first) time
    form: str | None = None
    value: exp.Expr | None = None
    value_kind: str | None = None
    flag: str = field(init=False)

    def __post_init__(self) -> None:
        self.flag = censored_column(self.column)


def _reads_rows(node: ast.Expr) -> bool:
    return any(isinstance(n, ast.Name) or (isinstance(n, ast.Call) and n.func in WINDOWS) for n in ast.walk(node))


class Compiler:
    """Turns a checked model's trees into sqlglot expressions over a source's rows."""

    def __init__(self, model: Model, as_of: datetime.datetime | None = None) -> None:
        self.model = model
        self.as_of = as_of
        self.windows: dict[int, Window] = {}  # by id(call)
        self.columns_read: dict[str, set[str]] = {}
        self.censored_aggregates: set[str] = set()

    # -- expressions ------------------------------------------------------------------------------

    def expr(self, node: ast.Expr) -> exp.Expr:
        """The SQL expression of a row-level `node`."""
        match node:
            case ast.Number(value=value):
                return number(value)
            case ast.String(value=value):
                return exp.Literal.string(value)
            case ast.Bool(value=value):
                return exp.true() if value else exp.false()
            case ast.Null():
                return self.typed_null(node)
            case ast.Duration(seconds=seconds):
                per_unit = self.model.duration_units.get(id(node))
                return number(float(seconds / per_unit if per_unit is not None else seconds * MICROS))
            case ast.Date(value=value):
                return exp.cast(exp.Literal.string(value.isoformat()), DATE)
            case ast.Name():
                return self.name(node)
            case ast.Unary(op="not", operand=operand):
                return exp.Not(this=grouped(self.expr(operand)))
            case ast.Unary(operand=operand):
                return exp.Neg(this=exp.Paren(this=self.expr(operand)))
            case ast.Binary(op=op, left=left, right=right):
                return self.binary(node, op, left, right)
            case ast.In():
                return self.membership(node)
            case ast.Between(operand=operand, low=low, high=high):
                tested, lowest, highest = self.temporal([operand, low, high])
                unknown = exp.or_(*(exp.Is(this=e.copy(), expression=exp.null()) for e in (tested, lowest, highest)))
                inside = exp.and_(exp.GTE(this=tested, expression=lowest), exp.LTE(this=tested.copy(), expression=highest))
                return exp.Case(ifs=[exp.If(this=unknown, true=exp.null())], default=inside)
            case ast.IsNull(operand=operand, negated=negated):
                test = exp.Is(this=grouped(self.expr(operand)), expression=exp.null())
                return exp.Not(this=test) if negated else test
            case ast.Case(whens=whens, otherwise=otherwise):
                branches = [branch for _, branch in whens] + ([otherwise] if otherwise is not None else [])
                values = self.temporal(branches)
                ifs = [
                    exp.If(this=self.expr(condition), true=value)
                    for (condition, _), value in zip(whens, values, strict=False)
                ]
                return exp.Case(ifs=ifs, default=values[-1] if otherwise is not None else None)
            case ast.Call():
                return self.call(node)
        raise AssertionError(f"unhandled node {node!r}")

    def typed_null(self, node: ast.Expr) -> exp.Expr:
        kind = self.kind(node)
        return exp.cast(exp.null(), TYPES[kind]) if kind in TYPES else exp.null()

    def binary(self, node: ast.Binary, op: str, left: ast.Expr, right: ast.Expr) -> exp.Expr:
        if op in ("/", "%"):
            result = safe_divide(grouped(self.expr(left)), grouped(self.expr(right)), op)
            return exp.cast(result, BIGINT) if self.kind(node) == "int" else result
        kinds = (self.kind(left), self.kind(right))
        if op in ("+", "-") and kinds[0] in ("datetime", "date") and kinds[1] == "duration":
            moved = self.expr(right) if op == "+" else exp.Neg(this=exp.Paren(this=self.expr(right)))
            if kinds[0] == "date":  # a date moved: the date of its midnight moved, counted in days
                days = exp.Floor(this=exp.Div(this=double(moved), expression=number(86400.0 * MICROS)))
                return exp.DateAdd(this=self.expr(left), expression=exp.cast(days, BIGINT), unit=exp.var("DAY"))
            return AddMicros(this=self.expr(left), micros=moved)
        first, second = self.temporal([left, right])
        if op == "-" and kinds[0] in ("datetime", "date") and kinds[1] in ("datetime", "date"):
            if kinds == ("date", "date"):
                between = exp.DateDiff(this=first, expression=second, unit=exp.var("DAY"))
                return exp.Mul(this=exp.cast(between, BIGINT), expression=exp.Literal.number(86400 * MICROS))
            return exp.Sub(this=EpochMicros(this=first), expression=EpochMicros(this=second))
        return OPERATORS[op](this=grouped(first), expression=grouped(second))

    def call(self, node: ast.Call) -> exp.Expr:
        function = FUNCTIONS[node.func]
        if function.kind is Kind.WINDOW:
            return column(self.windows[id(node)].column)
        assert function.kind is Kind.SCALAR, node.func  # aggregates are compiled by `aggregate`
        keywords = {k.name: self.expr(k.value) for k in node.keywords}
        arguments = [self.argument(a, node) for a in node.args]
        kinds = [self.kind(a) for a in node.args]
        if node.func in translations.LOCAL_TIME:
            zone = self.zone_of(node)
            arguments = [
                LocalTime(this=a, zone=exp.Literal.string(zone)) if k == "datetime" else exp.cast(a, DATE)
                for a, k in zip(arguments, kinds, strict=True)
            ]
        elif self.kind(node) == "datetime":
            zone = self.zone_of(node)
            arguments = [self.midnight(a, zone) if k == "date" else a for a, k in zip(arguments, kinds, strict=True)]
        return translations.SCALARS[node.func](FUNCTIONS[node.func].bind(arguments, keywords))

    def argument(self, node: ast.Expr, call: ast.Call) -> exp.Expr:
        """An argument; a `null` literal typed as the call's result, so that the dialect knows its type."""
        if isinstance(node, ast.Null):
            kind = self.kind(call)
            if kind in TYPES and call.func in ("coalesce", "least", "greatest", "abs", "round"):
                return exp.cast(exp.null(), TYPES[kind])
        return self.expr(node)

    def membership(self, node: ast.In) -> exp.Expr:
        items = node.items.items
        literals = [i for i in items if isinstance(i, (ast.Number, ast.String, ast.Bool))]
        if len(literals) == len(items):
            value = grouped(self.expr(node.operand))
            values = [self.expr(i) for i in literals]
            if any(isinstance(i, ast.Number) for i in literals):  # ints and floats compare as floats
                value, values = double(value), [double(v) for v in values]
            found: exp.Expr = exp.In(this=value, expressions=values)
        else:
            value, *others = (grouped(e) for e in self.temporal([node.operand, *items]))
            matches = [exp.Coalesce(this=exp.EQ(this=value.copy(), expression=o), expressions=[exp.false()]) for o in others]
            found = exp.Case(
                ifs=[exp.If(this=exp.Is(this=value, expression=exp.null()), true=exp.null())],
                default=exp.or_(*matches) if matches else exp.false(),
            )
        return exp.Not(this=exp.Paren(this=found)) if node.negated else found

    # -- time -------------------------------------------------------------------------------------

    def kind(self, node: ast.Expr) -> str | None:
        found = self.model.types.get(id(node))
        return found.kind if found is not None else None

    def midnight(self, day: exp.Expr, zone: str) -> exp.Expr:
        return LocalMidnight(this=day, zone=exp.Literal.string(zone))

    def temporal(self, nodes: list[ast.Expr]) -> list[exp.Expr]:
        """Operands of one operator, compiled so that they compare: a date that meets a datetime is the instant of
        its local midnight in the datetimes' zone (the project's when they are of several zones)."""
        compiled = [self.expr(n) for n in nodes]
        kinds = [self.kind(n) for n in nodes]
        if "datetime" not in kinds:
            return compiled
        zones = {self.zone_of(n) for n, kind in zip(nodes, kinds, strict=True) if kind == "datetime"}
        zone = next(iter(zones)) if len(zones) == 1 else self.project_zone()
        return [self.midnight(e, zone) if k == "date" else e for e, k in zip(compiled, kinds, strict=True)]

    def zone_of(self, node: ast.Expr) -> str:
        """The time zone of the datetimes in `node` (`metricdsl.engine.plan.zone_of`)."""
        return zone_of(self.model, node)

    def project_zone(self) -> str:
        return self.model.definitions.calendar.timezone or DEFAULT_ZONE

    def time_kind(self, source: str) -> str:
        time = self.model.definitions.sources[source].time or ""
        derived = self.model.sources[source].derived.get(time)
        if derived is not None:
            return self.kind(derived) or "datetime"
        return self.model.definitions.sources[source].columns[time].type

    def instant(self, source: str) -> exp.Expr:
        """The time of `source`'s rows as an instant: a date is the first moment of that local day."""
        moment = self.column(source, self.model.definitions.sources[source].time or "")
        if self.time_kind(source) == "date":
            return self.midnight(moment, self.model.definitions.zone(source))
        return moment

    def local_date(self, source: str) -> exp.Expr:
        """The local date of `source`'s time, in its zone."""
        moment = self.column(source, self.model.definitions.sources[source].time or "")
        if self.time_kind(source) == "date":
            return moment
        return exp.cast(LocalTime(this=moment, zone=exp.Literal.string(self.model.definitions.zone(source))), DATE)

    # -- columns ----------------------------------------------------------------------------------

    def name(self, node: ast.Name) -> exp.Expr:
        ref = self.model.refs[id(node)]
        assert ref.source is not None, ref  # row-level: a column of a source
        return self.column(ref.source, ref.name)

    def column(self, source: str, name: str) -> exp.Expr:
        """A column or derived column of `source` by name; a duration column in microseconds."""
        derived = self.model.sources[source].derived.get(name)
        if derived is not None:
            return exp.Paren(this=self.expr(derived))
        self.columns_read.setdefault(source, set()).add(name)
        declared = self.model.definitions.sources[source].columns[name]
        if declared.type == "duration":
            scale = TIME_UNITS.get(declared.unit or "s", 1.0) * MICROS
            return exp.Round(this=exp.Mul(this=double(column(name)), expression=number(float(scale))))
        return column(name)

    # -- aggregates -------------------------------------------------------------------------------

    def aggregate(self, aggregate: Aggregate, metric: str) -> list[exp.Expr]:
        """The aliased value and observation-count expressions of one aggregate, for a GROUP BY."""
        node = aggregate.node
        filters = [c for c in (aggregate.where, node.where, *aggregate.added) if c is not None]
        conditions: list[exp.Expr] = [grouped(self.expr(c)) for c in filters]
        keep = functools.reduce(lambda a, b: exp.And(this=a, expression=b), conditions) if conditions else None

        def masked(value: exp.Expr) -> exp.Expr:
            return value if keep is None else when(keep.copy(), value)

        censored = self.censored_rows(aggregate, keep)
        if not node.args:  # count(): the rows
            rows = exp.Count(this=exp.Star()) if keep is None else exp.Count(this=when(keep, exp.Literal.number(1)))
            return [
                exp.alias_(exp.cast(rows, BIGINT), aggregate.column, quoted=True),
                exp.alias_(exp.cast(rows.copy(), BIGINT), aggregate.n_column, quoted=True),
                *censored,
            ]
        argument = self.expr(node.args[0])
        if self.model.type_of(node.args[0]).kind == "bool":  # a condition: 1 when true
            result_kind = self.model.type_of(node).kind
            argument = exp.cast(argument, INT)  # Postgres casts a boolean to INTEGER only, not BIGINT or a float
            argument = double(argument) if result_kind == "float" else argument
        value_in = masked(argument)
        value = translations.AGGREGATES[node.func](value_in, node)
        if isinstance(value, ExactQuantile):
            value.set("metric", exp.Literal.string(metric))
        if node.func == "sum" and self.model.type_of(node).kind == "int":
            value = exp.cast(value, BIGINT)  # not DuckDB's HUGEINT
        found = [
            exp.alias_(value, aggregate.column, quoted=True),
            exp.alias_(exp.cast(exp.Count(this=value_in.copy()), BIGINT), aggregate.n_column, quoted=True),
        ]
        if aggregate.sd_column:
            found.append(exp.alias_(exp.StddevSamp(this=double(value_in.copy())), aggregate.sd_column, quoted=True))
        if aggregate.trailing is not None and node.func in ("sum", "mean", "share"):
            total = exp.Coalesce(this=exp.Sum(this=value_in.copy()), expressions=[exp.Literal.number(0)])
            found.append(exp.alias_(total, aggregate_part(aggregate.column, "sum"), quoted=True))
            if aggregate.sd_column is not None:
                square = exp.Mul(this=value_in.copy(), expression=value_in.copy())
                squares = exp.Coalesce(this=exp.Sum(this=square), expressions=[exp.Literal.number(0)])
                found.append(exp.alias_(squares, aggregate_part(aggregate.column, "squares"), quoted=True))
        return [*found, *censored]

    def censored_rows(self, aggregate: Aggregate, keep: exp.Expr | None) -> list[exp.Expr]:
        """The number of rows whose censored window the aggregate reads, among the rows its filters do not exclude
        (a null filter does not exclude); nothing for an aggregate that reads no window."""
        node = aggregate.node
        trees = [*node.args[:1], *(c for c in (aggregate.where, node.where, *aggregate.added) if c is not None)]
        calls = self.windows_in(aggregate.source, trees) if aggregate.source is not None else []
        flags: list[exp.Expr] = [column(self.windows[id(w)].flag) for w in calls if id(w) in self.windows]
        if not flags:
            return []
        rows: exp.Expr = exp.Paren(this=exp.or_(*flags))
        if keep is not None:
            rows = exp.And(this=rows, expression=exp.Coalesce(this=keep.copy(), expressions=[exp.true()]))
        counted = exp.Sum(this=exp.Case(ifs=[exp.If(this=rows, true=exp.Literal.number(1))], default=exp.Literal.number(0)))
        total = exp.cast(exp.Coalesce(this=counted, expressions=[exp.Literal.number(0)]), BIGINT)
        self.censored_aggregates.add(aggregate.column)
        return [exp.alias_(total, aggregate_part(aggregate.column, "censored"), quoted=True)]

    # -- windows ----------------------------------------------------------------------------------

    def windows_in(self, source: str, trees: list[ast.Expr]) -> list[ast.Call]:
        """The window calls evaluated on `source`'s rows by `trees`, through derived columns too."""
        return window_calls(self.model, source, trees)

    def plan_windows(self, source: str, calls: list[ast.Call]) -> None:
        """Record each window call of `source` (`Window`), and those that their filters need, recursively."""
        for call in calls:
            if id(call) in self.windows:
                continue
            form = window_form(call)
            target = call.args[0].name  # type: ignore[union-attr]
            read = form[1] if form is not None and form[0] != "count" else None  # the column of `value=`, `sum=`
            needs = self.windows_in(target, [t for t in (call.where, read) if t is not None])
            self.plan_windows(target, needs)  # before its filter and value, which read their columns
            mine, theirs = self.window_keys(call, source, target)
            where = self.expr(call.where) if call.where is not None else None
            forward = translations.WINDOWS[call.func]
            seconds = call.args[1].seconds  # type: ignore[union-attr]
            self.windows[id(call)] = Window(
                call,
                source,
                target,
                window_column(len(self.windows)),
                mine,
                theirs,
                where,
                needs,
                round(seconds * MICROS),
                forward,
                self.horizon(target) if forward else None,
                form[0] if form is not None else None,
                self.expr(read) if read is not None else None,
                self.kind(read) if read is not None else None,
            )
            self.instant(source), self.instant(target)  # the time columns are read

    def horizon(self, source: str) -> int | None:
        """The given horizon of `source`'s data in microseconds since the epoch: the request's `as_of`, else the
        source's `complete_until` (local time in its zone unless it has an offset)."""
        given = self.as_of or self.model.definitions.sources[source].complete_until
        if given is None:
            return None
        if given.tzinfo is None:
            given = given.replace(tzinfo=ZoneInfo(self.model.definitions.zone(source)))
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (given - epoch) // datetime.timedelta(microseconds=1)

    def window_keys(self, call: ast.Call, source: str, target: str) -> tuple[list[exp.Expr], list[exp.Expr]]:
        pairs = window_key_names(self.model, call, source, target)
        return [self.column(source, m) for m, _ in pairs], [self.column(target, t) for _, t in pairs]
