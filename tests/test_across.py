"""`of_total(m)` and `spread(m, dim)`: values computed by hand on small data (shares that sum to 1 per period, a period
whose total is 0, a mean's share, a spread of one channel, a channel without rows, nulls, filters, `min_n`, pending
windows), the SQL engines' stage (1) giving the same tables, the query of `metricdsl sql` giving them on DuckDB and
written in every dialect, and random data agreeing with the reference evaluator on Polars and DuckDB."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import sqlglot
from hypothesis import given, settings
from polars.testing import assert_frame_equal

import metricdsl
from metricdsl.engine.sql.dialects import DIALECTS
from tests.reference import evaluate_reference
from tests.test_differential import SPECS, Dataset, check_agreement, datasets
from tests.test_sql_conformance import check_duckdb_agreement

SMALL = """
sources:
  calls:
    time: started_at
    entities: {customer: customer_id}
    columns:
      customer_id: int
      started_at: datetime
      team: str
      channel: str
      reason: str
      csat: {type: int, unit: points}
      amount: {type: float, unit: EUR}
metrics:
  contacts: count()
  mean_csat: {expr: mean(csat), unit: points}
  mean_csat_n2: {expr: mean(csat), unit: points, min_n: 2}
  amount: {expr: sum(amount), unit: EUR}
  repeat: share(followed_by(calls, 7d))
  reason_share: of_total(contacts)
  csat_of_total: of_total(mean_csat)
  amount_share: of_total(amount)
  csat_spread: spread(mean_csat, channel)
  csat_spread_n2: spread(mean_csat_n2, channel)
  contacts_spread: spread(contacts, channel)
  phone_share: {expr: of_total(contacts), where: 'channel == "phone"'}
  repeat_share: of_total(repeat)
  share_spread: spread(reason_share, channel)
