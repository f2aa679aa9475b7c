"""The functions of the language: their names, arities and what they accept (used by the checker)."""

from __future__ import annotations

from dataclasses import dataclass

NUMERIC = frozenset({"int", "float"})
TEMPORAL = frozenset({"datetime", "date"})
ORDERED = NUMERIC | TEMPORAL | {"str", "duration"}


@dataclass(frozen=True)
class Signature:
    """`min_args`..`max_args` positional arguments (None: any number), and accepted keywords."""

    min_args: int
    max_args: int | None
    keywords: tuple[str, ...] = ()
    usage: str = ""


AGGREGATES: dict[str, Signature] = {
    "count": Signature(0, 1, usage="count() or count(x), with an optional `where`"),
    "count_distinct": Signature(1, 1, usage="count_distinct(x)"),
    "sum": Signature(1, 1, usage="sum(x)"),
    "mean": Signature(1, 1, usage="mean(x)"),
    "median": Signature(1, 1, usage="median(x)"),
    "min": Signature(1, 1, usage="min(x)"),
    "max": Signature(1, 1, usage="max(x)"),
    "stddev": Signature(1, 1, usage="stddev(x)"),
    "quantile": Signature(2, 2, usage="quantile(x, 0.9)"),
    "p50": Signature(1, 1, usage="p50(x)"),
    "p90": Signature(1, 1, usage="p90(x)"),
    "p95": Signature(1, 1, usage="p95(x)"),
    "p99": Signature(1, 1, usage="p99(x)"),
    "share": Signature(1, 1, usage="share(condition)"),
}
PERCENTILES = {"median": 0.5, "p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}

WINDOWS: dict[str, Signature] = {
    "followed_by": Signature(2, 2, ("on",), "followed_by(source [where condition], 30d [, on=keys])"),
    "preceded_by": Signature(2, 2, ("on",), "preceded_by(source [where condition], 30d [, on=keys])"),
}

SCALARS: dict[str, Signature] = {
    "coalesce": Signature(1, None, usage="coalesce(a, b, ...)"),
    "abs": Signature(1, 1, usage="abs(x)"),
    "round": Signature(1, 2, ("digits",), "round(x) or round(x, 2)"),
    "lower": Signature(1, 1, usage="lower(text)"),
    "upper": Signature(1, 1, usage="upper(text)"),
    "contains": Signature(2, 2, usage='contains(text, "part")'),
    "starts_with": Signature(2, 2, usage='starts_with(text, "prefix")'),
    "hour": Signature(1, 1, usage="hour(timestamp)"),
    "weekday": Signature(1, 1, usage="weekday(timestamp), 1 = Monday"),
    "date": Signature(1, 1, usage="date(timestamp)"),
    "days_between": Signature(2, 2, usage="days_between(start, end)"),
    "least": Signature(2, None, usage="least(a, b, ...)"),
    "greatest": Signature(2, None, usage="greatest(a, b, ...)"),
}

# In rules and thresholds only: values of a metric of the same group.
RULE_FUNCTIONS: dict[str, Signature] = {
    "prev": Signature(1, 1, usage="prev(metric): its value in the previous period"),
    "change": Signature(1, 1, usage="change(metric): its value minus prev(metric)"),
    "pct_change": Signature(1, 1, usage="pct_change(metric): change(metric) / abs(prev(metric))"),
    "n": Signature(1, 1, usage="n(metric): its number of observations"),
    "ci_low": Signature(1, 1, usage="ci_low(metric): the low end of its 95 % confidence interval"),
    "ci_high": Signature(1, 1, usage="ci_high(metric): the high end of its 95 % confidence interval"),
    "significant": Signature(1, 1, usage="significant(change(metric))"),
}

ALL_FUNCTIONS = {**AGGREGATES, **WINDOWS, **SCALARS, **RULE_FUNCTIONS}

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
