"""The data-quality report on the way out: `eval` prints it on standard error, `check` makes each problem a finding of
kind `data` in every format, `Project.check()` returns them, and none reaches the history file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import metricdsl
from metricdsl import DataProblem
from metricdsl.cli import main

GOLDEN = Path(__file__).parent / "golden"
SPEC = """\
sources:
  calls:
    time: started_at
    columns:
      team: str
      started_at: datetime
      wait_s: {type: float, unit: s}
      nps_score: {type: int, range: [0, 10]}
      channel: {type: str, values: [phone, chat]}
metrics:
  asa: {expr: mean(wait_s), unit: s, better: lower}
  nps: {expr: 100 * (share(nps_score >= 9) - share(nps_score <= 6)), unit: points, better: higher}
  phone_share: {expr: share(channel == "phone"), unit: ratio}
targets:
  asa: {warn: "> 30s"}
dashboards:
  board: {metrics: [asa, nps, phone_share], by: [team], grain: week}
"""
NASTY = "fax\x1b[31m|%0A\nx"  # a line break, an ANSI escape, a table's bar and GitHub's own escape of a line break
CALLS = f"""\
team,started_at,wait_s,nps_score,channel
north,2026-01-05T09:00:00,20,9,phone
north,2026-01-06T09:00:00,slow,99,chat
north,2026-01-07T09:00:00,24,99,phone
south,2026-01-05T09:00:00,70,10,"{NASTY}"
"""
CLEAN = """\
team,started_at,wait_s,nps_score,channel
north,2026-01-05T09:00:00,20,9,phone
south,2026-01-05T09:00:00,70,10,chat
"""
GOLDEN_FILES = {
    "text": "check_data.txt",
    "markdown": "check_data.md",
    "github": "check_data_github.txt",
    "json": "check_data.json",
}
WAIT = "source `calls`, column `wait_s`: 1 row invalid (not a float); first at calls.csv:3: `slow`"
NPS = "source `calls`, column `nps_score`: 2 rows invalid (outside [0, 10]); first at calls.csv:3: `99`"
CHANNEL = (
    r"source `calls`, column `channel`: 1 row invalid (not one of phone, chat); first at calls.csv:5: `fax\x1b[31m|%0A\nx`"
)
COMMAND = re.compile(r"::(notice|warning|error) file=[^,:\r\n]+,line=\d+,title=[^,:\r\n]+::[^\r\n]+")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder with the spec and the calls above, made the current one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr("metricdsl.cli.spec_revision", lambda paths: None)
    Path("spec.yaml").write_text(SPEC)
    Path("calls.csv").write_text(CALLS)
    return tmp_path


def run(*args: str, data: str | None = "calls=calls.csv"):
    """A command on `spec.yaml`; its result, with standard output and standard error apart."""
    result = CliRunner().invoke(main, [*args[:1], "spec.yaml", *(("--data", data) if data else ()), *args[1:]])
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result


def check_json(*args: str, data: str | None = "calls=calls.csv") -> list[dict]:
    result = run("check", "--format", "json", *args, data=data)
    return json.loads(result.stdout)["findings"]


def declared_line(name: str) -> int:
    """The line of `spec.yaml` where `name:` is declared."""
    return next(i for i, line in enumerate(SPEC.splitlines(), 1) if line.strip().startswith(f"{name}:"))


@pytest.mark.parametrize("output_format", sorted(GOLDEN_FILES))
def test_check_with_data_findings_matches_its_golden_file(folder, output_format, request):
    result = run("check", "--format", output_format)
    assert result.exit_code == 0  # warnings only
    assert result.stderr == ""
    golden = GOLDEN / GOLDEN_FILES[output_format]
    if request.config.getoption("--update-golden"):
        golden.write_text(result.stdout)
    assert golden.read_text() == result.stdout, f"{golden} differs; run pytest --update-golden if intended"


def test_eval_prints_the_report_on_standard_error_and_exits_0(folder):
    result = run("eval")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [f"warning: data: {WAIT}", f"warning: data: {NPS}", f"warning: data: {CHANNEL}"]
    assert "warning" not in result.stdout
    assert "north" in result.stdout


def test_eval_writing_to_standard_output_keeps_the_report_apart(folder):
    result = run("eval", "--output", "-", "--output-format", "json")
    assert json.loads(result.stdout)[0]["team"] == "north"
    assert f"warning: data: {NPS}" in result.stderr.splitlines()


def test_clean_data_makes_no_report(folder):
    Path("calls.csv").write_text(CLEAN)
    assert run("eval").stderr == ""
    assert [f["kind"] for f in check_json()] == ["target"]


def test_check_json_has_a_record_of_kind_data_per_problem(folder):
    found = check_json()
    data = [f for f in found if f["kind"] == "data"]
    assert [f["kind"] for f in found] == ["data", "data", "data", "target"]  # the data first among warnings
    nps = next(f for f in data if f["column"] == "nps_score")
    assert {k: nps[k] for k in ("name", "severity", "status", "source", "column", "rows", "reason", "first", "value")} == {
        "name": "calls.nps_score",
        "severity": "warn",
        "status": "invalid",
        "source": "calls",
        "column": "nps_score",
        "rows": 2,
        "reason": "outside [0, 10]",
        "first": "calls.csv:3",
        "value": "99",
    }
    assert (nps["file"], nps["line"]) == ("spec.yaml", declared_line("nps_score"))
    assert nps["message"] == NPS
    assert next(f for f in data if f["column"] == "channel")["value"] == NASTY
    assert [set(f) for f in data] == [set(data[0])] * 3
    assert set(data[0]) >= set(found[-1])  # every key of a target's record, and its own


def test_a_value_is_quoted_only_from_a_file_given_with_data(folder):
    Path("spec.yaml").write_text(SPEC.replace("    time: started_at\n", "    time: started_at\n    path: calls.csv\n"))
    data = [f for f in check_json(data=None) if f["kind"] == "data"]
    assert [(f["column"], f["rows"], f["first"], f["value"]) for f in data] == [
        ("wait_s", 1, "calls.csv:3", None),
        ("nps_score", 2, "calls.csv:3", None),
        ("channel", 1, "calls.csv:5", None),
    ]
    assert data[1]["message"] == "source `calls`, column `nps_score`: 2 rows invalid (outside [0, 10]); first at calls.csv:3"
    stderr = run("eval", data=None).stderr
    assert not any(value in stderr for value in ("slow", "99", "fax"))
    assert f"warning: data: {NPS}" in run("eval").stderr  # the same file, given with --data


def test_github_annotations_sit_at_the_column_declarations_one_line_each(folder):
    lines = run("check", "--format", "github").stdout.splitlines()
    overview, commands, summary = lines[0], lines[1:-1], lines[-1]
    assert overview == "::notice title=metricdsl check::4 findings in 1 period: 0 fail, 4 warn, 0 info"
    assert summary == "0 fail, 4 warn, 0 info findings"
    assert all(COMMAND.fullmatch(line) for line in commands), commands
    assert commands[1].startswith(f"::warning file=spec.yaml,line={declared_line('nps_score')},title=data calls.nps_score::")
    channel = commands[2]
    assert channel.startswith(f"::warning file=spec.yaml,line={declared_line('channel')},title=data calls.channel::")
    assert "\x1b" not in channel
    assert channel.endswith(r"`fax\x1b[31m|%250A\nx`")  # `%` encoded, so `%0A` stays text; the line break visible


def test_markdown_keeps_a_problem_in_one_row(folder):
    lines = run("check", "--format", "markdown").stdout.splitlines()
    channel = next(line for line in lines if "calls.channel" in line)
    assert "\x1b" not in channel
    assert channel.count(" | ") == 4  # five cells: the value's `|` is escaped
    assert r"\`fax\\x1b\[31m\|%0A\\nx\`" in channel


def test_text_outputs_write_control_characters_visibly(folder):
    for output in (run("check").stdout, run("eval").stderr):
        assert "\x1b" not in output
        assert r"fax\x1b[31m|%0A\nx" in output


def test_warnings_fail_only_with_fail_on_warn(folder):
    Path("calls.csv").write_text(CALLS.replace("70,10", "10,10"))  # no target missed: the data's warnings alone
    assert {f["kind"] for f in check_json()} == {"data"}
    assert run("check").exit_code == 0
    assert run("check", "--fail-on", "warn").exit_code == 1
    assert run("check", "--fail-on", "fail").exit_code == 0
    Path("calls.csv").write_text(CLEAN.replace("70,10", "10,10"))
    assert run("check", "--fail-on", "warn").exit_code == 0


def test_an_empty_source_is_a_data_finding(folder):
    Path("calls.csv").write_text(CALLS.splitlines()[0] + "\n")
    (finding,) = check_json()
    assert {k: finding[k] for k in ("kind", "name", "status", "source", "column", "rows", "reason", "first", "value")} == {
        "kind": "data",
        "name": "calls",
        "status": "empty",
        "source": "calls",
        "column": None,
        "rows": 0,
        "reason": "no rows",
        "first": None,
        "value": None,
    }
    assert (finding["file"], finding["line"], finding["message"]) == ("spec.yaml", 2, "source `calls`: no rows")
    assert run("eval").stderr == "warning: data: source `calls`: no rows\n"
    github = run("check", "--format", "github").stdout.splitlines()
    assert github[:2] == [
        "::notice title=metricdsl check::1 finding: 0 fail, 1 warn, 0 info",
        "::warning file=spec.yaml,line=2,title=data calls::source `calls`: no rows",
    ]
    assert run("check", "--fail-on", "warn").exit_code == 1


@pytest.mark.parametrize("output_format", ["json", "csv", "parquet"])
def test_output_files_hold_the_data_findings(folder, output_format):
    printed = run("check", "--format", "json", "--output", f"out.{output_format}").stdout
    if output_format == "json":
        assert Path("out.json").read_text() == printed
        return
    table = pl.read_csv("out.csv") if output_format == "csv" else pl.read_parquet("out.parquet")
    data = table.filter(pl.col("kind") == "data")
    assert data.select("data_source", "data_column", "data_rows", "data_reason", "data_first").rows() == [
        ("calls", "wait_s", 1, "not a float", "calls.csv:3"),
        ("calls", "nps_score", 2, "outside [0, 10]", "calls.csv:3"),
        ("calls", "channel", 1, "not one of phone, chat", "calls.csv:5"),
    ]
    assert data["data_value"].to_list() == ["slow", "99", NASTY]
    assert data["line"].to_list() == [declared_line(c) for c in ("wait_s", "nps_score", "channel")]
    target = table.filter(pl.col("kind") == "target")
    assert target.select(pl.col("^data_.*$")).null_count().row(0) == (1,) * 6


def test_the_history_records_metric_values_alone(folder):
    assert run("check", "--history", "dirty.parquet").exit_code == 0
    Path("calls.csv").write_text(CLEAN)
    assert run("check", "--history", "clean.parquet").exit_code == 0
    dirty, clean = pl.read_parquet("dirty.parquet"), pl.read_parquet("clean.parquet")
    assert dirty.columns == clean.columns
    assert not any(c.startswith("data") or c in ("wait_s", "nps_score", "channel") for c in dirty.columns)
    assert dirty.height == clean.height


def test_notices_go_to_standard_error_for_eval_and_check(folder):
    Path("calls.csv").write_text(CLEAN.replace("T09:00:00,", "T09:00:00Z,"))
    notice = "notice: source `calls`: `started_at` has times with a UTC offset or time zone, shown in UTC"
    for command in ("eval", "check"):
        result = run(command, "--format", "json") if command == "check" else run(command)
        assert result.stderr.startswith(notice), result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert "notice" not in result.stdout


def test_project_check_returns_the_data_findings(folder):
    project = metricdsl.load("spec.yaml")
    found = project.check({"calls": "calls.csv"}, dashboard="board")
    data = [f for f in found if f.kind == "data"]
    assert [f.problem for f in data] == [
        DataProblem("calls", "wait_s", 1, "not a float", "calls.csv:3", "slow"),
        DataProblem("calls", "nps_score", 2, "outside [0, 10]", "calls.csv:3", "99"),
        DataProblem("calls", "channel", 1, "not one of phone, chat", "calls.csv:5", NASTY),
    ]
    assert found[: len(data)] == data
    assert data[1].message == NPS
    assert (data[1].severity, data[1].status, data[1].group, data[1].period) == ("warn", "invalid", {}, None)
    assert (data[1].file, data[1].line) == ("spec.yaml", declared_line("nps_score"))
    assert all(f.problem is None for f in found if f.kind != "data")
