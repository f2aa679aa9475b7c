"""Time zones: days, weeks, hours, weekdays and dates are local to a source's zone; windows are exact elapsed time.

The DST changes of 2026 met here: Europe/Berlin on March 29 (23 hours) and October 25 (25 hours), at 01:00
UTC; America/New_York on March 8 (23 hours, at 07:00 UTC) and November 1 (25 hours, at 06:00 UTC).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metricdsl
from metricdsl.tools.spectest import COMPLETE, run_tests
from tests.zones import in_zones

UTC = datetime.timezone.utc
HOUR, WEEK = datetime.timedelta(hours=1), datetime.timedelta(days=7)

SPEC = """
sources:
  calls:
    time: at
    entities: {customer: customer_id}
    columns: {id: int, customer_id: int, at: datetime}
    derive:
      again_7d: followed_by(calls, 7d)
      before_7d: preceded_by(calls, 7d)
      ordered_7d: followed_by(orders, 7d)
  orders:
    time: ordered_at
    entities: {customer: customer_id}
    columns: {customer_id: int, ordered_at: datetime}
  visits:
    time: visited_on
    entities: {customer: customer_id}
    columns: {customer_id: int, visited_on: date}
    derive:
      ordered_1d: followed_by(orders, 1d)
metrics:
  calls: {source: calls, expr: count()}
  hour: {expr: max(hour(at))}
  weekday: {expr: max(weekday(at))}
  local_date: {expr: max(date(at))}
  repeats: {expr: count(where again_7d)}
  returns: {expr: count(where before_7d)}
  ordered: {expr: count(where ordered_7d)}
  from_monday: {expr: 'count(where at >= @2026-03-02)'}
  days_since: {expr: 'max(days_between(@2026-03-01, at))'}
  visits_ordered: {expr: count(where ordered_1d)}
targets:
  calls:
    warn: "> 0"
    overrides:
      - {from: 2026-03-02, warn: "> 5"}
