"""The command line: exit codes, rendered diagnostics, tables and atomic outputs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from conftest import SPECS, frame
from metricdsl.cli import main

SOURCE = """\
sources:
  calls:
    time: started_at
    columns: {started_at: datetime, team: str, wait_s: {type: float, unit: s}, nps_score: int}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def broken_project(tmp_path):
    """Three files, one mistake each: an unknown column, a syntax error, an unknown key."""
    (tmp_path / "sources.yaml").write_text(SOURCE)
    (tmp_path / "survey.yaml").write_text("metrics:\n  nps:\n    expr: 100 * share(nps_scor >= 9)\n")
    (tmp_path / "waits.yaml").write_text("metrics:\n  asa:\n    expr: mean(wait_s +)\n")
    (tmp_path / "board.yaml").write_text("dashboards:\n  main:\n    metrics: [asa]\n    grian: week\n")
    return tmp_path


def test_validate_reports_every_mistake_with_position_and_caret(broken_project):
    code, out, _ = run("validate", str(broken_project))
    assert code == 1
    assert "error[MD201]: unknown column `nps_scor` in source `calls`" in out
    assert f"--> {broken_project / 'survey.yaml'}:3:23" in out
    assert " 3 |     expr: 100 * share(nps_scor >= 9)\n   |                       ^^^^^^^^\n" in out
    assert "help: did you mean `nps_score`?" in out
    assert f"--> {broken_project / 'waits.yaml'}:3:24" in out
    assert "error[MD101]" in out
    assert f"--> {broken_project / 'board.yaml'}:4:5" in out
    assert "did you mean `grain`?" in out
    assert out.rstrip().endswith("3 errors, 0 warnings in 4 files")


def test_validate_as_json_and_github(broken_project):
    code, out, _ = run("validate", str(broken_project), "--format", "json")
    report = json.loads(out)
    found = report["diagnostics"]
    assert code == 1
    assert (report["schema"], report["errors"], report["warnings"], report["files"]) == ("metricdsl-diagnostics/1", 3, 0, 4)
    assert sorted(d["code"] for d in found) == ["MD004", "MD101", "MD201"]
    assert {d["line"] for d in found} == {3, 4}
    code, out, _ = run("validate", str(broken_project), "--format", "github")
    assert code == 1
    assert f"::error file={broken_project / 'survey.yaml'},line=3,col=23,endColumn=31,title=MD201::unknown column" in out


def test_broken_yaml_is_a_diagnostic(tmp_path):
    (tmp_path / "bad.yaml").write_text("metrics:\n  nps: {expr: share(x)\n")
    code, out, _ = run("validate", str(tmp_path))
    assert code == 1
    assert "error[MD001]" in out
    assert "bad.yaml:2:23" in out


def test_validate_passes_on_the_standard_library():
    code, out, _ = run("validate", str(SPECS))
    files = len(list(SPECS.glob("*.yaml")))
    assert files >= 7  # the library's files, each counted
    assert (code, out.strip()) == (0, f"0 errors, 0 warnings in {files} files")


