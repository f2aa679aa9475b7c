"""Every dialect renders the groups of every metric of `specs/`, sqlglot parses the text back in that dialect, no
approximate function is used, and an exact quantile where a dialect has none is a `RequestError` naming the metric,
the function and the dialect."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

import metricdsl
from metricdsl.engine.sql.dialects import BASES, DIALECTS, render
from metricdsl.engine.sql.functions import AGGREGATES, SCALARS, WINDOWS
from metricdsl.engine.sql.query import groups_query
from metricdsl.language.functions import FUNCTIONS, Kind

SPECS = Path(__file__).parent.parent / "specs"
QUANTILES = """
metrics:
  q_median_wait: {source: interactions, expr: 'median(wait_s where answered)'}
  q_quartile: {source: interactions, expr: 'quantile(sentiment_score, 0.25) + count_distinct(customer_id)'}
  q_hour: {source: interactions, expr: 'mean(hour(started_at)) + mean(weekday(started_at))'}
  q_text: {source: interactions, expr: 'share(contains(queue, "bill") or ends_with(queue, "ing"))'}
  q_round: {source: interactions, expr: 'sum(round(least(talk_s, hold_s) / wrap_s, 1) % 2)'}
  q_days: {source: interactions, expr: 'mean(days_between(@2026-01-01, date(started_at + 7d)))'}
"""
LAYOUTS = [((), None), (("team",), "week"), (("live", "repeat_7d"), "month"), (("channel",), "quarter")]


@pytest.fixture(scope="module")
def quantiles(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    path = tmp_path_factory.mktemp("dialects") / "quantiles.yaml"
    path.write_text(QUANTILES)
    return metricdsl.load([SPECS, path])


def test_every_function_of_the_language_has_a_sql_translation() -> None:
    kinds = {Kind.SCALAR: SCALARS, Kind.AGGREGATE: AGGREGATES, Kind.WINDOW: WINDOWS}
    for name, function in FUNCTIONS.items():
        if function.kind in kinds:
            assert name in kinds[function.kind], name


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize(("by", "grain"), LAYOUTS)
def test_every_dialect_renders_every_metric_and_parses_it_back(
    quantiles: metricdsl.Project, dialect: str, by: tuple[str, ...], grain: str | None
) -> None:
    names = [n for n in quantiles.model.metrics if not n.startswith("q_") or dialect not in ("bigquery", "trino")]
    for name in names:
        try:
            request = quantiles.request(metrics=[name], by=by, grain=grain)
        except metricdsl.RequestError:
            continue  # not computable at this layout
        query = groups_query(quantiles.model, request)
        text = render(query, dialect, pretty=True)
        sqlglot.parse_one(text, read=BASES[dialect])
        assert "APPROX" not in text.upper()
        assert "PERCENTILE_APPROX" not in text.upper()


def test_exact_quantiles_per_dialect(quantiles: metricdsl.Project) -> None:
    request = quantiles.request(metrics=["q_median_wait"])
    query = groups_query(quantiles.model, request)
    assert "QUANTILE_CONT(" in render(query, "duckdb")
    assert "PERCENTILE(" in render(query, "spark")
    for dialect in ("postgres", "snowflake"):
        assert "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY" in render(query, dialect)


@pytest.mark.parametrize("dialect", ["bigquery", "trino"])
def test_an_exact_quantile_is_an_error_where_a_dialect_has_none(quantiles: metricdsl.Project, dialect: str) -> None:
    query = groups_query(quantiles.model, quantiles.request(metrics=["q_quartile"], by=["team"]))
    with pytest.raises(metricdsl.RequestError) as raised:
        render(query, dialect)
    message = str(raised.value)
    assert "q_quartile" in message
    assert "`quantile`" in message
    assert dialect in message


def test_distinct_counts_have_a_group_by_of_their_own(quantiles: metricdsl.Project) -> None:
    text = render(groups_query(quantiles.model, quantiles.request(metrics=["q_quartile"], by=["team"])), "spark")
    distinct = text.index("COUNT(DISTINCT")
    quantile = text.index("PERCENTILE(")
    # Two SELECTs of the same rows, joined on the key with null-safe equality.
    assert text.count("GROUP BY") == 2
    assert "IS NOT DISTINCT FROM" in text or "<=>" in text
    assert distinct != quantile


def test_spark_divides_without_an_error_on_zero_and_reads_no_decimal(quantiles: metricdsl.Project) -> None:
    text = render(groups_query(quantiles.model, quantiles.request(metrics=["q_round", "aht"])), "spark")
    assert "<> 0 THEN" in text
    assert "AS DECIMAL" not in text.upper()


def test_postgres_counts_a_condition_through_an_integer_it_can_cast_a_boolean_to(quantiles: metricdsl.Project) -> None:
    # Postgres casts a boolean to INTEGER only: `CAST(b AS BIGINT)` is refused ("cannot cast type boolean to bigint").
    text = render(groups_query(quantiles.model, quantiles.request(metrics=["nps", "fcr", "csat"])), "postgres")
    assert "AS BIGINT) AS DOUBLE" not in text
    assert 'CAST("nps_score" >= 9 AS INT)' in text


def test_round_needs_no_remainder_of_doubles_which_postgres_lacks(quantiles: metricdsl.Project) -> None:
    text = render(groups_query(quantiles.model, quantiles.request(metrics=["q_round"])), "postgres")
    # The language's `%` is written with FLOOR; round's ties to even must not use `%` on DOUBLEs either.
    assert "%" not in text