"""


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    path = tmp_path_factory.mktemp("zones") / "calls.yaml"
    path.write_text(SPEC)
    return metricdsl.load(path)


def calls(*moments: datetime.datetime, customer: int = 1) -> pl.DataFrame:
    """One call per instant (aware), numbered in order, for one customer."""
    rows = {"id": list(range(len(moments))), "customer_id": [customer] * len(moments), "at": list(moments)}
    return pl.DataFrame(rows, schema={"id": pl.Int64, "customer_id": pl.Int64, "at": pl.Datetime("us", "UTC")})


NO_ORDERS = pl.DataFrame(schema={"customer_id": pl.Int64, "ordered_at": pl.Datetime("us", "UTC")})


def evaluate(project: metricdsl.Project, data: dict[str, Any], metrics: list[str], **request: Any) -> list[dict[str, Any]]:
    """The rows are all the data there is (windows are not censored at the last); no `provisional` column."""
    table = project.evaluate({"orders": NO_ORDERS, **data}, metrics=metrics, apply_min_n=False, as_of=COMPLETE, **request)
    return table.drop("provisional", strict=False).to_dicts()


def utc(*parts: int) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=UTC)


# -- the example of a Berlin call exported in UTC -----------------------------------------------------------------

BERLIN_MONDAY = utc(2026, 3, 1, 23, 30)  # 00:30 on Monday 2026-03-02 in Berlin


@pytest.mark.parametrize(
    "data",
    [
        calls(BERLIN_MONDAY),
        pl.DataFrame({"id": [0], "customer_id": [1], "at": ["2026-03-01T23:30:00Z"]}),
        pl.DataFrame({"id": [0], "customer_id": [1], "at": ["2026-03-02T00:30:00+01:00"]}),
        pl.DataFrame({"id": [0], "customer_id": [1], "at": ["2026-03-02T00:30:00"]}),  # naive: local time
        calls(BERLIN_MONDAY).with_columns(pl.col("at").dt.convert_time_zone("America/New_York")),
    ],
    ids=["utc", "text_z", "text_offset", "text_local", "other_zone"],
)
def test_a_call_at_half_past_midnight_in_berlin_is_on_monday(plain: metricdsl.Project, data: pl.DataFrame) -> None:
    project = in_zones(plain, {"calls": "Europe/Berlin"})
    metrics = ["calls", "hour", "weekday", "local_date", "from_monday", "days_since"]
    [day] = evaluate(project, {"calls": data}, metrics, grain="day")
    assert day == {
        "day": datetime.date(2026, 3, 2),
        "calls": 1,
        "hour": 0,
        "weekday": 1,
        "local_date": datetime.date(2026, 3, 2),
        "from_monday": 1,
        "days_since": 1,
    }
    [week] = evaluate(project, {"calls": data}, ["calls"], grain="week")
    assert week == {"week": "2026-W10", "calls": 1}


def test_without_a_zone_the_same_call_is_on_sunday_in_utc(plain: metricdsl.Project) -> None:
    [day] = evaluate(plain, {"calls": calls(BERLIN_MONDAY)}, ["calls", "hour", "weekday", "from_monday"], grain="week")
    assert day == {"week": "2026-W09", "calls": 1, "hour": 23, "weekday": 7, "from_monday": 0}


def test_a_zoned_parquet_column_is_read_in_the_source_zone(plain: metricdsl.Project, tmp_path: Path) -> None:
    path = tmp_path / "calls.parquet"
    calls(BERLIN_MONDAY).with_columns(pl.col("at").dt.convert_time_zone("Europe/Berlin")).write_parquet(path)
    project = in_zones(plain, {"calls": "Europe/Berlin"})
    [day] = evaluate(project, {"calls": path}, ["calls", "weekday"], grain="week")
    assert day == {"week": "2026-W10", "calls": 1, "weekday": 1}


def test_target_dates_are_local_period_starts(plain: metricdsl.Project) -> None:
    """The override from 2026-03-02 applies to the Berlin Monday, not to UTC's Sunday."""
    data = {"calls": calls(BERLIN_MONDAY), "orders": NO_ORDERS}
    berlin = in_zones(plain, {"calls": "Europe/Berlin"}).grade(data, metrics=["calls"], grain="day")
    assert berlin.table.select("calls__status").to_series().to_list() == ["ok"]
    in_utc = plain.grade(data, metrics=["calls"], grain="day")
    assert in_utc.table.select("calls__status").to_series().to_list() == ["warn"]


SPEC_TESTS = """
tests:
  - name: given times are local unless they carry an offset
    grain: week
    given:
      calls:
        - {at: "2026-03-01T23:30:00Z"}
        - {at: "2026-03-01T23:30:00+00:00"}
        - {at: 2026-03-01T23:30:00Z}
    expect:
      - {week: 2026-W10, calls: 3, weekday: 1, hour: 0}
  - name: naive given times are local time
    grain: day
    given:
      calls:
        - {at: "2026-03-02T00:30:00"}
        - {at: 2026-03-02 00:30:00}
        - {at: 2026-03-02}
    expect:
      - {day: 2026-03-02, calls: 3, weekday: 1, from_monday: 3}
"""


def test_spec_test_rows_are_read_in_the_source_zone(tmp_path: Path) -> None:
    (tmp_path / "calls.yaml").write_text(SPEC + SPEC_TESTS)
    project = in_zones(metricdsl.load(tmp_path), {"calls": "Europe/Berlin"})
    outcomes = run_tests(project)
    assert [o.failures for o in outcomes] == [(), ()]


def test_spec_test_rows_are_iso_whatever_format_the_files_are_in(tmp_path: Path) -> None:
    spec = SPEC.replace("at: datetime}", 'at: {type: datetime, format: "%d.%m.%Y %H:%M"}}')
    spec = spec.replace("visited_on: date}", 'visited_on: {type: date, format: "%d.%m.%Y"}}')
    tests = (
        SPEC_TESTS
        + """
  - name: given dates are ISO too
    given:
      visits:
        - {customer_id: 1, visited_on: 2026-03-02}
    expect: {visits_ordered: 0}
"""
    )
    (tmp_path / "calls.yaml").write_text(spec + tests)
    project = in_zones(metricdsl.load(tmp_path), {"calls": "Europe/Berlin"})
    assert [o.failures for o in run_tests(project)] == [(), (), ()]


