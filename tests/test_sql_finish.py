"""Stage (2) in SQL (`metricdsl.engine.sql.finish.table_query`) computes the table that Polars' `finish` computes, from
the same aggregated groups: stage (1) is computed by Polars, its groups are a table of DuckDB, and the SQL on top of
them must give Polars' table cell for cell, for every metric of the specs, the language coverage metrics and the
metrics over periods, by each grain, with Monday and Sunday weeks and ranges of periods."""

from __future__ import annotations

import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlglot import exp

import metricdsl
from metricdsl.engine.sql.dialects import render
from metricdsl.engine.sql.finish import table_query
from metricdsl.errors import RequestError
from tests.test_differential import EXTRA_METRICS, PERIOD_METRICS
from tests.zones import with_week_start

ROOT = Path(__file__).resolve().parent.parent
DATA = {"interactions": str(ROOT / "examples/data/interactions.csv"), "orders": str(ROOT / "examples/data/orders.csv")}
LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [
    ((), None),
    (("team",), None),
    (("team",), "week"),
    (("channel",), "day"),
    ((), "month"),
    (("team", "channel"), "quarter"),
    (("live",), "year"),
]
RANGES = [
    (None, None),
    (datetime.date(2025, 12, 3), None),
    (None, datetime.date(2026, 1, 9)),
    (datetime.date(2025, 10, 1), datetime.date(2026, 3, 1)),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    folder = tmp_path_factory.mktemp("sql_finish")
    (folder / "extras.yaml").write_text(EXTRA_METRICS)
    (folder / "periods.yaml").write_text(PERIOD_METRICS)
    return metricdsl.load([ROOT / "specs", folder])


def stage_one(project: metricdsl.Project, **asked: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The aggregated groups of a request, by Polars, and the table Polars finishes from them."""
    request = project.request(**asked)  # type: ignore[arg-type]
    aggregated, finish, readings, _ = project._query(DATA, request)
    try:
        groups = aggregated.collect()
    finally:
        for reading, _ in readings.values():
            reading.close()
    return groups, finish(groups.lazy()).collect()


def finished_in_sql(project: metricdsl.Project, groups: pl.DataFrame, **asked: object) -> pl.DataFrame:
    request = project.request(**asked)  # type: ignore[arg-type]
    query = table_query(project.model, request, exp.select(*groups.columns).from_("stage_groups"))
    connection = duckdb.connect()
    connection.register("stage_groups", groups.to_arrow())
    table = pl.from_arrow(connection.sql(render(query, "duckdb")).to_arrow_table())
    assert isinstance(table, pl.DataFrame)
    return table


def computable(project: metricdsl.Project, by: tuple[str, ...], grain: str | None) -> list[str]:
    """The metrics the layout can compute (a trailing metric needs a grain its window fits, a dimension must be a
    column of the sources read), which the SQL output covers."""
    found = []
    for name in project.model.metrics:
        try:
            request = project.request(metrics=[name], by=by, grain=grain)
            table_query(project.model, request, exp.select("*").from_("stage_groups"))
        except RequestError:
            continue
        found.append(name)
    return found


def agree(project: metricdsl.Project, **asked: object) -> pl.DataFrame:
    groups, expected = stage_one(project, **asked)
    actual = finished_in_sql(project, groups, **asked)
    zoned = {n: d.time_zone for n, d in expected.schema.items() if isinstance(d, pl.Datetime) and d.time_zone}
    actual = actual.with_columns(pl.col(n).dt.convert_time_zone(zone) for n, zone in zoned.items())  # Etc/UTC is UTC
    assert_frame_equal(actual, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-12)
    return expected


@pytest.mark.parametrize(("by", "grain"), LAYOUTS)
@pytest.mark.parametrize("week_start", ["monday", "sunday"])
def test_every_metric_finishes_in_sql_as_in_polars(
    project: metricdsl.Project, by: tuple[str, ...], grain: str | None, week_start: str
) -> None:
    if week_start == "sunday" and grain != "week":
        pytest.skip("the week start changes weeks alone")
    project = with_week_start(project, week_start)
    metrics = computable(project, by, grain)
    assert len(metrics) > 50
    table = agree(project, metrics=metrics, by=by, grain=grain)
    assert table.height > 0


@pytest.mark.parametrize(("start", "end"), RANGES[1:])
@pytest.mark.parametrize("grain", ["week", "month", "day"])
def test_a_range_of_periods_finishes_in_sql_as_in_polars(
    project: metricdsl.Project, grain: str, start: datetime.date | None, end: datetime.date | None
) -> None:
    metrics = [m for m in computable(project, ("team",), grain) if m.startswith("p_") or m in ("contacts", "nps")]
    assert "p_contacts_change" in metrics
    table = agree(project, metrics=metrics, by=("team",), grain=grain, start=start, end=end)
    assert table.height > 0


def test_a_range_past_the_data_has_its_empty_periods() -> None:
    project = metricdsl.load(ROOT / "specs")
    start, end = datetime.date(2025, 9, 1), datetime.date(2026, 6, 30)
    table = agree(project, metrics=["contacts", "nps"], grain="month", start=start, end=end)
    assert (table["month"][0], table["month"][-1]) == ("2025-09", "2026-06")
    assert (table["contacts"][0], table["nps"][0]) == (0, None)


def test_week_labels_are_iso_weeks_across_the_new_year() -> None:
    project = metricdsl.load(ROOT / "specs")
    table = agree(project, metrics=["contacts"], grain="week")
    labels = table["week"].to_list()
    assert {"2025-W52", "2026-W01"} <= set(labels)  # 2025-12-29 starts ISO week 1 of 2026
    assert "2025-W53" not in labels
