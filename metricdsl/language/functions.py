"""The functions of the language, one row each: the registry that the checker and every backend read.

A row (`Function`) declares a function once: its name, its kind (aggregate, window, scalar or rule function),
its signature (positional parameters, each with the form of its argument and the kinds of value it accepts;
keywords), its usage text, and how the type and unit of its value follow from its arguments. Each backend
translates the rows by name in a table of its own (`metricdsl.engine.polars.functions` for Polars), and a test
makes sure that no row lacks a translation.

Adding a function is adding its row here, its translation in each backend and its implementation in the
reference evaluator of the tests. The percentiles (`median`, `p50`, `p90`, ...) are one table, `PERCENTILES`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from metricdsl.language import ast
from metricdsl.language.units import UnitRule, no_unit, same_unit, squared_unit

T = TypeVar("T")

# Kinds of value, as the checker names the type of an expression.
NUMERIC = frozenset({"int", "float"})
TEMPORAL = frozenset({"datetime", "date"})
ORDERED = NUMERIC | TEMPORAL | {"str", "duration"}
MEASURABLE = NUMERIC | {"bool", "duration"}  # what sums, means and quantiles read: true counts as 1


class Kind(enum.Enum):
    """Where a function is called and what it reads."""

    AGGREGATE = "aggregate"  # in a metric: the rows of a group to one value; takes a `where`
    WINDOW = "window"  # per row: whether rows of a source follow or precede this one; takes a `where`
    SCALAR = "scalar"  # per row or per group: values to a value
    RULE = "rule function"  # in rules and thresholds (prev, change, pct_change in metrics too): a fact about a metric
    # In metric expressions only: a metric set against its values in other groups of the same period, each computed
    # from the rows of its own group (`of_total`, `spread`): after aggregation, never from the groups' values.
    ACROSS = "function across groups"


class Form(enum.Enum):
    """How an argument must be written, beyond the kind of its value."""

    VALUE = "an expression"
    SOURCE = "a source name"
    DURATION = "a duration literal"
    PROBABILITY = "a number from 0 to 1"
    DIGITS = "a whole number from 0 to 15"
    METRIC = "a metric name"
    CHANGE = "a change of a metric: change(m) or pct_change(m)"
    DIMENSION = "a column name of the metric's source"


# The rule functions whose value is a change of a metric, which `significant` tests.
CHANGES = ("change", "pct_change")


@dataclass(frozen=True)
class Parameter:
    """A positional parameter: its name (in usage texts, and as a keyword where the function takes one), the
    form of its argument and, for a value, the kinds it accepts (None: any kind). `hint` says what to write
    instead of a value of another kind."""

    name: str
    accepts: frozenset[str] | None = None
    form: Form = Form.VALUE
    hint: str | None = None


class Result(enum.Enum):
    """How the kind of a function's value follows from its arguments, where it is not one fixed kind."""

    ARGUMENT = "the kind of its first argument"
    COMMON = "the common kind of its arguments"
    SUM = "int for int or bool values, float for floats, duration for durations"
    STATISTIC = "float, or duration for durations"


