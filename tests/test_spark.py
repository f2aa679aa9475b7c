"""`--engine spark` on a local Spark (`local[1]`, one session for the module): the example project's dashboards and the
projects of edge cases give the Polars table cell for cell, and a source can be a table of the Spark catalog
(`--table`). Run with `pytest -m spark` (the spark extra and Java 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import metricdsl
from conftest import ROOT, SPECS
from metricdsl.cli import main
from tests.engine_cases import CALLS, assert_same_run, edges_project, frames_equal

pytestmark = pytest.mark.spark
REMOTE_VARIABLE = "METRICDSL_TEST_SPARK_REMOTE"
pyspark = pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def spark():
    """The process's Spark session, local on one core, made once for the module."""
    from metricdsl.engine.sql import run_spark

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(run_spark.MASTER_VARIABLE, "local[1]")
        started = time.perf_counter()
        session = run_spark.session()
        print(f"Spark session started in {time.perf_counter() - started:.1f} s")
    return session


def test_every_dashboard_of_the_example_on_spark_is_the_polars_table(spark):
    project = metricdsl.load(SPECS)
    for dashboard in project.definitions.dashboards:
        started = time.perf_counter()
        actual = project.run(dashboard=dashboard, engine="spark")
        print(f"{dashboard} on Spark: {time.perf_counter() - started:.2f} s")
        assert_same_run(project.run(dashboard=dashboard), actual)


def test_the_example_dashboard_on_the_command_line(spark, tmp_path):
    expected, actual = tmp_path / "polars.parquet", tmp_path / "spark.parquet"
    for engine, output in (("polars", expected), ("spark", actual)):
        result = CliRunner().invoke(
            main, ["eval", str(SPECS), "--dashboard", "service_2_0", "--engine", engine, "--output", str(output)]
        )
        assert result.exit_code == 0, result.output
    frames_equal(pl.read_parquet(expected), pl.read_parquet(actual))


@pytest.mark.parametrize(("by", "grain"), [([], None), (["team"], "week"), (["team"], "day"), ([], "month")])
def test_edge_cases_on_spark_are_the_polars_table(spark, tmp_path, by, grain):
    project, data = edges_project(tmp_path)
    request = {"metrics": list(project.model.metrics), "by": by, "grain": grain, "apply_min_n": False, "with_ci": True}
    assert_same_run(project.run(data, **request), project.run(data, **request, engine="spark"))


def test_spec_tests_pass_on_spark(spark):
    result = CliRunner().invoke(main, ["test", str(SPECS), "--engine", "spark"])
    assert result.exit_code == 0, result.output
    assert result.stdout == CliRunner().invoke(main, ["test", str(SPECS)]).stdout


@pytest.mark.parametrize(("naive", "kind"), [(False, "timestamp"), (True, "timestamp_ntz")])
def test_a_source_read_from_a_catalog_table(spark, tmp_path, naive, kind):
    """The calls as a table of the Spark catalog in the table contract (instants in UTC, or naive times read as UTC;
    the minutes of `handled` a number): the same table as Polars reading the same rows from CSV."""
    clean = "\n".join(line for line in CALLS.splitlines() if "nope" not in line and ",99," not in line) + "\n"
    project, data = edges_project(tmp_path)
    Path(data["calls"]).write_text(clean)
    rows = pl.read_csv(Path(data["calls"]), schema_overrides={"wait_s": pl.Float64, "handled": pl.Float64})
    rows = rows.with_columns(pl.col("at").str.to_datetime(time_zone="UTC"))
    if naive:
        rows = rows.with_columns(pl.col("at").dt.replace_time_zone(None))
    rows.write_parquet(tmp_path / "calls.parquet")
    folder = (tmp_path / "warehouse").as_uri()
    spark.sql(f"CREATE DATABASE IF NOT EXISTS edges LOCATION '{folder}'")
    spark.sql(f"CREATE TABLE edges.calls USING parquet LOCATION '{(tmp_path / 'calls.parquet').as_uri()}'")
    try:
        assert {f.name: f.dataType.simpleString() for f in spark.table("edges.calls").schema.fields}["at"] == kind
        for dashboard in ("weekly", "overall"):
            expected = project.run(data, dashboard=dashboard)
            actual = project.run(
                {"sales": data["sales"]}, dashboard=dashboard, engine="spark", tables={"calls": "edges.calls"}
            )
            frames_equal(expected.table, actual.table)
            assert actual.problems == ()  # a table is not read here: its quality is the warehouse's
        spec = ["eval", str(tmp_path / "edges.yaml"), "--dashboard", "overall"]
        on_spark = [*spec, "--engine", "spark", "--table", "calls=edges.calls", "--data", f"sales={data['sales']}"]
        on_polars = [*spec, "--data", f"calls={data['calls']}", "--data", f"sales={data['sales']}"]
        result = CliRunner().invoke(main, on_spark)
        assert result.exit_code == 0, result.output
        assert result.stdout == CliRunner().invoke(main, on_polars).stdout
    finally:
        spark.sql("DROP TABLE IF EXISTS edges.calls")
        spark.sql("DROP DATABASE IF EXISTS edges")


def test_a_table_of_the_wrong_type_or_missing_is_one_line(spark, tmp_path):
    project, data = edges_project(tmp_path)
    spark.sql("CREATE OR REPLACE TEMPORARY VIEW typo_calls AS SELECT 'x' AS customer, 'north' AS team")
    with pytest.raises(metricdsl.DataError, match=r"column `customer` of table typo_calls is string, where an? `int`"):
        project.run({"sales": data["sales"]}, dashboard="overall", engine="spark", tables={"calls": "typo_calls"})
    with pytest.raises(metricdsl.DataError, match=r"cannot read table no_such\.table on Spark"):
        project.run({"sales": data["sales"]}, dashboard="overall", engine="spark", tables={"calls": "no_such.table"})


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line in a fresh Python, whose Spark session is not this module's local one (a process has local
    sessions or Spark Connect ones, not both)."""
    return subprocess.run(
        [sys.executable, "-m", "metricdsl", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=600,
    )


def test_an_unreachable_spark_connect_server_is_one_line():
    result = run_process("eval", "specs", "--engine", "spark", "--spark-remote", "sc://127.0.0.1:9")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line in (
        "error: --spark-remote needs the Spark Connect client: pip install 'pyspark[connect]'",
    ) or line.startswith("error: cannot reach Spark Connect at sc://127.0.0.1:9: failed to connect")


@pytest.mark.skipif(not os.environ.get(REMOTE_VARIABLE), reason=f"{REMOTE_VARIABLE} names no Spark Connect server")
def test_the_example_dashboard_through_spark_connect(tmp_path):
    """With METRICDSL_TEST_SPARK_REMOTE=sc://HOST:PORT (a server started for the test, such as Spark's own
    sbin/start-connect-server.sh, and the client: pip install 'pyspark[connect]')."""
    remote = os.environ[REMOTE_VARIABLE]
    expected, actual = tmp_path / "polars.parquet", tmp_path / "remote.parquet"
    for output, engine in ((expected, []), (actual, ["--engine", "spark", "--spark-remote", remote])):
        result = run_process("eval", "specs", "--dashboard", "service_2_0", *engine, "--output", str(output))
        assert result.returncode == 0, result.stderr
    frames_equal(pl.read_parquet(expected), pl.read_parquet(actual))
