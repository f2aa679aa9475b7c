"""The compiled Polars path and the plain-Python reference give the same numbers on random data.

The data is drawn to hit the edges of the contract: nulls in every column (keys, times and dimensions
too), times exactly on window boundaries relative to each other and around the ISO new year, waits of
exactly 5 s and 20 s, small customer pools so that windows match, and enough survey answers now and
then to cross `min_n`. Each source gets a time zone (the two may differ), its times are instants around
local new years and around the DST changes of every zone drawn from, and they reach the engine in one of
the ways data carries time: in UTC, in another zone, as local time without a zone, or as ISO text with
offsets.

Values outside the columns' declared domains are drawn too, about one value in ten: scores outside their
range (99 for "no answer", -1, 11), channels and queues not among the declared values, NaN and infinities in
floats, and values just past the ends of a range; the extended project declares more domains (values of an
int and of a bool, ranges with fractional ends). Both the metrics and the data-quality report's counts of
invalid values must agree with the reference. The data reaches the engine as frames, or now and then as CSV
files (nulls written `NA`, so that a row of nulls alone is a row, not a blank line).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import math
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metricdsl
from metricdsl.engine.inputs import Data
from metricdsl.semantics.checker import check
from metricdsl.spec.definitions import CsvDialect
from tests.reference import Row, evaluate_reference, instant, invalid_counts, reads_window
from tests.zones import in_zones, with_week_start

SPECS = Path(__file__).parent.parent / "specs"
T = TypeVar("T")

DTYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "str": pl.String(),
    "datetime": pl.Datetime("us"),
    "date": pl.Date(),
}
# (by, grain) of each evaluation compared: overall, by team, by team and week, then other grains and a derived dimension.
LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [
    ((), None),
    (("team",), None),
    (("team",), "week"),
    (("channel",), "day"),
    (("live", "repeat_7d"), "month"),
    ((), "quarter"),
    (("team", "channel"), "year"),
]

# Metrics over the same sources for the parts of the language the standard library does not use.
EXTRA_METRICS = """
metrics:
  x_median_wait: {source: interactions, expr: 'median(wait_s where answered)'}
  x_p90_handle: {source: interactions, expr: 'p90(handle_s)'}
  x_p75_talk: {source: interactions, expr: 'p75(talk_s where answered)'}
  x_quartile: {source: interactions, expr: 'quantile(talk_s, 0.25)'}
  x_stddev: {source: interactions, expr: 'stddev(sentiment_score)'}
  x_variance: {source: interactions, expr: 'variance(sentiment_score)'}
  x_variance_of_answered: {source: interactions, expr: 'variance(wait_s where answered)'}
  x_variance_of_bool: {source: interactions, expr: 'variance(transferred)'}
  x_range: {source: interactions, expr: 'max(wait_s) - min(wait_s)'}
  x_days_spanned: {source: interactions, expr: 'days_between(min(started_at), max(started_at))'}
  x_customers: {source: interactions, expr: 'count_distinct(customer_id)'}
  x_answered: {source: interactions, expr: 'sum(answered)'}
  x_answers: {source: interactions, expr: 'count(nps_score)'}
  x_phone_nps_total: {source: interactions, expr: 'sum(nps_score where channel == "phone")'}
  x_mean_bool: {source: interactions, expr: 'mean(transferred)'}
  x_sale_amount: {source: interactions, expr: 'sum(sale_amount)'}
  x_rounded: {source: interactions, expr: 'sum(round(talk_s, 1) + round(wait_s))'}
  x_case: {source: interactions, expr: 'mean(case when wait_s < 5s then 1 when wait_s between 5s and 20s then 2
    else 3 end)'}
  x_in_null: {source: interactions, expr: 'share(queue in ["billing", null])'}
  x_not_in: {source: interactions, expr: 'share(queue not in ["sales", "retention"])'}
  x_in_mixed: {source: interactions, expr: 'share(sentiment_score in [0, 1])'}
  x_coalesce: {source: interactions, expr: 'mean(coalesce(nps_score, csat_score * 2, 0))'}
  x_least: {source: interactions, expr: 'mean(least(talk_s, hold_s, wrap_s)) + mean(greatest(talk_s, wrap_s))'}
  x_text: {source: interactions, expr: 'share(contains(upper(contact_reason), "FUND")
    or starts_with(lower(queue), "tech"))'}
  x_text_end: {source: interactions, expr: 'share(ends_with(queue, "ing") or ends_with(upper(queue), "SUPPORT"))'}
  x_hour: {source: interactions, expr: 'mean(hour(started_at)) + 100 * mean(weekday(started_at))'}
  x_new_year: {source: interactions, expr: 'share(date(started_at + 7d) >= @2026-01-05)'}
  x_days_since: {source: interactions, expr: 'mean(days_between(@2025-12-25, started_at))'}
  x_this_year: {source: interactions, expr: 'count(where started_at >= @2026-01-01)'}
  x_first_week: {source: interactions, expr: 'share(started_at between @2025-12-29 and @2026-01-04)'}
  x_ratio: {source: interactions, expr: 'mean(talk_s / hold_s)'}
  x_remainder: {source: interactions, expr: 'sum(wait_s % talk_s)'}
  x_abs: {source: interactions, expr: 'abs(mean(-sentiment_score))'}
  x_repeat_reason: {source: interactions, expr: 'share(preceded_by(interactions where answered, 7d,
    on=[customer_id, contact_reason]))'}
  x_referrer: {source: interactions, expr: 'share(preceded_by(orders where cross_sell, 30d,
    on=customer_id == referred_by))'}
  x_nested: {source: interactions, expr: 'share(followed_by(interactions where repeat_7d, 7d))'}
  x_same_agent: {source: interactions, expr: 'share(followed_by(interactions, 1d, on=agent_id))'}
  x_or: {source: interactions, expr: 'count(where answered or transferred)'}
  x_not_and: {source: interactions, expr: 'count(where not (sale and transferred))'}
  x_unknown: {source: interactions, expr: 'count(where (answered and sale) is null)'}
  x_transferred: {source: interactions, expr: 'count()', where: transferred}
  x_repeaters: {source: interactions, expr: 'count()', where: repeat_7d}
  x_ones: {source: interactions, expr: 'sum(1)'}
  x_all: {source: interactions, expr: 'share(true)'}
  x_answered_pct: {source: interactions, expr: 'round(100 * share(answered), 1)'}
  x_not_email: {source: interactions, expr: 'share(sale where answered)', where: 'channel != "email"'}
  x_sales_per_contact: {source: interactions, expr: 'count(where sale) / contacts'}
  x_effort_small: {source: interactions, expr: 'mean(effort_score)', min_n: 3}
  x_effort_twice: {expr: '2 * x_effort_small'}
  x_satisfaction_and_effort: {source: interactions, expr: 'mean(csat_score) + x_effort_small', min_n: 2}
  x_orders: {source: orders, expr: 'count()'}
  x_revenue: {source: orders, expr: 'sum(amount where amount > 0)'}
  x_order_value: {source: orders, expr: 'mean(amount)'}
  x_refunds: {source: orders, expr: 'share(amount < 0)'}
  x_orders_per_contact: {expr: 'x_orders / contacts'}
  x_rebuy: {source: orders, expr: 'share(preceded_by(orders, 30d))'}
  x_after_contact: {source: orders, expr: 'share(preceded_by(interactions where answered, 7d))'}
  x_morning_order: {source: interactions, expr: 'share(followed_by(orders where hour(ordered_at) < 12, 30d))'}
  x_at_midnight: {source: interactions, expr: 'count(where started_at in [@2025-12-29, @2026-01-05])'}
  x_dates_in: {source: interactions, expr: 'share(date(started_at) in [@2026-01-01, @2025-12-29])'}
  x_first_or_new_year: {source: interactions, expr: 'min(case when answered then started_at else @2026-01-01 end)'}
  x_least_time: {source: interactions, expr: 'max(least(started_at, @2026-01-01))'}
  x_coalesce_time: {source: interactions, expr: 'count(where coalesce(started_at, null) is null)'}
  x_last_contact: {source: interactions, expr: 'max(started_at)'}
  x_last_order: {source: orders, expr: 'max(ordered_at)'}
  x_order_after_contact: {expr: 'x_last_order > x_last_contact'}
  x_handle_or_no_hold: {source: interactions, expr: 'mean(talk_s + coalesce(hold_s, 0s) + wrap_s)'}
  x_capped_waits: {source: interactions, expr: 'sum(least(wait_s, 20s)) + sum(greatest(1m, hold_s, wrap_s))'}
  x_case_in_minutes: {source: interactions, expr: 'mean(case when answered then coalesce(hold_s, 1m) else 0s end)'}
  x_between_durations: {source: interactions, expr: 'share(coalesce(wait_s, 0s) between 5s and 0.5m)'}
  x_phone_combo: {expr: 'transfer_rate + sales_conversion', where: 'channel == "phone"'}
  x_north_phone_combo: {expr: '2 * x_phone_combo', where: 'team == "north"'}
  x_answered_loyalty: {expr: 'loyalty_index - fcr', where: answered}
  x_live_sales_per_contact: {source: interactions, expr: 'count(where sale) / contacts', where: live}
  x_one_customer: {expr: 'x_orders_per_contact + x_revenue', where: 'customer_id == 1'}
  x_after_an_order: {expr: 'x_orders + contacts', where: 'preceded_by(orders, 30d)'}
