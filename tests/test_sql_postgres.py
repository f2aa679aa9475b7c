"""The Postgres SQL of `metricdsl sql` run on a real Postgres: a throwaway local cluster started by the test (skipped
when `initdb`, `pg_ctl` or `psql` is not installed), the bundled example loaded in the table contract, and the query's
table equal to `evaluate`'s cell for cell, for every dashboard and the language coverage metrics."""

from __future__ import annotations

import io
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import metricdsl
from metricdsl.engine.inputs import scan
from metricdsl.engine.sql import frames
from tests.test_differential import EXTRA_METRICS

ROOT = Path(__file__).resolve().parent.parent
DATA = {"interactions": str(ROOT / "examples/data/interactions.csv"), "orders": str(ROOT / "examples/data/orders.csv")}
TOOLS = {name: shutil.which(name) or f"/usr/local/bin/{name}" for name in ("initdb", "pg_ctl", "psql")}
TYPES = {pl.Int64: "bigint", pl.Float64: "double precision", pl.Boolean: "boolean", pl.String: "text", pl.Date: "date"}


def _as_owner(command: list[str]) -> list[str]:
    """`command` as the `postgres` user when run as root (Postgres refuses to run as root)."""
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and no `postgres` user to start a cluster as")
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="module")
def psql() -> Iterator[list[str]]:
    """The `psql` command line of a fresh local cluster, stopped and removed after the module."""
    if not all(Path(tool).exists() for tool in TOOLS.values()):
        pytest.skip("Postgres is not installed")
    folder = Path(tempfile.mkdtemp(prefix="metricdsl-postgres-"))  # not under pytest's folder, private to root
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    options = f"-p 55499 -k {folder} -c listen_addresses="
    subprocess.run(
        _as_owner([TOOLS["initdb"], "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True, capture_output=True
    )
    start = [TOOLS["pg_ctl"], "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]
    subprocess.run(_as_owner(start), check=True, capture_output=True)
    try:
        yield [TOOLS["psql"], "-h", str(folder), "-p", "55499", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    finally:
        subprocess.run(_as_owner([TOOLS["pg_ctl"], "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def project(psql: list[str], tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    """The specs and the coverage metrics, with the example data loaded into tables named as the sources."""
    folder = tmp_path_factory.mktemp("postgres_specs")
    (folder / "extras.yaml").write_text(EXTRA_METRICS)
    loaded = metricdsl.load([ROOT / "specs", folder])
    for name, path in DATA.items():
        reading = scan(loaded.definitions.sources[name], path, zone=None, quote=True)
        try:
            table = frames.to_sql_frame(loaded.model, name, reading.frame.collect())
        finally:
            reading.close()
        table = table.select(c for c in table.columns if c in loaded.definitions.sources[name].columns)
        columns = ", ".join(
            f'"{c}" {"timestamptz" if isinstance(t, pl.Datetime) else TYPES[t]}' for c, t in table.schema.items()
        )
        text = table.with_columns(
            pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00")
            for c, t in table.schema.items()
            if isinstance(t, pl.Datetime)
        ).write_csv()
        subprocess.run(
            [*psql, "-c", f'CREATE TABLE "{name}" ({columns})', "-c", f'\\copy "{name}" FROM STDIN CSV HEADER'],
            input=text,
            text=True,
            check=True,
            capture_output=True,
        )
    return loaded


def run(psql: list[str], query: str, schema: pl.Schema) -> pl.DataFrame:
    """The table of `query`, its columns in `schema`'s types (psql writes booleans as `t` and `f`)."""
    done = subprocess.run([*psql, "--csv", "-c", query], text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
    text = pl.read_csv(io.StringIO(done.stdout), infer_schema=False)

    def typed(name: str, dtype: pl.DataType) -> pl.Expr:
        if dtype == pl.Boolean:
            return pl.col(name) == "t"
        if isinstance(dtype, pl.Datetime):  # `2026-01-02 03:04:05+00`
            instant = pl.col(name).str.to_datetime("%Y-%m-%d %H:%M:%S%#z", time_zone="UTC", time_unit=dtype.time_unit)
            return instant.dt.convert_time_zone(dtype.time_zone or "UTC")
        return pl.col(name).cast(dtype)

    return text.select(typed(c, t) for c, t in schema.items())


def readable(project: metricdsl.Project, metric: str) -> bool:
    try:
        project.request(metrics=[metric], by=["team"], grain="week")
    except metricdsl.RequestError:
        return False
    return True


@pytest.mark.parametrize(("asked"), [{"dashboard": "service_2_0"}, {"metrics": None, "by": ["team"], "grain": "week"}])
def test_the_postgres_query_gives_the_table_of_evaluate(
    psql: list[str], project: metricdsl.Project, asked: dict[str, object]
) -> None:
    if "metrics" in asked:
        asked = {**asked, "metrics": [m for m in project.model.metrics if m.startswith("x_") and readable(project, m)]}
    expected = project.evaluate(DATA, **asked)  # type: ignore[arg-type]
    durations = [c for c, t in expected.schema.items() if isinstance(t, pl.Duration)]
    expected = expected.drop(durations)  # a duration metric is a number of microseconds in the SQL output
    query = project.sql(**asked, dialect="postgres")  # type: ignore[arg-type]
    actual = run(psql, query, expected.schema)
    assert expected.height > 5
    assert_frame_equal(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
