"""A declared column from what a file or frame holds: its value in the declared type, and how it can fail.

Each column is converted by one Polars expression over the rows as read, chosen by the physical type found
(text, a number, a duration, ...) and the declared `type`. Values that do not read as the type, lie outside
`range`, are not among `values`, or are NaN or infinite are *invalid*: the expression makes them null, and
`Failure` conditions say which rows they were and why, for the data-quality report. Some values cannot be
read at all without a decision the spec has not made: a datetime that is not ISO 8601 and has no `format:`,
or a float with a fractional part in a column declared `int`. Those are *unreadable*: always a data error.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

import polars as pl

from metricdsl.engine import temporal
from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.language.units import TIME_UNITS
from metricdsl.spec.definitions import Column, CsvDialect, Value

INTEGERS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
FLOATS = (pl.Float32, pl.Float64)
NESTED = (pl.List, pl.Array, pl.Struct)


class Unconvertible(Exception):
    """A column whose physical type cannot be read as its declared one: the reason, without the file."""


@dataclass(frozen=True)
class Failure:
    """One way a column's values fail: true on such rows (null or false on the others), and why, in a few words."""

    condition: pl.Expr
    reason: str
    suggest: str | None = None  # "datetime" or "date": look for a `format:` that reads the column's values


@dataclass(frozen=True)
class Typed:
    """A declared column converted: its typed value (invalid values null) and the ways it can fail."""

    name: str
    value: pl.Expr
    invalid: tuple[Failure, ...] = ()
    unreadable: tuple[Failure, ...] = ()
    offsets: pl.Expr | None = None  # true where text carries a UTC offset: counted when no zone is declared
    zoned: bool = False  # the column itself has a time zone


def any_of(failures: tuple[Failure, ...]) -> pl.Expr:
    """True where any of `failures` holds."""
    return functools.reduce(operator.or_, (f.condition for f in failures))


def convert(column: Column, dtype: pl.DataType, dialect: CsvDialect, zone: str) -> Typed:
    """`column`, found as `dtype`, in its declared type: raises `Unconvertible` when the physical type cannot
    become the declared one (a nested column, durations declared without a time unit, ...)."""
    if isinstance(dtype, NESTED):
        raise Unconvertible(f"holds nested values ({dtype}), which metricdsl does not read")
    raw = pl.col(column.name)
    if dtype == pl.Null:  # a frame's column of nulls alone
        target = pl.Datetime("us", zone) if column.type == "datetime" else DTYPES[column.type]
        return Typed(column.name, raw.cast(target).alias(column.name))
    if isinstance(dtype, (pl.Categorical, pl.Enum)):
        raw, dtype = raw.cast(pl.String), pl.String()
    text = dtype == pl.String
    return _within_domain(
        column, _from_text(column, raw, dialect, zone) if text else _from_physical(column, raw, dtype, zone)
    )


def _failed(condition: pl.Expr, reason: str, suggest: str | None = None) -> Failure:
    return Failure(condition, reason, suggest)


def _not_a(kind: str) -> str:
    return f"not {'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def _from_text(column: Column, text: pl.Expr, dialect: CsvDialect, zone: str) -> Typed:
    kind, name, present = column.type, column.name, text.is_not_null()
    value: pl.Expr
    if kind == "str":
        return Typed(name, text)
    if kind in ("datetime", "date"):
        return _temporal_text(column, text, zone)
    if kind == "bool":
        lowered = text.str.to_lowercase()
        trues, falses = [v.lower() for v in dialect.true_values], [v.lower() for v in dialect.false_values]
        value = pl.when(lowered.is_in(trues)).then(True).when(lowered.is_in(falses)).then(False)
    elif kind == "float":
        value = _decimal_point(text, dialect).cast(pl.Float64, strict=False)
    elif kind == "duration":
        value = temporal.as_duration(temporal.duration_seconds(_decimal_point(text, dialect), column.unit))
    else:
        value = text.cast(pl.Int64, strict=False)
        # A whole number written with a zero fraction (`9.0`, as a float column with gaps is often exported) is
        # that number, as a whole float of Parquet or JSON is; a fraction that is not zero is not an int.
        zeros = r",0*$" if dialect.decimal_comma else r"\.0*$"
        whole = text.str.replace(zeros, "").cast(pl.Int64, strict=False)
        value = pl.when(value.is_null()).then(whole).otherwise(value)
    return Typed(name, value, (_failed(present & value.is_null(), _not_a(kind)),))


