"""The SQL of a metric's expression over its group's row of aggregates: what `Compiler.expr` computes in Polars once the
aggregates are columns (arithmetic, comparisons, `case`, the scalar functions of aggregates and metrics, and
`prev`/`change`/`pct_change` over the periods of a group).

Each node keeps the Polars semantics in every dialect: a division by zero is null, `least`/`greatest` skip nulls,
`between` and `in` are null when an operand is, `round` ties to even, numbers with a fraction are DOUBLE (Spark reads
`0.5` as a DECIMAL).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from metricdsl.errors import RequestError
from metricdsl.language import ast
from metricdsl.language.functions import FUNCTIONS, Kind
from metricdsl.semantics.model import PERIOD_FUNCTIONS, Model

BINARY: dict[str, type[exp.Binary]] = {
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


def wrapped(value: exp.Expression) -> exp.Expression:
    """`value` in parentheses when it is an operation, so that it keeps its place as an operand."""
    return exp.Paren(this=value) if isinstance(value, (exp.Binary, exp.Connector, exp.Not, exp.Neg)) else value


def double(value: exp.Expression) -> exp.Expression:
    return exp.cast(value, exp.DataType.build("DOUBLE"))


def number(value: float) -> exp.Expression:
    """A literal number: an integer as such, any other as a DOUBLE."""
    if isinstance(value, int) and not isinstance(value, bool):
        return exp.Literal.number(value) if value >= 0 else exp.Neg(this=exp.Literal.number(-value))
    return double(exp.Literal.number(repr(float(value))))


def safe_divide(numerator: exp.Expression, denominator: exp.Expression, op: str = "/") -> exp.Expression:
    """`numerator / denominator` (or `%`), null when the denominator is zero or null; `/` always in DOUBLE."""
    nonzero = exp.Nullif(this=denominator, expression=exp.Literal.number(0))
    if op == "/":
        return exp.Div(this=double(numerator), expression=nonzero)
    return exp.Mod(this=numerator, expression=nonzero)


def skipping_nulls(func: type[exp.Func], values: list[exp.Expression]) -> exp.Expression:
    """`least`/`greatest` of the values that are not null (null when all are), as Polars' `min_horizontal`; a plain
    `LEAST` is null as soon as one value is in Snowflake, BigQuery and Trino."""
    if len(values) == 1:
        return values[0]
    firsts = [exp.Coalesce(this=v, expressions=[o.copy() for o in values if o is not v]) for v in values]
    return func(this=firsts[0], expressions=firsts[1:], ignore_nulls=True)


def _round(args: list[exp.Expression], digits: int) -> exp.Expression:
    """Ties to even on `x * 10**digits`, as Polars rounds (a SQL `ROUND` ties away from zero, or to even in Postgres):
    a tie is rounded as twice the rounded half, which is never a tie."""
    scale = number(10.0**digits)
    scaled = exp.Mul(this=wrapped(args[0]), expression=scale) if digits else args[0]
    tie = exp.EQ(this=exp.Sub(this=scaled, expression=exp.Floor(this=scaled.copy())), expression=number(0.5))
    even = exp.Mul(
        this=exp.Literal.number(2), expression=exp.Round(this=exp.Div(this=scaled.copy(), expression=number(2.0)))
    )
    rounded = exp.Case(ifs=[exp.If(this=tie, true=even)], default=exp.Round(this=scaled.copy()))
    return exp.Div(this=rounded, expression=scale.copy()) if digits else rounded


class MetricCompiler:
    """Compiles a metric's tree given the columns of its aggregates (by call), of the metrics it reads (by name), and
    how to take a value of the previous period of the same group."""

    def __init__(
        self,
        model: Model,
        metric: str,
        aggregates: dict[int, str],
        metrics: dict[str, str],
        previous: Callable[[exp.Expression], exp.Expression] | None,
    ) -> None:
        self.model, self.metric = model, metric
        self.aggregates, self.metrics, self.previous = aggregates, metrics, previous

    def unsupported(self, what: str) -> RequestError:
        return RequestError(f"metric `{self.metric}`: {what} is not in the SQL output yet; evaluate it with `eval`")

    def kind(self, node: ast.Expr) -> str | None:
        found = self.model.types.get(id(node))
        return found.kind if found is not None else None

    def compared(self, nodes: list[ast.Expr]) -> list[exp.Expression]:
        kinds = {self.kind(n) for n in nodes}
        if "datetime" in kinds and "date" in kinds:
            raise self.unsupported("a date compared with a datetime")
        return [self.expr(n) for n in nodes]

    def expr(self, node: ast.Expr) -> exp.Expression:  # noqa: PLR0911, PLR0912 (one case per node)
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
                return BINARY[op](this=wrapped(first), expression=wrapped(second))
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

    def membership(self, node: ast.In) -> exp.Expression:
        """`x in [...]`: null when `x` is; else whether it equals an item (an item that is null equals nothing)."""
        value, *items = self.compared([node.operand, *node.items.items])
        found = exp.or_(
            *(exp.Coalesce(this=exp.EQ(this=value.copy(), expression=i), expressions=[exp.false()]) for i in items)
        )
        known = exp.Case(ifs=[exp.If(this=exp.Is(this=value, expression=exp.Null()), true=exp.Null())], default=found)
        return exp.Not(this=known) if node.negated else known

    def call(self, node: ast.Call) -> exp.Expression:
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
        if function.kind is not Kind.SCALAR:
            raise self.unsupported(f"`{node.func}`")
        args = [self.expr(a) for a in node.args]
        match node.func:
            case "coalesce":
                if len({self.kind(a) for a in node.args} & {"date", "datetime"}) > 1:
                    raise self.unsupported("`coalesce` of a date and a datetime")
                return exp.Coalesce(this=args[0], expressions=args[1:])
            case "abs":
                return exp.Abs(this=args[0])
            case "least":
                return skipping_nulls(exp.Least, args)
            case "greatest":
                return skipping_nulls(exp.Greatest, args)
            case "round":
                if self.kind(node.args[0]) == "int":
                    return args[0]
                digits = node.args[1] if len(node.args) > 1 else None
                if digits is not None and not isinstance(digits, ast.Number):
                    raise self.unsupported("`round` to a number of digits that is not a literal")
                return _round(args, int(digits.value) if digits is not None else 0)
        raise self.unsupported(f"`{node.func}` of aggregates")
