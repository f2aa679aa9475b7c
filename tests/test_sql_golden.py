"""`metricdsl sql` and `Project.sql`: the golden queries of the specs' dashboards in every dialect (rewritten with
`pytest --update-golden`), each parsed back by sqlglot in its dialect; the DuckDB query run over the bundled example
data gives `Project.evaluate`'s table; bad requests are one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlglot
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import metricdsl
from metricdsl.cli import EXIT_ERROR, main
from metricdsl.engine.inputs import scan
from metricdsl.engine.sql import frames, run_duckdb
from metricdsl.engine.sql.dialects import DIALECTS
from metricdsl.errors import RequestError

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).parent / "golden" / "sql"
DATA = {"interactions": ROOT / "examples/data/interactions.csv", "orders": ROOT / "examples/data/orders.csv"}
PROJECT = metricdsl.load(SPECS)
DASHBOARDS = sorted(PROJECT.definitions.dashboards)


def written(dialect: str, dashboard: str) -> tuple[Path, str]:
    """The golden file of a dashboard's query in `dialect` and what it must hold: the query, or, for a dialect that
    cannot compute one of the dashboard's metrics exactly, the error that `metricdsl sql` gives (a query without
    that metric would look complete and not be)."""
    try:
        return GOLDEN / dialect / f"{dashboard}.sql", PROJECT.sql(dashboard=dashboard, dialect=dialect)
    except RequestError as error:
        return GOLDEN / dialect / f"{dashboard}.error.txt", f"{error}\n"


@pytest.mark.parametrize("dashboard", DASHBOARDS)
@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_the_query_of_each_dashboard_matches_its_golden_file(
    dialect: str, dashboard: str, request: pytest.FixtureRequest
) -> None:
    golden, content = written(dialect, dashboard)
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        for stale in golden.parent.glob(f"{dashboard}.*"):
            stale.unlink()
        golden.write_text(content)
    assert golden.read_text() == content, f"{golden} differs; run pytest --update-golden if intended"


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*/*.sql")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_golden_query_parses_back_in_its_dialect(golden: Path) -> None:
    text = golden.read_text()
    tree = sqlglot.parse_one(text, read=golden.parent.name)
    assert isinstance(tree, sqlglot.exp.Select)
    assert tree.args.get("with_") is not None  # stage (1) as common tables, stage (2) on top
    assert "APPROX" not in text.upper()  # no approximate function where the spec asks for an exact one


def test_a_golden_file_for_each_dialect_and_dashboard() -> None:
    for dialect in DIALECTS:
        for dashboard in DASHBOARDS:
            assert len(list((GOLDEN / dialect).glob(f"{dashboard}.*"))) == 1, (dialect, dashboard)


def example_tables() -> dict[str, pl.DataFrame]:
    """The bundled example data, typed as the specs declare, in the table contract of the SQL."""
    tables = {}
    for name, path in DATA.items():
        reading = scan(PROJECT.definitions.sources[name], path, zone=None, quote=True)
        try:
            tables[name] = frames.to_sql_frame(PROJECT.model, name, reading.frame.collect())
        finally:
            reading.close()
    return tables


# The dashboards with a DuckDB query: one that reads a value window, which SQL does not compute yet, has an error.
QUERIED = [dashboard for dashboard in DASHBOARDS if (GOLDEN / "duckdb" / f"{dashboard}.sql").exists()]


@pytest.mark.parametrize("dashboard", QUERIED)
def test_the_golden_duckdb_query_gives_the_table_of_evaluate(dashboard: str) -> None:
    query = (GOLDEN / "duckdb" / f"{dashboard}.sql").read_text()
    actual = run_duckdb.execute(query, example_tables())
    expected = PROJECT.evaluate({k: str(v) for k, v in DATA.items()}, dashboard=dashboard)
    assert actual.columns == expected.columns
    assert expected.height > 10
    assert_frame_equal(actual, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-12)


def test_sources_read_from_qualified_tables() -> None:
    text = PROJECT.sql(metrics=["contacts"], dialect="spark", tables={"interactions": "lake.cc.contacts"})
    assert "FROM lake.cc.contacts" in text
    tree = sqlglot.parse_one(text, read="spark")
    assert {".".join(p.name for p in t.parts) for t in tree.find_all(sqlglot.exp.Table)} >= {"lake.cc.contacts"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--dialect", "oracle"], "Invalid value for '--dialect'"),
        (["--table", "calls=db.calls"], "unknown source `calls`"),
        (["--table", "interactions"], "--table takes SOURCE=DB.TABLE"),
        (["--metrics", "nope"], "unknown metric `nope`"),
        (["--metrics", "nps", "--grain", "fortnight"], "Invalid value for '--grain'"),
    ],
)
def test_bad_requests_are_one_line_and_exit_2(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["sql", str(SPECS), *arguments])
    assert result.exit_code == EXIT_ERROR
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_exact_quantile_in_a_dialect_without_one_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "p90.yaml").write_text("metrics:\n  p90_wait: {source: interactions, expr: p90(wait_s)}\n")
    result = CliRunner().invoke(main, ["sql", str(SPECS), str(tmp_path), "--dialect", "trino", "--metrics", "p90_wait"])
    assert result.exit_code == EXIT_ERROR
    assert "p90_wait" in result.stderr
    assert "trino" in result.stderr
    assert result.stdout == ""
    # Not a usage error: one line, without the usage text.
    assert result.stderr.startswith("error: metric `p90_wait` uses `p90`, an exact quantile, which trino cannot")
    assert result.stderr.count("\n") == 1


def test_the_command_prints_the_query_or_writes_it(tmp_path: Path) -> None:
    printed = CliRunner().invoke(main, ["sql", str(SPECS), "--dashboard", "service_2_0", "--dialect", "snowflake"])
    assert printed.exit_code == 0, printed.stderr
    assert printed.stdout == PROJECT.sql(dashboard="service_2_0", dialect="snowflake")
    output = tmp_path / "query.sql"
    result = CliRunner().invoke(main, ["sql", str(SPECS), "--metrics", "nps", "--by", "team", "--output", str(output)])
    assert result.exit_code == 0, result.stderr
    assert output.read_text() == PROJECT.sql(metrics=["nps"], by=["team"])
