"""The SQL of a metric's expression over its group's row of aggregates: what `Compiler.expr` computes in Polars once the
aggregates are columns (arithmetic, comparisons, `case`, the scalar functions of aggregates and metrics, and
`prev`/`change`/`pct_change` over the periods of a group, `of_total` and `spread` from the values across groups joined
to the group).

Each node keeps the Polars semantics in every dialect: a division by zero is null, `between` and `in` are null when an
operand is; the scalar functions are those of the row expressions (`metricdsl.engine.sql.functions`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from metricdsl.engine.across import Across, across_column
from metricdsl.engine.plan import zone_of
from metricdsl.engine.sql import functions as translations
from metricdsl.engine.sql.compiler import OPERATORS
from metricdsl.engine.sql.dialects import LocalTime
from metricdsl.engine.sql.functions import DATE, number, safe_divide
from metricdsl.errors import RequestError
from metricdsl.language import ast
from metricdsl.language.functions import ACROSS_TOTAL, FUNCTIONS, Kind
from metricdsl.semantics.model import PERIOD_FUNCTIONS, Model


def wrapped(value: exp.Expr) -> exp.Expr:
    """`value` in parentheses when it is an operation, so that it keeps its place as an operand."""
    return exp.Paren(this=value) if isinstance(value, (exp.Binary, exp.Connector, exp.Not, exp.Neg)) else value


def skipping_nulls(func: type[exp.Func], values: list[exp.Expr]) -> exp.Expr:
    """`least`/`greatest` of the values that are not null (null when all are), as Polars' `min_horizontal`; a plain
    `LEAST` is null as soon as one value is in Snowflake, BigQuery and Trino."""
    if len(values) == 1:
        return values[0]
    firsts = [exp.Coalesce(this=v, expressions=[o.copy() for o in values if o is not v]) for v in values]
    return func(this=firsts[0], expressions=firsts[1:], ignore_nulls=True)


class MetricCompiler:
    """Compiles a metric's tree given the columns of its aggregates (by call), of the metrics it reads (by name), how
    to take a value of the previous period of the same group, and its functions across groups (by call), whose values
    are columns of the group (`metricdsl.engine.across.across_column`)."""

    def __init__(
        self,
        model: Model,
        metric: str,
        aggregates: dict[int, str],
        metrics: dict[str, str],
        previous: Callable[[exp.Expr], exp.Expr] | None,
        across: dict[int, Across] | None = None,
    ) -> None:
        self.model, self.metric = model, metric
        self.aggregates, self.metrics, self.previous = aggregates, metrics, previous
        self.across = across or {}

    def unsupported(self, what: str) -> RequestError:
        return RequestError(f"metric `{self.metric}`: {what} is not in the SQL output yet; evaluate it with `eval`")

    def kind(self, node: ast.Expr) -> str | None:
        found = self.model.types.get(id(node))
        return found.kind if found is not None else None

    def compared(self, nodes: list[ast.Expr]) -> list[exp.Expr]:
        kinds = {self.kind(n) for n in nodes}
        if "datetime" in kinds and "date" in kinds:
            raise self.unsupported("a date compared with a datetime")
        return [self.expr(n) for n in nodes]

    def expr(self, node: ast.Expr) -> exp.Expr:
        match node:
            case ast.Bool(value=value):
                return exp.Boolean(this=value)
            case ast.Number(value=value):
                return number(value)
            case ast.String(value=value):
                return exp.Literal.string(value)
            case ast.Null():
                return exp.Null()
            case ast.Duration(seconds=seconds):
                per_unit = self.model.duration_units.get(id(node))
                if per_unit is None:
                    raise self.unsupported("a duration without a unit")
                return number(seconds / per_unit)
            case ast.Date(value=value):
                return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
            case ast.Name(name=name):
                ref = self.model.refs[id(node)]
                assert ref.kind == "metric", ref  # the checker lets only metrics be read beside aggregates
                return exp.column(self.metrics.get(name, name), quoted=True)
            case ast.Unary(op="not", operand=operand):
                return exp.Not(this=wrapped(self.expr(operand)))
            case ast.Unary(operand=operand):
                return exp.Neg(this=wrapped(self.expr(operand)))
            case ast.Binary(op=op, left=left, right=right):
                if op in ("/", "%"):
                    return safe_divide(wrapped(self.expr(left)), self.expr(right), op)
                first, second = self.compared([left, right])
                return OPERATORS[op](this=wrapped(first), expression=wrapped(second))
            case ast.In():
                return self.membership(node)
            case ast.Between(operand=operand, low=low, high=high):
                tested, lowest, highest = self.compared([operand, low, high])
                unknown = exp.or_(*(exp.Is(this=e.copy(), expression=exp.Null()) for e in (tested, lowest, highest)))
                inside = exp.and_(exp.GTE(this=tested, expression=lowest), exp.LTE(this=tested.copy(), expression=highest))
                return exp.Case(ifs=[exp.If(this=unknown, true=exp.Null())], default=inside)
            case ast.IsNull(operand=operand, negated=negated):
                test = exp.Is(this=self.expr(operand), expression=exp.Null())
                return exp.Not(this=test) if negated else test
            case ast.Case(whens=whens, otherwise=otherwise):
                branches = [exp.If(this=self.expr(c), true=self.expr(v)) for c, v in whens]
                self.compared([v for _, v in whens] + ([otherwise] if otherwise is not None else []))
                return exp.Case(ifs=branches, default=self.expr(otherwise) if otherwise is not None else None)
            case ast.Call():
                return self.call(node)
        raise AssertionError(f"unhandled node {node!r}")

    def membership(self, node: ast.In) -> exp.Expr:
        """`x in [...]`: null when `x` is; else whether it equals an item (an item that is null equals nothing)."""
        value, *items = self.compared([node.operand, *node.items.items])
        found = exp.or_(
            *(exp.Coalesce(this=exp.EQ(this=value.copy(), expression=i), expressions=[exp.false()]) for i in items)
        )
        known = exp.Case(ifs=[exp.If(this=exp.Is(this=value, expression=exp.Null()), true=exp.Null())], default=found)
        return exp.Not(this=known) if node.negated else known

    def call(self, node: ast.Call) -> exp.Expr:
        function = FUNCTIONS[node.func]
        if function.kind is Kind.AGGREGATE:
            return exp.column(self.aggregates[id(node)], quoted=True)
        if function.kind is Kind.RULE and node.func in PERIOD_FUNCTIONS and self.previous is not None:
            value = self.expr(node.args[0])
            before = self.previous(value)
            if node.func == "prev":
                return before
            change = exp.Sub(this=wrapped(value.copy()), expression=before)
            return change if node.func == "change" else safe_divide(change, exp.Abs(this=before.copy()))
        if function.kind is Kind.ACROSS:  # the period's total (a share of it), or the spread over a dimension
            value = exp.column(across_column(self.across[id(node)].column), quoted=True)
            return safe_divide(self.expr(node.args[0]), value) if node.func == ACROSS_TOTAL else value
        if function.kind is not Kind.SCALAR:
            raise self.unsupported(f"`{node.func}`")
        kinds = {self.kind(a) for a in node.args}
        if self.kind(node) == "datetime" and "date" in kinds:
            raise self.unsupported(f"`{node.func}` of a date and a datetime")
        arguments = [self.expr(a) for a in node.args]
        if node.func in translations.LOCAL_TIME:  # the wall-clock time in the zone of the sources read
            zone = exp.Literal.string(zone_of(self.model, node))
            arguments = [
                LocalTime(this=a, zone=zone.copy()) if self.kind(n) == "datetime" else exp.cast(a, DATE)
                for a, n in zip(arguments, node.args, strict=True)
            ]
        keywords = {k.name: self.expr(k.value) for k in node.keywords}
        return translations.SCALARS[node.func](function.bind(arguments, keywords))
