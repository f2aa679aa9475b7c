"""Datetimes and dates from text: ISO 8601 without `format:`, the declared format with it, never a guess."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from reading import read, source, write

from metricdsl import DataError

UTC = "UTC"


def at(*parts: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*parts, tzinfo=ZoneInfo(UTC))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-05T09:00:00", at(2026, 1, 5, 9)),
        ("2026-01-05 09:00:00", at(2026, 1, 5, 9)),
        ("2026-01-05T09:00", at(2026, 1, 5, 9)),
        ("2026-01-05 09:00", at(2026, 1, 5, 9)),
        ("2026-01-05T09:00:00.250", at(2026, 1, 5, 9, 0, 0, 250000)),
        ("2026-01-05T09:00:00Z", at(2026, 1, 5, 9)),
        ("2026-01-05T09:00:00+01:00", at(2026, 1, 5, 8)),
        ("2026-01-05T09:00:00-0500", at(2026, 1, 5, 14)),
        ("2026-01-05 09:00:00.5+02:00", at(2026, 1, 5, 7, 0, 0, 500000)),
        ("2026-01-05", at(2026, 1, 5)),
    ],
)
def test_iso_8601_datetimes_read_without_a_format(tmp_path, text, expected):
    frame, problems, _ = read(source({"t": "datetime"}), write(tmp_path, f"t\n{text}\n"), zone=UTC)
    assert frame["t"].to_list() == [expected]
    assert problems == []


def test_a_datetime_column_is_in_microseconds_in_the_zone(tmp_path):
    frame, _, _ = read(source({"t": "datetime"}), write(tmp_path, "t\n2026-01-05T09:00:00\n"), zone="Europe/Berlin")
    assert str(frame["t"].dtype) == "Datetime(time_unit='us', time_zone='Europe/Berlin')"


def test_mixed_offsets_in_one_column_are_instants(tmp_path):
    text = "t\n2026-03-01T23:30:00Z\n2026-03-02T00:30:00+01:00\n2026-03-02T00:30:00\n"
    frame, _, _ = read(source({"t": "datetime"}), write(tmp_path, text), zone="Europe/Berlin")
    assert [t.isoformat() for t in frame["t"].to_list()] == ["2026-03-02T00:30:00+01:00"] * 3


def test_a_us_date_without_format_is_an_error_that_suggests_it(tmp_path):
    path = write(tmp_path, "t\n01/05/2026 09:00\n01/13/2026 09:00\n")
    with pytest.raises(DataError) as error:
        read(source({"t": "datetime"}), path)
    assert str(error.value) == (
        f"source `s`: {path}, line 2, column `t`: `01/05/2026 09:00` is not an ISO 8601 datetime; "
        'to read it, add `format: "%m/%d/%Y %H:%M"` to the column'
    )


def test_a_date_that_reads_both_ways_is_ambiguous_and_both_formats_are_given(tmp_path):
    path = write(tmp_path, "t\n01/05/2026\n01/06/2026\n01/12/2026\n")
    with pytest.raises(DataError) as error:
        read(source({"t": "date"}), path)
    message = str(error.value)
    assert "line 2, column `t`: `01/05/2026` is not an ISO 8601 date" in message
    assert 'both day-first and month-first: say which with `format: "%m/%d/%Y"` or `format: "%d/%m/%Y"`' in message


def test_a_german_date_suggests_the_dotted_format(tmp_path):
    with pytest.raises(DataError, match=r'add `format: "%d.%m.%Y %H:%M:%S"`'):
        read(source({"t": "datetime"}), write(tmp_path, "t\n05.01.2026 09:00:00\n"))


def test_a_value_no_format_reads_asks_for_one(tmp_path):
    with pytest.raises(DataError, match=r"`yesterday` is not an ISO 8601 datetime; give the column the `format:`"):
        read(source({"t": "datetime"}), write(tmp_path, "t\n2026-01-05\nyesterday\n"))


def test_the_declared_format_reads_the_values(tmp_path):
    spec = source({"t": {"type": "datetime", "format": "%m/%d/%Y %H:%M"}, "d": {"type": "date", "format": "%d.%m.%Y"}})
    frame, _, _ = read(spec, write(tmp_path, "t,d\n01/13/2026 09:00,13.01.2026\n"), zone=UTC)
    assert frame.row(0) == (at(2026, 1, 13, 9), date(2026, 1, 13))


def test_a_value_that_the_declared_format_does_not_read_is_an_error(tmp_path):
    spec = source({"t": {"type": "datetime", "format": "%m/%d/%Y %H:%M"}})
    with pytest.raises(DataError, match=r"line 3, column `t`: `2026-01-05` is not datetime in the format `%m/%d/%Y %H:%M`$"):
        read(spec, write(tmp_path, "t\n01/13/2026 09:00\n2026-01-05\n"))


def test_a_format_with_an_offset_reads_instants(tmp_path):
    spec = source({"t": {"type": "datetime", "format": "%d/%m/%Y %H:%M %z"}})
    frame, _, _ = read(spec, write(tmp_path, "t\n13/01/2026 09:00 +0100\n"), zone=UTC)
    assert frame["t"].to_list() == [at(2026, 1, 13, 8)]


@pytest.mark.parametrize(
    ("fmt", "text"),
    [("%s", "1767225600"), ("%+", "2026-01-01T02:00:00+02:00"), ("%+", "2026-01-01T00:00:00Z")],
)
def test_seconds_since_1970_and_rfc_3339_name_instants_not_local_times(tmp_path, fmt, text):
    # 1767225600 is 2026-01-01 00:00 UTC: 01:00 in Berlin, as is 02:00 at +02:00
    spec = source({"t": {"type": "datetime", "format": fmt}})
    frame, problems, _ = read(spec, write(tmp_path, f"t\n{text}\n"), zone="Europe/Berlin")
    assert [t.isoformat() for t in frame["t"].to_list()] == ["2026-01-01T01:00:00+01:00"]
    assert problems == []


def test_ndjson_text_reads_with_the_format_and_names_its_line(tmp_path):
    rows = [{"t": "01/13/2026 09:00", "n": 1}, {"t": "nonsense", "n": 2}]
    path = write(tmp_path, "\n".join(json.dumps(r) for r in rows) + "\n", name="data.ndjson")
    spec = source({"t": {"type": "datetime", "format": "%m/%d/%Y %H:%M"}, "n": "int"})
    with pytest.raises(DataError, match=r"data.ndjson, line 2, column `t`: `nonsense` is not datetime in the format"):
        read(spec, path)


def test_iso_dates_read_and_a_datetime_is_no_date(tmp_path):
    with pytest.raises(DataError, match=r"line 3, column `d`: `2026-01-05T09:00` is not an ISO 8601 date"):
        read(source({"d": "date"}), write(tmp_path, "d\n2026-01-05\n2026-01-05T09:00\n"))
