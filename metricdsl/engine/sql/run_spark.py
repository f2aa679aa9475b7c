"""Run a query on Apache Spark: a local session by default, or a cluster through Spark Connect (`sc://host:port`).

One session per process, made on first use and reused (a JVM takes seconds to start): its session time zone is
UTC, as the table contract reads instants. The frames of the sources go to Spark as Arrow tables and are seen by
the query as temporary views named as the sources; the result comes back as Arrow, then Polars. Spark's ANSI mode
stays as configured: the compiled SQL never divides by zero.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from metricdsl.errors import DataError, EngineUnavailable

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOCAL = "local[*]"
# The master of a local session (`local[1]` in tests), read when the first session is made.
MASTER_VARIABLE = "METRICDSL_SPARK_MASTER"
# Shorter start-up and small-data speed: the JVM's quick compiler, no adaptive planning, no web UI. The driver's
# heap: the frames are local relations held by the driver and sent with each task; with Spark's default of 1 GB, a
# request that reads a source several times (a `value=` window over 1M rows) ran out of it, and a scheduler thread
# that dies of it leaves the query waiting forever instead of failing.
OPTIONS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "4g",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
    "spark.sql.adaptive.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}

_sessions: dict[str | None, SparkSession] = {}
_lock = threading.Lock()


def java_problem() -> str | None:
    """Why a local Spark cannot start here for want of Java, or None when `JAVA_HOME` or `java` on the PATH is found."""
    home = os.environ.get("JAVA_HOME")
    if home:
        if (Path(home) / "bin" / "java").exists() or (Path(home) / "bin" / "java.exe").exists():
            return None
        return f"--engine spark runs Spark locally, which needs Java 17 or later: JAVA_HOME ({home}) has no bin/java"
    if shutil.which("java") is None:
        return (
            "--engine spark runs Spark locally, which needs Java 17 or later: install it (`java` is not on the PATH "
            "and JAVA_HOME is not set), or give a cluster with --spark-remote sc://HOST:PORT"
        )
    return None


def session(remote: str | None = None) -> SparkSession:
    """The process's Spark session: local (`local[*]`, or `METRICDSL_SPARK_MASTER`) without `remote`, else connected to
    the Spark Connect server at `remote`. Raises `EngineUnavailable` when pyspark is missing, a local session has no
    Java, or the server cannot be reached."""
    with _lock:
        found = _sessions.get(remote)
        if found is not None:
            return found
        made = _connect(remote) if remote else _local()
        _sessions[remote] = made
        return made


def _pyspark() -> Any:
    try:
        importlib.import_module("pyarrow")
        return importlib.import_module("pyspark.sql")
    except ImportError:
        raise EngineUnavailable("--engine spark needs pyspark and pyarrow: pip install 'metricdsl[spark]'") from None


def _local() -> SparkSession:
    sql = _pyspark()
    problem = java_problem()
    if problem:
        raise EngineUnavailable(problem)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no warning about a host name that is the loopback address
    master = os.environ.get(MASTER_VARIABLE, LOCAL)
    builder = sql.SparkSession.builder.master(master).appName("metricdsl")
    # One shuffle partition per core, not Spark's 200, which cost a local run of the example dashboard 60 s, not 16 s.
    options = {**OPTIONS, "spark.sql.shuffle.partitions": str(local_cores(master))}
    log = (Path(__file__).parent / "log4j2.properties").as_uri()  # errors only, not Spark's notes on start-up
    # The local catalog's folder: in the temporary folder, not a `spark-warehouse` left in the current one.
    options["spark.sql.warehouse.dir"] = (Path(tempfile.gettempdir()) / "metricdsl-spark-warehouse").as_uri()
    options["spark.driver.extraJavaOptions"] += f" -Dlog4j2.configurationFile={log}"
    for key, value in options.items():
        builder = builder.config(key, value)
    try:
        made: SparkSession = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: a Java too old, a broken install
        raise EngineUnavailable(f"cannot start a local Spark: {_first_line(error)}; check Java 17 and pyspark") from None
    made.sparkContext.setLogLevel("ERROR")
    return made


def local_cores(master: str) -> int:
    """The cores of a local master: `local` 1, `local[N]` N, `local[*]` (and any other) this machine's."""
    found = re.fullmatch(r"local(?:\[(\d+)(?:,\s*\d+)?\])?", master.strip())
    if found is not None:
        return int(found.group(1) or 1)
    return os.cpu_count() or 1


def _connect(remote: str) -> SparkSession:
    sql = _pyspark()
    if not remote.startswith("sc://"):
        raise EngineUnavailable(f"--spark-remote takes a Spark Connect address, sc://HOST:PORT, not `{remote}`")
    with warnings.catch_warnings():  # the client's notes on the version of pandas, on retries: not the user's concern
        warnings.simplefilter("ignore")
        try:
            retries = importlib.import_module("pyspark.sql.connect.client.retries")
        except ImportError:
            raise EngineUnavailable(
                "--spark-remote needs the Spark Connect client: pip install 'pyspark[connect]'"
            ) from None
        try:
            made: SparkSession = sql.SparkSession.builder.remote(remote).getOrCreate()
        except Exception as error:  # a local session runs in this process, a malformed address
            raise EngineUnavailable(f"cannot use Spark Connect at {remote}: {_first_line(error)}") from None
        client = made.client
        policies = client.get_retry_policies()
        # The first call says whether the server answers: a few retries (about 3 s), not the ten minutes of the
        # default policy, which is kept for the queries of a server that answered.
        client.set_retry_policies([retries.DefaultPolicy(max_retries=4, max_backoff=2000)])
        try:
            made.conf.set("spark.sql.session.timeZone", "UTC")
        except Exception as error:
            client.close()  # else its clean-up at exit calls the server again
            raise EngineUnavailable(
                f"cannot reach Spark Connect at {remote}: {_grpc_problem(error)}; check that the server runs there"
            ) from None
    client.set_retry_policies(policies)
    return made


def _grpc_problem(error: BaseException) -> str:
    """What a Spark Connect call that failed says: the details of its gRPC error, else its first line."""
    for found in (error, error.__cause__, error.__context__):
        details = getattr(found, "details", None)
        if callable(details):
            return str(details())
    return _first_line(error)


def table_columns(spark: SparkSession, table: str) -> dict[str, str]:
    """The columns of a catalog table and their Spark SQL types; `DataError` when there is no such table."""
    try:
        schema = spark.table(table).schema
    except Exception as error:
        raise DataError(f"cannot read table {table} on Spark: {_first_line(error)}") from None
    return {field.name: field.dataType.simpleString() for field in schema.fields}


def execute(spark: SparkSession, sql: str, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Run `sql` on `spark`, each frame of `tables` a temporary view by its name (dropped after), and give its
    result as a Polars frame."""
    with _views(spark, tables):
        try:
            result = spark.sql(sql).toArrow()
        except Exception as error:
            raise DataError(f"cannot evaluate on Spark: {_first_line(error)}") from None
    frame = pl.from_arrow(result)
    assert isinstance(frame, pl.DataFrame)
    return frame


@contextmanager
def _views(spark: SparkSession, tables: Mapping[str, pl.DataFrame]) -> Iterator[None]:
    made = []
    try:
        for name, frame in tables.items():
            spark.createDataFrame(frame.to_arrow()).createOrReplaceTempView(name)
            made.append(name)
        yield
    finally:
        for name in made:
            spark.catalog.dropTempView(name)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
