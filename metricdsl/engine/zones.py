"""Local time and instants: how dates and datetimes of sources in different time zones meet.

Every datetime column arrives in its source's zone (`metricdsl.engine.inputs`), so that Polars' `dt.date()`,
`dt.hour()` and `dt.weekday()` are local already. A date stands for a local day: where it meets a datetime,
it is the first moment of that day in the zone. Instants compare and subtract exactly in any zone; windows
compare them in UTC, so that the two sources of a window may be in different zones.
"""

from __future__ import annotations

import datetime

import polars as pl

UTC = "UTC"
_HOUR = datetime.timedelta(hours=1)


def local_midnight(day: pl.Expr, zone: str) -> pl.Expr:
    """The first moment of the local date `day` in `zone`, as a datetime in `zone`.

    Where a DST change falls at midnight, the day starts when the clocks jump (01:00 for a skipped
    midnight), or at the first of two midnights.
    """
    naive = day.cast(pl.Datetime("us"))
    starts = (naive, naive + _HOUR)
    return pl.coalesce(*(s.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null") for s in starts))


def in_utc(moment: pl.Expr) -> pl.Expr:
    """A datetime (with a zone) as the same instant in UTC."""
    return moment.dt.convert_time_zone(UTC)