"""


def row(day: str, **values: Any) -> dict[str, Any]:
    return {"started_at": datetime.datetime.fromisoformat(day), **values}


CALLS = [
    row("2026-01-05T09:00", team="a", channel="phone", reason="billing", csat=5, amount=10.0, customer_id=1),
    row("2026-01-05T10:00", team="a", channel="chat", reason="billing", csat=3, amount=-10.0, customer_id=2),
    row("2026-01-06T09:00", team="b", channel="chat", reason="tech", csat=1, amount=5.0, customer_id=3),
    row("2026-01-07T09:00", team="b", channel="email", reason="tech", csat=None, amount=-5.0, customer_id=4),
    # week 3: no rows; week 4: phone and chat only
    row("2026-01-19T09:00", team="a", channel="phone", reason="billing", csat=4, amount=1.0, customer_id=1),
    row("2026-01-20T09:00", team="a", channel="phone", reason="tech", csat=2, amount=1.0, customer_id=5),
    row("2026-01-21T09:00", team="b", channel="chat", reason="tech", csat=4, amount=1.0, customer_id=6),
    row("2026-01-21T10:00", team="b", channel=None, reason="tech", csat=1, amount=1.0, customer_id=7),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    path = tmp_path_factory.mktemp("across") / "spec.yaml"
    path.write_text(SMALL)
    return metricdsl.load(path)


def table(project: metricdsl.Project, metrics: list[str], engine: str = "polars", **request: Any) -> list[dict[str, Any]]:
    frame = pl.DataFrame(CALLS, schema_overrides={"csat": pl.Int64, "channel": pl.String})
    found = project.evaluate({"calls": frame}, metrics=metrics, engine=engine, apply_min_n=True, **request)  # type: ignore[arg-type]
    return found.to_dicts()


def values(rows: list[dict[str, Any]], metric: str, *keys: str) -> dict[tuple[Any, ...], Any]:
    return {tuple(r[k] for k in keys): r[metric] for r in rows}


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_shares_of_contacts_sum_to_one_in_every_period_and_are_null_in_a_period_without_contacts(
    small: metricdsl.Project, engine: str
) -> None:
    rows = table(small, ["contacts", "reason_share"], engine, by=["reason"], grain="week")
    shares = values(rows, "reason_share", "reason", "week")
    assert shares == {
        ("billing", "2026-W02"): 0.5,
        ("tech", "2026-W02"): 0.5,
        ("billing", "2026-W03"): None,  # no contacts at all: 0 / 0
        ("tech", "2026-W03"): None,
        ("billing", "2026-W04"): 0.25,
        ("tech", "2026-W04"): 0.75,
    }
    for week in ("2026-W02", "2026-W04"):
        assert sum(v for (_, w), v in shares.items() if w == week) == pytest.approx(1)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_share_of_a_total_of_zero_is_null_and_a_mean_is_divided_by_the_mean_of_all_rows(
    small: metricdsl.Project, engine: str
) -> None:
    rows = table(small, ["amount_share", "csat_of_total"], engine, by=["team"], grain="week")
    # Week 2: amounts 10 - 10 + 5 - 5 sum to 0: no share, not an infinity.
    assert values(rows, "amount_share", "team", "week")[("a", "2026-W02")] is None
    # Team a's mean CSAT (5 + 3) / 2 = 4 over the mean of all answers (5 + 3 + 1) / 3 = 3, not over a sum of means.
    assert values(rows, "csat_of_total", "team", "week")[("a", "2026-W02")] == pytest.approx(4 / 3)
    assert values(rows, "csat_of_total", "team", "week")[("b", "2026-W02")] == pytest.approx(1 / 3)
    # Week 4: team a (4 + 2) / 2 = 3 over (4 + 2 + 4 + 1) / 4.
    assert values(rows, "csat_of_total", "team", "week")[("a", "2026-W04")] == pytest.approx(3 / (11 / 4))


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_without_dimensions_a_share_is_one_or_null(small: metricdsl.Project, engine: str) -> None:
    rows = table(small, ["reason_share", "amount_share"], engine, grain="week")
    assert values(rows, "reason_share", "week") == {("2026-W02",): 1.0, ("2026-W03",): None, ("2026-W04",): 1.0}
    assert values(rows, "amount_share", "week") == {("2026-W02",): None, ("2026-W03",): None, ("2026-W04",): 1.0}


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_spread_is_over_the_channels_with_rows_and_a_value_in_the_period(small: metricdsl.Project, engine: str) -> None:
    rows = table(small, ["csat_spread", "contacts_spread"], engine, grain="week")
    # Week 2: phone 5, chat (3 + 1) / 2 = 2, email has no answer: 5 - 2.
    assert values(rows, "csat_spread", "week") == {("2026-W02",): 3.0, ("2026-W03",): None, ("2026-W04",): 1.0}
    # Week 4: phone 2 contacts, chat 1; email has no rows (not a 0), the row without a channel is no channel.
    assert values(rows, "contacts_spread", "week") == {("2026-W02",): 1, ("2026-W03",): None, ("2026-W04",): 1}


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_spread_of_one_channel_is_zero_and_min_n_applies_per_channel(small: metricdsl.Project, engine: str) -> None:
    rows = table(small, ["csat_spread", "csat_spread_n2"], engine, by=["team"], grain="week")
    spread = values(rows, "csat_spread", "team", "week")
    assert spread[("b", "2026-W02")] == 0.0  # chat alone has an answer
    assert spread[("a", "2026-W04")] == 0.0  # phone alone
    # With min_n 2, week 2's team a has one answer per channel: no channel has a value.
    assert values(rows, "csat_spread_n2", "team", "week")[("a", "2026-W02")] is None
    assert values(rows, "csat_spread_n2", "team", "week")[("a", "2026-W04")] == 0.0  # phone has two answers


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_filter_of_a_share_filters_the_total_too(small: metricdsl.Project, engine: str) -> None:
    rows = table(small, ["phone_share"], engine, by=["reason"])
    # Phone contacts: billing 2, tech 1.
    assert values(rows, "phone_share", "reason") == {("billing",): pytest.approx(2 / 3), ("tech",): pytest.approx(1 / 3)}


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_spread_of_shares_computes_the_shares_per_channel(small: metricdsl.Project, engine: str) -> None:
    rows = table(small, ["share_spread"], engine, by=["reason"])
    # Per reason and channel, the share of all 8 contacts (of_total drops every dimension): billing by phone 2/8, by
    # chat 1/8; billing has no email rows, and the row without a channel is no channel.
    assert values(rows, "share_spread", "reason")[("billing",)] == pytest.approx(1 / 8)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_share_is_provisional_where_its_total_read_a_censored_window(small: metricdsl.Project, engine: str) -> None:
    rows = table(small, ["repeat_share"], engine, by=["team"], grain="month")
    # Team a's rows of January are followed within 7 days only... but team b's last rows are censored (their 7 days
    # reach past the data's last time): the total of January, and so every team's share, is pending.
    assert [r["provisional"] for r in rows] == [True, True]
    expected = evaluate_reference(small.model, {"calls": CALLS}, ["repeat_share"], ("team",), "month")
    assert values(rows, "repeat_share", "team", "month") == pytest.approx(values(expected, "repeat_share", "team", "month"))


def test_the_reference_gives_the_same_tables_on_the_small_data(small: metricdsl.Project) -> None:
    names = [m for m in small.model.metrics if m not in ("repeat",)]
    for by, grain in [((), None), (("team",), "week"), (("channel",), None), (("reason", "team"), "month")]:
        actual = {
            tuple(r[k] for k in [*by, *([grain] if grain else [])]): r for r in table(small, names, by=by, grain=grain)
        }
        for expected in evaluate_reference(small.model, {"calls": CALLS}, names, by, grain):
            found = actual[tuple(expected[k] for k in [*by, *([grain] if grain else [])])]
            for name in names:
                assert found[name] == pytest.approx(expected[name]), (name, by, grain)


@pytest.mark.parametrize(
    ("by", "grain"), [((), None), (("team",), "week"), (("channel",), None), (("reason", "team"), "month")]
)
def test_the_printed_duckdb_query_gives_the_table_of_evaluate(
    small: metricdsl.Project, by: tuple[str, ...], grain: str | None
) -> None:
    frame = pl.DataFrame(CALLS, schema_overrides={"csat": pl.Int64, "channel": pl.String})
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.register("calls", frame.with_columns(pl.col("started_at").dt.replace_time_zone("UTC")).to_arrow())
    metrics = list(small.model.metrics)
    for asked in [*([name] for name in metrics), metrics]:  # each alone, then all in one query
        expected = small.evaluate({"calls": frame}, metrics=asked, by=by, grain=grain)
        actual = pl.from_arrow(connection.sql(small.sql(metrics=asked, by=by, grain=grain)).to_arrow_table())
        assert isinstance(actual, pl.DataFrame)
        assert_frame_equal(actual, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.spark
@pytest.mark.parametrize(("by", "grain"), [((), None), (("team",), "week"), (("reason", "team"), "month")])
def test_spark_gives_the_polars_tables(small: metricdsl.Project, by: tuple[str, ...], grain: str | None) -> None:
    pytest.importorskip("pyspark")
    metrics = list(small.model.metrics)
    actual, expected = (pl.DataFrame(table(small, metrics, e, by=by, grain=grain)) for e in ("spark", "polars"))
    assert_frame_equal(actual, expected, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_writes_shares_and_spreads(small: metricdsl.Project, dialect: str) -> None:
    text = small.sql(metrics=["share_spread", "csat_of_total", "repeat_share"], by=["team"], grain="week", dialect=dialect)
    tree = sqlglot.parse_one(text, read=dialect)
    assert isinstance(tree, sqlglot.exp.Select)
    assert '"__across0_value"' in text or "`__across0_value`" in text


def test_the_library_computes_reason_shares_and_the_csat_spread_on_the_example(tmp_path: Path) -> None:
    project = metricdsl.load(SPECS)
    shares = project.evaluate(metrics=["reason_share"], by=["contact_reason"], grain="week")
    totals = shares.group_by("week").agg(pl.col("reason_share").sum())
    assert totals["reason_share"].to_list() == pytest.approx([1.0] * totals.height)
    spread = project.evaluate(metrics=["csat_channel_spread", "csat"], grain="week")
    assert spread["csat_channel_spread"].drop_nulls().min() >= 0  # type: ignore[operator]


# -- random data ------------------------------------------------------------------------------------------------------

ACROSS_METRICS = """
metrics:
  a_reason_share: of_total(contacts)
  a_sentiment_of_total: of_total(sentiment)
  a_sentiment_spread: spread(sentiment, channel)
  a_contacts_by_team: spread(contacts, team)
  a_phone_share: {expr: of_total(contacts), where: 'channel == "phone"'}
  a_fcr_of_total: of_total(fcr)
  a_fcr_spread: spread(fcr, contact_reason)
  a_mixed: 'of_total(aht) * asa + spread(aht, channel)'
