"""Rows as a CSV file holds them: blank lines, malformed rows, and the counts of the data-quality report."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import polars as pl
import pytest
from reading import read, source, write

import metricdsl
from metricdsl import DataError
from metricdsl.engine import csv_files
from metricdsl.engine.quality import DataProblem
from metricdsl.spec.definitions import CsvDialect


def test_blank_lines_are_no_rows(tmp_path):
    frame, problems, _ = read(source({"team": "str", "n": "int"}), write(tmp_path, "team,n\nA,1\n\n\nB,2\n\n"))
    assert frame.rows() == [("A", 1), ("B", 2)]
    assert problems == []


def test_a_header_and_a_blank_line_is_a_source_without_rows(tmp_path):
    frame, problems, _ = read(source({"team": "str", "n": "int"}), write(tmp_path, "team,n\n\n"))
    assert frame.height == 0
    assert problems == [DataProblem("s", None, 0, "no rows")]


def test_a_row_of_empty_fields_is_no_row(tmp_path):
    frame, _, _ = read(source({"team": "str", "n": "int"}), write(tmp_path, "team,n\nA,1\n,\nB,2\n"))
    assert frame.rows() == [("A", 1), ("B", 2)]


def test_a_row_of_null_words_alone_is_a_row_of_missing_values(tmp_path):
    dialect = CsvDialect(separator=";", null_values=("NA", "-"))
    text = "team;n\nA;1\nNA;NA\n\n-;NA\n;\nB;x\n"
    frame, problems, _ = read(source({"team": "str", "n": "int"}, csv=dialect), write(tmp_path, text))
    assert frame.rows() == [("A", 1), (None, None), (None, None), ("B", None)]
    assert problems == [DataProblem("s", "n", 1, "not an int", f"{tmp_path / 'data.csv'}:7", "x")]


def test_a_row_of_quoted_empty_fields_is_no_row_and_an_empty_field_is_text_unless_a_null_word(tmp_path):
    text = 'team,note\n"",""\nA,\n'
    frame, _, _ = read(source({"team": "str", "note": "str"}, csv=CsvDialect(null_values=("NA",))), write(tmp_path, text))
    assert frame.rows() == [("A", "")]
    frame, _, _ = read(source({"team": "str", "note": "str"}), write(tmp_path, text))
    assert frame.rows() == [("A", None)]


def test_count_counts_a_row_of_null_words(project, tmp_path):
    path = write(tmp_path, "team;started_at;nps_score\nnorth;2026-01-05T09:00:00;9\nNA;NA;NA\n\n", name="x.csv")
    interactions = replace(project.definitions.sources["interactions"], csv=CsvDialect(separator=";", null_values=("NA",)))
    definitions = replace(project.definitions, sources={**project.definitions.sources, "interactions": interactions})
    csv_project = metricdsl.Project(definitions, replace(project.model, definitions=definitions), [])
    assert csv_project.evaluate({"interactions": path}, metrics=["contacts"]).to_dicts() == [{"contacts": 2}]


def test_blank_lines_count_in_line_numbers(tmp_path):
    text = "team,n\n\nA,1\n\n\nB,x\n"
    _, problems, _ = read(source({"team": "str", "n": "int"}), write(tmp_path, text))
    assert problems == [DataProblem("s", "n", 1, "not an int", f"{tmp_path / 'data.csv'}:6", "x")]


def test_blank_and_comment_lines_count_in_line_numbers(tmp_path):
    text = "team,n\n# note\n\nA,1\n\n# more\nB,x\n"
    dialect = CsvDialect(comment_prefix="#")
    _, problems, _ = read(source({"team": "str", "n": "int"}, csv=dialect), write(tmp_path, text))
    assert problems[0].first == f"{tmp_path / 'data.csv'}:7"


def test_each_cause_of_invalid_values_is_counted(tmp_path):
    spec = source({"n": {"type": "int", "range": (0, 10)}})
    _, problems, _ = read(spec, write(tmp_path, "n\n10\nabc\n99\n99\n8\n"))
    assert problems == [DataProblem("s", "n", 3, "1 not an int, 2 outside [0, 10]", f"{tmp_path / 'data.csv'}:3", "abc")]


def test_one_cause_of_invalid_values_is_named_without_a_count(tmp_path):
    spec = source({"n": {"type": "int", "range": (0, 10)}})
    _, problems, _ = read(spec, write(tmp_path, "n\n10\n99\n99\n"))
    assert problems[0].reason == "outside [0, 10]"


def test_a_fractional_duration_in_an_int_column_is_a_data_error(tmp_path):
    path = tmp_path / "d.parquet"
    pl.DataFrame({"c": [timedelta(seconds=2), timedelta(seconds=1.5)]}).write_parquet(path)
    with pytest.raises(DataError, match=r"d.parquet, row 1, column `c`: `1s 500ms` is not a whole number"):
        read(source({"c": {"type": "int", "unit": "s"}}), path)


@pytest.mark.parametrize(
    "values",
    [[[1]], [{"a": 1}], [b"x"], [time(1, 2)], [date(2020, 1, 1)], [datetime(2020, 1, 1)], [timedelta(seconds=1)]],
)
def test_a_physical_type_that_is_no_text_in_a_str_column_is_a_data_error(tmp_path, values):
    path = tmp_path / "d.parquet"
    pl.DataFrame({"c": values}).write_parquet(path)
    with pytest.raises(DataError, match=r"d.parquet, column `c` \(declared str\): holds"):
        read(source({"c": "str"}), path)


@pytest.mark.parametrize("quote", [True, False])
def test_a_quote_not_closed_is_a_data_error_with_its_line(tmp_path, quote):
    path = write(tmp_path, 'team,n\nA,1\n"B,2\nC,4\n')
    with pytest.raises(DataError, match=r"data.csv, line 3: a quoted field that is not closed"):
        read(source({"team": "str", "n": "int"}), path, quote=quote)


@pytest.mark.parametrize("columns", [{"team": "str", "n": "int"}, {"team": "str"}])
def test_a_record_with_more_fields_than_the_header_is_a_data_error_with_its_line(tmp_path, columns):
    path = write(tmp_path, "team,n\nA,1\nB,2,3\nC,4\n")
    with pytest.raises(DataError, match=r"data.csv, line 3: 3 fields, more than the 2 names of the header"):
        read(source(columns), path)


def test_extra_fields_far_into_a_large_file_are_found_when_reading_fails(project, tmp_path):
    rows = "".join(f"{i},2026-01-05T09:00:00,north\n" for i in range(40_000))
    text = "interaction_id,started_at,team\n" + rows + "1,2026-01-05T09:00:00,south,x\n"
    path = write(tmp_path, text, name="x.csv")
    assert path.stat().st_size > csv_files.CHECKED
    with pytest.raises(DataError, match=r"x.csv, line 40002: 4 fields, more than the 3 names of the header"):
        project.evaluate({"interactions": path}, metrics=["contacts"], by=["team"])


@pytest.mark.parametrize("engine", ["streaming", "in-memory"])
@pytest.mark.parametrize("metrics", [["contacts"], ["nps"]])
def test_extra_fields_in_a_large_file_fail_a_query_that_reads_none_of_them(project, tmp_path, engine, metrics):
    rows = "".join(f"{i},2026-01-05T09:00:00,north,{i % 11},x\n" for i in range(30_000))
    text = (
        "interaction_id,started_at,team,nps_score,note\n"
        + rows
        + "1,2026-01-05T09:00:00,south,3,x,y\n"
        + "2,2026-01-05T10:00:00,east,4,x\n"
    )
    path = write(tmp_path, text, name="x.csv")
    assert path.stat().st_size > csv_files.CHECKED
    with pytest.raises(DataError, match=r"x.csv, line 30002: 6 fields, more than the 5 names of the header"):
        project.evaluate({"interactions": path}, metrics=metrics, polars_engine=engine)


@pytest.mark.parametrize(
    ("first", "second"), [(pl.Int32, pl.Int64), (pl.Int64, pl.UInt8), (pl.Float32, pl.Float64), (pl.Int16, pl.Int8)]
)
def test_parquet_files_of_a_glob_may_differ_in_number_widths(tmp_path, first, second):
    pl.DataFrame({"n": pl.Series([1, 2], dtype=first)}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"n": pl.Series([3], dtype=second)}).write_parquet(tmp_path / "b.parquet")
    kind = "float" if first in (pl.Float32, pl.Float64) else "int"
    frame, problems, _ = read(source({"n": kind}), tmp_path / "*.parquet")
    assert frame["n"].to_list() == [1, 2, 3]
    assert problems == []


def test_an_integer_and_a_float_file_of_a_glob_are_refused(tmp_path):
    pl.DataFrame({"n": [1]}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"n": [1.5]}).write_parquet(tmp_path / "b.parquet")
    with pytest.raises(DataError, match=r"b.parquet, column `n`: its type Float64 differs from Int64"):
        read(source({"n": "int"}), tmp_path / "*.parquet")


def test_an_undeclared_column_in_one_parquet_file_of_a_glob_is_ignored(tmp_path):
    pl.DataFrame({"n": [1]}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"n": [2], "note": ["x"]}).write_parquet(tmp_path / "b.parquet")
    pl.DataFrame({"note": [True], "n": [3]}).write_parquet(tmp_path / "c.parquet")
    frame, problems, _ = read(source({"n": "int"}), tmp_path / "*.parquet")
    assert frame["n"].to_list() == [1, 2, 3]
    assert problems == []


def test_a_range_bound_beyond_64_bits_is_compared_as_a_number(tmp_path):
    (tmp_path / "c.csv").write_text("team,score\na,5\nb,11\n")
    bound = "9" * 60
    (tmp_path / "s.yaml").write_text(
        f"sources:\n  s:\n    path: c.csv\n    columns: {{team: str, score: {{type: int, range: [0, {bound}]}}}}\n"
        "metrics:\n  m: sum(score)\n"
    )
    assert metricdsl.load(tmp_path / "s.yaml").evaluate()["m"].to_list() == [16]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"n": 2', r"not valid JSON \(Expecting ',' delimiter at column 8\)"),
        ("[1, 2]", "not a JSON object"),
        ('{"n": 1e400}', "a number that JSON cannot hold"),
        ('{"n": NaN}', "a number that JSON cannot hold"),
    ],
)
def test_an_ndjson_line_polars_cannot_read_is_named_in_its_own_file(tmp_path, line, why):
    write(tmp_path, '{"n": 1}\n', name="a.ndjson")
    path = write(tmp_path, f'{{"n": 1}}\n\n{line}\n{{"n": 3}}\n', name="b.ndjson")
    with pytest.raises(DataError, match=rf"^source `s`: {path}, line 3: {why}"):
        read(source({"n": "int"}), tmp_path / "*.ndjson")


def test_a_bad_ndjson_line_past_the_rows_polars_infers_types_from_is_named(project, tmp_path):
    rows = "".join(f'{{"interaction_id": {i}, "started_at": "2026-01-05T09:00:00", "team": "north"}}\n' for i in range(500))
    path = write(tmp_path, rows + '{"interaction_id": 1e400, "team": "south"}\n', name="x.ndjson")
    with pytest.raises(DataError, match=r"x.ndjson, line 501: a number that JSON cannot hold"):
        project.evaluate({"interactions": path}, metrics=["contacts"], by=["team"])
