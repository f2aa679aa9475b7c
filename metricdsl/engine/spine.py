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
from metricdsl.engine.grains import period_number, period_start, period_starts
from metricdsl.errors import DataError

# The rows that complete periods may make, at least; more only up to GROWTH times the aggregated rows. One mistyped
# year in the data (0206 for 2026) would otherwise ask for millions of empty periods per group, and memory with them.
LEAST_ROWS = 1_000_000
GROWTH = 10


def check_size(
    groups: pl.DataFrame,
    by: tuple[str, ...],
    grain: str,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    week_start: str = "monday",
) -> None:
    """Raise `DataError` when completing the periods of `groups` (the aggregated rows, as `complete_periods` takes
    them) would make more rows than `LEAST_ROWS`, or than `GROWTH` times the rows of `groups` when that is more."""
    first, last = _bounds(grain, start, end, week_start)
    size = (
        groups.lazy()
        .select(  # dates as text: Python's cannot hold every year Polars reads (-26)
            first=first.dt.to_string("%Y-%m-%d"),
            last=last.dt.to_string("%Y-%m-%d"),
            periods=period_number(last, grain) - period_number(first, grain) + 1,
            groups=pl.struct(by).n_unique() if by else pl.lit(1),
        )
        .collect()
        .row(0, named=True)
    )
    if size["periods"] is None or size["periods"] * size["groups"] <= max(LEAST_ROWS, GROWTH * groups.height):
        return
    raise DataError(
        f"complete periods by {grain} from {size['first']} to {size['last']} would be {size['periods']:,} periods for "
        f"each of {size['groups']:,} groups: look for times far from the others in the data (a mistyped year?), or "
        "ask for a coarser grain"
    )


def _bounds(grain: str, start: datetime.date | None, end: datetime.date | None, week_start: str) -> tuple[pl.Expr, pl.Expr]:
    """The first and last period start of the spine: those of the data, widened to `start` and `end`."""
    period = pl.col(GRAIN_COLUMN)
    first, last = period.min(), period.max()
    if start is not None:
        first = pl.min_horizontal(period_start(pl.lit(start), grain, week_start), first)
    if end is not None:
        last = pl.max_horizontal(period_start(pl.lit(end), grain, week_start), last)
    return first, last


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
    first, last = _bounds(grain, start, end, week_start)
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
