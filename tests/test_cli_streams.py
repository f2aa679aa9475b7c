"""Outputs to standard output (`--output -`, `/dev/stdout`): the format given or taken from the name, the data alone on
standard output and the text for people on standard error, a reader that leaves early, a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from metricdsl.cli import EXIT_ERROR, EXIT_FAILED, EXIT_OK, main

ROOT = Path(__file__).resolve().parent.parent
SPEC = """\
sources:
  calls:
    path: calls.csv
    time: started_at
    columns: {started_at: datetime, team: str, wait_s: {type: float, unit: s}}
metrics:
  asa: {expr: mean(wait_s), unit: s, better: lower}
targets:
  asa: {fail: "> 60s"}
tests:
  - name: mean wait
    given: {calls: [{wait_s: 10}, {wait_s: 20}]}
    expect: {asa: 15}
"""
CALLS = "started_at,team,wait_s\n2026-01-05T10:00:00,north,10\n2026-01-05T11:00:00,south,90\n"
TABLE = [{"team": "north", "asa": 10.0}, {"team": "south", "asa": 90.0}]


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "calls.csv").write_text(CALLS)
    return tmp_path / "spec.yaml"


def invoke(*args: str | Path):
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def run_process(*args: str | Path, **options) -> subprocess.CompletedProcess[bytes]:
    """`python -m metricdsl ARGS` of this checkout, its outputs as bytes (Parquet is binary)."""
    return subprocess.run(
        [sys.executable, "-m", "metricdsl", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
        **options,
    )


def read(data: bytes, output_format: str) -> list[dict]:
    if output_format == "json":
        return json.loads(data)
    reader = pl.read_csv if output_format == "csv" else pl.read_parquet
    return reader(io.BytesIO(data)).to_dicts()


@pytest.mark.parametrize("output_format", ["csv", "json", "parquet"])
@pytest.mark.parametrize("name", ["-", "/dev/stdout"])
def test_eval_writes_the_table_alone_to_standard_output_in_the_format_given(spec, name, output_format):
    if not Path("/dev/stdout").exists() and name != "-":
        pytest.skip("needs /dev/stdout")
    result = run_process(
        "eval", spec, "--by", "team", "--output", name, "--output-format", output_format, capture_output=True
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert read(result.stdout, output_format) == TABLE
    shown = "standard output" if name == "-" else name
    assert result.stderr.decode() == f"wrote 2 rows to {shown}\n"


def test_the_format_given_wins_over_the_extension(spec, tmp_path):
    for name in ("table.txt", "table.csv"):
        result = invoke("eval", spec, "--by", "team", "--output", tmp_path / name, "--output-format", "json")
        assert result.exit_code == EXIT_OK, result.output
        assert json.loads((tmp_path / name).read_text()) == TABLE


def test_a_name_without_a_format_is_a_usage_error_that_names_the_option(spec):
    result = invoke("eval", spec, "--output", "-")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.splitlines()[-1] == (
        "Error: cannot tell the format of --output - (standard output) from its extension: "
        "give --output-format csv, parquet or json"
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", ["-", "/dev/stdout"])
def test_parquet_to_a_terminal_is_refused_in_one_line(spec, name):
    if not Path("/dev/stdout").exists() and name != "-":
        pytest.skip("needs /dev/stdout")
    leader, terminal = pty.openpty()
    try:
        result = run_process(
            "eval", spec, "--output", name, "--output-format", "parquet", stdout=terminal, stderr=subprocess.PIPE
        )
    finally:
        os.close(terminal)
        os.close(leader)
    assert result.returncode == EXIT_ERROR
    shown = "standard output" if name == "-" else name
    assert result.stderr.decode() == (
        f"error: cannot write {shown}: it is a terminal, which cannot show Parquet: redirect it to a file\n"
    )


def test_eval_to_a_reader_that_is_gone_ends_quietly(spec):
    """`metricdsl eval --output - --output-format csv | true`."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run_process(
            "eval", spec, "--output", "-", "--output-format", "csv", stdout=write_end, stderr=subprocess.PIPE
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (EXIT_OK, b"")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_eval_to_a_full_standard_output_is_one_line(spec):
    with open("/dev/full", "wb") as full:
        result = run_process("eval", spec, "--output", "-", "--output-format", "csv", stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == EXIT_ERROR
    assert result.stderr.decode() == "error: cannot write standard output: No space left on device\n"


@pytest.mark.parametrize("findings_format", ["text", "json"])
def test_check_writes_its_report_alone_to_standard_output_and_the_findings_to_standard_error(spec, findings_format):
    history = spec.parent / "history.parquet"
    result = invoke(
        "check", spec, "--by", "team", "--grain", "day", "--output", "-", "--format", findings_format, "--history", history
    )
    assert result.exit_code == EXIT_FAILED  # south waits 90 s: the verdict stands
    report = json.loads(result.stdout)  # JSON when nothing says otherwise, as a file without an extension
    assert report["schema"] == "metricdsl-findings/1"
    assert [f["group"] for f in report["findings"]] == [{"team": "south"}]
    assert f"history: {history} holds 2 rows" in result.stderr
    if findings_format == "text":
        assert result.stderr.rstrip().endswith("1 fail, 0 warn, 0 info finding")
    else:
        assert '"schema": "metricdsl-findings/1"' in result.stderr


@pytest.mark.parametrize("output_format", ["csv", "parquet"])
def test_check_writes_the_findings_as_a_table(spec, output_format):
    result = run_process(
        "check", spec, "--by", "team", "--grain", "day", "--output", "-", "--output-format", output_format,
        capture_output=True,
    )  # fmt: skip
    assert result.returncode == EXIT_FAILED, result.stderr
    (finding,) = read(result.stdout, output_format)
    assert list(finding) == [
        "kind", "name", "severity", "status", "team", "period", "value", "threshold", "n",
        "ci_low", "ci_high", "message", "file", "line", "revision",
        "data_source", "data_column", "data_rows", "data_reason", "data_first", "data_value",
    ]  # fmt: skip
    assert finding["team"] == "south"
    assert (finding["kind"], finding["name"], finding["status"], finding["value"], finding["n"]) == (
        "target",
        "asa",
        "fail",
        90.0,
        1,
    )
    assert str(finding["period"]) == "2026-01-05"
    assert finding["message"] == "south: asa is 1m 30s, past the fail threshold (> 1m 00s)"
    assert "1 fail, 0 warn, 0 info finding" in result.stderr.decode()


def test_check_refuses_a_table_whose_dimension_would_take_a_column_name(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC.replace("team: str", "name: str").replace("[team]", "[name]"))
    (tmp_path / "calls.csv").write_text(CALLS.replace("team", "name"))
    result = invoke("check", tmp_path / "spec.yaml", "--by", "name", "--output", tmp_path / "findings.csv")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr == (
        f"error: cannot write {tmp_path / 'findings.csv'}: dimension `name` would be a second `name` column: write JSON\n"
    )
    assert "south: asa is 1m 30s" in result.stdout  # the findings are still printed
    assert not (tmp_path / "findings.csv").exists()


def test_spec_tests_write_junit_alone_to_standard_output(spec):
    result = invoke("test", spec, "--junit-xml", "-")
    assert result.exit_code == EXIT_OK
    assert result.stdout.startswith("<?xml")
    assert result.stderr.rstrip().endswith("1 passed, 0 failed")