"""
# Windows that give a value, a count or a sum (on the SQL engines too: `test_sql_value_windows`).
VALUE_WINDOW_METRICS = """
metrics:
  v_last_team_revenue: {source: orders, expr: 'sum(amount where preceded_by(interactions, 30d, value=team) == "north")'}
  v_next_order_amount: {source: interactions, expr: 'mean(followed_by(orders where cross_sell, 30d, value=amount))'}
  v_last_wait: {source: interactions, expr: 'sum(preceded_by(interactions where answered, 7d, value=wait_s))'}
  v_next_time: {source: interactions, expr: 'max(followed_by(orders, 7d, value=ordered_at))'}
  v_repeats: {source: interactions, expr: 'sum(followed_by(interactions, 7d, count=true))'}
  v_orders_before: {source: orders, expr: 'mean(preceded_by(orders, 30d, count=true, on=customer_id))'}
  v_revenue_after: {source: interactions, expr: 'sum(followed_by(orders, 30d, sum=amount))'}
  v_talk_before: {source: interactions, expr: 'mean(preceded_by(interactions, 1d, sum=talk_s, on=agent_id))'}
  v_repeat_before_order: {source: orders, expr: 'share(preceded_by(interactions, 30d, value=repeat_7d))'}
  v_referred_count: {source: interactions, expr: 'count(where followed_by(orders, 30d, count=true,
    on=customer_id == referred_by) >= 2)'}
