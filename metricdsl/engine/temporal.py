"""Times, dates and durations read from text, and datetimes put in a source's time zone.

Without a `format:`, a datetime column reads ISO 8601 only (`2026-01-05T09:00`, a space for the `T`, optional
seconds and fractions, an optional `Z` or offset; a date alone is its midnight), a date column `2026-01-05`. A
value with an offset is the instant it names, shown in the zone; one without is a local time in the zone. A
local time that the zone skips (the hour lost to summer time) names no instant, and is invalid; one that it
repeats (the hour gained back) is the earlier of the two. Durations read as numbers of a time unit or as ISO
8601 durations (`PT1H2M3S`, `P1DT2H`).

Nothing here guesses: when a column has non-ISO values and no `format:`, `suggest_formats` names the formats
of a short list that read every value, and both when day-first and month-first both do.
"""

from __future__ import annotations

import polars as pl

from metricdsl.language.units import TIME_UNITS

ISO_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d")
ISO_AWARE = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z")
ISO_DATE = "%Y-%m-%d"
# The directives that read an instant, not a local time: an offset, RFC 3339 (`%+`, with its offset) and
# seconds since 1970 (`%s`, in UTC).
ZONE_DIRECTIVES = ("%z", "%:z", "%#z", "%::z", "%+", "%s")

# The formats a column without `format:` is tried with when its values are not ISO 8601: day-first and
# month-first are both tried, so that neither is ever guessed.
DATE_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y")
TIME_FORMATS = ("", " %H:%M", " %H:%M:%S")

# An ISO 8601 duration of weeks, days, hours, minutes and seconds (years and months have no fixed length).
_NUMBER = r"(\d+(?:[.,]\d+)?)"
ISO_DURATION = rf"^P(?:{_NUMBER}W)?(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$"
ISO_DURATION_SECONDS = (604800.0, 86400.0, 3600.0, 60.0, 1.0)
PER_SECOND = {"ns": 1e9, "us": 1e6, "ms": 1e3}  # a Polars duration's ticks in one second, by time unit


def local(naive: pl.Expr, zone: str) -> pl.Expr:
    """Naive datetimes as local times in `zone`: null where the zone skips that time, the earlier instant
    where it repeats it."""
    if zone == "UTC":  # no time skipped or repeated: the same numbers, labelled (free, where a conversion is not)
        return naive.cast(pl.Datetime("us", "UTC"))
    return naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")


def in_zone(value: pl.Expr, dtype: pl.Datetime, zone: str) -> pl.Expr:
    """A datetime column of `dtype` in `zone`, in microseconds: converted when it has a zone, else local."""
    value = value.cast(pl.Datetime("us", dtype.time_zone))
    return value.dt.convert_time_zone(zone) if dtype.time_zone else local(value, zone)


def parse_naive(text: pl.Expr, fmt: str | None) -> pl.Expr:
    """Text without an offset as naive datetimes: by `fmt`, else by the ISO 8601 forms."""
    if fmt is not None:
        return text.str.to_datetime(fmt, strict=False, time_unit="us")
    iso = text.str.replace(" ", "T", literal=True)
    return pl.coalesce(iso.str.to_datetime(f, strict=False, time_unit="us") for f in ISO_NAIVE)


def parse_aware(text: pl.Expr, fmt: str | None) -> pl.Expr:
    """Text with a `Z` or an offset as UTC datetimes: by `fmt` when it has an offset, else by the ISO 8601 forms."""
    if fmt is not None:
        return text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
    iso = text.str.replace(" ", "T", literal=True)
    return pl.coalesce(iso.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC") for f in ISO_AWARE)


def has_zone(fmt: str | None) -> bool:
    """Whether a strftime format reads an instant (an offset, or seconds since 1970), not a local time."""
    return fmt is not None and any(d in fmt for d in ZONE_DIRECTIVES)


def parse_date(text: pl.Expr, fmt: str | None) -> pl.Expr:
    return text.str.to_date(fmt or ISO_DATE, strict=False)


def duration_seconds(text: pl.Expr, unit: str | None) -> pl.Expr:
    """Text as seconds: a number in `unit` (seconds unless it is a time unit), or an ISO 8601 duration."""
    scale = TIME_UNITS.get(unit or "s", 1.0)
    number = text.cast(pl.Float64, strict=False) * scale
    parts = text.str.extract_groups(ISO_DURATION)
    seconds = pl.sum_horizontal(
        parts.struct.field(str(i + 1)).str.replace(",", ".", literal=True).cast(pl.Float64).fill_null(0.0) * factor
        for i, factor in enumerate(ISO_DURATION_SECONDS)
    )
    named = text.str.contains(ISO_DURATION) & text.str.contains(r"\d") & ~text.str.ends_with("T")
    return pl.when(number.is_finite()).then(number).when(named).then(seconds)


def as_duration(seconds: pl.Expr) -> pl.Expr:
    """Seconds as a Polars duration in microseconds."""
    return (seconds * 1e6).round().cast(pl.Int64).cast(pl.Duration("us"))


def in_unit(duration: pl.Expr, dtype: pl.Duration, unit: str) -> pl.Expr:
    """A duration column as a number of `unit` (a time unit)."""
    ticks = PER_SECOND[dtype.time_unit or "us"] * TIME_UNITS[unit]
    return duration.cast(pl.Int64).cast(pl.Float64) / ticks


def suggest_formats(values: pl.Series, kind: str) -> list[str]:
    """The formats of the short list that read every one of `values`: one, two when day-first and month-first
    both do (ambiguous), or none."""
    readers = []
    for date in DATE_FORMATS:
        for time in TIME_FORMATS if kind == "datetime" else ("",):
            fmt = date + time
            parsed = values.str.to_datetime(fmt, strict=False) if time else values.str.to_date(fmt, strict=False)
            if parsed.null_count() == 0:
                readers.append(fmt)
    return readers