"""
ACROSS_LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [
    ((), None),
    (("team",), "week"),
    (("contact_reason",), None),
    (("channel", "team"), "month"),
    ((), "day"),
]


@pytest.fixture(scope="module")
def across(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    folder = tmp_path_factory.mktemp("across_random")
    (folder / "across.yaml").write_text(ACROSS_METRICS)
    return metricdsl.load([SPECS, folder])


def names(project: metricdsl.Project) -> list[str]:
    return [n for n in project.model.metrics if n.startswith("a_")]


@settings(max_examples=10, deadline=None)
@given(data=datasets())
def test_functions_across_groups_agree_with_the_reference(across: metricdsl.Project, data: Dataset) -> None:
    check_agreement(across, names(across), data, ACROSS_LAYOUTS)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(data=datasets())
def test_functions_across_groups_agree_with_the_reference_at_length(across: metricdsl.Project, data: Dataset) -> None:
    check_agreement(across, names(across), data, ACROSS_LAYOUTS)


@settings(max_examples=5, deadline=None)
@given(data=datasets())
def test_functions_across_groups_on_duckdb_agree_with_the_reference(across: metricdsl.Project, data: Dataset) -> None:
    check_duckdb_agreement(across, names(across), data, ACROSS_LAYOUTS)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(data=datasets())
def test_functions_across_groups_on_duckdb_agree_with_the_reference_at_length(
    across: metricdsl.Project, data: Dataset
) -> None:
    check_duckdb_agreement(across, names(across), data, ACROSS_LAYOUTS)


def test_windows_computed_in_buckets_give_the_same_shares_and_spreads(
    across: metricdsl.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metricdsl.engine.polars import partition

    buckets: list[int] = []
    partitioned = partition.partitioned_stages

    def spy(*arguments: Any, **options: Any) -> Any:
        buckets.append(arguments[4])
        return partitioned(*arguments, **options)

    monkeypatch.setattr(partition, "partitioned_stages", spy)
    request: dict[str, Any] = {"metrics": ["a_fcr_of_total", "a_fcr_spread", "fcr"], "by": ["team"], "grain": "month"}
    whole = across.evaluate(**request)
    assert not buckets
    in_buckets = across.evaluate(**request, memory_limit="2MB")
    assert buckets
    assert buckets[0] > 1
    assert in_buckets.equals(whole)
    assert whole["a_fcr_of_total"].drop_nulls().len() > 10
