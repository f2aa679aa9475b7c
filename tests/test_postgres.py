"""The whole query of `Project.sql(dialect="postgres")` runs on a real PostgreSQL and gives the table of
`Project.evaluate`, cell for cell: the example project's dashboards and other layouts, and the project of edge cases
(windows with filters and censoring, weeks across a new year, two zones, nulls, zero denominators, durations,
distinct counts).

A throwaway cluster is started for the module (initdb with trust authentication, its Unix socket in a temporary
folder, no TCP) and removed at the end. The sources are read by the project's own input layer, converted to the
table contract (`to_sql_frame`), written as CSV and loaded with `psql`'s `\\copy` into tables of the contract's types;
results are read back with `psql --csv`. The sessions' time zone is not UTC: the query must not depend on it.

The module is skipped, with the reason, when PostgreSQL's programs are not installed or the cluster does not start
(initdb refuses to run as root: as root, the server runs as the unprivileged user `nobody` through `runuser`). The
comparison of every metric and the language coverage metrics is `slow`: sqlglot takes seconds to build its queries.
"""

from __future__ import annotations

import datetime
import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlglot import exp

import metricdsl
from metricdsl.engine.inputs import Data, scan
from metricdsl.engine.sql.dialects import render
from metricdsl.engine.sql.frames import to_sql_frame
from tests.engine_cases import edges_project
from tests.test_differential import EXTRA_METRICS, PERIOD_METRICS
from tests.test_sql_conformance import computable
from tests.test_sql_edges import DURATIONS
from tests.zones import with_week_start

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql")
UNPRIVILEGED = "nobody"
# The table contract's types, by declared type (a duration is a number in its column's unit).
TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE PRECISION",
    "bool": "BOOLEAN",
    "str": "TEXT",
    "date": "DATE",
    "datetime": "TIMESTAMPTZ",
    "duration": "DOUBLE PRECISION",
}
NULL = r"\N"
# The sessions' time zone: not UTC, so that a query depending on it (rather than on the sources' zones) would differ.
SESSION_ZONE = "Asia/Kathmandu"
SPEC_METRICS = list(metricdsl.load(ROOT / "specs").model.metrics)


def in_sql(project: metricdsl.Project, names: Iterable[str], by: tuple[str, ...], grain: str | None) -> list[str]:
    """The metrics of `names` that the layout computes and the SQL output covers."""
    found = []
    for name in computable(project, names, by, grain):
        try:
            project.sql(metrics=[name], by=by, grain=grain)
        except metricdsl.RequestError:
            continue
        found.append(name)
    return found


DATA: dict[str, Mapping[str, Data]] = {}  # the data of the sources loaded in a schema, when not their `path`


