"""The engines beside Polars: `--engine duckdb` gives the Polars table cell for cell (the example project's dashboards,
projects of edge cases), the same data-quality report, findings and spec test outcomes; an engine that cannot run
here (a bad name, its extra missing, no Java for Spark) is one line and exit 2, before any data is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import metricdsl
from conftest import ROOT, SPECS
from metricdsl.cli import main
from metricdsl.errors import EngineUnavailable
from metricdsl.tools.spectest import run_tests
from tests.engine_cases import assert_same_run, edges_project, frames_equal

pytest.importorskip("duckdb")


def invoke(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def run_process(*args: str, env: dict[str, str] | None = None, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """The command line in a fresh Python, after `prelude` (such as hiding a module); `env` in place of the
    environment's."""
    code = f"{prelude}\nimport sys\nfrom metricdsl.__main__ import run\nsys.argv = ['metricdsl', *sys.argv[1:]]\nrun()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), **(env if env is not None else os.environ)},
        cwd=ROOT,
        timeout=120,
    )


def test_the_example_dashboard_on_duckdb_is_the_polars_table(tmp_path):
    dashboard = "service_2_0"
    expected, actual = tmp_path / "polars.parquet", tmp_path / "duckdb.parquet"
    for engine, output in (("polars", expected), ("duckdb", actual)):
        result = invoke("eval", SPECS, "--dashboard", dashboard, "--engine", engine, "--output", output)
        assert result.exit_code == 0, result.output
    frames_equal(pl.read_parquet(expected), pl.read_parquet(actual))
    assert pl.read_parquet(expected).height > 10


def test_every_dashboard_and_metric_of_the_example_on_duckdb_through_the_api(project):
    for board in project.definitions.dashboards.values():
        layout = {"by": list(board.by), "grain": board.grain}
        metrics = list(board.metrics)
        assert_same_run(project.run(metrics=metrics, **layout), project.run(metrics=metrics, **layout, engine="duckdb"))
    by_channel = [name for name, metric in project.model.metrics.items() if metric.source != "orders"]  # no channel
    for grain in (None, "week", "month"):
        request = {"metrics": by_channel, "by": ["channel"], "grain": grain, "apply_min_n": False}
        request["metrics"] = project._computable(
            by_channel, project.request(metrics=by_channel, by=["channel"], grain=grain)
        )
        assert_same_run(project.run(**request, with_ci=True), project.run(**request, with_ci=True, engine="duckdb"))


@pytest.mark.parametrize("dashboard", ["weekly", "overall"])
def test_edge_cases_on_duckdb_are_the_polars_table(tmp_path, dashboard):
    project, data = edges_project(tmp_path)
    assert_same_run(project.run(data, dashboard=dashboard), project.run(data, dashboard=dashboard, engine="duckdb"))
    request = {"metrics": list(project.model.metrics), "apply_min_n": False, "with_ci": True}
    by = {"weekly": ["team"], "overall": []}[dashboard]
    grain = {"weekly": "week", "overall": None}[dashboard]
    assert_same_run(
        project.run(data, **request, by=by, grain=grain), project.run(data, **request, by=by, grain=grain, engine="duckdb")
    )


def test_invalid_values_give_the_same_data_quality_report_on_duckdb(tmp_path):
    project, data = edges_project(tmp_path)
    polars, duckdb = (project.run(data, dashboard="overall", engine=e) for e in ("polars", "duckdb"))
    assert [(p.column, p.rows, p.reason, Path(p.first).name, p.value) for p in duckdb.problems] == [
        ("wait_s", 1, "not a float", "calls.csv:9", "nope"),
        ("score", 1, "outside [0, 10]", "calls.csv:8", "99"),
    ]
    assert duckdb.problems == polars.problems
    expected = invoke("eval", tmp_path / "edges.yaml", "--dashboard", "overall", *_data(data))
    actual = invoke("eval", tmp_path / "edges.yaml", "--dashboard", "overall", "--engine", "duckdb", *_data(data))
    assert actual.exit_code == expected.exit_code == 0
    assert actual.stderr == expected.stderr
    assert "calls.csv:9" in actual.stderr
    assert actual.stdout == expected.stdout


def _data(data: dict[str, str]) -> list[str]:
    return [a for name, path in data.items() for a in ("--data", f"{name}={path}")]


def test_check_on_duckdb_gives_the_polars_findings(tmp_path):
    outputs = {}
    for engine in ("polars", "duckdb"):
        result = invoke("check", SPECS, "--dashboard", "service_2_0", "--format", "json", "--engine", engine)
        assert result.exit_code in (0, 1), result.output
        outputs[engine] = (result.exit_code, json.loads(result.stdout))
    assert outputs["duckdb"][0] == outputs["polars"][0]
    assert_close(outputs["duckdb"][1], outputs["polars"][1])
    assert len(outputs["polars"][1]["findings"]) > 10
    project = metricdsl.load(SPECS)
    found = project.check(dashboard="service_2_0", engine="duckdb")
    expected = project.check(dashboard="service_2_0")
    assert [(f.kind, f.name, f.group, f.period, f.status) for f in found] == [
        (f.kind, f.name, f.group, f.period, f.status) for f in expected
    ]
    for actual, wanted in zip(found, expected, strict=True):
        assert_close(actual.value, wanted.value)