def _decimal_point(text: pl.Expr, dialect: CsvDialect) -> pl.Expr:
    """Text whose decimal comma, under `decimal_comma`, is a point; there a dot would be a thousands separator,
    not a decimal point, and the value is not read."""
    if not dialect.decimal_comma:
        return text
    return pl.when(text.str.contains(".", literal=True)).then(None).otherwise(text.str.replace(",", ".", literal=True))


def _temporal_text(column: Column, text: pl.Expr, zone: str) -> Typed:
    fmt, kind, present = column.format, column.type, text.is_not_null()
    wanted = "an ISO 8601 " + kind if fmt is None else f"{kind} in the format `{fmt}`"
    if kind == "date":
        value = temporal.parse_date(text, fmt)
        return Typed(column.name, value, unreadable=(_failed(present & value.is_null(), f"not {wanted}", kind),))
    naive = None if temporal.has_zone(fmt) else temporal.parse_naive(text, fmt)
    aware = temporal.parse_aware(text, fmt) if fmt is None or temporal.has_zone(fmt) else None
    parts = []
    if aware is not None:
        parts.append(aware.dt.convert_time_zone(zone))
    if naive is not None:
        parts.append(temporal.local(naive, zone))
    value = pl.coalesce(parts) if len(parts) > 1 else parts[0]
    read = functools.reduce(operator.or_, (p.is_not_null() for p in (aware, naive) if p is not None))
    unreadable = (_failed(present & ~read, f"not {wanted}", kind if fmt is None else None),)
    invalid: tuple[Failure, ...] = ()
    if naive is not None and zone != "UTC":
        invalid = (_failed(naive.is_not_null() & value.is_null(), f"a local time that {zone} skips"),)
    return Typed(column.name, value, invalid, unreadable, aware.is_not_null() if aware is not None else None)


def _from_physical(column: Column, raw: pl.Expr, dtype: pl.DataType, zone: str) -> Typed:
    kind, name, present = column.type, column.name, raw.is_not_null()
    if dtype == (pl.Datetime("us", zone) if kind == "datetime" else DTYPES[kind]):
        return Typed(name, raw, zoned=kind == "datetime")
    unit = column.unit if column.unit in TIME_UNITS else None
    if isinstance(dtype, pl.Duration) and kind in ("int", "float"):
        if unit is None:
            raise Unconvertible(
                f"holds durations: declare its time unit (`unit: s`, `min`, `ms` or `h`) to read them as {kind}"
            )
        raw, dtype = temporal.in_unit(raw, dtype, unit), pl.Float64()
    numeric = isinstance(dtype, (*INTEGERS, *FLOATS, pl.Decimal)) or dtype == pl.Boolean
    if kind == "int" and numeric:
        return _int(name, raw, dtype, present)
    if kind == "float" and numeric:
        return Typed(name, raw.cast(pl.Float64))
    if kind == "bool" and (dtype == pl.Boolean or isinstance(dtype, INTEGERS)):
        value = raw if dtype == pl.Boolean else pl.when(raw == 1).then(True).when(raw == 0).then(False)
        return Typed(name, value, (_failed(present & value.is_null(), "not a bool"),) if dtype != pl.Boolean else ())
    if kind == "str" and numeric:
        return Typed(name, raw.cast(pl.String))
    if kind == "datetime" and isinstance(dtype, pl.Datetime):
        value = temporal.in_zone(raw, dtype, zone)
        skipped = (
            ()
            if dtype.time_zone or zone == "UTC"
            else (_failed(present & value.is_null(), f"a local time that {zone} skips"),)
        )
        return Typed(name, value, skipped, zoned=dtype.time_zone is not None)
    if kind == "datetime" and dtype == pl.Date:
        return Typed(name, temporal.local(raw.cast(pl.Datetime("us")), zone))
    if kind == "date" and isinstance(dtype, pl.Datetime):
        value = temporal.in_zone(raw, dtype, zone).dt.date() if dtype.time_zone else raw.dt.date()
        return Typed(name, value, zoned=dtype.time_zone is not None)
    if kind == "date" and dtype == pl.Date:
        return Typed(name, raw)
    if kind == "duration" and isinstance(dtype, pl.Duration):
        return Typed(name, raw.cast(pl.Duration("us")))
    if kind == "duration" and numeric:
        return Typed(name, temporal.as_duration(raw.cast(pl.Float64) * TIME_UNITS.get(column.unit or "s", 1.0)))
    raise Unconvertible(f"holds {dtype} values, which do not read as {kind}")