def test_a_given_time_in_another_form_than_iso_is_named_with_its_row(tmp_path: Path) -> None:
    tests = """
tests:
  - name: a German time
    given:
      calls:
        - {at: 2026-03-02T00:30:00Z}
        - {at: "02.03.2026 00:30"}
    expect: {calls: 2}
"""
    (tmp_path / "calls.yaml").write_text(SPEC + tests)
    (outcome,) = run_tests(metricdsl.load(tmp_path))
    assert [f.error for f in outcome.failures] == [
        "`given` rows of `calls`, row 1: column `at` takes datetime values (ISO 8601, as 2026-01-05T09:00:00), "
        "not `02.03.2026 00:30`"
    ]


# -- DST changes ---------------------------------------------------------------------------------------------------

CHANGES = [
    ("Europe/Berlin", datetime.date(2026, 3, 29), 23),
    ("Europe/Berlin", datetime.date(2026, 10, 25), 25),
    ("America/New_York", datetime.date(2026, 3, 8), 23),
    ("America/New_York", datetime.date(2026, 11, 1), 25),
]


@pytest.mark.parametrize(("zone", "day", "hours"), CHANGES)
def test_a_dst_day_is_one_day_with_its_hours(plain: metricdsl.Project, zone: str, day: datetime.date, hours: int) -> None:
    """A call every hour of elapsed time from the local midnight before the change to the one two days after."""
    local = ZoneInfo(zone)
    start = datetime.datetime.combine(day - datetime.timedelta(days=1), datetime.time(), tzinfo=local).astimezone(UTC)
    end = datetime.datetime.combine(day + datetime.timedelta(days=2), datetime.time(), tzinfo=local).astimezone(UTC)
    moments = [start + i * HOUR for i in range((end - start) // HOUR)]
    project = in_zones(plain, {"calls": zone})
    rows = evaluate(project, {"calls": calls(*moments)}, ["calls", "hour"], grain="day")
    assert rows == [
        {"day": day - datetime.timedelta(days=1), "calls": 24, "hour": 23},
        {"day": day, "calls": hours, "hour": 23},
        {"day": day + datetime.timedelta(days=1), "calls": 24, "hour": 23},
    ]
    weeks = evaluate(project, {"calls": calls(*moments)}, ["calls"], grain="week")
    assert sum(week["calls"] for week in weeks) == 48 + hours


@pytest.mark.parametrize(
    ("zone", "moments", "hours"),
    [
        # Spring: 01:30 CET, then 03:30 CEST; 02:xx does not exist.
        ("Europe/Berlin", [utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 30)], [1, 3, 4]),
        # Autumn: 02:30 CEST, 02:30 CET, 03:30 CET.
        ("Europe/Berlin", [utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 2, 30)], [2, 2, 3]),
        ("America/New_York", [utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8, 30)], [1, 3, 4]),
        ("America/New_York", [utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7, 30)], [1, 1, 2]),
    ],
)
def test_hour_around_a_dst_change(
    plain: metricdsl.Project, zone: str, moments: list[datetime.datetime], hours: list[int]
) -> None:
    rows = evaluate(in_zones(plain, {"calls": zone}), {"calls": calls(*moments)}, ["hour"], by=["id"])
    assert [row["hour"] for row in rows] == hours


@pytest.mark.parametrize(("zone", "day", "_hours"), CHANGES)
def test_a_week_window_across_a_dst_change_is_168_hours(
    plain: metricdsl.Project, zone: str, day: datetime.date, _hours: int
) -> None:
    """Calls at noon three days before the change, and again 168 hours later, a microsecond more, and at the same
    local time a week later (167 or 169 hours)."""
    local = ZoneInfo(zone)
    first = datetime.datetime.combine(day - datetime.timedelta(days=3), datetime.time(12), tzinfo=local).astimezone(UTC)
    same_local_time = (first.astimezone(local).replace(tzinfo=None) + WEEK).replace(tzinfo=local).astimezone(UTC)
    assert abs(same_local_time - first - WEEK) == HOUR
    later = {1: first + WEEK, 2: first + WEEK + datetime.timedelta(microseconds=1), 3: same_local_time}
    frame = pl.concat([calls(first, moment, customer=customer) for customer, moment in later.items()])
    earlier = calls(first - 2 * WEEK, customer=9)  # the data starts before every look back: none is censored
    data = {"calls": pl.concat([earlier, frame])}
    rows = evaluate(in_zones(plain, {"calls": zone}), data, ["repeats", "returns"], by=["customer_id"])
    inside = same_local_time - first < WEEK  # 167 hours: inside; 169 hours: outside
    assert rows == [
        {"customer_id": 1, "repeats": 1, "returns": 1},
        {"customer_id": 2, "repeats": 0, "returns": 0},
        {"customer_id": 3, "repeats": int(inside), "returns": int(inside)},
        {"customer_id": 9, "repeats": 0, "returns": 0},
    ]


