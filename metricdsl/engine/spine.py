"""Complete periods: with a grain, every group has a row for every period of the request's range.

The groups are the distinct values of the `by` columns over all the aggregated rows; the range runs from the first
to the last period of the data, or from the period of `start` to that of `end` when given. The spine spans the
data's periods too, so that `prev()` and trailing windows of the range's first periods see the periods before it;
`in_range` then leaves out the periods outside the range (windows still see all the data). A period in which a
group had no rows gets a row whose counts (listed by the caller: `count()` and the observation counts) are 0 and
whose other aggregates are null, so that the previous row of a group is the previous period. Rows of no period (a
null time) are kept as they are, outside a given range.
"""

from __future__ import annotations

import datetime

import polars as pl

from metricdsl.engine.columns import GRAIN_COLUMN
from metricdsl.engine.grains import period_start, period_starts


def complete_periods(
    frame: pl.LazyFrame,
    by: tuple[str, ...],
    grain: str,
    counts: list[str],
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    week_start: str = "monday",
) -> pl.LazyFrame:
    """`frame` (one row per group and period start, `GRAIN_COLUMN`) with a row for every group and period."""
    period = pl.col(GRAIN_COLUMN)
    first, last = period.min(), period.max()
    if start is not None:
        first = pl.min_horizontal(period_start(pl.lit(start), grain, week_start), first)
    if end is not None:
        last = pl.max_horizontal(period_start(pl.lit(end), grain, week_start), last)
    periods = frame.select(period_starts(first, last, grain).alias(GRAIN_COLUMN)).explode(GRAIN_COLUMN).drop_nulls()
    spine = frame.select(by).unique().join(periods, how="cross") if by else periods
    keys = [*by, GRAIN_COLUMN]
    complete = spine.join(frame, on=keys, how="left", nulls_equal=True, coalesce=True)
    complete = complete.with_columns(pl.col(c).fill_null(0) for c in counts)
    if start is not None or end is not None:
        return complete
    return pl.concat([complete, frame.filter(period.is_null())], how="diagonal_relaxed")


def in_range(
    frame: pl.LazyFrame, grain: str, start: datetime.date | None, end: datetime.date | None, week_start: str = "monday"
) -> pl.LazyFrame:
    """The rows of `frame` in the periods from that of `start` to that of `end` (either open when not given); all of
    them when neither is given."""
    period = pl.col(GRAIN_COLUMN)
    if start is not None:
        frame = frame.filter(period >= period_start(pl.lit(start), grain, week_start))
    if end is not None:
        frame = frame.filter(period <= period_start(pl.lit(end), grain, week_start))
    return frame
