"""Time zones: instants converted to the source's zone, naive times local to it, and the changes of summer time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from reading import read, source, write

from metricdsl.engine.quality import DataProblem

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


def local(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone))


def test_a_utc_export_is_a_monday_in_berlin(tmp_path):
    frame, _, notices = read(source({"t": "datetime"}), write(tmp_path, "t\n2026-03-01T23:30:00Z\n"), zone=BERLIN)
    (moment,) = frame["t"].to_list()
    assert (moment.isoformat(), moment.weekday()) == ("2026-03-02T00:30:00+01:00", 0)
    assert notices == []


def test_parquet_with_a_zone_is_converted(tmp_path):
    given = pl.DataFrame({"t": [datetime(2026, 3, 1, 23, 30)]}).with_columns(pl.col("t").dt.replace_time_zone("UTC"))
    given.write_parquet(tmp_path / "x.parquet")
    frame, _, _ = read(source({"t": "datetime"}), tmp_path / "x.parquet", zone=BERLIN)
    assert frame["t"].dtype == pl.Datetime("us", BERLIN)
    assert frame["t"].to_list() == [local(BERLIN, 2026, 3, 2, 0, 30)]


def test_naive_parquet_times_are_local_and_nanoseconds_become_microseconds(tmp_path):
    given = pl.DataFrame({"t": pl.Series([datetime(2026, 3, 2, 0, 30)], dtype=pl.Datetime("ns"))})
    given.write_parquet(tmp_path / "x.parquet")
    frame, _, _ = read(source({"t": "datetime"}), tmp_path / "x.parquet", zone=BERLIN)
    assert frame["t"].dtype == pl.Datetime("us", BERLIN)
    assert frame["t"].to_list() == [local(BERLIN, 2026, 3, 2, 0, 30)]


def test_a_frame_follows_the_same_rules(tmp_path):
    given = pl.DataFrame({"naive": [datetime(2026, 7, 1, 12)], "aware": [datetime(2026, 7, 1, 12, tzinfo=timezone.utc)]})
    frame, _, _ = read(source({"naive": "datetime", "aware": "datetime"}), given, zone=NEW_YORK)
    assert frame.row(0) == (local(NEW_YORK, 2026, 7, 1, 12), local(NEW_YORK, 2026, 7, 1, 8))


@pytest.mark.parametrize(("zone", "day"), [(BERLIN, "2026-03-29"), (NEW_YORK, "2026-03-08")])
def test_a_local_time_in_the_spring_gap_is_invalid(tmp_path, zone, day):
    path = write(tmp_path, f"t\n{day} 01:30\n{day} 02:30\n{day} 03:30\n")
    frame, problems, _ = read(source({"t": "datetime"}), path, zone=zone)
    first, gap, last = frame["t"].to_list()
    assert gap is None
    assert last.timestamp() - first.timestamp() == timedelta(hours=1).total_seconds()  # 01:30 to 03:30, clocks forward
    assert problems == [DataProblem("s", "t", 1, f"a local time that {zone} skips", f"{path}:3", f"{day} 02:30")]


@pytest.mark.parametrize(("zone", "day", "hour"), [(BERLIN, "2026-10-25", 2), (NEW_YORK, "2026-11-01", 1)])
def test_a_repeated_local_time_in_autumn_is_the_earlier(tmp_path, zone, day, hour):
    path = write(tmp_path, f"t\n{day} 0{hour}:30\n{day} 0{hour + 1}:30\n")
    frame, problems, _ = read(source({"t": "datetime"}), path, zone=zone)
    first, later = frame["t"].to_list()
    assert later.timestamp() - first.timestamp() == timedelta(hours=2).total_seconds()  # the earlier one: summer time
    assert problems == []


def test_the_spring_gap_of_naive_parquet_is_invalid_too(tmp_path):
    given = pl.DataFrame({"t": [datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 3, 30)]})
    frame, problems, _ = read(source({"t": "datetime"}), given, zone=BERLIN)
    assert frame["t"].to_list() == [None, local(BERLIN, 2026, 3, 29, 3, 30)]
    assert problems == [DataProblem("s", "t", 1, f"a local time that {BERLIN} skips", "row 0", "2026-03-29 02:30:00.000000")]


def test_offsets_without_a_declared_zone_give_a_notice(tmp_path):
    frame, _, notices = read(source({"t": "datetime"}), write(tmp_path, "t\n2026-03-01T23:30:00+01:00\n"))
    assert frame["t"].to_list() == [local("UTC", 2026, 3, 1, 22, 30)]
    assert len(notices) == 1
    assert "`t` has times with a UTC offset or time zone, shown in UTC" in notices[0]


def test_a_zone_in_parquet_without_a_declared_zone_gives_a_notice(tmp_path):
    given = pl.DataFrame({"t": [datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)]})
    _, _, notices = read(source({"t": "datetime"}), given)
    assert len(notices) == 1


def test_naive_times_without_a_declared_zone_give_no_notice(tmp_path):
    _, _, notices = read(source({"t": "datetime"}), write(tmp_path, "t\n2026-03-01T23:30:00\n"))
    assert notices == []


def test_a_declared_utc_gives_no_notice(tmp_path):
    _, _, notices = read(source({"t": "datetime"}), write(tmp_path, "t\n2026-03-01T23:30:00Z\n"), zone="UTC")
    assert notices == []


def test_a_date_column_from_an_aware_datetime_is_the_local_date(tmp_path):
    given = pl.DataFrame({"d": [datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)]})
    frame, _, _ = read(source({"d": "date"}), given, zone=BERLIN)
    assert frame["d"].to_list() == [datetime(2026, 3, 2).date()]


def test_the_notice_reaches_the_run_and_a_declared_zone_silences_it(project):
    from dataclasses import replace

    from metricdsl import Project
    from metricdsl.semantics.checker import check

    rows = pl.DataFrame({"team": ["a"], "started_at": [datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)]})
    run = project.run({"interactions": rows}, metrics=["contacts"], grain="day")
    assert len(run.notices) == 1
    assert run.notices[0].startswith("source `interactions`: `started_at` has times with a UTC offset")
    sources = {**project.definitions.sources}
    sources["interactions"] = replace(sources["interactions"], timezone="UTC")
    definitions = replace(project.definitions, sources=sources)
    declared = Project(definitions, check(definitions)[0], [])
    assert declared.run({"interactions": rows}, metrics=["contacts"], grain="day").notices == ()