@pytest.fixture
def calls(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(
        "started_at,team,wait_s,nps_score\n2025-12-29T10:00:00,north,10,9\n"
        "2026-01-05T10:00:00,north,30,\n2026-01-05T11:00:00,south,,3\n"
    )
    (tmp_path / "specs.yaml").write_text(SOURCE + "metrics:\n  asa: mean(wait_s)\n  promoters: share(nps_score >= 9)\n")
    return tmp_path


def test_eval_prints_a_table(calls):
    code, out, _ = run("eval", str(calls / "specs.yaml"), "--data", f"calls={calls / 'calls.csv'}", "--by", "team")
    assert code == 0
    assert "team" in out
    assert "│ north ┆  20 ┆         1 │" in out  # asa (seconds, no unit declared) and the share, whole


def test_eval_writes_json_rows_keyed_by_dimension_grain_and_metric(calls):
    out_file = calls / "out" / "result.json"
    code, _, err = run(
        "eval",
        str(calls / "specs.yaml"),
        "--data",
        f"calls={calls / 'calls.csv'}",
        "--by",
        "team",
        "--grain",
        "week",
        "--output",
        str(out_file),
    )
    assert code == 0
    assert err == f"wrote 4 rows to {out_file}\n"
    assert json.loads(out_file.read_text()) == [
        {"team": "north", "week": "2026-W01", "asa": 10.0, "promoters": 1.0},
        {"team": "north", "week": "2026-W02", "asa": 30.0, "promoters": None},
        {"team": "south", "week": "2026-W01", "asa": None, "promoters": None},  # every team has every week
        {"team": "south", "week": "2026-W02", "asa": None, "promoters": 0.0},
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_eval_writes_csv_and_parquet(calls, suffix):
    out_file = calls / f"result{suffix}"
    code, _, _ = run(
        "eval",
        str(calls / "specs.yaml"),
        "--data",
        f"calls={calls / 'calls.csv'}",
        "--grain",
        "day",
        "--output",
        str(out_file),
    )
    assert code == 0
    table = pl.read_csv(out_file) if suffix == ".csv" else pl.read_parquet(out_file)
    assert table.columns == ["day", "asa", "promoters"]
    assert table.height == 8  # every day from the first call's to the last one's
    assert table.drop_nulls("asa").height == 2


def test_failed_eval_leaves_an_existing_output_untouched(calls):
    out_file = calls / "result.json"
    out_file.write_text("previous")
    (calls / "calls.csv").write_text("started_at,team,wait_s,nps_score\nnot-a-time,north,1,1\n")
    code, _, err = run(
        "eval",
        str(calls / "specs.yaml"),
        "--data",
        f"calls={calls / 'calls.csv'}",
        "--grain",
        "week",
        "--output",
        str(out_file),
    )
    assert code == 2
    assert "line 2, column `started_at`: `not-a-time` is not an ISO 8601 datetime" in err
    assert out_file.read_text() == "previous"
    assert sorted(p.name for p in calls.iterdir()) == ["calls.csv", "result.json", "specs.yaml"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metrics", "asx"], "unknown metric `asx`; did you mean `asa`?"),
        (["--by", "teem"], "did you mean `team`?"),
        (["--dashboard", "nope"], "unknown dashboard `nope`"),
        (["--grain", "fortnight"], "Invalid value for '--grain'"),
        (["--output", "result.xlsx"], "cannot tell the format of --output `result.xlsx` from its extension"),
        (["--output", "-"], "cannot tell the format of --output - (standard output) from its extension"),
        (["--output-format", "csv"], "--output-format needs --output"),
        (["--data", "calls"], "--data takes SOURCE=FILE"),
        (["--data", "call=x.csv"], "unknown source `call`"),
    ],
)
def test_usage_errors_exit_2(calls, args, message):
    code, _, err = run("eval", str(calls / "specs.yaml"), "--data", f"calls={calls / 'calls.csv'}", *args)
    assert code == 2
    assert message in err


def test_eval_of_specs_with_errors_exits_2(broken_project):
    code, _, err = run("eval", str(broken_project))
    assert code == 2
    assert "error[MD201]" in err


def test_console_script_evaluates_the_bundled_example_without_flags():
    result = subprocess.run(
        [sys.executable, "-m", "metricdsl", "eval", str(SPECS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # The library has several dashboards: without one named, every metric once, over all the data.
    header = result.stdout.splitlines()[1]  # the metrics' short labels, after the `provisional` flag
    assert [c.strip() for c in header.strip("│").split("┆")][:3] == ["provisional", "Reason share", "Contacts"]
    assert "20,000" in result.stdout
    assert "Traceback" not in result.stderr
    named = subprocess.run(
        [sys.executable, "-m", "metricdsl", "eval", str(SPECS), "--dashboard", "service_2_0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert named.returncode == 0, named.stderr
    header = named.stdout.splitlines()[1]  # the dimensions and the period come first
    assert [c.strip() for c in header.strip("│").split("┆")][:5] == ["team", "week", "provisional", "Contacts", "NPS"]
    assert "2026-W01" in named.stdout


def test_frame_helper_types_every_declared_column(project):
    schema = frame(project, "orders", [{"ordered_at": datetime(2026, 1, 1)}]).schema
    assert schema == {
        "order_id": pl.Int64,
        "customer_id": pl.Int64,
        "ordered_at": pl.Datetime("us"),
        "amount": pl.Float64,
        "cross_sell": pl.Boolean,
        "referred_by": pl.Int64,
    }


def test_spec_tests_of_the_standard_library_pass(tmp_path):
    report = tmp_path / "junit.xml"
    code, out, _ = run("test", str(SPECS), "--junit-xml", str(report))
    assert code == 0, out
    last = out.strip().splitlines()[-1]
    assert last.endswith(" passed, 0 failed")
    assert int(last.split()[0]) >= 10
    assert 'failures="0"' in report.read_text()


def test_a_wrong_expectation_fails_with_expected_and_actual(calls, tmp_path):
    (calls / "tests.yaml").write_text(
        "tests:\n"
        "  - name: mean wait\n"
        "    given:\n"
        "      calls:\n"
        "        - {wait_s: 10}\n"
        "        - {wait_s: 20}\n"
        "    expect: {asa: 16}\n"
        "  - name: by team\n"
        "    by: [team]\n"
        "    given: {calls: [{team: a, wait_s: 5}]}\n"
        "    expect: [{team: a, asa: 5}]\n"
    )
    report = tmp_path / "junit.xml"
    code, out, _ = run("test", str(calls / "specs.yaml"), str(calls / "tests.yaml"), "--junit-xml", str(report))
    assert code == 1
    assert f"{calls / 'tests.yaml'}:2: mean wait FAILED\n    asa: expected 16, got 15.0\n" in out
    assert f"--> {calls / 'tests.yaml'}:7" in out
    assert out.strip().endswith("1 passed, 1 failed")
    assert 'failures="1"' in report.read_text()
    assert "expected 16, got 15.0" in report.read_text()


def test_five_mistakes_in_three_files_in_every_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.yaml").write_text(SOURCE.rstrip() + "\n    derive:\n      odd: wait_s + team\n")
    Path("b.yaml").write_text("metrics:\n  nps: 100 * share(nps_scor >= 9)\n  asa: avg(wait_s)\n")
    Path("c.yaml").write_text("metrics:\n  late: {expr: share(wait_s > 20s), lable: Late}\n  bad: mean(wait_s +)\n")
    code, out, _ = run("validate", ".")
    assert code == 1
    assert out.rstrip().endswith("5 errors, 0 warnings in 3 files")
    carets = {  # each diagnostic's position and the text under its caret
        ("a.yaml", 6, "MD204"): "wait_s + team",
        ("b.yaml", 2, "MD201"): "nps_scor",
        ("b.yaml", 3, "MD202"): "avg(wait_s)",
        ("c.yaml", 2, "MD004"): "lable",
        ("c.yaml", 3, "MD101"): ")",
    }
    report = json.loads(run("validate", ".", "--format", "json")[1])
    found = {}
    for d in report["diagnostics"]:
        line = Path(d["file"]).read_text().splitlines()[d["line"] - 1]
        found[(Path(d["file"]).name, d["line"], d["code"])] = line[d["column"] - 1 : d["end_column"] - 1]
        assert d["hint"], d
    assert found == carets
    github = run("validate", ".", "--format", "github")[1].splitlines()
    pattern = re.compile(r"^::error file=[^,]+,line=\d+,col=\d+,endColumn=\d+,title=MD\d{3}::.+$")
    assert len(github) == 5
    assert all(pattern.match(line) for line in github)
    sarif = json.loads(run("validate", ".", "--format", "sarif")[1])
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"]) == 1
    run_ = sarif["runs"][0]
    rules = [rule["id"] for rule in run_["tool"]["driver"]["rules"]]
    assert len(run_["results"]) == 5
    for result in run_["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] == "error"
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1
        assert region["startColumn"] >= 1
        assert result["message"]["text"]


def test_counts_of_one_are_singular(calls):
    """`wrote 1 row`, `holds 1 row`, `of 1 file`: a count of one takes the singular, others the plural."""
    specs, data = calls / "specs.yaml", f"calls={calls / 'calls.csv'}"
    code, _, err = run("eval", str(specs), "--data", data, "--output", str(calls / "one.csv"))
    assert (code, err) == (0, f"wrote 1 row to {calls / 'one.csv'}\n")
    code, _, err = run("eval", str(specs), "--data", data, "--by", "team", "--output", str(calls / "two.csv"))
    assert (code, err) == (0, f"wrote 2 rows to {calls / 'two.csv'}\n")
    history = calls / "history.parquet"
    code, _, err = run("check", str(specs), "--data", data, "--grain", "month", "--history", str(history))
    assert (code, err) == (0, f"history: {history} holds 2 rows\n")  # December and January
    history.unlink()
    (calls / "calls.csv").write_text("started_at,team,wait_s,nps_score\n2026-01-05T10:00:00,north,30,\n")
    code, _, err = run("check", str(specs), "--data", data, "--grain", "year", "--history", str(history))
    assert (code, err) == (0, f"history: {history} holds 1 row\n")
    code, _, err = run("fmt", "--check", str(specs))
    assert (code, err) == (0, "would reformat 0 of 1 file\n")
    code, out, _ = run("validate", str(specs))
    assert (code, out) == (0, "0 errors, 0 warnings in 1 file\n")
