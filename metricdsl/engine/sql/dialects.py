"""The SQL dialects a query renders to, and the few nodes whose meaning sqlglot's generic ones do not keep.

sqlglot's generic nodes change meaning between dialects (a generic quantile is discrete in DuckDB and
continuous in Spark, a week starts on Sunday in BigQuery, a division by zero raises in Spark). So the compiler
builds its own nodes for an exact quantile, local time, the instant of a local midnight, epoch microseconds, the
start of a period and the ISO weekday, and each dialect here renders them by a subclass of sqlglot's generator.
A construct that a dialect cannot compute exactly is a `RequestError` naming the metric, the function and the
dialect, never an approximation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.postgres import Postgres
from sqlglot.dialects.snowflake import Snowflake
from sqlglot.dialects.spark import Spark
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ErrorLevel, UnsupportedError

from metricdsl.errors import NotExactInDialect, RequestError

# -- nodes ----------------------------------------------------------------------------------------


class ExactQuantile(exp.Expression, exp.AggFunc):
    """The linear quantile `quantile` (a number literal) of `this`; `metric` and `function` name the call."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "quantile": True, "metric": False, "function": False}


class LocalTime(exp.Expression, exp.Func):
    """The instant `this` as the wall-clock time (a timestamp without zone) in the zone `zone` (a string)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "zone": True}


class LocalMidnight(exp.Expression, exp.Func):
    """The instant of the first moment of the date `this` in the zone `zone`."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "zone": True}


class EpochMicros(exp.Expression, exp.Func):
    """The instant `this` as microseconds since 1970-01-01 UTC (a BIGINT)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class AddMicros(exp.Expression, exp.Func):
    """The instant `this` moved by `micros` microseconds (a number)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "micros": True}


class PeriodStart(exp.Expression, exp.Func):
    """The first day of the period `grain` (`week`, `month`, `quarter` or `year`: Monday weeks) holding the date
    `this`, as a DATE."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "grain": True}


class IsoWeekday(exp.Expression, exp.Func):
    """The ISO day of the week of the date `this`: 1 is Monday, 7 Sunday."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class StrictFrame(exp.Expression):
    """The window frame of the rows strictly after the current row's order value to the end of the partition
    (`forward`), or from its start to strictly before it, over an integer order."""

    arg_types: ClassVar[dict[str, bool]] = {"forward": True}


# -- rendering ------------------------------------------------------------------------------------

Render = Callable[[Any, Any], str]


def _text(generator: Any, expression: exp.Expression, key: str) -> str:
    return str(generator.sql(expression, key))


def _grain(expression: exp.Expression) -> str:
    return str(expression.args["grain"].name)


def _quantile_cont(generator: Any, e: ExactQuantile) -> str:
    return f"QUANTILE_CONT({_text(generator, e, 'this')}, {_text(generator, e, 'quantile')})"


def _percentile(generator: Any, e: ExactQuantile) -> str:
    return f"PERCENTILE({_text(generator, e, 'this')}, {_text(generator, e, 'quantile')})"


def _within_group(generator: Any, e: ExactQuantile) -> str:
    return f"PERCENTILE_CONT({_text(generator, e, 'quantile')}) WITHIN GROUP (ORDER BY {_text(generator, e, 'this')})"


def _no_exact_quantile(generator: Any, e: ExactQuantile) -> str:
    generator.unsupported("an exact quantile")
    return "NULL"


def _truncate(unit_first: bool, units: dict[str, str], cast: bool = False) -> Render:
    """A period start by a `DATE_TRUNC`-like function: `DATE_TRUNC('unit', d)` or `DATE_TRUNC(d, UNIT)`."""

    def render(generator: Any, e: PeriodStart) -> str:
        value, unit = _text(generator, e, "this"), units[_grain(e)]
        call = f"DATE_TRUNC({unit}, {value})" if unit_first else f"DATE_TRUNC({value}, {unit})"
        return f"CAST({call} AS DATE)" if cast else call

    return render


QUOTED_UNITS = {"week": "'week'", "month": "'month'", "quarter": "'quarter'", "year": "'year'"}


def _spark_period(generator: Any, e: PeriodStart) -> str:
    unit = {"week": "'WEEK'", "month": "'MM'", "quarter": "'QUARTER'", "year": "'YEAR'"}[_grain(e)]
    return f"TRUNC({_text(generator, e, 'this')}, {unit})"


def _snowflake_period(generator: Any, e: PeriodStart) -> str:
    value = _text(generator, e, "this")
    if _grain(e) == "week":  # DATE_TRUNC('WEEK') depends on the session's WEEK_START
        return f"DATEADD(DAY, 1 - DAYOFWEEKISO({value}), {value})"
    return f"DATE_TRUNC('{_grain(e).upper()}', {value})"


