"""The compiled Polars path and the plain-Python reference give the same numbers on random data.

The data is drawn to hit the edges of the contract: nulls in every column (keys, times and dimensions
too), times exactly on window boundaries relative to each other and around the ISO new year, waits of
exactly 5 s and 20 s, small customer pools so that windows match, and enough survey answers now and
then to cross `min_n`. Each source gets a time zone (the two may differ), its times are instants around
local new years and around the DST changes of every zone drawn from, and they reach the engine in one of
the ways data carries time: in UTC, in another zone, as local time without a zone, or as ISO text with
offsets.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metricdsl
from tests.reference import Row, evaluate_reference, instant, reads_window
from tests.zones import in_zones

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
"""
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
# in the other hemisphere; one at a half-hour offset without DST.
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
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


CUSTOMERS = one_of(1, 2, 3)
BOOLS = one_of(True, False)
SCORES_1_5 = one_of(1, 2, 3, 4, 5)
SECONDS = one_of(0.0, 0.5, 0.35, 30.0, 301.25, 1200.0)


def interaction(times: st.SearchStrategy[datetime.datetime | None]) -> st.SearchStrategy[Row]:
    return st.fixed_dictionaries(
        {
            "interaction_id": nullable(st.integers(1, 10**6)),
            "customer_id": CUSTOMERS,
            "agent_id": one_of(7, 8),
            "team": one_of("north", "north", "north", "south", "east"),  # mostly north: enough rows for min_n
            "channel": one_of("phone", "chat", "email"),
            "queue": one_of("billing", "tech_support", "sales", "retention"),
            "contact_reason": one_of("delivery", "refund"),
            "started_at": times,
            "answered": BOOLS,
            "wait_s": one_of(0.0, 2.5, 4.999, 5.0, 5.001, 19.999, 20.0, 20.001, 95.5),
            "talk_s": SECONDS,
            "hold_s": SECONDS,
            "wrap_s": SECONDS,
            "transferred": BOOLS,
            "fcr_reported": BOOLS,
            "nps_score": nullable(st.integers(0, 10)),
            "csat_score": SCORES_1_5,
            "effort_score": SCORES_1_5,
            "sentiment_score": one_of(-1.0, -0.5, 0.0, 0.25, 1.0),
            "sale": BOOLS,
            "sale_amount": one_of(0.0, 9.99, 120.0),
        }
    )


def order(times: st.SearchStrategy[datetime.datetime | None]) -> st.SearchStrategy[Row]:
    return st.fixed_dictionaries(
        {
            "order_id": nullable(st.integers(1, 10**6)),
            "customer_id": CUSTOMERS,
            "ordered_at": times,
            "amount": one_of(-25.0, 0.0, 0.01, 49.9),
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


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    """Rows of interactions and orders as the two sources of `specs/` declare them, each in a zone."""
    zones = {source: draw(st.sampled_from(ZONES)) for source in ("interactions", "orders")}
    given_as = {source: draw(st.sampled_from(GIVEN_AS)) for source in zones}
    interactions = draw(st.lists(interaction(times(zones["interactions"])), min_size=(n := draw(SIZES)), max_size=n))
    orders = draw(st.lists(order(times(zones["orders"])), min_size=(m := draw(SIZES)), max_size=m))
    return Dataset({"interactions": interactions, "orders": orders}, zones, given_as)


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    """The standard library and the metrics of `EXTRA_METRICS`."""
    path = tmp_path_factory.mktemp("extras") / "extras.yaml"
    path.write_text(EXTRA_METRICS)
    return metricdsl.load([SPECS, path])


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
    engine: str = "streaming",
    as_of: datetime.datetime | None = None,
) -> list[str]:
    """Where `Project.evaluate` (with Polars' `engine`, and `as_of`) and the reference differ for one layout.

    When the metrics cannot be evaluated together, each is evaluated alone, so that one metric that
    fails to evaluate does not hide the others.
    """
    keys = [*by, *([grain] if grain else [])]
    try:
        actual = project.evaluate(frames(project, data), metrics=metrics, by=by, grain=grain, engine=engine, as_of=as_of)
    except metricdsl.DataError as error:
        if len(metrics) > 1:
            return [
                problem for name in metrics for problem in disagreements(project, [name], data, by, grain, engine, as_of)
            ]
        return [f"by={list(by)} grain={grain}: {metrics[0]}: {error}"]
    expected = evaluate_reference(project.model, data.rows, metrics, by, grain, as_of=as_of)
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
) -> None:
    """Both of Polars' engines agree with the reference in every layout, with the sources in the data's zones."""
    data = data if isinstance(data, Dataset) else Dataset(data)
    project = in_zones(project, data.zones)
    problems = [
        f"{engine}: {problem}"
        for engine in ("streaming", "in-memory")
        for by, grain in layouts
        for problem in disagreements(project, metrics, data, by, grain, engine, as_of)
    ]
    assert not problems, "\n".join(problems)


@settings(max_examples=60, deadline=None)
@given(data=datasets())
def test_library_agrees_with_the_reference(project: metricdsl.Project, data: Dataset) -> None:
    check_agreement(project, list(project.model.metrics), data, LAYOUTS)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(data=datasets())
def test_library_agrees_with_the_reference_at_length(project: metricdsl.Project, data: Dataset) -> None:
    check_agreement(project, list(project.model.metrics), data, LAYOUTS)


@settings(max_examples=60, deadline=None)
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
    return Dataset(rows, data.zones, data.given_as), as_of


@settings(max_examples=60, deadline=None)
@given(drawn=edge_datasets())
def test_windows_at_the_edge_of_the_data_agree_with_the_reference(
    extended: metricdsl.Project, drawn: tuple[Dataset, datetime.datetime | None]
) -> None:
    data, as_of = drawn
    model = extended.model
    windowed = [name for name in model.metrics if reads_window(model, name)]
    sources = {name: {model.metrics[m].source for m in model.metric_order([name])} - {None} for name in windowed}
    of_contacts = [name for name in windowed if sources[name] == {"interactions"}]
    check_agreement(extended, [*of_contacts, "contacts"], data, EDGE_LAYOUTS, as_of)
    check_agreement(extended, [n for n in windowed if n not in of_contacts], data, [((), None), ((), "day")], as_of)