def test_a_window_between_sources_in_different_zones_compares_instants(plain: metricdsl.Project) -> None:
    project = in_zones(plain, {"calls": "Europe/Berlin", "orders": "America/New_York"})
    first = utc(2026, 3, 25, 11)
    orders = pl.DataFrame(
        {"customer_id": [1, 2], "ordered_at": [first + WEEK, first + WEEK + datetime.timedelta(seconds=1)]},
        schema={"customer_id": pl.Int64, "ordered_at": pl.Datetime("us", "UTC")},
    )
    frame = pl.concat([calls(first, customer=1), calls(first, customer=2)])
    rows = evaluate(project, {"calls": frame, "orders": orders}, ["ordered"], by=["customer_id"])
    assert rows == [{"customer_id": 1, "ordered": 1}, {"customer_id": 2, "ordered": 0}]


def test_a_date_time_starts_a_window_at_its_local_midnight(plain: metricdsl.Project) -> None:
    """A visit on 2026-03-02 in Berlin starts at 2026-03-01T23:00Z; a day later is 2026-03-02T23:00Z."""
    project = in_zones(plain, {"visits": "Europe/Berlin"})
    visits = pl.DataFrame({"customer_id": [1, 2], "visited_on": [datetime.date(2026, 3, 2)] * 2})
    orders = pl.DataFrame(
        {"customer_id": [1, 2], "ordered_at": [utc(2026, 3, 2, 23), utc(2026, 3, 2, 23, 0, 1)]},
        schema={"customer_id": pl.Int64, "ordered_at": pl.Datetime("us", "UTC")},
    )
    rows = evaluate(project, {"visits": visits, "orders": orders}, ["visits_ordered"], by=["customer_id"])
    assert rows == [{"customer_id": 1, "visits_ordered": 1}, {"customer_id": 2, "visits_ordered": 0}]


# -- any instant, any zone -----------------------------------------------------------------------------------------

# The zones of the differential tests, and others with offsets of 30 or 45 minutes, DST changes at midnight, a
# skipped day (Apia, 2011-12-30) and DST in the southern hemisphere.
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Chatham",
    "America/Havana",
    "America/Santiago",
    "Pacific/Apia",
    "Europe/London",
]
INSTANTS = st.datetimes(datetime.datetime(1970, 1, 1), datetime.datetime(2100, 1, 1)).map(lambda t: t.replace(tzinfo=UTC))


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(ZONES), moments=st.lists(INSTANTS, min_size=1, max_size=12))
def test_local_parts_agree_with_zoneinfo(plain: metricdsl.Project, zone: str, moments: list[datetime.datetime]) -> None:
    project = in_zones(plain, {"calls": zone})
    local = [moment.astimezone(ZoneInfo(zone)) for moment in moments]
    data = {"calls": calls(*moments)}
    by_day = [row for row in evaluate(project, data, ["hour", "weekday"], by=["id"], grain="day") if row["hour"] is not None]
    assert by_day == [{"id": i, "day": t.date(), "hour": t.hour, "weekday": t.isoweekday()} for i, t in enumerate(local)]
    by_week = [row for row in evaluate(project, data, ["calls"], by=["id"], grain="week") if row["calls"]]  # not the spine
    assert [row["week"] for row in by_week] == [f"{t.isocalendar()[0]}-W{t.isocalendar()[1]:02d}" for t in local]
