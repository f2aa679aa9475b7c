"""The keys that say what a source's files hold (time zone, CSV dialect, formats, domains, `on_invalid`, the
calendar): loaded as written, every mistake reported at its position (tests/cases/data_keys.yaml), and in step
with what Polars reads."""

from __future__ import annotations

import codecs
import dataclasses
import datetime
from pathlib import Path

import jsonschema
import polars as pl
import pytest
import yaml

import metricdsl
from metricdsl.render.explain import metric_report
from metricdsl.spec.data_keys import known_zones
from metricdsl.spec.date_formats import format_problem
from metricdsl.spec.definitions import CSV_ENCODINGS, Calendar, Column, CsvDialect
from metricdsl.spec.json_schema import spec_schema
from metricdsl.spec.loader import load_files, load_text
from metricdsl.tools.explain import explain_metric
from metricdsl.tools.fmt import format_file

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "data_keys.yaml").read_text())
DESIGN = CASES[0]["spec"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case):
    diagnostics = load_text("spec.yaml", case["spec"])[1]
    found = [
        {
            "code": d.code,
            "line": d.location.line if d.location else None,
            "at": d.location.source_line[d.location.col - 1 : (d.location.end_col or d.location.col + 1) - 1]
            if d.location
            else None,
            "hint": d.hint,
        }
        for d in diagnostics
    ]
    assert [(f["code"], f["line"]) for f in found] == [(e["code"], e["line"]) for e in case["expect"]], found
    for got, expected in zip(found, case["expect"], strict=True):
        assert got["hint"], got
        for key in ("at", "hint"):
            if key in expected:
                assert got[key] == expected[key], got


def test_every_key_is_loaded_as_written():
    definitions, diagnostics = load_text("spec.yaml", DESIGN)
    assert diagnostics == []
    source = definitions.sources["calls"]
    columns = {name: dataclasses.replace(column, location=None) for name, column in source.columns.items()}
    assert (source.timezone, source.on_invalid) == ("Europe/Berlin", "error")
    assert dataclasses.replace(source.csv, location=None) == CsvDialect(
        separator=";",
        decimal_comma=True,
        encoding="utf-16",
        null_values=("", "NA", "-"),
        true_values=("Y", "1"),
        false_values=("N", "0"),
        skip_rows=1,
        comment_prefix="#",
    )
    assert columns["started_at"] == Column("started_at", "datetime", format="%m/%d/%Y %H:%M")
    assert columns["nps_score"] == Column("nps_score", "int", range=(0, 10))
    assert columns["channel"] == Column("channel", "str", values=("phone", "chat", "email"))
    assert columns["wrap_s"] == Column("wrap_s", "float", unit="s", on_invalid="null")
    assert [source.on_invalid_of(c) for c in ("nps_score", "wrap_s")] == ["error", "null"]
    assert dataclasses.replace(definitions.calendar, location=None) == Calendar("America/New_York")
    assert definitions.calendar.location is not None
    assert definitions.calendar.location.line == 12
    assert definitions.zone("calls") == "Europe/Berlin"


def test_defaults_without_the_keys():
    definitions, _ = load_text("spec.yaml", "sources:\n  calls: {columns: {n: int}}\n")
    source = definitions.sources["calls"]
    assert (source.timezone, source.csv, source.on_invalid) == (None, CsvDialect(), "null")
    assert definitions.zone("calls") == "UTC"
    definitions, _ = load_text("spec.yaml", "sources:\n  calls: {columns: {n: int}}\ncalendar: {timezone: Asia/Tokyo}\n")
    assert definitions.zone("calls") == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("written", "values"),
    [("[a, b]", ("a", "b")), ('["yes", "1", "2026-01-01"]', ("yes", "1", "2026-01-01"))],
)
def test_values_of_a_str_column_are_texts(written, values):
    definitions, diagnostics = load_text(
        "spec.yaml", f"sources:\n  calls:\n    columns: {{c: {{type: str, values: {written}}}}}\n"
    )
    assert diagnostics == []
    assert definitions.sources["calls"].columns["c"].values == values


def test_values_are_typed_as_their_column():
    text = "sources:\n  calls:\n    columns: {n: {type: int, values: [1, 2, 99]}, ok: {type: bool, values: [true]}}\n"
    columns = load_text("spec.yaml", text)[0].sources["calls"].columns
    assert (columns["n"].values, columns["ok"].values) == ((1, 2, 99), (True,))


