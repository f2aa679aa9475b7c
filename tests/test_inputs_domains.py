"""Declared domains: invalid values become missing and are reported, or are an error with `on_invalid: error`."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

import polars as pl
import pytest
from reading import read, source, write

from conftest import frame as typed_frame
from metricdsl import DataError, DataProblem, Project
from metricdsl.semantics.checker import check
from tests.reference import invalid as reference_invalid

NPS = {"type": "int", "range": (0, 10)}


def with_source(project: Project, name: str, **changes) -> Project:
    """`project` with its source `name` changed."""
    sources = dict(project.definitions.sources)
    sources[name] = replace(sources[name], **changes)
    definitions = replace(project.definitions, sources=sources)
    model, _ = check(definitions)
    return Project(definitions, model, [])


def test_survey_code_99_is_no_promoter(project):
    rows = [{"nps_score": 10}, {"nps_score": 0}, {"nps_score": 99}, {"nps_score": 99}]
    given = typed_frame(project, "interactions", [{"team": "a", "started_at": datetime(2026, 1, 5), **r} for r in rows])
    run = project.run({"interactions": given}, metrics=["nps"], apply_min_n=False)
    assert run.table["nps"].to_list() == [0.0]
    assert run.problems == (DataProblem("interactions", "nps_score", 2, "outside [0, 10]", "row 2", "99"),)


def test_values_outside_the_declared_list_are_invalid(tmp_path):
    spec = source({"channel": {"type": "str", "values": ("phone", "chat")}})
    frame, problems, _ = read(spec, write(tmp_path, "channel\nphone\nfax\nchat\nfax\n"))
    assert frame["channel"].to_list() == ["phone", None, "chat", None]
    assert problems == [DataProblem("s", "channel", 2, "not one of phone, chat", f"{tmp_path / 'data.csv'}:3", "fax")]


def test_typed_values_of_ints(tmp_path):
    frame, problems, _ = read(source({"n": {"type": "int", "values": (1, 2, 3)}}), write(tmp_path, "n\n1\n4\n"))
    assert frame["n"].to_list() == [1, None]
    assert problems[0].reason == "not one of 1, 2, 3"


def test_a_range_is_inclusive_and_in_floats_too(tmp_path):
    spec = source({"x": {"type": "float", "range": (-1, 1)}})
    frame, problems, _ = read(spec, write(tmp_path, "x\n-1\n1\n1.01\n"))
    assert frame["x"].to_list() == [-1.0, 1.0, None]
    assert problems[0].reason == "outside [-1, 1]"


def test_a_range_on_a_duration_column_is_in_its_unit(tmp_path):
    spec = source({"d": {"type": "duration", "unit": "min", "range": (0, 2)}})
    given = pl.DataFrame({"d": [timedelta(minutes=2), timedelta(seconds=121), timedelta(seconds=-1), None]})
    frame, problems, _ = read(spec, given)
    assert frame["d"].to_list() == [timedelta(minutes=2), None, None, None]
    assert problems == [DataProblem("s", "d", 2, "outside [0, 2]", "row 1", "2m 1s")]
    frame, problems, _ = read(spec, write(tmp_path, "d\n1.5\n2.5\n0\n"))  # text: numbers of the unit
    assert frame["d"].to_list() == [timedelta(seconds=90), None, timedelta(0)]
    assert problems[0].rows == 1
    seconds = source({"d": {"type": "duration", "range": (0, 60)}})  # without a unit: seconds
    assert read(seconds, given)[0]["d"].to_list() == [None, None, None, None]
    assert reference_invalid(seconds.columns["d"], timedelta(seconds=60)) is False
    assert [reference_invalid(spec.columns["d"], v) for v in given["d"]] == [False, True, True, False]


@pytest.mark.parametrize(("value", "reason"), [(math.nan, "NaN"), (math.inf, "infinite"), (-math.inf, "infinite")])
def test_nan_and_infinity_are_invalid(value, reason):
    frame, problems, _ = read(source({"x": "float"}), pl.DataFrame({"x": [1.0, value]}))
    assert frame["x"].to_list() == [1.0, None]
    assert problems == [DataProblem("s", "x", 1, reason, "row 1", str(value).replace("nan", "NaN"))]


def test_nan_in_csv_text_is_invalid(tmp_path):
    frame, problems, _ = read(source({"x": "float"}), write(tmp_path, "x\nNaN\ninf\n2\n"))
    assert frame["x"].to_list() == [None, None, 2.0]
    assert problems[0].rows == 2


def test_no_output_holds_nan(project):
    given = typed_frame(project, "interactions", [{"team": "a", "started_at": datetime(2026, 1, 5), "wait_s": math.nan}])
    assert project.evaluate({"interactions": given}, metrics=["asa"]).to_dicts() == [{"asa": None}]


def test_on_invalid_error_on_a_column(tmp_path):
    spec = source({"n": {**NPS, "on_invalid": "error"}})
    with pytest.raises(
        DataError, match=r"^source `s`: .*data.csv, line 3, column `n`: `99` is outside \[0, 10\] \(on_invalid: error\)$"
    ):
        read(spec, write(tmp_path, "n\n1\n99\n"))


def test_on_invalid_error_on_a_source_and_a_column_that_overrides_it(tmp_path):
    spec = source({"n": NPS, "m": {**NPS, "on_invalid": "null"}}, on_invalid="error")
    path = write(tmp_path, "n,m\n1,99\n")
    _, problems, _ = read(spec, path)
    assert [p.column for p in problems] == ["m"]
    with pytest.raises(DataError, match=r"column `n`: `99` is outside"):
        read(spec, write(tmp_path, "n,m\n99,1\n"))


def test_an_error_does_not_quote_a_value_of_a_spec_path(tmp_path):
    spec = source({"n": {**NPS, "on_invalid": "error"}})
    with pytest.raises(DataError, match=r"line 2, column `n`: a value is outside \[0, 10\] \(the value is not shown"):
        read(spec, write(tmp_path, "n\n99\n"), quote=False)


def test_an_empty_frame_is_a_source_without_rows():
    _, problems, _ = read(source({"n": "int"}), pl.DataFrame({"n": []}, schema={"n": pl.Int64}))
    assert problems == [DataProblem("s", None, 0, "no rows")]


def test_the_report_reaches_run_graded_and_check_runs(project, tmp_path):
    rows = [{"team": "a", "started_at": datetime(2026, 1, 5), "nps_score": 99}]
    run = project.run_graded({"interactions": typed_frame(project, "interactions", rows)}, metrics=["nps"])
    assert run.graded is not None
    assert [p.column for p in run.problems] == ["nps_score"]
    assert project.check({"interactions": typed_frame(project, "interactions", rows)}, metrics=["nps"]) is not None


def test_a_column_that_is_not_read_is_not_checked(project):
    rows = [{"team": "a", "started_at": datetime(2026, 1, 5), "nps_score": 99}]
    run = project.run({"interactions": typed_frame(project, "interactions", rows)}, metrics=["contacts"])
    assert run.problems == ()


def test_on_invalid_error_through_the_project(project):
    strict = with_source(project, "interactions", on_invalid="error")
    rows = [{"team": "a", "started_at": datetime(2026, 1, 5), "nps_score": 99}]
    with pytest.raises(DataError, match=r"source `interactions`: row 0, column `nps_score`: `99` is outside"):
        strict.evaluate({"interactions": typed_frame(project, "interactions", rows)}, metrics=["nps"])
