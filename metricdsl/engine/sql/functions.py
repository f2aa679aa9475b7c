"""The SQL translation of each function of the language, by name: one table per kind, as sqlglot trees.

Every scalar and aggregate row of `metricdsl.language.functions` has its translation here (a test checks it).

- `SCALARS`: the compiled arguments, in parameter order (`Function.bind`), to the value. The functions of local
  time (`LOCAL_TIME`) receive their timestamps as wall-clock times of their zone (the compiler converts them);
- `AGGREGATES`: the values of a group (null for rows its filters leave out) and the call, to the aggregate;
- `WINDOWS`: whether a window looks forward (`followed_by`) or backward (`preceded_by`) in time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from metricdsl.engine.sql.dialects import ExactQuantile, IsoWeekday

__all__ = ["AGGREGATES", "LOCAL_TIME", "SCALARS", "WINDOWS", "ExactQuantile"]
from metricdsl.language import ast
from metricdsl.language.functions import PERCENTILES, quantile_probability

ScalarTranslation = Callable[[Sequence[exp.Expr]], exp.Expr]
AggregateTranslation = Callable[[exp.Expr, ast.Call], exp.Expr]

DOUBLE = exp.DataType.build("DOUBLE")
BIGINT = exp.DataType.build("BIGINT")
INT = exp.DataType.build("INT")
DATE = exp.DataType.build("DATE")


def double(value: exp.Expr) -> exp.Expr:
    """`value` as a DOUBLE: Spark reads `1.0` as a DECIMAL, and an integer division would truncate."""
    if isinstance(value, exp.Cast) and value.to.is_type(exp.DataType.Type.DOUBLE):
        return value
    return exp.cast(value, DOUBLE)


def number(value: float) -> exp.Expr:
    """A number literal: an int as is, a float cast to DOUBLE."""
    if isinstance(value, bool) or not isinstance(value, float):
        return exp.Literal.number(value)
    return double(exp.Literal.number(repr(value)))


def when(condition: exp.Expr, value: exp.Expr) -> exp.Expr:
    """`value` where `condition` is true, else null."""
    return exp.Case(ifs=[exp.If(this=condition, true=value)])


def safe_divide(numerator: exp.Expr, denominator: exp.Expr, op: str = "/") -> exp.Expr:
    """`numerator / denominator` as DOUBLE (or `%`, the remainder with the sign of the denominator, as Polars and
    Python give), null when the denominator is zero or null: Spark and Postgres raise on a zero."""
    nonzero = exp.NEQ(this=denominator.copy(), expression=exp.Literal.number(0))
    if op == "/":
        return when(nonzero, exp.Div(this=double(numerator), expression=double(denominator)))
    quotient = exp.Floor(this=exp.Div(this=double(numerator.copy()), expression=double(denominator.copy())))
    remainder = exp.Sub(this=numerator, expression=exp.Mul(this=denominator, expression=quotient))
    return when(nonzero, remainder)


def _round(args: Sequence[exp.Expr]) -> exp.Expr:
    """`round(x)` or `round(x, digits)`: ties to even on x * 10**digits, as Polars rounds, in every dialect (their
    ROUND rounds ties away from zero)."""
    digits = int(args[1].name) if len(args) > 1 else 0
    scale = exp.Pow(this=double(exp.Literal.number(10)), expression=exp.Literal.number(digits))
    scaled = exp.Mul(this=double(args[0]), expression=scale)
    low = exp.Floor(this=scaled.copy())
    fraction = exp.Sub(this=scaled.copy(), expression=low.copy())
    two = double(exp.Literal.number(2))  # `low` is even when halving it keeps it whole (Postgres has no float MOD)
    even = exp.EQ(
        this=exp.Mul(this=exp.Floor(this=exp.Div(this=low.copy(), expression=two)), expression=two.copy()),
        expression=low.copy(),
    )
    tie = exp.Case(
        ifs=[exp.If(this=even, true=low.copy())],
        default=exp.Add(this=low.copy(), expression=exp.Literal.number(1)),
    )
    half = double(exp.Literal.number("0.5"))
    rounded = exp.Case(
        ifs=[exp.If(this=exp.EQ(this=fraction, expression=half), true=tie)],
        default=exp.Round(this=scaled),
    )
    return exp.Div(this=rounded, expression=scale.copy())


def _extreme(smallest: bool) -> ScalarTranslation:
    """`least`/`greatest` that ignore nulls (null only when every argument is), as Polars' horizontal min and max,
    in every dialect: each argument replaced by the first known of the others where it is null."""

    def translate(args: Sequence[exp.Expr]) -> exp.Expr:
        rotations = [
            exp.Coalesce(this=args[i].copy(), expressions=[a.copy() for a in (*args[i + 1 :], *args[:i])])
            for i in range(len(args))
        ]
        node = exp.Least if smallest else exp.Greatest
        return node(this=rotations[0], expressions=rotations[1:])

    return translate


def _position(args: Sequence[exp.Expr]) -> exp.Expr:
    """Whether `args[1]` occurs in `args[0]` as text (not a pattern)."""
    found = exp.StrPosition(this=args[0], substr=args[1])
    return exp.GT(this=found, expression=exp.Literal.number(0))


def _starts(args: Sequence[exp.Expr]) -> exp.Expr:
    prefix = exp.Substring(this=args[0], start=exp.Literal.number(1), length=exp.Length(this=args[1].copy()))
    return exp.EQ(this=prefix, expression=args[1])


def _ends(args: Sequence[exp.Expr]) -> exp.Expr:
    length = exp.Length(this=args[1].copy())
    start = exp.Add(
        this=exp.Sub(this=exp.Length(this=args[0].copy()), expression=length.copy()), expression=exp.Literal.number(1)
    )
    suffix = exp.Substring(this=args[0], start=start, length=length)
    # An empty suffix ends every text; a suffix longer than the text ends none (SUBSTRING from before 1 would cut).
    longer = exp.GT(this=length.copy(), expression=exp.Length(this=args[0].copy()))
    return exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=length.copy(), expression=exp.Literal.number(0)), true=exp.true()),
            exp.If(this=longer, true=exp.false()),
        ],
        default=exp.EQ(this=suffix, expression=args[1]),
    )


def _day(value: exp.Expr) -> exp.Expr:
    return exp.cast(value, DATE)


# The functions that read local time: their timestamps arrive as wall-clock times in their zone.
LOCAL_TIME = frozenset({"hour", "weekday", "date", "days_between"})

SCALARS: dict[str, ScalarTranslation] = {
    "coalesce": lambda args: exp.Coalesce(this=args[0], expressions=list(args[1:])),
    "abs": lambda args: exp.Abs(this=args[0]),
    "round": _round,
    "lower": lambda args: exp.Lower(this=args[0]),
    "upper": lambda args: exp.Upper(this=args[0]),
    "contains": _position,
    "starts_with": _starts,
    "ends_with": _ends,
    "hour": lambda args: exp.cast(exp.Extract(this=exp.var("HOUR"), expression=args[0]), BIGINT),
    "weekday": lambda args: exp.cast(IsoWeekday(this=_day(args[0])), BIGINT),
    "date": lambda args: _day(args[0]),
    "days_between": lambda args: exp.cast(
        exp.DateDiff(this=_day(args[1]), expression=_day(args[0]), unit=exp.var("DAY")), BIGINT
    ),
    "least": _extreme(smallest=True),
    "greatest": _extreme(smallest=False),
}


def _quantile(values: exp.Expr, call: ast.Call) -> exp.Expr:
    """The exact linear quantile (never an approximate function): Polars' `interpolation="linear"`."""
    return ExactQuantile(
        this=double(values),
        quantile=exp.Literal.number(repr(quantile_probability(call))),
        function=exp.Literal.string(call.func),
    )


def _sum(values: exp.Expr, _: ast.Call) -> exp.Expr:
    return exp.Sum(this=values)


AGGREGATES: dict[str, AggregateTranslation] = {
    "count": lambda values, _: exp.cast(exp.Count(this=values), BIGINT),
    "count_distinct": lambda values, _: exp.cast(exp.Count(this=exp.Distinct(expressions=[values])), BIGINT),
    "sum": _sum,  # null of no values, as SQL's SUM
    "mean": lambda values, _: exp.Avg(this=double(values)),
    "min": lambda values, _: exp.Min(this=values),
    "max": lambda values, _: exp.Max(this=values),
    "stddev": lambda values, _: exp.StddevSamp(this=double(values)),
    "variance": lambda values, _: exp.Variance(this=double(values)),
    "quantile": _quantile,
    **dict.fromkeys(PERCENTILES, _quantile),
    "share": lambda values, _: exp.Avg(this=double(values)),
}

WINDOWS: dict[str, bool] = {"followed_by": True, "preceded_by": False}  # looks forward in time
