"""Physical types meet declared types on purpose: durations, floats declared int, nested columns, globs."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest
from reading import read, source, write

from conftest import frame as typed_frame
from metricdsl import DataError
from metricdsl.spec.definitions import CsvDialect


def test_a_parquet_duration_declared_in_seconds_gives_aht_in_seconds(project, tmp_path):
    rows = typed_frame(
        project,
        "interactions",
        [{"team": "a", "started_at": datetime(2026, 1, 5), "answered": True, "hold_s": 0.0, "wrap_s": 60.0}],
    ).with_columns(talk_s=pl.lit(timedelta(seconds=600)))
    rows.write_parquet(tmp_path / "calls.parquet")
    assert project.evaluate({"interactions": tmp_path / "calls.parquet"}, metrics=["aht"]).to_dicts() == [{"aht": 660.0}]


@pytest.mark.parametrize(("unit", "expected"), [("s", 90.0), ("min", 1.5), ("ms", 90_000.0), ("h", 0.025)])
def test_a_duration_becomes_a_number_of_the_declared_unit(unit, expected):
    given = pl.DataFrame({"d": pl.Series([timedelta(seconds=90)], dtype=pl.Duration("ns"))})
    frame, _, _ = read(source({"d": {"type": "float", "unit": unit}}), given)
    assert frame["d"].to_list() == [pytest.approx(expected)]


def test_a_duration_declared_without_a_time_unit_is_an_error():
    given = pl.DataFrame({"d": [timedelta(seconds=90)]})
    with pytest.raises(DataError, match=r"column `d` \(declared float\): holds durations: declare its time unit"):
        read(source({"d": "float"}), given)


def test_a_whole_float_declared_int_is_read_and_a_fraction_is_an_error(tmp_path):
    frame, _, _ = read(source({"n": "int"}), pl.DataFrame({"n": [6.0, None]}))
    assert frame["n"].to_list() == [6, None]
    pl.DataFrame({"n": [6.0, 6.9]}).write_parquet(tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"x.parquet, row 1, column `n`: `6.9` is not a whole number"):
        read(source({"n": "int"}), tmp_path / "x.parquet")


@pytest.mark.parametrize(
    ("decimal_comma", "text", "expected"),
    [
        (False, "n\n9.0\n10\n9.5\n", [9, 10, None]),
        (False, "n\n-3.00\n1,0\n", [-3, None]),
        (True, "n\n9,0\n9.000\n9,5\n", [9, None, None]),  # a dot is a thousands separator there
    ],
)
def test_whole_numbers_written_with_a_zero_fraction_read_as_int(tmp_path, decimal_comma, text, expected):
    dialect = CsvDialect(separator=";", decimal_comma=decimal_comma)
    frame, problems, _ = read(source({"n": "int"}, csv=dialect), write(tmp_path, text))
    assert frame["n"].to_list() == expected
    assert [p.rows for p in problems] == [expected.count(None)]


def test_nan_in_a_float_column_declared_int_is_invalid():
    frame, problems, _ = read(source({"n": "int"}), pl.DataFrame({"n": [1.0, float("nan")]}))
    assert frame["n"].to_list() == [1, None]
    assert problems[0].reason == "NaN"


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}])
def test_a_nested_column_is_an_error_naming_file_and_column(tmp_path, value):
    pl.DataFrame({"team": [value]}).write_parquet(tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"x.parquet, column `team` \(declared str\): holds nested values"):
        read(source({"team": "str"}), tmp_path / "x.parquet")


def test_files_of_a_glob_that_disagree_on_a_type_are_an_error(tmp_path):
    pl.DataFrame({"n": [1]}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"n": ["1"]}).write_parquet(tmp_path / "b.parquet")
    with pytest.raises(DataError, match=r"b.parquet, column `n`: its type String differs from Int64 in .*a.parquet"):
        read(source({"n": "int"}), tmp_path / "*.parquet")


def test_a_file_of_a_glob_without_a_column_is_an_error(tmp_path):
    pl.DataFrame({"n": [1], "m": [2]}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"m": [2]}).write_parquet(tmp_path / "b.parquet")
    with pytest.raises(DataError, match=r"b.parquet has no column `n`, which .*a.parquet has"):
        read(source({"n": "int", "m": "int"}), tmp_path / "*.parquet")


def test_a_problem_in_a_parquet_glob_is_placed_in_its_file(tmp_path):
    pl.DataFrame({"n": [1, 2]}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"n": [3, 99]}).write_parquet(tmp_path / "b.parquet")
    frame, problems, _ = read(source({"n": {"type": "int", "range": (0, 10)}}), tmp_path / "*.parquet")
    assert frame["n"].to_list() == [1, 2, 3, None]
    assert problems[0].first == f"{tmp_path / 'b.parquet'} row 1"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("1.5", 1.5), ("PT1H2M3S", 3723), ("P1DT2H", 93600), ("PT0.5S", 0.5), ("P2W", 1209600), ("PT1M", 60)],
)
def test_a_duration_column_reads_seconds_and_iso_8601_durations(tmp_path, text, seconds):
    frame, problems, _ = read(source({"d": "duration"}), write(tmp_path, f"d\n{text}\n"))
    assert frame["d"].to_list() == [timedelta(seconds=seconds)]
    assert problems == []


def test_a_duration_column_reads_numbers_in_its_time_unit(tmp_path):
    frame, _, _ = read(source({"d": {"type": "duration", "unit": "min"}}), write(tmp_path, "d\n2\nPT30S\n"))
    assert frame["d"].to_list() == [timedelta(minutes=2), timedelta(seconds=30)]


@pytest.mark.parametrize("text", ["P", "PT", "P1Y", "soon", "1:30"])
def test_text_that_is_no_duration_is_invalid(tmp_path, text):
    frame, problems, _ = read(source({"d": "duration"}), write(tmp_path, f"d\n{text}\n"))
    assert frame["d"].to_list() == [None]
    assert problems[0].reason == "not a duration"


def test_categorical_text_and_integers_read_as_declared():
    given = pl.DataFrame({"team": pl.Series(["a"], dtype=pl.Categorical), "n": pl.Series([3], dtype=pl.UInt8)})
    frame, _, _ = read(source({"team": "str", "n": "int"}), given)
    assert frame.schema == pl.Schema({"team": pl.String, "n": pl.Int64})


def test_integers_read_as_booleans_when_they_are_one_and_zero():
    frame, problems, _ = read(source({"ok": "bool"}), pl.DataFrame({"ok": [1, 0, 2]}))
    assert frame["ok"].to_list() == [True, False, None]
    assert problems[0].reason == "not a bool"


def test_a_type_that_cannot_become_the_declared_one_is_an_error():
    with pytest.raises(
        DataError, match=r"column `t` \(declared datetime\): holds Int64 values, which do not read as datetime"
    ):
        read(source({"t": "datetime"}), pl.DataFrame({"t": [1]}))


def test_a_frame_column_of_nulls_alone_has_the_declared_type():
    frame, _, _ = read(source({"n": "int", "t": "datetime"}), pl.DataFrame({"n": [None], "t": [None]}), zone="UTC")
    assert frame.schema == pl.Schema({"n": pl.Int64, "t": pl.Datetime("us", "UTC")})