@dataclass(frozen=True)
class Cluster:
    """A running PostgreSQL cluster, reached through its Unix socket in `folder` as the superuser `postgres`."""

    folder: Path
    port: int

    def psql(self, *args: str, script: str | None = None) -> str:
        """The output of `psql` with `args` (and `script` on its input); stops at the first error."""
        command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.folder), "-p", str(self.port)]
        command += ["-U", "postgres", "-d", "postgres", *args]
        done = subprocess.run(command, input=script, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise AssertionError(f"psql failed: {done.stderr.strip()}")
        return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> list[str]:
    """The command prefix that runs PostgreSQL's server programs as an unprivileged user (initdb and postgres refuse
    root); empty when this process is not root. Skips the module when there is no way."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(UNPRIVILEGED)
    except KeyError:
        pytest.skip(f"running as root, and there is no user `{UNPRIVILEGED}` to run PostgreSQL as")
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root, and there is no `runuser` to run PostgreSQL as an unprivileged user")
    return [runuser, "-u", UNPRIVILEGED, "--"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    missing = [name for name in PROGRAMS if shutil.which(name) is None]
    if missing:
        pytest.skip(f"PostgreSQL is not installed ({', '.join(missing)} not found)")
    prefix = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="metricdsl-pg-"))
    if prefix:
        shutil.chown(folder, user=UNPRIVILEGED)
    data, port = folder / "data", _free_port()
    options = f"-k {folder} -p {port} -c listen_addresses='' -c fsync=off -c TimeZone={SESSION_ZONE}"
    steps = [
        ["initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        ["pg_ctl", "-D", str(data), "-w", "-t", "60", "-l", str(folder / "server.log"), "-o", options, "start"],
    ]
    try:
        for step in steps:
            done = subprocess.run([*prefix, *step], capture_output=True, text=True, check=False, timeout=120)
            if done.returncode != 0:
                log = folder / "server.log"
                said = (done.stderr or done.stdout).strip() + (f"\n{log.read_text()}" if log.exists() else "")
                pytest.skip(f"the PostgreSQL cluster did not start: `{step[0]}` said: {said[-500:]}")
        yield Cluster(folder, port)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def load_sources(cluster: Cluster, project: metricdsl.Project, schema: str, data: Mapping[str, Data] | None = None) -> None:
    """Every source of `project` (read from `data`, else its `path`) as a table of `schema`, in the table contract."""
    inputs = project._inputs(data or {})
    commands = [f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"']
    for name, source in project.definitions.sources.items():
        reading = scan(source, inputs[name], zone=project._zone(name))
        try:
            typed = reading.frame.select(c for c in reading.frame.collect_schema() if c in source.columns).collect()
        finally:
            reading.close()
        rows = to_sql_frame(project.model, name, typed)
        path = cluster.folder / f"{schema}.{name}.csv"
        rows.write_csv(path, null_value=NULL)
        columns = ", ".join(f'"{column}" {TYPES[source.columns[column].type]}' for column in rows.columns)
        commands += [
            f'CREATE TABLE "{schema}"."{name}" ({columns})',
            f"\\copy \"{schema}\".\"{name}\" FROM '{path}' WITH (FORMAT csv, HEADER true, NULL '{NULL}')",
        ]
    cluster.psql(*(arg for command in commands for arg in ("-c", command)))


def _typed(column: pl.Series, dtype: pl.DataType) -> pl.Series:
    """A column of `psql --csv` text as `dtype`, the type of the Polars table's column."""
    text = column.cast(pl.String)
    if dtype == pl.Boolean:
        return text.replace_strict({"t": True, "f": False}, return_dtype=pl.Boolean)
    if dtype == pl.Date:
        return text.str.to_date("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        moments = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%#z", time_unit=dtype.time_unit)
        zoned: pl.Series = (
            moments.dt.convert_time_zone(dtype.time_zone) if dtype.time_zone else moments.dt.replace_time_zone(None)
        )
        return zoned
    if isinstance(dtype, pl.Duration):  # microseconds
        return text.cast(pl.Float64).cast(pl.Int64).cast(pl.Duration("us")).cast(dtype)
    if dtype.is_float():
        return text.replace({"Infinity": "inf", "-Infinity": "-inf"}).cast(dtype)
    return text.cast(dtype)


def on_postgres(
    cluster: Cluster, project: metricdsl.Project, schema: str, expected: pl.Schema, **request: object
) -> pl.DataFrame:
    """The table of a request computed by its Postgres query over the tables of `schema`, typed as `expected`, the
    schema of Polars' table."""
    tables = {name: f'"{schema}"."{name}"' for name in project.definitions.sources}
    sql = project.sql(dialect="postgres", tables=tables, **request)  # type: ignore[arg-type]
    text = cluster.psql("--csv", script=sql)
    found = pl.read_csv(io.StringIO(text), infer_schema=False)
    assert found.columns == list(expected)
    return found.select(_typed(found[name], dtype).alias(name) for name, dtype in expected.items())


def agree(cluster: Cluster, project: metricdsl.Project, schema: str, **request: object) -> pl.DataFrame:
    """The request's table on Postgres, checked equal to `Project.evaluate`'s: values to 1e-9, nulls alike."""
    expected = project.evaluate(DATA.get(schema), **request)  # type: ignore[arg-type]
    actual = on_postgres(cluster, project, schema, expected.schema, **request)
    assert_frame_equal(actual, expected, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    return expected


@pytest.fixture(scope="module")
def example(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    """The specs with the language coverage metrics and the metrics over periods of the differential tests."""
    folder = tmp_path_factory.mktemp("postgres_example")
    (folder / "extras.yaml").write_text(EXTRA_METRICS)
    (folder / "periods.yaml").write_text(PERIOD_METRICS)
    project = metricdsl.load([ROOT / "specs", folder])
    load_sources(cluster, project, "example")
    return project


@pytest.fixture(scope="module")
def edges(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    project, data = edges_project(tmp_path_factory.mktemp("edges"))
    DATA["edges"] = data
    load_sources(cluster, project, "edges", data)
    return project


def test_every_dashboard_of_the_specs_by_its_own_layout(cluster: Cluster, example: metricdsl.Project) -> None:
    assert example.definitions.dashboards
    for name, board in example.definitions.dashboards.items():
        assert in_sql(example, board.metrics, board.by, board.grain) == list(board.metrics), name
        assert agree(cluster, example, "example", dashboard=name).height > 0


EXAMPLE_LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [
    ((), None),
    (("channel",), "day"),
    (("team",), "month"),
    (("live",), "week"),
]


@pytest.mark.parametrize(("by", "grain"), EXAMPLE_LAYOUTS)
def test_the_metrics_of_the_specs_by_other_layouts(
    cluster: Cluster, example: metricdsl.Project, by: tuple[str, ...], grain: str | None
) -> None:
    metrics = in_sql(example, SPEC_METRICS, by, grain)
    assert len(metrics) > 15
    table = agree(cluster, example, "example", metrics=metrics, by=by, grain=grain)
    assert table.height > 0


@pytest.mark.slow  # a query of a hundred metrics takes sqlglot several seconds to build
@pytest.mark.parametrize(("by", "grain"), EXAMPLE_LAYOUTS)
def test_every_metric_and_the_language_coverage_metrics_by_other_layouts(
    cluster: Cluster, example: metricdsl.Project, by: tuple[str, ...], grain: str | None
) -> None:
    metrics = in_sql(example, example.model.metrics, by, grain)
    assert len(metrics) > 50
    table = agree(cluster, example, "example", metrics=metrics, by=by, grain=grain)
    assert table.height > 0


def test_sunday_weeks(cluster: Cluster, example: metricdsl.Project) -> None:
    sunday = with_week_start(example, "sunday")
    table = agree(cluster, sunday, "example", dashboard="service_2_0")
    assert table["week"].str.contains("W").not_().all()  # a Sunday week is labelled by its first day


@pytest.mark.parametrize("dashboard", ["weekly", "overall"])
def test_the_edge_cases(cluster: Cluster, edges: metricdsl.Project, dashboard: str) -> None:
    table = agree(cluster, edges, "edges", dashboard=dashboard)
    assert table.height > 0


@pytest.mark.parametrize(("by", "grain"), [((), "day"), (("team",), "month"), ((), "week")])
def test_the_edge_cases_by_other_layouts(
    cluster: Cluster, edges: metricdsl.Project, by: tuple[str, ...], grain: str | None
) -> None:
    table = agree(cluster, edges, "edges", metrics=in_sql(edges, edges.model.metrics, by, grain), by=by, grain=grain)
    assert table.height > 0


@pytest.fixture(scope="module")
def durations(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    folder = tmp_path_factory.mktemp("durations")
    (folder / "calls.yaml").write_text(DURATIONS)
    project = metricdsl.load(folder)
    t0 = datetime.datetime(2026, 1, 12, 9, tzinfo=datetime.timezone.utc)
    hour, second, micro = datetime.timedelta(hours=1), datetime.timedelta(seconds=1), datetime.timedelta(microseconds=1)
    calls = pl.DataFrame(
        {
            "started_at": [t0, t0 + hour, None, t0 + 30 * hour],
            "ended_at": [t0 + 301 * second + micro, t0 + hour + 10 * second, t0, t0 + 31 * hour],
            "hold": [3 * 60 * second, 61 * second + 3 * micro, None, 0 * second],
            "team": ["a", "b", "a", None],
        }
    )
    DATA["durations"] = {"calls": calls}
    load_sources(cluster, project, "durations", DATA["durations"])
    return project


@pytest.mark.parametrize(("by", "grain"), [((), None), (("team",), "day")])
def test_durations_and_datetimes(
    cluster: Cluster, durations: metricdsl.Project, by: tuple[str, ...], grain: str | None
) -> None:
    table = agree(cluster, durations, "durations", metrics=list(durations.model.metrics), by=by, grain=grain)
    assert isinstance(table.schema["latest_plus"], pl.Datetime)
    assert isinstance(table.schema["total_hold"], pl.Duration)
    assert table["latest_plus"].null_count() < table.height


def test_postgres_gets_full_joins_it_can_run() -> None:
    """Postgres runs a full join only on conditions it can hash or merge: keys where null equals null are compared as
    text and null flags there; the other dialects keep their own forms."""
    on = exp.NullSafeEQ(this=exp.column("k", "l"), expression=exp.column("k", "r"))
    full = exp.select("*").from_("a").join("b", on=on, join_type="full outer")
    assert "IS NOT DISTINCT FROM" not in render(full, "postgres")
    assert "(l.k IS NULL) = (r.k IS NULL) AND COALESCE(CAST(l.k AS TEXT), '') = " in render(full, "postgres")
    assert "IS NOT DISTINCT FROM" in render(full, "duckdb")
    inner = exp.select("*").from_("a").join("b", on=on.copy(), join_type="left")
    assert "IS NOT DISTINCT FROM" in render(inner, "postgres")
