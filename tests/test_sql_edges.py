"""The edges of the SQL path on DuckDB, with values computed by hand: windows at their exact bounds and on ties, null
keys and times, censoring at the horizon, ISO weeks across the new year, Sunday weeks, DST, zero denominators,
quantiles and distinct counts. Each is also compared with the Polars engine."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import metricdsl
from tests.conftest import frame
from tests.test_sql_conformance import on_duckdb
from tests.zones import in_zones, with_week_start

pytest.importorskip("duckdb")

SPECS = Path(__file__).parent.parent / "specs"
EDGE_METRICS = """
metrics:
  e_after: {source: interactions, expr: 'share(followed_by(interactions, 7d))'}
  e_before: {source: interactions, expr: 'share(preceded_by(interactions, 7d))'}
  e_after_rows: {source: interactions, expr: 'count(where followed_by(interactions, 7d))'}
  e_hour: {source: interactions, expr: 'mean(hour(started_at))'}
  e_weekday: {source: interactions, expr: 'mean(weekday(started_at))'}
  e_ratio: {source: interactions, expr: 'mean(talk_s / hold_s)'}
  e_remainder: {source: interactions, expr: 'sum(agent_id % customer_id)'}
  e_median: {source: interactions, expr: 'median(talk_s)'}
  e_quartile: {source: interactions, expr: 'quantile(talk_s, 0.25)'}
  e_p90: {source: interactions, expr: 'p90(talk_s)'}
  e_customers: {source: interactions, expr: 'count_distinct(customer_id)'}
  e_customers_answered: {source: interactions, expr: 'count_distinct(customer_id where answered) + count()'}
  e_round: {source: interactions, expr: 'sum(round(talk_s))'}
  e_least: {source: interactions, expr: 'sum(least(talk_s, hold_s))'}
  e_orders: {source: orders, expr: 'count()'}
  e_amount: {source: orders, expr: 'sum(amount)'}
  e_per_contact: {expr: 'e_orders / contacts'}
"""
UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 1, 12, 9, tzinfo=UTC)
WEEK = datetime.timedelta(days=7)
MICROSECOND = datetime.timedelta(microseconds=1)
FAR = datetime.datetime(2030, 1, 1)


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    path = tmp_path_factory.mktemp("edges") / "edges.yaml"
    path.write_text(EDGE_METRICS)
    return metricdsl.load([SPECS, path])


def interactions(project: metricdsl.Project, rows: list[dict[str, Any]]) -> dict[str, pl.DataFrame]:
    """The rows (times aware, in UTC) as the interactions frame, with no orders."""
    typed = frame(project, "interactions", rows).with_columns(pl.col("started_at").dt.replace_time_zone("UTC"))
    return {"interactions": typed, "orders": frame(project, "orders", [])}


def both(project: metricdsl.Project, data: dict[str, pl.DataFrame], **request: Any) -> pl.DataFrame:
    """The table on DuckDB, checked equal to Polars'."""
    actual = on_duckdb(project, data, **request)
    assert_frame_equal(actual, project.evaluate(data, **request), rel_tol=1e-9, abs_tol=1e-9)
    return actual


def test_windows_have_a_strict_start_and_an_inclusive_end(edges: metricdsl.Project) -> None:
    rows = [
        {"customer_id": 1, "started_at": T0},
        {"customer_id": 1, "started_at": T0 + WEEK},  # exactly 7 days later: in the first row's window
        {"customer_id": 1, "started_at": T0 + 2 * WEEK + MICROSECOND},  # one microsecond past the second's
        {"customer_id": 2, "started_at": T0},  # a tie: not after, not before
        {"customer_id": 2, "started_at": T0},
    ]
    table = both(edges, interactions(edges, rows), metrics=["e_after", "e_before", "e_after_rows"], as_of=FAR)
    # Looking back, the rows at the first time are censored (their window starts before it): of the other two,
    # the one exactly 7 days after the first time is preceded within 7 days.
    assert table.row(0, named=True) == {"e_after": 1 / 5, "e_before": 1 / 2, "e_after_rows": 1, "provisional": True}


def test_null_keys_and_times_leave_the_window_unknown(edges: metricdsl.Project) -> None:
    rows = [
        {"customer_id": None, "started_at": T0},
        {"customer_id": None, "started_at": T0 + MICROSECOND},
        {"customer_id": 3, "started_at": None},
        {"customer_id": 3, "started_at": T0},
        {"customer_id": 3, "started_at": T0 + WEEK - MICROSECOND},
    ]
    table = both(edges, interactions(edges, rows), metrics=["e_after", "e_after_rows"], as_of=FAR)
    # Only the two rows of customer 3 with a time are known: the first is followed within 7 days.
    assert table.row(0, named=True) == {"e_after": 1 / 2, "e_after_rows": 1, "provisional": False}


def test_windows_past_the_latest_time_are_censored(edges: metricdsl.Project) -> None:
    rows = [
        {"customer_id": 1, "started_at": T0},
        {"customer_id": 1, "started_at": T0 + WEEK},  # the latest time: its own window is past it
        {"customer_id": 2, "started_at": T0 + datetime.timedelta(days=1)},  # reaches a day past the latest time
    ]
    table = both(edges, interactions(edges, rows), metrics=["e_after"])
    assert table.row(0, named=True) == {"e_after": 1.0, "provisional": True}
    on_time = both(edges, interactions(edges, rows), metrics=["e_after"], as_of=datetime.datetime(2026, 1, 30))
    assert on_time.row(0, named=True) == {"e_after": 1 / 3, "provisional": False}