def _int(name: str, raw: pl.Expr, dtype: pl.DataType, present: pl.Expr) -> Typed:
    """Integers as Int64; whole floats too, while a fractional one is unreadable (truncating it would be a guess)."""
    if not isinstance(dtype, (*FLOATS, pl.Decimal)):
        value = raw.cast(pl.Int64, strict=False)
        overflow = () if dtype != pl.UInt64 else (_failed(present & value.is_null(), "not an int"),)
        return Typed(name, value, overflow)
    number = raw.cast(pl.Float64)
    finite = number.is_finite()
    whole = number.floor() == number
    value = pl.when(finite & whole).then(number).cast(pl.Int64, strict=False)
    invalid = (
        _failed(number.is_nan(), "NaN"),
        _failed(number.is_infinite(), "infinite"),
        _failed(finite & whole & value.is_null(), "not an int"),
    )
    return Typed(name, value, invalid, (_failed(finite & ~whole, "not a whole number"),))


def _within_domain(column: Column, typed: Typed) -> Typed:
    """`typed` with the values outside `range`, not among `values`, or NaN or infinite made null, and reported."""
    value, checks = typed.value, []
    if column.type == "float":
        checks += [_failed(value.is_nan(), "NaN"), _failed(value.is_infinite(), "infinite")]
    if column.range is not None and column.type in ("int", "float", "duration"):
        low, high = column.range
        number = value if column.type != "duration" else _in_own_unit(value, column.unit)
        checks.append(_failed(~number.is_between(low, high), f"outside [{_number(low)}, {_number(high)}]"))
    allowed = _allowed(column)
    if allowed is not None:
        shown = ", ".join(str(v) for v in column.values or ())
        checks.append(_failed(~value.is_in(allowed.implode()), f"not one of {shown}"))
    if not checks:
        return Typed(typed.name, value.alias(typed.name), typed.invalid, typed.unreadable, typed.offsets, typed.zoned)
    bad = functools.reduce(operator.or_, (c.condition for c in checks))
    masked = pl.when(bad).then(None).otherwise(value).alias(typed.name)
    return Typed(typed.name, masked, (*typed.invalid, *checks), typed.unreadable, typed.offsets, typed.zoned)


def _in_own_unit(duration: pl.Expr, unit: str | None) -> pl.Expr:
    """A duration (in microseconds) as a number of the column's unit, in which its `range` is written: seconds
    unless the unit is a time unit, as a duration column reads numbers."""
    return temporal.in_unit(duration, pl.Duration("us"), unit if unit in TIME_UNITS else "s")


def _allowed(column: Column) -> pl.Series | None:
    """The column's `values`, typed as its values are: None when it declares none that the type can hold."""
    if column.values is None or column.type not in ("str", "int", "float", "bool"):
        return None
    dtype = {"str": pl.String, "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean}[column.type]
    kept: list[Value] = [v for v in column.values if _holds(column.type, v)]
    return pl.Series(kept, dtype=dtype)


def _holds(kind: str, value: Value) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
