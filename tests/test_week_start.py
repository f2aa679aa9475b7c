"""`calendar: {week_start: sunday}`: weeks run Sunday to Saturday in local time and are labelled by their Sunday, in
evaluation, grading, history, `explain` and `fmt`; Monday weeks stay ISO weeks."""

from __future__ import annotations

import datetime

import polars as pl
import pytest
from click.testing import CliRunner

import metricdsl
from metricdsl.cli import main
from metricdsl.engine.columns import hidden
from metricdsl.errors import DataError
from metricdsl.grading.findings import findings
from metricdsl.grading.history import write_history
from metricdsl.render.explain import metric_report
from metricdsl.tools.explain import explain_metric
from metricdsl.tools.fmt import format_file
from tests import reference

SPEC = """\
calendar: {timezone: WEEK_ZONE, week_start: WEEK_START}
sources:
  calls:
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: {type: float, unit: s}}
metrics:
  calls: {expr: count()}
  asa: {expr: mean(wait_s), unit: s, better: lower}
rules:
  slow_twice:
    when: asa > 25s
    for: 2 periods
"""


def project_of(tmp_path, week_start: str, zone: str = "Europe/Berlin") -> metricdsl.Project:
    path = tmp_path / f"{week_start}.yaml"
    path.write_text(SPEC.replace("WEEK_START", week_start).replace("WEEK_ZONE", zone))
    return metricdsl.load(path)


def frame(times: list[datetime.datetime], waits: list[float] | None = None) -> pl.DataFrame:
    """Calls of team `a` at `times` (naive: local time; aware: instants)."""
    rows = [{"team": "a", "started_at": t, "wait_s": w} for t, w in zip(times, waits or [1.0] * len(times), strict=True)]
    aware = times and times[0].tzinfo is not None
    moment = pl.Datetime("us", "UTC") if aware else pl.Datetime("us")
    return pl.DataFrame(rows, schema={"team": pl.String, "started_at": moment, "wait_s": pl.Float64})


def weekly_counts(project: metricdsl.Project, times: list[datetime.datetime]) -> dict[str, int]:
    """The calls per week by Polars, after checking that the reference evaluator counts the same."""
    table = project.evaluate({"calls": frame(times)}, metrics=["calls"], grain="week")
    compiled = dict(zip(table["week"].to_list(), table["calls"].to_list(), strict=True))
    rows = [{"team": "a", "started_at": t, "wait_s": 1.0} for t in times]
    expected = reference.evaluate_reference(project.model, {"calls": rows}, ["calls"], grain="week")
    assert compiled == {row["week"]: row["calls"] for row in expected}
    return compiled


# Local times in Berlin around the new year: Saturday's last second, Sunday's first, a Wednesday, the next Saturday's
# last second, Sunday's first, Monday's first.
NEW_YEAR = [
    datetime.datetime(2025, 12, 27, 23, 59, 59),
    datetime.datetime(2025, 12, 28),
    datetime.datetime(2025, 12, 31, 12),
    datetime.datetime(2026, 1, 3, 23, 59, 59),
    datetime.datetime(2026, 1, 4),
    datetime.datetime(2026, 1, 5),
]


def test_monday_weeks_are_iso_weeks(tmp_path):
    assert project_of(tmp_path, "monday").definitions.calendar.week_start == "monday"
    assert weekly_counts(project_of(tmp_path, "monday"), NEW_YEAR) == {"2025-W52": 2, "2026-W01": 3, "2026-W02": 1}


def test_sunday_weeks_run_sunday_to_saturday_and_are_labelled_by_their_sunday(tmp_path):
    counts = weekly_counts(project_of(tmp_path, "sunday"), NEW_YEAR)
    assert counts == {"2025-12-21": 1, "2025-12-28": 3, "2026-01-04": 2}


def test_sunday_weeks_are_local_across_a_dst_change(tmp_path):
    # New York springs forward on Sunday 2026-03-08 at 2:00: that week is 167 hours long. Instants in UTC:
    times = [
        datetime.datetime(2026, 3, 8, 4, 59, 59, tzinfo=datetime.UTC),  # Saturday 23:59:59 EST
        datetime.datetime(2026, 3, 8, 5, tzinfo=datetime.UTC),  # Sunday 00:00 EST
        datetime.datetime(2026, 3, 15, 3, 59, 59, tzinfo=datetime.UTC),  # Saturday 23:59:59 EDT
        datetime.datetime(2026, 3, 15, 4, tzinfo=datetime.UTC),  # Sunday 00:00 EDT
    ]
    counts = weekly_counts(project_of(tmp_path, "sunday", "America/New_York"), times)
    assert counts == {"2026-03-01": 1, "2026-03-08": 2, "2026-03-15": 1}