"""
# Metrics over periods: they need a grain, so they are compared in layouts with one.
PERIOD_METRICS = """
metrics:
  p_contacts_change: change(contacts)
  p_sentiment_before: prev(sentiment)
  p_aht_pct: pct_change(aht)
  p_phone_sales_change: {expr: 'change(sales_conversion)', where: 'channel == "phone"'}
  p_orders_per_contact_delta: 'x_orders_per_contact - prev(x_orders_per_contact)'
  p_answered_3p: {source: interactions, expr: 'share(answered)', trailing: 3 periods}
  p_nps_2p: {source: interactions, expr: '100 * (share(nps_score >= 9) - share(nps_score <= 6))', trailing: 2 periods,
    min_n: 3}
  p_extremes_2p: {source: interactions, expr: 'max(nps_score) - min(csat_score) + count()', trailing: 2 periods}
  p_sums_2p: {source: interactions, expr: 'count(nps_score) + mean(sentiment_score)', trailing: 2 periods}
  p_amount_2p: {source: interactions, expr: 'sum(sale_amount)', trailing: 2 periods}
  p_orders_3p: {source: orders, expr: 'count() + coalesce(sum(amount where amount > 0), 0)', trailing: 3 periods,
    where: cross_sell}
  p_trailing_change: pct_change(p_answered_3p)
  p_one_customer_trailing: {expr: 'p_answered_3p + p_orders_3p', where: 'customer_id == 2'}
  w_nps_4w: {source: interactions, expr: '100 * (share(nps_score >= 9) - share(nps_score <= 6))', trailing: 4w, min_n: 3}
  w_sales_14d: {source: interactions, expr: 'share(sale where answered)', trailing: 14d}
  w_change_of_trailing: change(w_sales_14d)
"""
PERIOD_LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [
    ((), "week"),
    (("customer_id",), "month"),
    ((), "day"),
    ((), "quarter"),
    (("customer_id",), "year"),
]
# Trailing durations are whole numbers of days and weeks only.
DURATION_LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [(("team",), "week"), ((), "day"), (("channel",), "week")]
# Layouts for metrics of both sources: only their shared columns can be dimensions.
EXTRA_LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [
    ((), None),
    ((), "week"),
    (("customer_id",), None),
    (("customer_id",), "month"),
    ((), "day"),
]

SECOND, HOUR, DAY = datetime.timedelta(seconds=1), datetime.timedelta(hours=1), datetime.timedelta(days=1)
UTC = datetime.timezone.utc
# UTC; a zone with DST in spring and autumn; one with DST on other dates; one whose DST change is 30 minutes,
# in the other hemisphere; one at a half-hour offset without DST; one whose DST changes at the local midnight
# between Saturday and Sunday, where weeks from Sunday start.
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"]
# How a source's times reach the engine: aware in UTC, aware in another zone, naive local time, ISO text with offsets.
GIVEN_AS = ["utc", "other_zone", "local", "text"]


def offset_changes(zone: str, start: datetime.datetime, end: datetime.datetime) -> list[datetime.datetime]:
    """The instants in `[start, end)` (aware) at which `zone`'s offset from UTC changes, to the second."""

    def offset(moment: datetime.datetime) -> datetime.timedelta | None:
        return moment.astimezone(ZoneInfo(zone)).utcoffset()

    found = []
    moment = start
    while moment < end:
        later = moment + HOUR
        if offset(moment) != offset(later):  # the change is in (moment, later]: halve the hour down to a second
            low, high = moment, later
            while high - low > SECOND:
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            found.append(high)
        moment = later
    return found


DST_CHANGES = sorted(
    {
        change
        for zone in ZONES
        for change in offset_changes(
            zone, datetime.datetime(2025, 11, 1, tzinfo=UTC), datetime.datetime(2027, 2, 1, tzinfo=UTC)
        )
    }
)
# Around a DST change: at it, just before, and the length of a change (an hour, or Lord Howe's half hour) either side.
NEAR = [datetime.timedelta(0), -datetime.timedelta(microseconds=1), -SECOND, SECOND, HOUR, -HOUR, HOUR / 2, -HOUR / 2]
# Local times in a source's zone.
ANCHORS = [
    datetime.datetime(2025, 12, 28, 23, 59, 59),
    datetime.datetime(2025, 12, 29),
    datetime.datetime(2025, 12, 31, 23, 59, 59, 999999),
    datetime.datetime(2026, 1, 1, 12),
    datetime.datetime(2026, 1, 3, 23, 59, 59),  # the last second of a week that starts on Sunday
    datetime.datetime(2026, 1, 4, 23, 59, 59),
    datetime.datetime(2026, 1, 5),
    datetime.datetime(2027, 1, 3, 23),
]
# Offsets from an anchor: two times drawn from the same anchor are often exactly a window apart.
OFFSETS = [
    datetime.timedelta(0),
    SECOND,
    -SECOND,
    datetime.timedelta(microseconds=1),
    7 * DAY,
    -7 * DAY,
    7 * DAY + SECOND,
    7 * DAY - SECOND,
    -7 * DAY - SECOND,
    30 * DAY,
    -30 * DAY,
    30 * DAY + SECOND,
    30 * DAY - SECOND,
    -30 * DAY + SECOND,
    3 * DAY + datetime.timedelta(hours=5),
    # A week of local time across a DST change: an hour (or half an hour) more or less than 168 hours.
    7 * DAY + HOUR,
    7 * DAY - HOUR,
    -7 * DAY + HOUR / 2,
    -3 * DAY,
]