def test_texts_of_a_dialect_are_kept_as_written():
    dialect_text = "{true_values: [yes, Y, 1, on], false_values: [no, N, 0, off], null_values: [null, ~, NA]}"
    text = f"sources:\n  calls:\n    csv: {dialect_text}\n    columns: {{n: int}}\n"
    dialect = load_text("spec.yaml", text)[0].sources["calls"].csv
    assert dialect.true_values == ("yes", "Y", "1", "on")
    assert dialect.false_values == ("no", "N", "0", "off")
    assert dialect.null_values == ("null", "~", "NA")


@pytest.mark.parametrize("written", ['"\\t"', "'\\t'", "\\t"])
def test_a_tab_separator_in_any_quoting(written):
    dialect = load_text("spec.yaml", f"sources:\n  calls:\n    csv: {{separator: {written}}}\n    columns: {{n: int}}\n")[0]
    assert dialect.sources["calls"].csv.separator == "\t"


def test_a_calendar_in_two_files_is_reported_at_the_second(tmp_path):
    (tmp_path / "a.yaml").write_text("calendar: {timezone: Europe/Berlin}\n")
    (tmp_path / "b.yaml").write_text("sources:\n  calls: {columns: {n: int}}\ncalendar: {timezone: UTC}\n")
    definitions, diagnostics = load_files([tmp_path])
    (duplicate,) = diagnostics
    assert (duplicate.code, duplicate.location.file, duplicate.location.line) == ("MD007", str(tmp_path / "b.yaml"), 3)
    assert f"first defined at {tmp_path / 'a.yaml'}:1" in duplicate.message
    assert definitions.calendar.timezone == "Europe/Berlin"


def test_fmt_keeps_the_keys_and_rewrites_only_expressions():
    text = DESIGN + "metrics:\n  promoters: share( nps_score>=9 )\n"
    formatted = format_file("spec.yaml", text)
    assert formatted.problem is None
    assert formatted.after == text.replace("share( nps_score>=9 )", "share(nps_score >= 9)")
    assert load_text("spec.yaml", formatted.after)[0].sources == load_text("spec.yaml", text)[0].sources


def test_the_schema_accepts_the_keys_and_rejects_what_the_loader_rejects():
    validator = jsonschema.Draft202012Validator(spec_schema())
    validator.validate(yaml.safe_load(DESIGN))
    for body in ("{on_invalid: nul}", "{csv: {encoding: utf8}}", "{csv: {separator: ';;'}}", "{csv: {sep: ';'}}"):
        assert not validator.is_valid(yaml.safe_load(f"sources:\n  calls: {body}\n")), body
    assert validator.is_valid({"calendar": {"timezone": "UTC", "week_start": "sunday"}})
    assert not validator.is_valid({"calendar": {"timezone": "UTC", "week_start": "tuesday"}})
    assert not validator.is_valid({"calendar": {"timezone": "UTC", "week_begins": "monday"}})
    assert not validator.is_valid({"sources": {"calls": {"columns": {"t": {"type": "datetime", "format": "iso"}}}}})
    assert validator.is_valid({"sources": {"calls": {"columns": {"n": "int"}, "csv": {"separator": "\\t"}}}})


# -- in step with Polars, the zone database and Python's codecs


@pytest.mark.parametrize(
    ("fmt", "text", "read"),
    [
        ("%m/%d/%Y %H:%M", "01/05/2026 09:00", datetime.datetime(2026, 1, 5, 9)),
        ("%d.%m.%Y %H:%M:%S", "05.01.2026 09:00:30", datetime.datetime(2026, 1, 5, 9, 0, 30)),
        ("%Y-%m-%d %H:%M:%S%.f", "2026-01-05 09:00:01.25", datetime.datetime(2026, 1, 5, 9, 0, 1, 250000)),
        ("%Y-%m-%d %H:%M:%S.%6f", "2026-01-05 09:00:01.123456", datetime.datetime(2026, 1, 5, 9, 0, 1, 123456)),
        ("%m/%d/%Y %I:%M %p", "01/05/2026 09:00 PM", datetime.datetime(2026, 1, 5, 21)),
        ("%-m/%-d/%Y %H:%M", "1/5/2026 09:00", datetime.datetime(2026, 1, 5, 9)),
        ("%d %B %Y", "5 January 2026", datetime.datetime(2026, 1, 5)),
        ("%F %T", "2026-01-05 09:00:00", datetime.datetime(2026, 1, 5, 9)),
        ("%Y%m%d", "20260105", datetime.datetime(2026, 1, 5)),
        ("%G-W%V-%u", "2026-W02-1", datetime.datetime(2026, 1, 5)),
        ("%d/%m/%y %H:%M%%", "05/01/26 09:00%", datetime.datetime(2026, 1, 5, 9)),
    ],
)
def test_a_format_found_right_is_read_by_polars(fmt, text, read):
    assert format_problem(fmt) is None
    assert pl.Series([text]).str.to_datetime(format=fmt, time_unit="us").item() == read