def _postgres_micros(generator: Any, e: EpochMicros) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {_text(generator, e, 'this')}) * 1000000 AS BIGINT)"


def _trino_micros(generator: Any, e: EpochMicros) -> str:
    return f"CAST(ROUND(TO_UNIXTIME({_text(generator, e, 'this')}) * 1000000) AS BIGINT)"


def _micros(name: str) -> Render:
    return lambda generator, e: f"{name}({_text(generator, e, 'this')})"


def _zoned(template: str) -> Render:
    """A node of `this` (and `zone`) rendered by a template with `{this}` (and `{zone}`)."""
    return lambda generator, e: template.format(this=_text(generator, e, "this"), zone=_text(generator, e, "zone"))


def _added(template: str) -> Render:
    return lambda generator, e: template.format(this=_text(generator, e, "this"), micros=_text(generator, e, "micros"))


def _hashable_key(equal: exp.NullSafeEQ) -> exp.Expr:
    """`a IS NOT DISTINCT FROM b` as equalities Postgres can hash: both null or neither, and equal as text."""

    def text(value: exp.Expr) -> exp.Expr:
        return exp.Coalesce(this=exp.cast(value.copy(), "TEXT"), expressions=[exp.Literal.string("")])

    def unknown(value: exp.Expr) -> exp.Expr:
        return exp.Paren(this=exp.Is(this=value.copy(), expression=exp.null()))

    both = exp.EQ(this=unknown(equal.this), expression=unknown(equal.expression))
    return exp.Paren(this=exp.and_(both, exp.EQ(this=text(equal.this), expression=text(equal.expression))))


def _postgres_join(generator: Any, e: exp.Join) -> str:
    """A join; a full outer join on null-safe equalities (keys where null equals null) has them as equalities of
    text, since Postgres runs a full join only on conditions it can merge or hash, and `IS NOT DISTINCT FROM` is
    neither."""
    on = e.args.get("on")
    if e.side == "FULL" and on is not None and on.find(exp.NullSafeEQ):
        e = e.copy()
        e.set("on", e.args["on"].transform(lambda n: _hashable_key(n) if isinstance(n, exp.NullSafeEQ) else n))
    return str(generator.join_sql(e))


def _weekday(template: str) -> Render:
    return lambda generator, e: template.format(this=_text(generator, e, "this"))


def _excluding(generator: Any, e: StrictFrame) -> str:  # DuckDB computes it faster than the offset frame below
    if e.args["forward"].this:
        return "RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP"
    return "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP"


def _offset(generator: Any, e: StrictFrame) -> str:  # where there is no EXCLUDE
    if e.args["forward"].this:
        return "RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING"
    return "RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"


