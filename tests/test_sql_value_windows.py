"""Windows that give a value, a count or a sum, computed in SQL: on DuckDB, the cases of `test_value_windows` give the
reference evaluator's values and Polars' table, and so do random data sets of `test_differential`; Spark gives
Polars' table (`pytest -m spark`); every dialect writes them, and the query of `metricdsl sql` gives `eval`'s table on
DuckDB and on PostgreSQL (where its programs are installed, as `test_postgres` runs it)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from polars.testing import assert_frame_equal

import metricdsl
from metricdsl.engine.sql.dialects import DIALECTS
from tests.reference import evaluate_reference
from tests.test_differential import EXTRA_LAYOUTS, Dataset, datasets, same, valued
from tests.test_postgres import Cluster, agree, cluster, load_sources
from tests.test_sql_conformance import check_duckdb_agreement
from tests.test_value_windows import CREDIT, DAY, MICRO, SPEC, T0, data

__all__ = ["cluster", "valued"]  # fixtures

ROOT = Path(__file__).resolve().parent.parent

NEXT = ["revenue_after", "orders_after", "next_order"]
PREVIOUS = ["revenue", "north_revenue", "contacts_before", "uncredited", "last_wait"]
WEEK_7D = ["orders_after_7d", "revenue_after_7d"]


@dataclass
class Case:
    """Rows of both sources (naive local times in Berlin), and a request of their metrics."""

    contacts: list[dict[str, object]]
    orders: list[dict[str, object]]
    metrics: list[str]
    by: list[str] = field(default_factory=list)
    as_of: datetime.datetime | None = None


def _case(contacts: list[dict[str, object]], orders: list[dict[str, object]], metrics: list[str], **request: object) -> Case:
    return Case(contacts, orders, metrics, **request)  # type: ignore[arg-type]


CREDIT_ROWS = {name: frame.to_dicts() for name, frame in CREDIT.items()}  # type: ignore[union-attr]
T5 = T0 + 5 * DAY
CASES = {
    # The latest contact before each order credits its team; a contact 31 days before, or at the same time, does not.
    "credit": _case(CREDIT_ROWS["contacts"], CREDIT_ROWS["orders"], PREVIOUS, by=["credited_team"]),
    # Rows at the nearest time give the least of their known values; a nearest row without a value gives null.
    "ties": _case(
        [
            {"customer_id": 1, "team": "first", "at": T0 - 40 * DAY, "wait_s": 1.0},
            {"customer_id": 4, "team": "south", "at": T5 - DAY, "wait_s": 9.0},
            {"customer_id": 4, "team": "east", "at": T5 - DAY, "wait_s": None},
            {"customer_id": 4, "team": None, "at": T5 - DAY, "wait_s": 5.0},
            {"customer_id": 4, "team": "a", "at": T5 - 2 * DAY, "wait_s": 1.0},
            {"customer_id": 5, "team": None, "at": T5 - DAY, "wait_s": None},
            {"customer_id": 5, "team": "north", "at": T5 - 2 * DAY, "wait_s": 2.0},
        ],
        [{"customer_id": 4, "ordered_at": T5, "amount": 1.0}, {"customer_id": 5, "ordered_at": T5, "amount": 2.0}],
        ["revenue", "last_wait", "uncredited"],
        by=["credited_team"],
    ),
    # Counts and sums include the window's end and not its start; a null amount is skipped; none is 0.
    "ends": _case(
        [{"customer_id": 1, "at": T0}, {"customer_id": 2, "at": T0}],
        [
            {"customer_id": 1, "ordered_at": T0, "amount": 1.0},
            {"customer_id": 1, "ordered_at": T0 + 10 * DAY, "amount": None},
            {"customer_id": 1, "ordered_at": T0 + 30 * DAY, "amount": 2.5},
            {"customer_id": 1, "ordered_at": T0 + 30 * DAY + MICRO, "amount": 4.0},
        ],
        NEXT,
        by=["customer_id"],
    ),
    # A window past the orders' horizon is unknown in all three forms, unless the request says the data is complete.
    **{
        name: _case(
            [{"customer_id": 1, "at": T0}, {"customer_id": 1, "at": T0 + 20 * DAY}],
            [
                {"customer_id": 1, "ordered_at": T0 + 5 * DAY, "amount": 3.0},
                {"customer_id": 1, "ordered_at": T0 + 25 * DAY, "amount": 10.0},
                {"customer_id": 2, "ordered_at": T0 + 40 * DAY, "amount": 1.0},
            ],
            NEXT,
            by=["at"],
            as_of=as_of,
        )
        for name, as_of in (("censored", None), ("complete", T0 + 50 * DAY))
    },
    # Exact elapsed time across Berlin's change to summer time (2026-03-29).
    "summer_time": _case(
        [{"customer_id": 1, "at": datetime.datetime(2026, 3, 25, 12)}],
        [
            {"customer_id": 1, "ordered_at": datetime.datetime(2026, 4, 1, 12), "amount": 1.0},
            {"customer_id": 1, "ordered_at": datetime.datetime(2026, 4, 1, 13), "amount": 2.0},
            {"customer_id": 1, "ordered_at": datetime.datetime(2026, 4, 1, 13) + MICRO, "amount": 4.0},
        ],
        WEEK_7D,
    ),
    # A null key or time gives null.
    "nulls": _case(
        [{"customer_id": None, "at": T0}, {"customer_id": 1, "at": None}, {"customer_id": 1, "at": T0}],
        [
            {"customer_id": 1, "ordered_at": T0 + DAY, "amount": 5.0},
            {"customer_id": 9, "ordered_at": T0 + 40 * DAY, "amount": None},
        ],
        ["revenue_after", "orders_after", "next_order"],
        by=["customer_id", "at"],
    ),
    # No orders at all: every window after a contact is censored (no horizon), every window before is too.
    "no_orders": _case([{"customer_id": 1, "at": T0}], [], ["revenue_after", "orders_after", "next_order"]),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    path = tmp_path_factory.mktemp("sql_value_windows") / "spec.yaml"
    path.write_text(SPEC)
    return metricdsl.load(path)


def run(project: metricdsl.Project, case: Case, engine: str) -> pl.DataFrame:
    given = data(case.contacts, case.orders)
    return project.run(given, metrics=case.metrics, by=case.by, as_of=case.as_of, engine=engine).table


@pytest.mark.parametrize("name", sorted(CASES))
def test_duckdb_gives_the_reference_values_and_the_polars_table(project: metricdsl.Project, name: str) -> None:
    case = CASES[name]
    actual = run(project, case, "duckdb")
    assert_frame_equal(actual, run(project, case, "polars"), rel_tol=1e-12, abs_tol=1e-12)
    rows = {"contacts": case.contacts, "orders": case.orders}
    expected = evaluate_reference(project.model, rows, case.metrics, case.by, as_of=case.as_of)
    key = lambda row: tuple(str(row[k]) for k in case.by)  # noqa: E731
    assert len(expected) == actual.height
    for wanted, found in zip(sorted(expected, key=key), sorted(actual.to_dicts(), key=key), strict=True):
        assert all(same(wanted[c], found[c]) for c in wanted), (wanted, found)


@settings(max_examples=6, deadline=None)
@given(data=datasets())
def test_value_windows_on_duckdb_agree_with_the_reference(valued: metricdsl.Project, data: Dataset) -> None:
    check_duckdb_agreement(valued, [n for n in valued.model.metrics if n.startswith("v_")], data, EXTRA_LAYOUTS)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(data=datasets())
def test_value_windows_on_duckdb_agree_with_the_reference_at_length(valued: metricdsl.Project, data: Dataset) -> None:
    check_duckdb_agreement(valued, [n for n in valued.model.metrics if n.startswith("v_")], data, EXTRA_LAYOUTS)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_writes_value_windows(valued: metricdsl.Project, dialect: str) -> None:
    text = valued.sql(metrics=[n for n in valued.model.metrics if n.startswith("v_")], dialect=dialect)
    assert "RANGE BETWEEN 1 FOLLOWING AND 2592000000000 FOLLOWING" in text  # `count=` and `sum=` over 30 days
    assert "RANGE BETWEEN 86400000000 PRECEDING AND 1 PRECEDING" in text  # `sum=talk_s` over the day before


def test_the_printed_duckdb_query_gives_the_table_of_evaluate(project: metricdsl.Project, tmp_path: Path) -> None:
    case = CASES["ties"]
    metrics = [*PREVIOUS, *NEXT]
    expected = project.evaluate(data(case.contacts, case.orders), metrics=metrics, by=["customer_id"])
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for name, frame in data(case.contacts, case.orders).items():
        assert isinstance(frame, pl.DataFrame)
        instants = frame.with_columns(pl.col(pl.Datetime).dt.replace_time_zone("Europe/Berlin"))
        connection.register(name, instants.to_arrow())
    query = project.sql(metrics=metrics, by=["customer_id"], dialect="duckdb")
    actual = pl.from_arrow(connection.sql(query).to_arrow_table())
    assert isinstance(actual, pl.DataFrame)
    assert_frame_equal(actual, expected, check_dtypes=False, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.spark
@pytest.mark.parametrize("name", ["credit", "ties", "ends", "censored", "complete"])
def test_spark_gives_the_polars_table(project: metricdsl.Project, name: str) -> None:
    pytest.importorskip("pyspark")
    case = CASES[name]
    assert_frame_equal(run(project, case, "spark"), run(project, case, "polars"), rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize(("by", "grain"), [((), "week"), (("customer_id",), None)])
def test_the_postgres_query_gives_the_table_of_evaluate(cluster: Cluster, by: tuple[str, ...], grain: str | None) -> None:
    project = metricdsl.load([ROOT / "specs", ROOT / "tests" / "cases" / "value_windows.yaml"])
    load_sources(cluster, project, "value_windows")
    metrics = ["north_credited_revenue", "next_order_amount", "contacts_after", "revenue_after"]
    assert agree(cluster, project, "value_windows", metrics=metrics, by=by, grain=grain).height > 10


@pytest.mark.spark
def test_spark_finds_the_values_by_an_equi_join_with_room_for_the_frames(project: metricdsl.Project) -> None:
    """The value at the nearest time is joined by key and time (a hash or sort-merge join, not a nested loop), and
    the local driver's heap holds the frames a request over a million rows reads several times."""
    pytest.importorskip("pyspark")
    from metricdsl.engine.sql import run_spark

    spark = run_spark.session()
    case = CASES["credit"]
    for name, frame in data(case.contacts, case.orders).items():
        assert isinstance(frame, pl.DataFrame)
        spark.createDataFrame(frame.to_arrow()).createOrReplaceTempView(name)
    try:
        query = project.sql(metrics=case.metrics, by=case.by, dialect="spark")
        plan = spark.sql(query)._jdf.queryExecution().executedPlan().toString()
    finally:
        for name in ("contacts", "orders"):
            spark.catalog.dropTempView(name)
    joins = [line for line in plan.splitlines() if "Join" in line and "__looked_key0" in line]
    assert joins, plan
    assert all("HashJoin" in line or "SortMergeJoin" in line for line in joins), plan
    assert "CartesianProduct" not in plan
    heap = spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory()  # type: ignore[union-attr]
    assert heap > 3 * 2**30