def test_a_format_with_an_offset_is_read_by_polars():
    assert format_problem("%Y-%m-%d %H:%M %z") is None
    read = pl.Series(["2026-01-05 09:00 +0100"]).str.to_datetime(format="%Y-%m-%d %H:%M %z").item()
    assert read == datetime.datetime(2026, 1, 5, 8, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [("%m/%d/%Q", "01/05/2026"), ("%d.%m.%Y %H", "05.01.2026 09"), ("%m/%d/%Y %I:%M", "01/05/2026 09:00")],
)
def test_a_format_found_wrong_fails_in_polars(fmt, text):
    assert format_problem(fmt) is not None
    with pytest.raises(pl.exceptions.PolarsError):
        pl.Series([text]).str.to_datetime(format=fmt, strict=True)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [("%m/%d", "01/05"), ("%Y-%m-%d %H:%M %Z", "2026-01-05 09:00 UTC")],
)
def test_a_format_found_wrong_is_misread_by_polars(fmt, text):
    assert format_problem(fmt) is not None
    read = pl.Series([text]).str.to_datetime(format=fmt, strict=True).item()
    assert read.year == 1 or read.tzinfo is None  # year 1, or the zone name skipped


def test_polars_reads_every_zone_the_loader_accepts():
    assert {"Europe/Berlin", "America/New_York", "UTC"} <= known_zones()
    instant = pl.Series([datetime.datetime(2026, 3, 29, 12)])
    for zone in sorted(known_zones()):
        instant.dt.replace_time_zone(zone)


def test_every_encoding_is_one_python_knows():
    assert all(codecs.lookup(name) for name in CSV_ENCODINGS)


def test_explain_shows_the_zone_of_the_times_a_metric_uses(tmp_path):
    (tmp_path / "spec.yaml").write_text(
        "sources:\n"
        "  calls: {time: t, timezone: Europe/Berlin, columns: {t: datetime, ok: bool}}\n"
        "  orders: {time: t, columns: {t: datetime, amount: float}}\n"
        "  survey: {columns: {score: int}}\n"
        "metrics:\n"
        "  answer_rate: share(ok)\n"
        "  revenue: sum(amount)\n"
        "  calls_n: {expr: count(), source: calls}\n"
        "  per_call: revenue / calls_n\n"
        "  mean_score: mean(score)\n"
        "calendar: {timezone: America/New_York}\n"
    )
    project = metricdsl.load(tmp_path)
    zones = {name: explain_metric(project, name).zones for name in project.model.metrics}
    assert zones == {
        "answer_rate": {"calls": "Europe/Berlin"},
        "revenue": {"orders": "America/New_York"},
        "calls_n": {"calls": "Europe/Berlin"},
        "per_call": {"orders": "America/New_York", "calls": "Europe/Berlin"},
        "mean_score": {},
    }
    facts = [
        metric_report(explain_metric(project, name)).splitlines()[2] for name in ("answer_rate", "per_call", "mean_score")
    ]
    assert facts[0].endswith("; time zone: Europe/Berlin")
    assert facts[1].endswith("time zone: America/New_York (orders), Europe/Berlin (calls)")
    assert "time zone" not in facts[2]


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("sources: {calls: {csv: {skip_rows: two}, columns: {n: int}}}", "as `skip_rows: 2`"),
        ("sources: {calls: {columns: {n: int}}}\nmetrics: {m: {expr: count(), min_n: 2.5}}", "as `min_n: 30`"),
    ],
)
def test_a_count_that_is_no_whole_number_says_what_to_write(written, hint):
    diagnostics = load_text("spec.yaml", written)[1]
    assert [d.code for d in diagnostics] == ["MD006"]
    assert diagnostics[0].hint is not None
    assert diagnostics[0].hint.endswith(hint)