def test_a_week_start_without_a_zone_is_in_utc(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("timezone: WEEK_ZONE, ", "").replace("WEEK_START", "sunday"))
    assert weekly_counts(metricdsl.load(path), NEW_YEAR) == {"2025-12-21": 1, "2025-12-28": 3, "2026-01-04": 2}


def test_rules_over_periods_count_sunday_weeks(tmp_path):
    project = project_of(tmp_path, "sunday")
    sundays = [datetime.datetime(2026, 1, 4, 9) + datetime.timedelta(weeks=w) for w in range(4)]
    # Slow in the weeks of Jan 4 and Jan 11, not in that of Jan 18; slow again in that of Jan 25: one run of two.
    graded = project.grade({"calls": frame(sundays, [30.0, 26.0, 10.0, 40.0])}, metrics=["asa"], by=["team"], grain="week")
    fired = [f.period for f in findings(project.model, graded) if f.name == "slow_twice"]
    assert fired == ["2026-01-11"]
    # The Saturday before is the week of Dec 28: slow in it and in the week of Jan 4 makes a run of two there too.
    saturday = datetime.datetime(2026, 1, 3, 23)
    graded = project.grade(
        {"calls": frame([saturday, *sundays[:1]], [30.0, 30.0])}, metrics=["asa"], by=["team"], grain="week"
    )
    assert [f.period for f in findings(project.model, graded) if f.name == "slow_twice"] == ["2026-01-04"]


def test_a_history_keeps_sunday_weeks_apart_from_iso_weeks(tmp_path):
    history = tmp_path / "history.parquet"
    sunday = project_of(tmp_path, "sunday")
    first = sunday.grade({"calls": frame([datetime.datetime(2026, 1, 4, 9)])}, by=["team"], grain="week", history=history)
    assert write_history(history, first) == 1
    later = frame([datetime.datetime(2026, 1, 11, 9)])
    second = sunday.grade({"calls": later}, metrics=["asa"], by=["team"], grain="week", history=history)
    assert second.table[hidden("prev", "asa")].to_list() == [1.0]  # the week of Jan 4, from the history
    with pytest.raises(DataError, match="records each week from sunday by team, not each week by team"):
        project_of(tmp_path, "monday").grade({"calls": later}, by=["team"], grain="week", history=history)


def test_explain_says_how_weeks_run_and_fmt_keeps_the_key(tmp_path):
    sunday = explain_metric(project_of(tmp_path, "sunday"), "asa")
    assert sunday.week_start == "sunday"
    assert "weeks: Sunday to Saturday, labelled by their Sunday" in metric_report(sunday)
    assert "weeks:" not in metric_report(explain_metric(project_of(tmp_path, "monday"), "asa"))
    text = SPEC.replace("WEEK_START", "sunday").replace("WEEK_ZONE", "UTC").replace("mean(wait_s)", "mean( wait_s )")
    formatted = format_file("spec.yaml", text)
    assert formatted.problem is None
    assert formatted.after == text.replace("mean( wait_s )", "mean(wait_s)")


def test_the_cli_prints_sunday_weeks(tmp_path):
    data = tmp_path / "calls.csv"
    frame(NEW_YEAR).write_csv(data)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("WEEK_START", "sunday").replace("WEEK_ZONE", "Europe/Berlin"))
    result = CliRunner().invoke(
        main,
        [
            "eval",
            str(spec),
            "--data",
            f"calls={data}",
            "--metrics",
            "calls",
            "--grain",
            "week",
            "--output",
            "-",
            "--output-format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["week,calls", "2025-12-21,1", "2025-12-28,3", "2026-01-04,2"]


def test_a_spec_test_finds_a_sunday_week_by_its_date(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        SPEC.replace("WEEK_START", "sunday").replace("WEEK_ZONE", "UTC")
        + """\
tests:
  - name: Saturday night is the week before Sunday morning
    grain: week
    given:
      calls:
        - {team: a, started_at: 2026-01-03T23:59:59}
        - {team: a, started_at: 2026-01-04T00:00:00}
        - {team: a, started_at: 2026-01-10T23:00:00}
    expect:
      - {week: 2025-12-28, calls: 1}
      - {week: "2026-01-04", calls: 2}
"""
    )
    result = CliRunner().invoke(main, ["test", str(spec)])
    assert result.exit_code == 0, result.output
