"""Reading data: formats, declared types applied, and clear messages for bad input."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from conftest import frame
from metricdsl import DataError, DataProblem

HEADER = "interaction_id,customer_id,team,channel,started_at,answered,wait_s,talk_s,hold_s,wrap_s,nps_score\n"
ROWS = "1,7,north,phone,2026-01-05T09:00:00,true,12.5,100,0,20,10\n2,7,north,chat,2026-01-06T10:30:00,false,3,,,,\n"
METRICS = ["contacts", "aht", "abandon_rate", "repeat_rate"]
AS_OF = datetime(2026, 2, 1)  # the data is complete: the repeat window of each contact is known


def write(tmp_path, text: str, name: str = "interactions.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_types_are_applied(project, tmp_path):
    path = write(tmp_path, HEADER + ROWS)
    result = project.evaluate({"interactions": path}, metrics=METRICS, as_of=AS_OF).to_dicts()
    assert result == [{"contacts": 2, "aht": 120.0, "abandon_rate": 0.0, "repeat_rate": 1.0, "provisional": False}]


@pytest.mark.parametrize("suffix", [".parquet", ".ndjson", ".arrow"])
def test_other_formats_give_the_same_result(project, tmp_path, suffix):
    typed = pl.read_csv(write(tmp_path, HEADER + ROWS), try_parse_dates=True)
    path = tmp_path / f"interactions{suffix}"
    {".parquet": typed.write_parquet, ".ndjson": typed.write_ndjson, ".arrow": typed.write_ipc}[suffix](path)
    result = project.evaluate({"interactions": path}, metrics=METRICS, as_of=AS_OF).to_dicts()
    assert result == [{"contacts": 2, "aht": 120.0, "abandon_rate": 0.0, "repeat_rate": 1.0, "provisional": False}]


def test_a_glob_of_parquet_files_is_one_source(project, tmp_path):
    rows = frame(project, "interactions", [{"team": "a", "started_at": datetime(2026, 1, 5)}] * 3)
    rows.write_parquet(tmp_path / "part-1.parquet")
    rows.write_parquet(tmp_path / "part-2.parquet")
    result = project.evaluate({"interactions": tmp_path / "part-*.parquet"}, metrics=["contacts"])
    assert result["contacts"].to_list() == [6]


def test_missing_column_is_named(project, tmp_path):
    path = write(tmp_path, HEADER.replace(",wait_s", ",wait") + ROWS)
    with pytest.raises(DataError, match=r"source `interactions`: .*interactions.csv has no column `wait_s`"):
        project.evaluate({"interactions": path}, metrics=METRICS)


def test_a_value_that_does_not_parse_is_missing_and_reported_with_its_line(project, tmp_path):
    path = write(tmp_path, HEADER + ROWS + "3,8,south,phone,2026-01-07T08:00:00,true,slow,50,0,5,\n")
    run = project.run({"interactions": path}, metrics=["contacts", "asa"])
    assert run.table.to_dicts() == [{"contacts": 3, "asa": 12.5}]
    assert run.problems == (DataProblem("interactions", "wait_s", 1, "not a float", f"{path}:4", "slow"),)


def test_a_bad_timestamp_is_named(project, tmp_path):
    path = write(tmp_path, HEADER + ROWS.replace("2026-01-06T10:30:00", "yesterday"))
    with pytest.raises(DataError, match=r"line 3, column `started_at`: `yesterday` is not an ISO 8601 datetime"):
        project.evaluate({"interactions": path}, metrics=METRICS)


def test_a_missing_file_is_named(project, tmp_path):
    with pytest.raises(DataError, match=r"no file .*nowhere.csv"):
        project.evaluate({"interactions": tmp_path / "nowhere.csv"}, metrics=["contacts"])


def test_an_unreadable_file_is_reported(project, tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"cannot read .*broken.parquet"):
        project.evaluate({"interactions": path}, metrics=["contacts"])


def test_an_unknown_format_is_reported(project, tmp_path):
    with pytest.raises(DataError, match=r"cannot tell the format"):
        project.evaluate({"interactions": write(tmp_path, "x", "data.xlsx")}, metrics=["contacts"])


def test_columns_of_a_frame_are_cast_to_the_declared_types(project):
    given = pl.DataFrame(
        {
            "team": ["a"],
            "started_at": [datetime(2026, 1, 5)],
            "interaction_id": [1],
            "customer_id": pl.Series([3], dtype=pl.Int32),
        }
    )
    assert project.evaluate({"interactions": given}, metrics=["contacts"], by=["team"]).to_dicts() == [
        {"team": "a", "contacts": 1}
    ]


def test_a_frame_value_of_the_wrong_type_is_missing_and_reported_with_its_row(project):
    given = pl.DataFrame(
        {"team": ["a"], "started_at": [datetime(2026, 1, 5)], "wait_s": ["long"], "answered": [True], "channel": ["phone"]}
    )
    run = project.run({"interactions": given}, metrics=["abandon_rate"])
    assert run.problems == (DataProblem("interactions", "wait_s", 1, "not a float", "row 0", "long"),)
