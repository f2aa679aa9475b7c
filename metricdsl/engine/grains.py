"""Time grains: how a moment is truncated to its period, how a period is labelled and numbered.

The grain names themselves are the spec's (`metricdsl.spec.definitions.GRAINS`). Weeks start on the project's
`calendar: {week_start: ...}`: Monday weeks are ISO weeks, labelled with the ISO year (the year of the week's
Thursday) and number (`2026-W01`); Sunday weeks run Sunday to Saturday and are labelled by their first day
(`2026-01-04`), as ISO numbers do not count them. Periods are local: a moment with a time zone belongs to the
day, week, month, quarter or year of its local date in that zone.
"""

from __future__ import annotations

import datetime

import polars as pl

from metricdsl.spec.definitions import GRAINS

# Each grain's length as a Polars duration string: periods start at `truncate(EVERY[grain])`.
GRAIN_EVERY = dict(zip(GRAINS, ("1d", "1w", "1mo", "1q", "1y"), strict=True))
_A_MONDAY = datetime.date(1970, 1, 5)


def period_start(moment: pl.Expr, grain: str, week_start: str = "monday") -> pl.Expr:
    """The first day of the period of `grain` that holds `moment` (a date or datetime), as a date.

    The local date comes first and is truncated after: a cast of a zoned datetime to a date would give its
    date in UTC, and truncating the datetime itself would meet local midnights that a DST change skips.
    """
    day = moment.dt.date()
    if grain == "week" and week_start == "sunday":  # the Monday week of the next day, a day earlier
        return day.dt.offset_by("1d").dt.truncate("1w").dt.offset_by("-1d")
    return day if grain == "day" else day.dt.truncate(GRAIN_EVERY[grain])


def next_period(start: pl.Expr, grain: str) -> pl.Expr:
    """The start of the period after the one starting at `start`."""
    return start.dt.offset_by(GRAIN_EVERY[grain])


def grain_label(start: pl.Expr, grain: str, week_start: str = "monday") -> pl.Expr:
    """The label of the period starting at `start`: a date, `2026-W01` (a Sunday week: `2026-01-04`), `2026-01`,
    `2026-Q1` or 2026."""
    if grain == "day":
        return start
    if grain == "week" and week_start == "sunday":
        return start.dt.strftime("%Y-%m-%d")
    if grain == "week":  # ISO week of the ISO year: the year of the week's Thursday
        return pl.format("{}-W{}", start.dt.iso_year(), start.dt.week().cast(pl.String).str.zfill(2))
    if grain == "month":
        return start.dt.strftime("%Y-%m")
    if grain == "quarter":
        return pl.format("{}-Q{}", start.dt.year(), start.dt.quarter())
    return start.dt.year().cast(pl.Int64)


def period_number(start: pl.Expr, grain: str) -> pl.Expr:
    """A number per period such that consecutive periods get consecutive numbers (weeks starting on any one day
    of the week: seven days apart, they are a whole number of weeks apart)."""
    if grain in ("day", "week"):
        days = (start - pl.lit(_A_MONDAY)).dt.total_days()
        return days if grain == "day" else days // 7
    months = start.dt.year().cast(pl.Int64) * 12 + start.dt.month().cast(pl.Int64) - 1
    return {"month": months, "quarter": months // 3, "year": start.dt.year().cast(pl.Int64)}[grain]


def period_starts(first: pl.Expr, last: pl.Expr, grain: str) -> pl.Expr:
    """The starts of the periods from the one starting at `first` to the one starting at `last`, both included, as
    a list (null when either is null): each period's start is the one before it stepped by its length."""
    return pl.date_ranges(first, last, interval=GRAIN_EVERY[grain], closed="both")