@dataclass(frozen=True)
class Function:
    """One function of the language.

    `returns` is a fixed kind (`"int"`, `"bool"`, ...) or a `Result` rule; `unit` gives the unit of the value
    from the unit of the first argument (for `Result.COMMON`, of the arguments' common type). A wrong kind of
    argument makes the call's type invalid, which silences the errors its uses would raise; with
    `keeps_type`, the call keeps its fixed kind instead (`share` of a number is still a float). `counts`:
    its value over no rows is 0, not null.

    `parameters` are positional; the last `optional` ones may be left out, and with `variadic` the last one
    repeats. `keywords` are the names it accepts as `name=value`: a parameter's name, or an option (`on`).
    """

    name: str
    kind: Kind
    parameters: tuple[Parameter, ...]
    usage: str
    returns: str | Result
    unit: UnitRule
    optional: int = 0
    variadic: bool = False
    keywords: tuple[str, ...] = ()
    keeps_type: bool = False
    counts: bool = False

    @property
    def min_args(self) -> int:
        """The fewest positional arguments it takes."""
        return len(self.parameters) - self.optional

    @property
    def max_args(self) -> int | None:
        """The most positional arguments it takes; None: any number."""
        return None if self.variadic else len(self.parameters)

    def parameter(self, index: int) -> Parameter:
        """The parameter of the positional argument at `index` (the last one repeats when variadic)."""
        return self.parameters[min(index, len(self.parameters) - 1)]

    def bind(self, arguments: Sequence[T], keywords: Mapping[str, T]) -> list[T]:
        """The arguments in parameter order: the positional ones, then the keywords that name the following
        parameters (`round(x, digits=2)` is `round(x, 2)`)."""
        bound = list(arguments)
        for parameter in self.parameters[len(arguments) :]:
            if parameter.name not in keywords:
                break
            bound.append(keywords[parameter.name])
        return bound


# The functions across groups. `of_total(m)`: m in the group divided by m computed over the rows of all groups of the
# period (the request's `by` dropped, the grain kept): a share for a count or a sum, m(group) / m(all) for a mean.
# `spread(m, dim)`: m computed per group, period and value of `dim` (a column of m's sources), then its largest minus its
# smallest value over the values that have rows in the period. One function for the spread rather than `max_over` and
# `min_over`: the question asked of a dimension is how far apart its values are; one call says it and computes m per
# value once, where the pair would compute it twice and allow a difference of two different dimensions.
ACROSS_TOTAL, ACROSS_SPREAD = "of_total", "spread"