def test_iso_weeks_across_the_new_year_and_sunday_weeks(edges: metricdsl.Project) -> None:
    days = [datetime.datetime(2025, 12, d, 12, tzinfo=UTC) for d in (28, 29)] + [
        datetime.datetime(2026, 1, d, 12, tzinfo=UTC) for d in (3, 4, 5)
    ]
    data = interactions(edges, [{"customer_id": i, "started_at": t} for i, t in enumerate(days)])
    monday = both(edges, data, metrics=["contacts"], grain="week")
    assert monday.rows() == [("2025-W52", 1), ("2026-W01", 3), ("2026-W02", 1)]
    sunday = with_week_start(edges, "sunday")
    weeks = both(sunday, data, metrics=["contacts"], grain="week")
    assert weeks.rows() == [("2025-12-28", 3), ("2026-01-04", 2)]


def test_local_time_across_a_dst_change(edges: metricdsl.Project) -> None:
    berlin = in_zones(edges, {"interactions": "Europe/Berlin"})
    moments = [
        datetime.datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 CET on Sunday 29 March
        datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 01:30 CET
        datetime.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 03:30 CEST: the clocks jumped at 01:00 UTC
    ]
    data = interactions(berlin, [{"customer_id": 1, "started_at": t} for t in moments])
    table = both(berlin, data, metrics=["e_hour", "e_weekday", "contacts"], grain="day")
    assert table.rows() == [(datetime.date(2026, 3, 29), (0 + 1 + 3) / 3, 7.0, 3)]


def test_zero_denominators_are_null_and_remainders_take_the_sign_of_the_divisor(edges: metricdsl.Project) -> None:
    rows = [
        {"talk_s": 10.0, "hold_s": 0.0, "agent_id": 7, "customer_id": 0},
        {"talk_s": 10.0, "hold_s": 4.0, "agent_id": -7, "customer_id": 3},
        {"talk_s": 3.0, "hold_s": -2.0, "agent_id": 7, "customer_id": -3},
    ]
    table = both(edges, interactions(edges, rows), metrics=["e_ratio", "e_remainder"])
    assert table.row(0) == ((2.5 - 1.5) / 2, 2 + -2)


def test_exact_quantiles_distinct_counts_and_rounding(edges: metricdsl.Project) -> None:
    talks = [1.0, 2.0, 3.0, 4.0, 2.5, 3.5, None]
    customers = [1, 1, 2, None, 3, 3, 4]
    rows = [
        {"talk_s": t, "customer_id": c, "answered": i % 2 == 0, "hold_s": 2.0 if i < 3 else None}
        for i, (t, c) in enumerate(zip(talks, customers, strict=True))
    ]
    names = ["e_median", "e_quartile", "e_p90", "e_customers", "e_customers_answered", "e_round", "e_least"]
    table = both(edges, interactions(edges, rows), metrics=names)
    # talk_s sorted: 1, 2, 2.5, 3, 3.5, 4; answered rows: customers 1, 2, 3, 4; 2.5 and 3.5 round to 2 and 4.
    expected = (2.75, 2.125, 3.75, 4, 4 + 7, 1 + 2 + 3 + 4 + 2 + 4, 1 + 2 + 2 + 4 + 2.5 + 3.5)
    assert table.row(0) == pytest.approx(expected)


def test_several_sources_are_joined_on_their_keys_with_counts_of_zero(edges: metricdsl.Project) -> None:
    data = interactions(edges, [{"customer_id": 1, "started_at": T0}])
    order = {"customer_id": 1, "ordered_at": T0 + datetime.timedelta(days=1), "amount": 5.0}
    data["orders"] = frame(edges, "orders", [order]).with_columns(pl.col("ordered_at").dt.replace_time_zone("UTC"))
    table = both(edges, data, metrics=["contacts", "e_orders", "e_amount", "e_per_contact"], grain="day")
    assert table.rows() == [(T0.date(), 1, 0, None, 0.0), (T0.date() + datetime.timedelta(days=1), 0, 1, 5.0, None)]


DURATIONS = """
sources:
  calls:
    time: started_at
    columns:
      started_at: datetime
      ended_at: datetime
      hold: {type: duration, unit: min}
      team: str
metrics:
  mean_length: {source: calls, expr: 'mean(ended_at - started_at)'}
  total_hold: {source: calls, expr: 'sum(hold)'}
  long_holds: {source: calls, expr: 'count(where hold > 2m)'}
  latest_plus: {source: calls, expr: 'max(started_at + 90s)'}
  median_hold: {source: calls, expr: 'median(hold)'}
"""


def test_durations_and_datetimes_come_back_in_their_types(tmp_path: Path) -> None:
    (tmp_path / "calls.yaml").write_text(DURATIONS)
    project = metricdsl.load(tmp_path)
    calls = pl.DataFrame(
        {
            "started_at": [T0, T0 + datetime.timedelta(hours=1), None],
            "ended_at": [
                T0 + datetime.timedelta(seconds=301, microseconds=1),
                T0 + datetime.timedelta(hours=1, seconds=10),
                T0,
            ],
            "hold": [datetime.timedelta(minutes=3), datetime.timedelta(seconds=61, microseconds=3), None],
            "team": ["a", "b", "a"],
        }
    )
    table = both(project, {"calls": calls}, metrics=list(project.model.metrics))
    second = datetime.timedelta(seconds=1)
    assert table.row(0) == (
        (301 * second + MICROSECOND + 10 * second) / 2,
        datetime.timedelta(minutes=4, seconds=1, microseconds=3),
        1,
        T0 + datetime.timedelta(hours=1, seconds=90),
        datetime.timedelta(seconds=120, microseconds=500001),  # the linear median of 3 min and 61 s 3 µs, truncated
    )