RENDERINGS: dict[str, dict[type[exp.Expression], Render]] = {
    "duckdb": {
        StrictFrame: _excluding,
        ExactQuantile: _quantile_cont,
        LocalTime: _zoned("TIMEZONE({zone}, {this})"),
        LocalMidnight: _zoned("TIMEZONE({zone}, CAST({this} AS TIMESTAMP))"),
        EpochMicros: _micros("EPOCH_US"),
        AddMicros: _added("({this} + TO_MICROSECONDS(CAST(ROUND({micros}) AS BIGINT)))"),
        PeriodStart: _truncate(True, QUOTED_UNITS, cast=True),
        IsoWeekday: _weekday("ISODOW({this})"),
    },
    "spark": {
        StrictFrame: _offset,
        ExactQuantile: _percentile,
        LocalTime: _zoned("FROM_UTC_TIMESTAMP({this}, {zone})"),
        LocalMidnight: _zoned("TO_UTC_TIMESTAMP(CAST({this} AS TIMESTAMP), {zone})"),
        EpochMicros: _micros("UNIX_MICROS"),
        AddMicros: _added("TIMESTAMP_MICROS(UNIX_MICROS({this}) + CAST(ROUND({micros}) AS BIGINT))"),
        PeriodStart: _spark_period,
        IsoWeekday: _weekday("((DAYOFWEEK({this}) + 5) % 7 + 1)"),
    },
    "postgres": {
        StrictFrame: _excluding,
        ExactQuantile: _within_group,
        LocalTime: _zoned("({this} AT TIME ZONE {zone})"),
        LocalMidnight: _zoned("(CAST({this} AS TIMESTAMP) AT TIME ZONE {zone})"),
        EpochMicros: _postgres_micros,
        AddMicros: _added("({this} + MAKE_INTERVAL(secs => {micros} / 1000000.0))"),
        PeriodStart: _truncate(True, QUOTED_UNITS, cast=True),
        IsoWeekday: _weekday("CAST(EXTRACT(ISODOW FROM {this}) AS BIGINT)"),
        exp.Join: _postgres_join,
    },
    "snowflake": {
        StrictFrame: _offset,
        ExactQuantile: _within_group,
        LocalTime: _zoned("CAST(CONVERT_TIMEZONE({zone}, {this}) AS TIMESTAMP_NTZ)"),
        LocalMidnight: _zoned("CONVERT_TIMEZONE({zone}, 'UTC', CAST({this} AS TIMESTAMP_NTZ))"),
        EpochMicros: _zoned("DATE_PART(EPOCH_MICROSECOND, {this})"),
        AddMicros: _added("DATEADD(MICROSECOND, CAST(ROUND({micros}) AS BIGINT), {this})"),
        PeriodStart: _snowflake_period,
        IsoWeekday: _weekday("DAYOFWEEKISO({this})"),
    },
    "bigquery": {
        StrictFrame: _offset,
        ExactQuantile: _no_exact_quantile,
        LocalTime: _zoned("DATETIME({this}, {zone})"),
        LocalMidnight: _zoned("TIMESTAMP(DATETIME({this}), {zone})"),
        EpochMicros: _micros("UNIX_MICROS"),
        AddMicros: _added("TIMESTAMP_MICROS(UNIX_MICROS({this}) + CAST(ROUND({micros}) AS INT64))"),
        PeriodStart: _truncate(False, {"week": "ISOWEEK", "month": "MONTH", "quarter": "QUARTER", "year": "YEAR"}),
        IsoWeekday: _weekday("(MOD(EXTRACT(DAYOFWEEK FROM {this}) + 5, 7) + 1)"),
    },
    "trino": {
        StrictFrame: _offset,
        ExactQuantile: _no_exact_quantile,
        LocalTime: _zoned("CAST(({this} AT TIME ZONE {zone}) AS TIMESTAMP)"),
        LocalMidnight: _zoned("WITH_TIMEZONE(CAST({this} AS TIMESTAMP), {zone})"),
        EpochMicros: _trino_micros,
        AddMicros: _added("DATE_ADD('millisecond', CAST(ROUND({micros} / 1000) AS BIGINT), {this})"),
        PeriodStart: _truncate(True, QUOTED_UNITS),
        IsoWeekday: _weekday("DAY_OF_WEEK({this})"),
    },
}

BASES: dict[str, type[sqlglot.Dialect]] = {
    "duckdb": DuckDB,
    "spark": Spark,
    "snowflake": Snowflake,
    "bigquery": BigQuery,
    "trino": Trino,
    "postgres": Postgres,
}


def _dialect(name: str, base: type[sqlglot.Dialect]) -> type[sqlglot.Dialect]:
    """`base` with a generator that renders the nodes above as `RENDERINGS[name]` says. The subclass is named
    `Metricdsl<Base>`, so that sqlglot's registry of dialects by name keeps its own."""
    parent: Any = base.Generator  # type: ignore[attr-defined]
    generator = type("Generator", (parent,), {"TRANSFORMS": {**parent.TRANSFORMS, **RENDERINGS[name]}})
    return type(f"Metricdsl{base.__name__}", (base,), {"Generator": generator})


DIALECTS: dict[str, type[sqlglot.Dialect]] = {name: _dialect(name, base) for name, base in BASES.items()}
INEXACT_QUANTILES = ("bigquery", "trino")


def render(tree: exp.Expr, dialect: str, pretty: bool = False) -> str:
    """The SQL text of `tree` in `dialect`; `NotExactInDialect` naming the metric, the function and the dialect for
    what the dialect cannot compute exactly (an exact quantile on BigQuery or Trino), a `RequestError` for an unknown
    dialect."""
    if dialect not in DIALECTS:
        raise RequestError(f"unknown SQL dialect `{dialect}`: choose one of {', '.join(DIALECTS)}")
    if dialect in INEXACT_QUANTILES:
        for node in tree.find_all(ExactQuantile):
            metric, function = node.args.get("metric"), node.args.get("function")
            raise NotExactInDialect(
                f"metric `{metric.name if metric else '?'}` uses `{function.name if function else 'quantile'}`, "
                f"an exact quantile, which {dialect} cannot compute exactly (it has only approximate ones)"
            )
    try:
        return tree.sql(dialect=DIALECTS[dialect], pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as error:
        raise RequestError(f"the query cannot be written in {dialect}: {error}") from None