def assert_close(actual: object, expected: object) -> None:
    """Two JSON documents are equal but for floats, which may differ in their last digits (sums in another order)."""
    if isinstance(expected, float) and isinstance(actual, float):
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-12)
    elif isinstance(expected, dict) and isinstance(actual, dict):
        assert actual.keys() == expected.keys()
        for key in expected:
            assert_close(actual[key], expected[key])
    elif isinstance(expected, list) and isinstance(actual, list):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_close(a, e)
    else:
        assert actual == expected


def test_spec_tests_pass_on_duckdb():
    polars = run_tests(metricdsl.load(SPECS))
    duckdb = run_tests(metricdsl.load(SPECS), engine="duckdb")
    assert all(outcome.passed for outcome in polars)
    assert len(duckdb) == len(polars)
    assert all(outcome.passed for outcome in duckdb), [o.failures for o in duckdb if not o.passed]


def test_spec_tests_fail_on_duckdb_as_on_polars(tmp_path):
    for file in SPECS.glob("*.yaml"):
        (tmp_path / file.name).write_text(file.read_text())
    (tmp_path / "wrong.yaml").write_text(
        "tests:\n  - name: a wrong count\n    given:\n      interactions:\n"
        "        - {answered: true, started_at: 2026-01-05T10:00:00}\n    expect: {contacts: 2}\n"
    )
    project = metricdsl.load(tmp_path, allow_outside_paths=True)
    outcomes = {e: run_tests(project, engine=e) for e in ("polars", "duckdb")}
    assert [o.failures for o in outcomes["polars"]] == [o.failures for o in outcomes["duckdb"]]
    assert [o.test.name for o in outcomes["duckdb"] if not o.passed] == ["a wrong count"]


def test_a_bad_engine_name_is_a_usage_error():
    result = invoke("eval", SPECS, "--engine", "pandas")
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1
    assert "'pandas' is not one of 'polars', 'duckdb', 'spark'" in errors[0]
    with pytest.raises(metricdsl.RequestError, match="unknown engine `pandas`"):
        metricdsl.load(SPECS).run(dashboard="service_2_0", engine="pandas")  # type: ignore[arg-type]


@pytest.mark.parametrize("command", ["eval", "check", "test"])
def test_a_missing_duckdb_extra_is_one_line_and_2(command):
    result = run_process(command, "specs", "--engine", "duckdb", prelude="import sys; sys.modules['duckdb'] = None")
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == ["error: --engine duckdb needs duckdb and pyarrow: pip install 'metricdsl[duckdb]'"]
    assert result.stdout == ""


def test_spark_without_java_is_one_line_and_2():
    pytest.importorskip("pyspark")
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"} | {"PATH": ""}
    result = run_process("eval", "specs", "--engine", "spark", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "error: --engine spark runs Spark locally, which needs Java 17 or later: install it (`java` is not on the PATH "
        "and JAVA_HOME is not set), or give a cluster with --spark-remote sc://HOST:PORT"
    ]
    env["JAVA_HOME"] = "/nowhere"
    result = run_process("check", "specs", "--engine", "spark", env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: --engine spark runs Spark locally, which needs Java 17 or later: JAVA_HOME (/nowhere) has no bin/java"
    ]


def test_a_missing_spark_extra_is_one_line_and_2():
    result = run_process("eval", "specs", "--engine", "spark", prelude="import sys; sys.modules['pyspark'] = None")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: --engine spark needs pyspark and pyarrow: pip install 'metricdsl[spark]'"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "interactions=db.calls"], "--table needs --engine spark, not polars"),
        (
            ["--engine", "duckdb", "--spark-remote", "sc://localhost:15002"],
            "--spark-remote needs --engine spark, not duckdb",
        ),
        (["--engine", "spark", "--table", "interactions"], "--table takes SOURCE=DB.TABLE, not `interactions`"),
    ],
)
def test_spark_options_without_spark_are_usage_errors(args, message):
    result = invoke("eval", SPECS, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_the_api_raises_engine_unavailable_before_reading_any_data(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "duckdb", None)
    project = metricdsl.load(SPECS)
    with pytest.raises(EngineUnavailable, match=r"pip install 'metricdsl\[duckdb\]'"):
        project.run({"interactions": tmp_path / "missing.csv"}, dashboard="service_2_0", engine="duckdb")


def test_a_query_duckdb_cannot_compute_is_one_line_and_2(tmp_path):
    # Two sums near the largest BIGINT overflow it: DuckDB refuses the cast back, as Spark's ANSI mode does.
    (tmp_path / "big.yaml").write_text("sources:\n  s:\n    columns: {v: int}\nmetrics:\n  total: {expr: sum(v)}\n")
    (tmp_path / "s.csv").write_text("v\n9000000000000000000\n9000000000000000000\n")
    result = CliRunner().invoke(
        main, ["eval", str(tmp_path / "big.yaml"), "--data", f"s={tmp_path / 's.csv'}", "--engine", "duckdb"]
    )
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error: cannot evaluate on DuckDB: Conversion Error:")
    assert result.stderr.count("\n") == 1
