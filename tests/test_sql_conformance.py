"""Stage (1) computed in SQL on DuckDB, then finished by Polars, gives the table Polars gives alone, and agrees with
the reference evaluator on random data.

`on_duckdb` is the whole SQL path of an engine: the project's own input layer reads the data, the typed frames are
converted to the table contract, the query of the aggregated groups (`groups_query`) runs on DuckDB, and its result,
cast back to Polars' schema of the groups, is finished by Polars' `finish`.
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from polars.testing import assert_frame_equal

import metricdsl
from metricdsl.engine.inputs import Data
from metricdsl.engine.sql.dialects import render
from metricdsl.engine.sql.frames import from_sql_groups, to_sql_frame
from metricdsl.engine.sql.query import groups_query
from metricdsl.engine.sql.run_duckdb import execute
from tests.reference import evaluate_reference, reads_window
from tests.test_differential import (
    DURATION_LAYOUTS,
    EXTRA_LAYOUTS,
    LAYOUTS,
    PERIOD_LAYOUTS,
    Dataset,
    datasets,
    extended,
    handed_over,
    over_periods,
    same,
)
from tests.zones import in_zones, with_week_start

pytest.importorskip("duckdb")

__all__ = ["extended", "over_periods"]  # fixtures

EXAMPLE_LAYOUTS = [*LAYOUTS, (("team",), "day"), (("channel", "live"), "week")]


def on_duckdb(project: metricdsl.Project, data: Mapping[str, Data] | None = None, **request: Any) -> pl.DataFrame:
    """The table of a request, its aggregated groups computed in SQL on DuckDB and finished by Polars."""
    resolved = project.request(**request)
    aggregated, finish, readings, _ = project._query(data or {}, resolved)
    try:
        frames = {}
        for name, (reading, _) in readings.items():
            declared = project.definitions.sources[name].columns
            typed = reading.frame.select([c for c in reading.frame.collect_schema() if c in declared]).collect()
            frames[name] = to_sql_frame(project.model, name, typed)
    finally:
        for reading, _ in readings.values():
            reading.close()
    result = execute(render(groups_query(project.model, resolved), "duckdb"), frames)
    groups = from_sql_groups(result, aggregated.collect_schema(), project.model, resolved)
    return finish(groups.lazy()).collect()


def computable(project: metricdsl.Project, names: Iterable[str], by: Sequence[str], grain: str | None) -> list[str]:
    """The metrics of `names` that the layout can compute, in SQL."""
    found = []
    for name in names:
        try:
            request = project.request(metrics=[name], by=by, grain=grain)
        except metricdsl.RequestError:
            continue
        groups_query(project.model, request)  # every metric the layout computes is computed in SQL
        found.append(name)
    return found


def assert_same_tables(
    project: metricdsl.Project, names: list[str], by: tuple[str, ...], grain: str | None, **options: Any
) -> None:
    metrics = computable(project, names, by, grain)
    expected = project.evaluate(metrics=metrics, by=by, grain=grain, **options)
    actual = on_duckdb(project, metrics=metrics, by=by, grain=grain, **options)
    assert_frame_equal(actual, expected, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize(("by", "grain"), EXAMPLE_LAYOUTS)
def test_every_metric_of_the_specs_on_the_example_data(
    project: metricdsl.Project, by: tuple[str, ...], grain: str | None
) -> None:
    assert_same_tables(project, list(project.model.metrics), by, grain)


@pytest.mark.parametrize(("by", "grain"), [((), None), (("team",), "week"), (("channel",), "month")])
def test_the_rest_of_the_language_on_the_example_data(
    extended: metricdsl.Project, by: tuple[str, ...], grain: str | None
) -> None:
    assert_same_tables(extended, [n for n in extended.model.metrics if n.startswith("x_")], by, grain)


@pytest.mark.parametrize(("by", "grain"), [*PERIOD_LAYOUTS, *DURATION_LAYOUTS])
def test_metrics_over_periods_on_the_example_data(
    over_periods: metricdsl.Project, by: tuple[str, ...], grain: str | None
) -> None:
    names = [n for n in over_periods.model.metrics if n.startswith(("p_", "w_"))]
    assert_same_tables(over_periods, names, by, grain)


def test_intervals_and_the_hidden_columns_of_grading(project: metricdsl.Project) -> None:
    assert_same_tables(project, list(project.model.metrics), ("team",), "week", with_ci=True)
    assert_same_tables(project, list(project.model.metrics), (), "month", keep_hidden=True)


def test_a_request_as_of_a_day_censors_the_windows_as_polars_does(project: metricdsl.Project) -> None:
    as_of = datetime.datetime(2026, 1, 20, 12)
    assert_same_tables(project, ["repeat_rate", "buy_again_30d", "fcr"], ("team",), "week", as_of=as_of)


# -- against the reference, on random data -----------------------------------------------------------------------


def duckdb_disagreements(
    project: metricdsl.Project,
    metrics: list[str],
    data: Dataset,
    by: tuple[str, ...],
    grain: str | None,
    inputs: Mapping[str, Data],
) -> list[str]:
    """Where the DuckDB path and the reference differ for one layout (each metric alone when they cannot be
    evaluated together)."""
    keys = [*by, *([grain] if grain else [])]
    try:
        actual = on_duckdb(project, inputs, metrics=metrics, by=by, grain=grain)
    except metricdsl.DataError as error:
        if len(metrics) > 1:
            return [p for name in metrics for p in duckdb_disagreements(project, [name], data, by, grain, inputs)]
        return [f"{metrics[0]}: {error}"]
    expected = evaluate_reference(project.model, data.rows, metrics, by, grain)
    shown = [*metrics, *(["provisional"] if any(reads_window(project.model, m) for m in metrics) else [])]
    if actual.columns != [*keys, *shown]:
        return [f"columns {actual.columns}, expected {[*keys, *shown]}"]
    expected_rows = {tuple(row[k] for k in keys): row for row in expected}
    actual_rows = {tuple(row[k] for k in keys): row for row in actual.to_dicts()}
    if set(expected_rows) != set(actual_rows) or len(actual_rows) != actual.height:
        return [f"groups: expected {sorted(map(str, expected_rows))}, got {sorted(map(str, actual_rows))}"]
    return [
        f"by={list(by)} grain={grain}: {name} at {key}: expected {expected_rows[key][name]!r}, "
        f"got {actual_rows[key][name]!r}"
        for key in expected_rows
        for name in shown
        if not same(expected_rows[key][name], actual_rows[key][name])
    ]


def check_duckdb_agreement(
    project: metricdsl.Project, metrics: list[str], data: Dataset, layouts: list[tuple[tuple[str, ...], str | None]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project, inputs = handed_over(with_week_start(in_zones(project, data.zones), data.week_start), data, Path(folder))
        problems = [p for by, grain in layouts for p in duckdb_disagreements(project, metrics, data, by, grain, inputs)]
    assert not problems, "\n".join(problems)


@settings(max_examples=4, deadline=None)
@given(data=datasets())
def test_duckdb_agrees_with_the_reference(project: metricdsl.Project, data: Dataset) -> None:
    check_library_on_duckdb(project, data)


def check_library_on_duckdb(project: metricdsl.Project, data: Dataset) -> None:
    """The library's metrics that each layout computes (revenue after contact by no column but `team`, the credited
    team) agree in SQL with the reference."""
    for by, grain in LAYOUTS:
        check_duckdb_agreement(project, computable(project, project.model.metrics, by, grain), data, [(by, grain)])


@settings(max_examples=2, deadline=None)
@given(data=datasets())
def test_the_rest_of_the_language_on_duckdb_agrees_with_the_reference(extended: metricdsl.Project, data: Dataset) -> None:
    check_duckdb_agreement(extended, [n for n in extended.model.metrics if n.startswith("x_")], data, EXTRA_LAYOUTS)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(data=datasets())
def test_duckdb_agrees_with_the_reference_at_length(
    project: metricdsl.Project, extended: metricdsl.Project, data: Dataset
) -> None:
    check_library_on_duckdb(project, data)
    check_duckdb_agreement(extended, [n for n in extended.model.metrics if n.startswith("x_")], data, EXTRA_LAYOUTS)


def check_periods_on_duckdb(over_periods: metricdsl.Project, data: Dataset) -> None:
    names = list(over_periods.model.metrics)
    check_duckdb_agreement(over_periods, [n for n in names if n.startswith("p_")], data, PERIOD_LAYOUTS)
    check_duckdb_agreement(over_periods, [n for n in names if n.startswith("w_")], data, DURATION_LAYOUTS)


@settings(max_examples=3, deadline=None)
@given(data=datasets())
def test_metrics_over_periods_on_duckdb_agree_with_the_reference(over_periods: metricdsl.Project, data: Dataset) -> None:
    check_periods_on_duckdb(over_periods, data)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(data=datasets())
def test_metrics_over_periods_on_duckdb_agree_with_the_reference_at_length(
    over_periods: metricdsl.Project, data: Dataset
) -> None:
    check_periods_on_duckdb(over_periods, data)