def nullable(values: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    """`values`, or null about one time in six (shrinking towards null)."""
    return st.tuples(st.integers(0, 5), values).map(lambda pair: None if pair[0] == 0 else pair[1])


def one_of(*values: Any) -> st.SearchStrategy[Any]:
    """One of `values`, or null."""
    return nullable(st.sampled_from(values))


def times(zone: str) -> st.SearchStrategy[datetime.datetime | None]:
    """Instants (in UTC): a local time in `zone` or a DST change of any zone, moved by an offset of elapsed time."""
    local = st.sampled_from(ANCHORS).map(lambda wall: instant(wall, zone))
    changes = st.builds(lambda change, near: change + near, st.sampled_from(DST_CHANGES), st.sampled_from(NEAR))
    return nullable(st.builds(lambda anchor, offset: anchor + offset, st.one_of(local, changes), st.sampled_from(OFFSETS)))


def or_invalid(valid: st.SearchStrategy[T], *invalid: Any) -> st.SearchStrategy[Any]:
    """`valid`, or one of `invalid` (values outside a declared domain) about one time in ten (shrinking towards
    `valid`)."""
    # One number picks valid or which invalid value; the invalid ones are in the middle of its range, as Hypothesis
    # draws the ends of a range more often than the rest. One choice more than `valid` alone, so that large
    # datasets stay within Hypothesis' limits.
    k = len(invalid)
    return st.tuples(st.integers(0, 8 * k - 1), valid).map(lambda t: invalid[t[0] % k] if 3 * k <= t[0] < 5 * k else t[1])


NON_FINITE = (math.nan, math.inf, -math.inf)
CUSTOMERS = one_of(1, 2, 3)
BOOLS = one_of(True, False)
SCORES_1_5 = or_invalid(one_of(1, 2, 3, 4, 5), 0, 6, 99)
SCORES_1_10 = or_invalid(one_of(1, 2, 5, 9, 10), 0, 11)
# 1200.0 is the top of the extended project's range of `talk_s`, 1200.5 past it.
SECONDS = or_invalid(one_of(0.0, 0.5, 0.35, 30.0, 301.25, 1200.0), *NON_FINITE, 1200.5)


def interaction(times: st.SearchStrategy[datetime.datetime | None]) -> st.SearchStrategy[Row]:
    return st.fixed_dictionaries(
        {
            "interaction_id": nullable(st.integers(1, 10**6)),
            "customer_id": CUSTOMERS,
            "agent_id": or_invalid(one_of(7, 8), 9),  # the extended project declares [7, 8]
            "team": one_of("north", "north", "north", "south", "east"),  # mostly north: enough rows for min_n
            "channel": or_invalid(one_of("phone", "chat", "email"), "fax", "Phone", ""),
            "queue": or_invalid(one_of("billing", "tech_support", "sales", "retention"), "unknown"),
            "contact_reason": one_of("delivery", "refund"),
            "started_at": times,
            "answered": BOOLS,
            "wait_s": or_invalid(one_of(0.0, 2.5, 4.999, 5.0, 5.001, 19.999, 20.0, 20.001, 95.5), *NON_FINITE),
            "talk_s": SECONDS,
            "hold_s": SECONDS,
            "wrap_s": SECONDS,
            "transferred": BOOLS,
            "fcr_reported": BOOLS,
            "nps_score": or_invalid(nullable(st.integers(0, 10)), 99, -1, 11),
            "csat_score": SCORES_1_5,
            "effort_score": SCORES_1_5,
            "sentiment_score": or_invalid(one_of(-1.0, -0.5, 0.0, 0.25, 1.0), *NON_FINITE, -1.5, 1.0000001),
            "sale": BOOLS,
            "sale_amount": or_invalid(one_of(0.0, 9.99, 120.0), *NON_FINITE),
            "acsi_satisfaction": SCORES_1_10,
            "acsi_expectations": SCORES_1_10,
            "acsi_ideal": SCORES_1_10,
            "agent_tenure_months": one_of(0, 1, 17, 180),
        }
    )


def order(times: st.SearchStrategy[datetime.datetime | None]) -> st.SearchStrategy[Row]:
    return st.fixed_dictionaries(
        {
            "order_id": nullable(st.integers(1, 10**6)),
            "customer_id": CUSTOMERS,
            "ordered_at": times,
            "amount": or_invalid(one_of(-25.0, 0.0, 0.01, 49.9), *NON_FINITE, -25.01, 49.91),  # extended: [-25, 49.9]
            "cross_sell": BOOLS,
            "referred_by": CUSTOMERS,
        }
    )


# Row counts: mostly small (readable failures), sometimes large enough to cross `min_n: 30`.
SIZES = st.sampled_from([0, 1, 2, 3, 4, 6, 9, 14, 45, 90])


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Rows per source (times as instants in UTC), each source's time zone, and how its times reach the engine."""

    rows: dict[str, list[Row]]
    zones: dict[str, str] = dataclasses.field(default_factory=dict)
    given_as: dict[str, str] = dataclasses.field(default_factory=dict)
    week_start: str = "monday"  # the calendar's
    as_csv: bool = False  # given as CSV files (see `csv_file`), not as frames


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    """Rows of interactions and orders as the two sources of `specs/` declare them, each in a zone."""
    zones = {source: draw(st.sampled_from(ZONES)) for source in ("interactions", "orders")}
    given_as = {source: draw(st.sampled_from(GIVEN_AS)) for source in zones}
    interactions = draw(st.lists(interaction(times(zones["interactions"])), min_size=(n := draw(SIZES)), max_size=n))
    orders = draw(st.lists(order(times(zones["orders"])), min_size=(m := draw(SIZES)), max_size=m))
    as_csv = draw(st.integers(0, 3)) == 1  # now and then (1, not an end: Hypothesis draws the ends more often)
    week_start = draw(st.sampled_from(["monday", "sunday"]))
    return Dataset({"interactions": interactions, "orders": orders}, zones, given_as, week_start, as_csv)


# Domains the extended project declares beyond those of `specs/`: the values of an int and of a bool, and ranges
# whose ends are fractional or are values drawn.
EXTRA_DOMAINS: dict[str, dict[str, dict[str, Any]]] = {
    "interactions": {
        "agent_id": {"values": (7, 8)},
        "sale": {"values": (True,)},
        "talk_s": {"range": (0, 1200)},
    },
    "orders": {"amount": {"range": (-25, 49.9)}},
}


def with_domains(project: metricdsl.Project, domains: dict[str, dict[str, dict[str, Any]]]) -> metricdsl.Project:
    """`project` with the columns named in `domains` given those keys (`values`, `range`), checked again."""
    sources = dict(project.definitions.sources)
    for name, columns in domains.items():
        changed = {c: dataclasses.replace(sources[name].columns[c], **keys) for c, keys in columns.items()}
        sources[name] = dataclasses.replace(sources[name], columns={**sources[name].columns, **changed})
    definitions = dataclasses.replace(project.definitions, sources=sources)
    model, diagnostics = check(definitions)
    assert not diagnostics, diagnostics
    return metricdsl.Project(definitions, model, diagnostics)


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    """The standard library with the domains of `EXTRA_DOMAINS`, and the metrics of `EXTRA_METRICS`."""
    path = tmp_path_factory.mktemp("extras") / "extras.yaml"
    path.write_text(EXTRA_METRICS)
    return with_domains(metricdsl.load([SPECS, path]), EXTRA_DOMAINS)


@pytest.fixture(scope="module")
def valued(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    """The standard library with the domains of `EXTRA_DOMAINS`, and the metrics of `VALUE_WINDOW_METRICS`."""
    path = tmp_path_factory.mktemp("values") / "values.yaml"
    path.write_text(VALUE_WINDOW_METRICS)
    return with_domains(metricdsl.load([SPECS, path]), EXTRA_DOMAINS)


@pytest.fixture(scope="module")
def over_periods(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    """The standard library, the metrics of `EXTRA_METRICS` and those of `PERIOD_METRICS`."""
    folder = tmp_path_factory.mktemp("periods")
    (folder / "extras.yaml").write_text(EXTRA_METRICS)
    (folder / "periods.yaml").write_text(PERIOD_METRICS)
    return metricdsl.load([SPECS, folder])


def frames(project: metricdsl.Project, data: Dataset | dict[str, list[Row]]) -> dict[str, pl.DataFrame]:
    """The rows as DataFrames with the declared dtypes, datetimes as each source's `given_as` says."""
    data = data if isinstance(data, Dataset) else Dataset(data)
    sources = project.model.definitions.sources
    result = {}
    for name, rows in data.rows.items():
        zone = project.definitions.zone(name)
        schema = {column: DTYPES[spec.type] for column, spec in sources[name].columns.items()}
        times = [column for column, spec in sources[name].columns.items() if spec.type == "datetime"]
        given_as = data.given_as.get(name, "local")
        if given_as == "local" and any(ambiguous(row.get(c), zone) for row in rows for c in times):
            given_as = "utc"  # a local time that a DST change repeats does not say which instant it is
        schema |= {column: GIVEN_AS_DTYPE[given_as] for column in times}
        written = [{**row, **{c: as_given(row.get(c), given_as, zone) for c in times}} for row in rows]
        result[name] = pl.DataFrame(written, schema=schema)
    return result


# The dialect of the CSV files written: `NA` is null, and an empty field is empty text.
CSV = CsvDialect(null_values=("NA",))


def handed_over(project: metricdsl.Project, data: Dataset, folder: Path) -> tuple[metricdsl.Project, dict[str, Data]]:
    """The project and the data as the engine is given them: frames, or CSV files written in `folder` and the
    project with its sources in the dialect of those files."""
    if not data.as_csv:
        return project, dict(frames(project, data))
    return with_sources(project, csv=CSV), {name: csv_file(project, name, rows, folder) for name, rows in data.rows.items()}


def csv_file(project: metricdsl.Project, source: str, rows: list[Row], folder: Path) -> Path:
    """`rows` as a CSV file of the source's declared columns: nulls `NA`, floats as Python writes them (`nan`,
    `inf`), times as ISO 8601 text with their UTC offset."""
    columns = project.model.definitions.sources[source].columns
    zone = project.definitions.zone(source)
    path = folder / f"{source}.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([as_text(row.get(name), spec.type, zone) for name, spec in columns.items()])
    return path


def as_text(value: Any, kind: str, zone: str) -> str:
    if value is None:
        return "NA"
    if kind == "datetime":
        return str(as_given(value, "text", zone))
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


GIVEN_AS_DTYPE: dict[str, pl.DataType] = {
    "utc": pl.Datetime("us", "UTC"),
    "other_zone": pl.Datetime("us", "Asia/Kathmandu"),
    "local": pl.Datetime("us"),
    "text": pl.String(),
}


def as_given(moment: datetime.datetime | None, given_as: str, zone: str) -> datetime.datetime | str | None:
    """An instant (aware, or naive local time in `zone`) as a source gives it to the engine."""
    if moment is None:
        return None
    moment = instant(moment, zone)
    if given_as == "other_zone":
        return moment.astimezone(ZoneInfo("Asia/Kathmandu"))
    if given_as == "local":
        return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    if given_as == "text":
        return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="microseconds")
    return moment


def ambiguous(moment: datetime.datetime | None, zone: str) -> bool:
    """Whether the local time of `moment` in `zone` happens twice (at the end of DST)."""
    if moment is None:
        return False
    local = ZoneInfo(zone)
    wall = instant(moment, zone).astimezone(local).replace(tzinfo=None)  # keeps `fold`: 1 for the second of two
    return wall.replace(tzinfo=local, fold=0).utcoffset() != wall.replace(tzinfo=local, fold=1).utcoffset()


def same(expected: Any, actual: Any) -> bool:
    """Equal, nulls only with nulls, numbers within 1e-9 (relative or absolute)."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, datetime.datetime) and isinstance(actual, datetime.datetime):
        # As instants: Python never finds two zones' datetimes equal when one is in a DST change's repeated hour.
        return expected.astimezone(UTC) == actual.astimezone(UTC)
    return expected == actual


def disagreements(
    project: metricdsl.Project,
    metrics: list[str],
    data: Dataset,
    by: tuple[str, ...],
    grain: str | None,
    engine: str,
    inputs: Mapping[str, Data],
    as_of: datetime.datetime | None = None,
    span: tuple[datetime.date | None, datetime.date | None] = (None, None),
) -> list[str]:
    """Where `Project.evaluate` of `inputs` (with Polars' `engine`, and `as_of`) and the reference of `data` differ
    for one layout.

    When the metrics cannot be evaluated together, each is evaluated alone, so that one metric that
    fails to evaluate does not hide the others.
    """
    keys = [*by, *([grain] if grain else [])]
    try:
        actual = project.evaluate(
            inputs, metrics=metrics, by=by, grain=grain, polars_engine=engine, as_of=as_of, start=span[0], end=span[1]
        )
    except metricdsl.DataError as error:
        if len(metrics) > 1:
            return [
                problem
                for name in metrics
                for problem in disagreements(project, [name], data, by, grain, engine, inputs, as_of, span)
            ]
        return [f"by={list(by)} grain={grain}: {metrics[0]}: {error}"]
    expected = evaluate_reference(project.model, data.rows, metrics, by, grain, as_of=as_of, start=span[0], end=span[1])
    shown = [*metrics, *(["provisional"] if any(reads_window(project.model, m) for m in metrics) else [])]
    if actual.columns != [*keys, *shown]:
        return [f"columns {actual.columns}, expected {[*keys, *shown]}"]
    expected_rows = {tuple(row[k] for k in keys): row for row in expected}
    actual_rows = {tuple(row[k] for k in keys): row for row in actual.to_dicts()}
    problems = [f"{actual.height - len(actual_rows)} duplicate groups"] if len(actual_rows) != actual.height else []
    if set(expected_rows) != set(actual_rows):
        problems.append(
            f"groups: missing {set(expected_rows) - set(actual_rows)}, unexpected {set(actual_rows) - set(expected_rows)}"
        )
    for key in expected_rows.keys() & actual_rows.keys():
        group = dict(zip(keys, key, strict=True))
        problems += [
            f"{name} at {group}: expected {expected_rows[key][name]!r}, got {actual_rows[key][name]!r}"
            for name in shown
            if not same(expected_rows[key][name], actual_rows[key][name])
        ]
    return [f"by={list(by)} grain={grain}: {problem}" for problem in problems]


def check_agreement(
    project: metricdsl.Project,
    metrics: list[str],
    data: Dataset | dict[str, list[Row]],
    layouts: list[tuple[tuple[str, ...], str | None]],
    as_of: datetime.datetime | None = None,
    span: tuple[datetime.date | None, datetime.date | None] = (None, None),
) -> None:
    """Both of Polars' engines agree with the reference in every layout, with the sources in the data's zones."""
    data = data if isinstance(data, Dataset) else Dataset(data)
    with tempfile.TemporaryDirectory() as folder:
        project, inputs = handed_over(with_week_start(in_zones(project, data.zones), data.week_start), data, Path(folder))
        problems = [
            f"{engine}: {problem}"
            for engine in ("streaming", "in-memory")
            for by, grain in layouts
            for problem in disagreements(project, metrics, data, by, grain, engine, inputs, as_of, span)
        ]
    assert not problems, "\n".join(problems)


@settings(max_examples=15, deadline=None)
@given(data=datasets())
def test_library_agrees_with_the_reference(project: metricdsl.Project, data: Dataset) -> None:
    check_library(project, data)


def check_library(project: metricdsl.Project, data: Dataset) -> None:
    """The library's metrics agree with the reference in every layout; those of orders (revenue after contact) in the
    layouts of the columns orders have: `team`, the team an order is credited to, beside the contacts' metrics."""
    of_orders = [name for name, metric in project.model.metrics.items() if metric.source == "orders"]
    assert of_orders == ["revenue_after_contact"]
    check_agreement(project, [name for name in project.model.metrics if name not in of_orders], data, LAYOUTS)
    by_team = [(by, grain) for by, grain in LAYOUTS if set(by) <= {"team"}]
    check_agreement(project, [*of_orders, "contacts", "churn_90d"], data, by_team)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(data=datasets())
def test_library_agrees_with_the_reference_at_length(project: metricdsl.Project, data: Dataset) -> None:
    check_library(project, data)


@settings(max_examples=10, deadline=None)
@given(data=datasets())
def test_the_rest_of_the_language_agrees_with_the_reference(extended: metricdsl.Project, data: Dataset) -> None:
    extras = [name for name in extended.model.metrics if name.startswith("x_")]
    check_agreement(extended, extras, data, EXTRA_LAYOUTS)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(data=datasets())
def test_the_rest_of_the_language_agrees_with_the_reference_at_length(extended: metricdsl.Project, data: Dataset) -> None:
    extras = [name for name in extended.model.metrics if name.startswith("x_")]
    check_agreement(extended, extras, data, EXTRA_LAYOUTS)


@settings(max_examples=6, deadline=None)
@given(data=datasets())
def test_value_windows_agree_with_the_reference(valued: metricdsl.Project, data: Dataset) -> None:
    check_agreement(valued, [name for name in valued.model.metrics if name.startswith("v_")], data, EXTRA_LAYOUTS)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(data=datasets())
def test_value_windows_agree_with_the_reference_at_length(valued: metricdsl.Project, data: Dataset) -> None:
    check_agreement(valued, [name for name in valued.model.metrics if name.startswith("v_")], data, EXTRA_LAYOUTS)


@settings(max_examples=15, deadline=None)
@given(data=datasets())
def test_metrics_over_periods_agree_with_the_reference(over_periods: metricdsl.Project, data: Dataset) -> None:
    names = list(over_periods.model.metrics)
    check_agreement(over_periods, [n for n in names if n.startswith("p_")], data, PERIOD_LAYOUTS)
    check_agreement(over_periods, [n for n in names if n.startswith("w_")], data, DURATION_LAYOUTS)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(data=datasets())
def test_metrics_over_periods_agree_with_the_reference_at_length(over_periods: metricdsl.Project, data: Dataset) -> None:
    names = list(over_periods.model.metrics)
    check_agreement(over_periods, [n for n in names if n.startswith("p_")], data, PERIOD_LAYOUTS)
    check_agreement(over_periods, [n for n in names if n.startswith("w_")], data, DURATION_LAYOUTS)


def check_quality_counts(project: metricdsl.Project, data: Dataset) -> None:
    """The data-quality report counts, per source and column, the rows the reference finds invalid, with both of
    Polars' engines; with `on_invalid: error`, any invalid value is a `DataError` instead."""
    metrics = list(project.model.metrics)  # between them, they read every column that declares a domain or is a float
    expected = invalid_counts(project.model, data.rows)
    with tempfile.TemporaryDirectory() as folder:
        project, inputs = handed_over(in_zones(project, data.zones), data, Path(folder))
        for engine in ("streaming", "in-memory"):
            run = project.run(inputs, metrics=metrics, polars_engine=engine)
            assert {(p.source, p.column): p.rows for p in run.problems if p.column is not None} == expected
            assert {p.source for p in run.problems if p.column is None} == {s for s, rows in data.rows.items() if not rows}
        strict = with_sources(project, on_invalid="error")
        if expected:
            with pytest.raises(metricdsl.DataError, match=r"\(on_invalid: error\)$"):
                strict.evaluate(inputs, metrics=metrics)
        else:
            strict.evaluate(inputs, metrics=metrics)


def with_sources(project: metricdsl.Project, **keys: Any) -> metricdsl.Project:
    """`project` with every source given `keys` (such as `on_invalid`)."""
    sources = {name: dataclasses.replace(s, **keys) for name, s in project.definitions.sources.items()}
    definitions = dataclasses.replace(project.definitions, sources=sources)
    return metricdsl.Project(definitions, dataclasses.replace(project.model, definitions=definitions), [])


@settings(max_examples=15, deadline=None)
@given(data=datasets())
def test_the_data_quality_report_counts_what_the_reference_finds_invalid(extended: metricdsl.Project, data: Dataset) -> None:
    check_quality_counts(extended, data)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(data=datasets())
def test_the_data_quality_report_counts_what_the_reference_finds_invalid_at_length(
    extended: metricdsl.Project, data: Dataset
) -> None:
    check_quality_counts(extended, data)


def test_csv_rows_of_nulls_and_invalid_values_alone_are_rows_as_in_the_reference(extended: metricdsl.Project) -> None:
    start = datetime.datetime(2026, 1, 5, 8)
    interactions = [
        {"team": "north", "started_at": start, "nps_score": 9, "channel": "phone", "talk_s": 30.0},
        {},  # every value null: `NA,NA,...`, a row that `count()` counts, not a blank line
        {"nps_score": 99, "channel": "fax", "talk_s": math.nan, "sale": False},  # every value null once checked
        {"team": "north", "started_at": start + DAY, "nps_score": 3, "sentiment_score": math.inf},
    ]
    data = Dataset({"interactions": interactions, "orders": [{}, {"amount": 50.0}]}, as_csv=True)
    [overall] = evaluate_reference(extended.model, data.rows, ["contacts", "x_orders", "x_answers"])
    assert overall == {"contacts": 4, "x_orders": 2, "x_answers": 2}
    check_agreement(extended, list(extended.model.metrics), data, [((), None), ((), "week")])
    check_quality_counts(extended, data)


@pytest.mark.parametrize("answers", [29, 30])
def test_min_n_boundary(project: metricdsl.Project, answers: int) -> None:
    start = datetime.datetime(2026, 1, 5, 8)
    rows = [
        {
            "customer_id": i % 3,
            "team": "north",
            "started_at": start + i * SECOND,
            "answered": True,
            "nps_score": i % 11,
            "csat_score": i % 5 + 1,
            "effort_score": i % 5 + 1,
            "fcr_reported": i % 2 == 0,
        }
        for i in range(answers)
    ]
    data = {"interactions": [*rows, {"team": "north", "started_at": start}], "orders": []}
    [overall] = evaluate_reference(project.model, data, ["nps", "csat"])
    assert (overall["nps"] is None, overall["csat"] is None) == (answers < 30, answers < 30)
    check_agreement(project, list(project.model.metrics), data, [((), None), (("team",), "week")])


def test_dashboard_is_its_metrics_by_its_dimensions_and_grain(project: metricdsl.Project) -> None:
    data = {
        "interactions": [
            {"customer_id": 1, "team": "north", "started_at": ANCHORS[1], "answered": True, "wait_s": 20.0},
            {"customer_id": 1, "team": "north", "started_at": ANCHORS[1] + 7 * DAY, "answered": True, "wait_s": 5.0},
            {"customer_id": 2, "team": None, "started_at": None, "answered": False, "wait_s": 4.0},
        ],
        "orders": [{"customer_id": 1, "ordered_at": ANCHORS[1] + 30 * DAY, "amount": 10.0}],
    }
    dashboard = project.model.definitions.dashboards["service_2_0"]
    actual = project.evaluate(frames(project, data), dashboard="service_2_0")
    expected = project.evaluate(
        frames(project, data), metrics=list(dashboard.metrics), by=dashboard.by, grain=dashboard.grain
    )
    assert actual.equals(expected)
    check_agreement(project, list(dashboard.metrics), data, [(dashboard.by, dashboard.grain)])


# Windows at the edge of the data: times exactly a window (and a microsecond either side) from the horizon of the
# other source (its latest time, or `as_of`) and from its first time.
WIDTHS = [7 * DAY, 7 * DAY, 30 * DAY, DAY]
MICRO = datetime.timedelta(microseconds=1)
EDGE_LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [((), None), (("team",), "week"), ((), "day")]


@st.composite
def edge_datasets(draw: st.DrawFn) -> tuple[Dataset, datetime.datetime | None]:
    """A dataset whose rows are moved to a window's width (± 0, ± 1 µs) after a source's first time, then others to
    a width before a horizon (a source's latest time, or `as_of`), and the `as_of` (an instant, or None: each source's
    latest time) to evaluate it with. The second moves keep the latest times, so that those rows are exactly on it."""
    data = draw(datasets())
    columns = {"interactions": "started_at", "orders": "ordered_at"}
    rows = {source: list(data.rows[source]) for source in columns}
    nudge = st.sampled_from([datetime.timedelta(0), MICRO, -MICRO])
    width = st.sampled_from(WIDTHS)
    # A moved row has a customer and is answered (counted by the window metrics), or not.
    keys = st.fixed_dictionaries({"customer_id": st.sampled_from([1, 2]), "answered": st.sampled_from([True, False])})

    def times() -> list[datetime.datetime]:
        return [row[c] for source, c in columns.items() for row in rows[source] if row[c] is not None]

    def move(bounds: list[datetime.datetime], sign: int) -> None:
        if not bounds:
            return
        edge = st.builds(lambda t, w, d: t + sign * w + d, st.sampled_from(bounds), width, nudge)
        for source, column in columns.items():
            moved = draw(st.lists(st.booleans(), min_size=len(rows[source]), max_size=len(rows[source])))
            rows[source] = [
                {**row, column: draw(edge), **draw(keys)} if how and row[column] is not None else row
                for row, how in zip(rows[source], moved, strict=True)
            ]

    def bound(pick: Callable[..., datetime.datetime]) -> list[datetime.datetime]:
        found = [[r[c] for r in rows[s] if r[c] is not None] for s, c in columns.items()]
        return [pick(times) for times in found if times]

    move(bound(min), +1)
    as_of = draw(st.none() | st.builds(lambda t, d: t + d, st.sampled_from(times()), nudge)) if times() else None
    move([as_of] if as_of else bound(max), -1)
    return dataclasses.replace(data, rows=rows), as_of


def check_edges(extended: metricdsl.Project, data: Dataset, as_of: datetime.datetime | None, prefix: str = "") -> None:
    """The window metrics (those whose names start with `prefix`) agree with the reference on data drawn around their
    horizons and first times."""
    model = extended.model
    windowed = [name for name in model.metrics if reads_window(model, name) and name.startswith(prefix)]
    sources = {name: {model.metrics[m].source for m in model.metric_order([name])} - {None} for name in windowed}
    of_contacts = [name for name in windowed if sources[name] == {"interactions"}]
    check_agreement(extended, [*of_contacts, "contacts"], data, EDGE_LAYOUTS, as_of)
    check_agreement(extended, [n for n in windowed if n not in of_contacts], data, [((), None), ((), "day")], as_of)


@settings(max_examples=25, deadline=None)
@given(drawn=edge_datasets())
def test_windows_at_the_edge_of_the_data_agree_with_the_reference(
    extended: metricdsl.Project, drawn: tuple[Dataset, datetime.datetime | None]
) -> None:
    check_edges(extended, *drawn)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(drawn=edge_datasets())
def test_windows_at_the_edge_of_the_data_agree_with_the_reference_at_length(
    extended: metricdsl.Project, drawn: tuple[Dataset, datetime.datetime | None]
) -> None:
    check_edges(extended, *drawn)


@settings(max_examples=8, deadline=None)
@given(drawn=edge_datasets())
def test_value_windows_at_the_edge_of_the_data_agree_with_the_reference(
    valued: metricdsl.Project, drawn: tuple[Dataset, datetime.datetime | None]
) -> None:
    check_edges(valued, *drawn, prefix="v_")


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(drawn=edge_datasets())
def test_value_windows_at_the_edge_of_the_data_agree_with_the_reference_at_length(
    valued: metricdsl.Project, drawn: tuple[Dataset, datetime.datetime | None]
) -> None:
    check_edges(valued, *drawn, prefix="v_")


@st.composite
def spans(draw: st.DrawFn) -> tuple[datetime.date | None, datetime.date | None]:
    """A range of periods (`--from`, `--to`): a start among the times the data draws most (so that periods before
    it hold values), or before them all; an end open, inside the data or after it."""
    start = draw(st.dates(datetime.date(2025, 12, 1), datetime.date(2026, 1, 12)))
    end = draw(st.none() | st.dates(start, datetime.date(2026, 3, 31)))
    return start, end


def check_range(project: metricdsl.Project, data: Dataset, span: tuple[datetime.date | None, datetime.date | None]) -> None:
    """The metrics over periods agree with the reference in a range of periods, in every layout with a grain."""
    periods = [name for name in project.model.metrics if name.startswith("p_")]
    check_agreement(project, periods, data, [layout for layout in PERIOD_LAYOUTS if layout[1]], span=span)


@settings(max_examples=14, deadline=None)
@given(data=datasets(), span=spans())
def test_a_range_of_periods_agrees_with_the_reference(
    over_periods: metricdsl.Project, data: Dataset, span: tuple[datetime.date | None, datetime.date | None]
) -> None:
    """The periods of a range hold the values they have without it: `prev`, `change` and trailing windows of its
    first periods read the periods before it."""
    check_range(over_periods, data, span)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(data=datasets(), span=spans())
def test_a_range_of_periods_agrees_with_the_reference_at_length(
    over_periods: metricdsl.Project, data: Dataset, span: tuple[datetime.date | None, datetime.date | None]
) -> None:
    check_range(over_periods, data, span)
