"""Confidence intervals in the SQL output (`with_ci`, `metricdsl sql --with-ci`): the query gives the `m_n`,
`m_ci_low` and `m_ci_high` columns of `Project.evaluate(..., with_ci=True)` for every metric with an interval (shares,
means, differences of shares; trailing ones pooled over their windows), from Polars' groups and end to end on DuckDB;
the t quantile in SQL is Polars' table and expansion; a value hidden by `min_n` has no interval."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
import sqlglot
from click.testing import CliRunner
from polars.testing import assert_frame_equal
from sqlglot import exp

import metricdsl
from metricdsl.cli import main
from metricdsl.engine import stats
from metricdsl.engine.columns import interval_column
from metricdsl.engine.sql import run_duckdb
from metricdsl.engine.sql.dialects import DIALECTS, render
from metricdsl.engine.sql.finish import _Finish
from metricdsl.engine.sql.intervals import metric_interval, t_quantile
from metricdsl.semantics.filters import Variant
from tests.test_postgres import in_sql
from tests.test_sql_finish import agree, computable
from tests.test_sql_finish import project as finish_project
from tests.test_sql_golden import DATA, PROJECT, SPECS, example_tables

__all__ = ["finish_project"]  # fixture

LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [((), None), (("team",), None), ((), "week"), (("team",), "week")]
PARTS = ("n", "ci_low", "ci_high")


def with_intervals(project: metricdsl.Project, names: list[str], by: tuple[str, ...], grain: str | None) -> list[str]:
    """The metrics of `names` whose shape has an interval (a share, a mean, a difference of shares)."""
    found = []
    for name in names:
        finishing = _Finish(project.model, project.request(metrics=[name], by=by, grain=grain, with_ci=True))
        if metric_interval(project.model, finishing.owned[Variant(name)], name, "t") is not None:
            found.append(name)
    return found


@pytest.mark.parametrize(("by", "grain"), [((), None), ((), "week"), (("team",), "week")])
def test_every_interval_finishes_in_sql_as_in_polars(
    finish_project: metricdsl.Project, by: tuple[str, ...], grain: str | None
) -> None:
    names = with_intervals(finish_project, computable(finish_project, by, grain), by, grain)
    specs = set(with_intervals(PROJECT, list(PROJECT.model.metrics), by, grain))
    assert {"fcr", "aht", "nps", "csat"} <= specs <= set(names)
    if grain is not None:
        assert {"p_answered_3p", "p_nps_2p"} <= set(names)  # trailing: pooled over their windows
    table = agree(finish_project, metrics=names, by=by, grain=grain, with_ci=True)
    for name in names:
        assert table.columns[table.columns.index(name) + 1 : table.columns.index(name) + 4] == [
            interval_column(name, part) for part in PARTS
        ]
    if not by and grain is None:  # every interval of the specs is known over all the data
        for name in specs:
            low, value, high = (
                table[interval_column(name, "ci_low")][0],
                table[name][0],
                table[interval_column(name, "ci_high")][0],
            )
            assert low < value < high, name


@pytest.mark.parametrize(("by", "grain"), LAYOUTS)
def test_the_query_with_intervals_gives_the_table_of_evaluate(by: tuple[str, ...], grain: str | None) -> None:
    metrics = in_sql(PROJECT, list(PROJECT.model.metrics), by, grain)
    query = PROJECT.sql(metrics=metrics, by=by, grain=grain, dialect="duckdb", with_ci=True)
    actual = run_duckdb.execute(query, example_tables())
    expected = PROJECT.evaluate({k: str(v) for k, v in DATA.items()}, metrics=metrics, by=by, grain=grain, with_ci=True)
    assert actual.columns == expected.columns
    assert_frame_equal(actual, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-9)
    known = expected.select(pl.col(interval_column(m, "ci_low")).is_not_null().sum() for m in metrics).row(0)
    assert sum(1 for count in known if count > 0) >= 10


def test_a_value_hidden_by_min_n_has_no_interval() -> None:
    by, grain = ("team",), "week"
    query = PROJECT.sql(metrics=["nps", "csat"], by=by, grain=grain, dialect="duckdb", with_ci=True)
    table = run_duckdb.execute(query, example_tables())
    for name in ("nps", "csat"):  # min_n: 30
        n, low, high = (pl.col(interval_column(name, part)) for part in PARTS)
        hidden = table.filter(pl.col(name).is_null() & (n > 0))
        assert hidden.height > 0
        assert hidden.select(low.is_null().all(), high.is_null().all()).row(0) == (True, True)
        shown = table.filter(pl.col(name).is_not_null())
        assert shown.height > 0
        assert shown.select((n >= 30).all(), low.is_not_null().all(), high.is_not_null().all()).row(0) == (True,) * 3


def test_the_t_quantile_in_sql_is_the_quantile_of_polars() -> None:
    degrees = [None, -3.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 9.0, 29.0, 120.0, 299.9, 300.0, 300.5, 301.0, 1000.0, 1e6]
    level = 0.975
    frame = pl.DataFrame({"df": degrees}, schema={"df": pl.Float64})
    expected = frame.select(stats.t_quantile_expr(level, pl.col("df"))).to_series()
    query = exp.select(t_quantile(level, exp.column("df", quoted=True)).as_("t")).from_("frame")
    actual = run_duckdb.execute(render(query, "duckdb"), {"frame": frame}).to_series()
    assert actual.null_count() == 4 == expected.null_count()  # null, below 1
    assert_frame_equal(actual.to_frame(), expected.to_frame(), check_dtypes=False, rel_tol=1e-12)
    assert math.isclose(actual[4], 12.706204736174698, rel_tol=1e-12)  # df 1: tan(0.475 π)
    assert math.isclose(actual[9], 2.045229642132703, rel_tol=1e-9)  # df 29, a textbook value
    assert math.isclose(actual[-1], stats.z_quantile(level), rel_tol=1e-5)


def test_intervals_of_a_mean_of_one_observation_are_null() -> None:
    project = metricdsl.load(SPECS)
    tables = example_tables()
    one = tables["interactions"].head(1)
    query = project.sql(metrics=["aht"], dialect="duckdb", with_ci=True)
    table = run_duckdb.execute(query, {**tables, "interactions": one})
    assert table["aht_n"][0] == 1
    assert (table["aht_ci_low"][0], table["aht_ci_high"][0]) == (None, None)  # a sample sd needs two


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_the_query_with_intervals_parses_back_in_every_dialect(dialect: str) -> None:
    text = PROJECT.sql(metrics=["fcr", "aht", "nps"], by=("team",), grain="week", dialect=dialect, with_ci=True)
    tree = sqlglot.parse_one(text, read=dialect)
    names = [s.alias_or_name for s in tree.selects]
    assert names[:5] == ["team", "week", "fcr", "fcr_n", "fcr_ci_low"]
    assert "nps_ci_high" in names


def test_metricdsl_sql_with_ci() -> None:
    result = CliRunner().invoke(main, ["sql", str(SPECS), "--metrics", "nps,aht", "--with-ci"])
    assert result.exit_code == 0, result.output
    shown = run_duckdb.execute(result.output, example_tables())
    expected = PROJECT.evaluate({k: str(v) for k, v in DATA.items()}, metrics=["nps", "aht"], with_ci=True)
    assert_frame_equal(shown, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-9)
    plain = CliRunner().invoke(main, ["sql", str(SPECS), "--metrics", "nps,aht"])
    assert "ci_low" not in plain.output
    assert plain.output.strip() == PROJECT.sql(metrics=["nps", "aht"]).strip()


TRAILING = """
metrics:
  t_aht_3w: {source: interactions, expr: 'mean(handle_s where answered)', unit: s, trailing: 3 periods}
  t_sentiment_2p: {source: interactions, expr: 'mean(sentiment_score)', trailing: 2 periods, min_n: 5}
"""


def test_the_interval_of_a_trailing_mean_is_pooled_over_its_window(tmp_path: Path) -> None:
    (tmp_path / "trailing.yaml").write_text(TRAILING)
    project = metricdsl.load([SPECS, tmp_path])
    metrics = ["t_aht_3w", "t_sentiment_2p", "aht"]
    for by, grain in [(("team",), "week"), ((), "month")]:
        table = agree(project, metrics=metrics, by=by, grain=grain, with_ci=True)
        pooled, alone = table["t_aht_3w_n"], table["aht_n"]
        assert (pooled >= alone).all()
        assert (pooled > alone).any()  # the window's observations, not the period's
        assert table["t_aht_3w_ci_low"].drop_nulls().len() > 0