# Percentiles by name, and the probability each computes (linear interpolation, as `quantile`).
PERCENTILES: dict[str, float] = {"median": 0.5, "p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99}

ANY_VALUE = Parameter("x")
MEASURE = Parameter("x", MEASURABLE)
ORDERED_VALUE = Parameter("x", ORDERED)
CONDITION = Parameter("condition", frozenset({"bool"}), hint="write a comparison, as in `share(nps_score >= 9)`")
PROBABILITY = Parameter("quantile", form=Form.PROBABILITY)
NUMBER = Parameter("x", NUMERIC)
TEXT = Parameter("text", frozenset({"str"}))
TIMESTAMP = Parameter("timestamp", TEMPORAL)
SOURCE_AND_WINDOW = (Parameter("source", form=Form.SOURCE), Parameter("window", form=Form.DURATION))
# A window's keywords: its keys, and at most one of the forms that give more than whether a row was found: `value=COL`,
# the value of COL (a column of the source looked in) on the nearest row found (the first after, the latest before;
# of several at that time, the least of their non-null values), in COL's type and unit; `count=true`, the number
# of rows found (an int, 0 when none); `sum=COL`, the sum of COL over them (nulls skipped, 0 when none). Null where
# the boolean window is null: the row's key or time is null, or the window is censored.
WINDOW_FORMS = ("value", "count", "sum")
WINDOW_KEYWORDS = ("on", *WINDOW_FORMS)
METRIC = Parameter("metric", form=Form.METRIC)
NUMERIC_METRIC = Parameter("metric", NUMERIC, form=Form.METRIC, hint="a share or a spread is of a numeric metric")

_ROWS: tuple[Function, ...] = (
    # name, kind, parameters, usage, returns, unit, options
    Function(
        "count",
        Kind.AGGREGATE,
        (ANY_VALUE,),
        "count() or count(x), with an optional `where`",
        "int",
        no_unit,
        optional=1,
        counts=True,
    ),
    Function("count_distinct", Kind.AGGREGATE, (ANY_VALUE,), "count_distinct(x)", "int", no_unit, counts=True),
    Function("sum", Kind.AGGREGATE, (MEASURE,), "sum(x)", Result.SUM, same_unit),
    Function("mean", Kind.AGGREGATE, (MEASURE,), "mean(x)", Result.STATISTIC, same_unit),
    Function("min", Kind.AGGREGATE, (ORDERED_VALUE,), "min(x)", Result.ARGUMENT, same_unit),
    Function("max", Kind.AGGREGATE, (ORDERED_VALUE,), "max(x)", Result.ARGUMENT, same_unit),
    Function("stddev", Kind.AGGREGATE, (MEASURE,), "stddev(x)", Result.STATISTIC, same_unit),
    # The sample variance, in the square of x's unit; not of durations, whose square is no duration.
    Function("variance", Kind.AGGREGATE, (Parameter("x", NUMERIC | {"bool"}),), "variance(x)", "float", squared_unit),
    Function("quantile", Kind.AGGREGATE, (MEASURE, PROBABILITY), "quantile(x, 0.9)", Result.STATISTIC, same_unit),
    *(Function(name, Kind.AGGREGATE, (MEASURE,), f"{name}(x)", Result.STATISTIC, same_unit) for name in PERCENTILES),
    Function("share", Kind.AGGREGATE, (CONDITION,), "share(condition)", "float", no_unit, keeps_type=True),
    Function(
        "followed_by",
        Kind.WINDOW,
        SOURCE_AND_WINDOW,
        "followed_by(source [where condition], 30d [, on=keys] [, value=column | count=true | sum=column])",
        "bool",
        no_unit,
        keywords=WINDOW_KEYWORDS,
    ),
    Function(
        "preceded_by",
        Kind.WINDOW,
        SOURCE_AND_WINDOW,
        "preceded_by(source [where condition], 30d [, on=keys] [, value=column | count=true | sum=column])",
        "bool",
        no_unit,
        keywords=WINDOW_KEYWORDS,
    ),
    Function("coalesce", Kind.SCALAR, (ANY_VALUE,), "coalesce(a, b, ...)", Result.COMMON, same_unit, variadic=True),
    Function("abs", Kind.SCALAR, (NUMBER,), "abs(x)", Result.ARGUMENT, same_unit),
    Function(
        "round",
        Kind.SCALAR,
        (NUMBER, Parameter("digits", form=Form.DIGITS)),
        "round(x) or round(x, 2)",
        Result.ARGUMENT,
        same_unit,
        optional=1,
        keywords=("digits",),
    ),
    Function("lower", Kind.SCALAR, (TEXT,), "lower(text)", "str", no_unit),
    Function("upper", Kind.SCALAR, (TEXT,), "upper(text)", "str", no_unit),
    Function(
        "contains",
        Kind.SCALAR,
        (TEXT, Parameter("part", TEXT.accepts)),
        'contains(text, "part")',
        "bool",
        no_unit,
        keeps_type=True,
    ),
    Function(
        "starts_with",
        Kind.SCALAR,
        (TEXT, Parameter("prefix", TEXT.accepts)),
        'starts_with(text, "prefix")',
        "bool",
        no_unit,
        keeps_type=True,
    ),
    Function(
        "ends_with",
        Kind.SCALAR,
        (TEXT, Parameter("suffix", TEXT.accepts)),
        'ends_with(text, "suffix")',
        "bool",
        no_unit,
        keeps_type=True,
    ),
    Function(
        "hour",
        Kind.SCALAR,
        (Parameter("timestamp", frozenset({"datetime"})),),
        "hour(timestamp)",
        "int",
        no_unit,
        keeps_type=True,
    ),
    Function("weekday", Kind.SCALAR, (TIMESTAMP,), "weekday(timestamp), 1 = Monday", "int", no_unit, keeps_type=True),
    Function("date", Kind.SCALAR, (TIMESTAMP,), "date(timestamp)", "date", no_unit),
    Function(
        "days_between",
        Kind.SCALAR,
        (Parameter("start", TEMPORAL), Parameter("end", TEMPORAL)),
        "days_between(start, end)",
        "int",
        no_unit,
        keeps_type=True,
    ),
    Function("least", Kind.SCALAR, (ANY_VALUE, ANY_VALUE), "least(a, b, ...)", Result.COMMON, same_unit, variadic=True),
    Function(
        "greatest", Kind.SCALAR, (ANY_VALUE, ANY_VALUE), "greatest(a, b, ...)", Result.COMMON, same_unit, variadic=True
    ),
    Function("prev", Kind.RULE, (METRIC,), "prev(metric): its value in the previous period", Result.ARGUMENT, same_unit),
    Function("change", Kind.RULE, (METRIC,), "change(metric): its value minus prev(metric)", Result.ARGUMENT, same_unit),
    Function("pct_change", Kind.RULE, (METRIC,), "pct_change(metric): change(metric) / abs(prev(metric))", "float", no_unit),
    Function("n", Kind.RULE, (METRIC,), "n(metric): its number of observations", "int", no_unit),
    Function(
        "ci_low",
        Kind.RULE,
        (METRIC,),
        "ci_low(metric): the low end of its 95 % confidence interval",
        Result.ARGUMENT,
        same_unit,
    ),
    Function(
        "ci_high",
        Kind.RULE,
        (METRIC,),
        "ci_high(metric): the high end of its 95 % confidence interval",
        Result.ARGUMENT,
        same_unit,
    ),
    Function(
        ACROSS_TOTAL,
        Kind.ACROSS,
        (NUMERIC_METRIC,),
        "of_total(metric): its value in the group over its value in all groups of the period",
        "float",
        no_unit,
    ),
    Function(
        ACROSS_SPREAD,
        Kind.ACROSS,
        (NUMERIC_METRIC, Parameter("dimension", form=Form.DIMENSION)),
        "spread(metric, dimension): its largest minus its smallest value over the dimension's values in the period",
        Result.ARGUMENT,
        same_unit,
    ),
    Function(
        "significant", Kind.RULE, (Parameter("change", form=Form.CHANGE),), "significant(change(metric))", "bool", no_unit
    ),
)

FUNCTIONS: dict[str, Function] = {function.name: function for function in _ROWS}
AGGREGATES = {name: f for name, f in FUNCTIONS.items() if f.kind is Kind.AGGREGATE}
WINDOWS = {name: f for name, f in FUNCTIONS.items() if f.kind is Kind.WINDOW}
SCALARS = {name: f for name, f in FUNCTIONS.items() if f.kind is Kind.SCALAR}
RULE_FUNCTIONS = {name: f for name, f in FUNCTIONS.items() if f.kind is Kind.RULE}  # in rules and thresholds only
ACROSS = {name: f for name, f in FUNCTIONS.items() if f.kind is Kind.ACROSS}  # in metric expressions only


def quantile_probability(call: ast.Call) -> float:
    """The probability a quantile aggregate computes: its percentile's (`p90`: 0.9), or its second argument
    (`quantile(x, 0.25)`: 0.25), which the checker made sure is a number from 0 to 1."""
    if call.func in PERCENTILES:
        return PERCENTILES[call.func]
    probability = call.args[1]
    assert isinstance(probability, ast.Number), probability
    return float(probability.value)


# Names from SQL and spreadsheets, and what to write instead.
FOREIGN_NAMES = {
    "avg": "mean",
    "average": "mean",
    "stdev": "stddev",
    "std": "stddev",
    "percentile": "quantile",
    "countif": "count(where ...)",
    "count_if": "count(where ...)",
    "ifnull": "coalesce",
    "nvl": "coalesce",
    "iif": "case when ... then ... else ... end",
    "if": "case when ... then ... else ... end",
}


def window_form(call: ast.Call) -> tuple[str, ast.Expr] | None:
    """The form of a window call beyond the boolean: `("value", COL)`, `("count", true)` or `("sum", COL)`; None
    for the boolean window (the checker allows one form at most)."""
    return next(((k.name, k.value) for k in call.keywords if k.name in WINDOW_FORMS), None)
