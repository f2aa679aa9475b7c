"""Hand-computed cases of the metrics over periods and of filters of metrics of metrics: `where:` on a metric of
metrics, `prev`/`change`/`pct_change` in metrics, and `trailing:` windows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

import metricdsl
from metricdsl.cli import EXIT_ERROR, main
from metricdsl.engine import stats
from metricdsl.render.explain import metric_report
from metricdsl.semantics.checker import check
from metricdsl.spec.loader import load_text
from metricdsl.tools.explain import explain_metric
from tests.reference import evaluate_reference

SPEC = """\
sources:
  calls:
    time: started_at
    columns:
      started_at: datetime
      team: str
      channel: str
      answered: bool
      sale: bool
      nps_score: {type: int, range: [0, 10]}
      wait_s: {type: float, unit: s}
  orders:
    time: ordered_at
    columns: {ordered_at: datetime, team: str, amount: {type: float, unit: EUR}}
metrics:
  answered_rate: share(answered)
  sales_rate: share(sale)
  phone_combo: {expr: answered_rate + sales_rate, where: channel == "phone"}
  north_phone_combo: {expr: 10 * phone_combo, where: team == "north"}
  answered: {expr: count(where answered), where: channel == "phone"}
  answered_share: {expr: answered / count(), source: calls, where: wait_s < 20s}
  nps: {expr: 100 * (share(nps_score >= 9) - share(nps_score <= 6)), unit: points, min_n: 2}
  nps_prev: prev(nps)
  nps_wow: change(nps)
  nps_growth: pct_change(nps)
  asa: {expr: mean(wait_s), unit: s}
  asa_change: change(asa)
  asa_growth: pct_change(asa)
  volume: {expr: count(), source: calls}
  calls_growth: pct_change(volume)
  nps_4w: {expr: 100 * (share(nps_score >= 9) - share(nps_score <= 6)), unit: points, min_n: 5, trailing: 4w}
  nps_4p: {expr: 100 * (share(nps_score >= 9) - share(nps_score <= 6)), trailing: 4 periods}
  revenue_2p: {expr: sum(amount), trailing: 2 periods}
  longest_wait_2p: {expr: max(wait_s), trailing: 2 periods}
"""
MONDAY = datetime(2026, 1, 5, 9)  # 2026-W02
WEEK = timedelta(weeks=1)


def call(day: int = 0, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "started_at": MONDAY + timedelta(days=day),
        "team": "north",
        "channel": "phone",
        "answered": True,
        "sale": False,
        "nps_score": None,
        "wait_s": 10.0,
    }
    return row | fields


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("periods") / "spec.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def project(spec_path: Path) -> metricdsl.Project:
    return metricdsl.load(spec_path)


DTYPES = {"datetime": pl.Datetime("us"), "int": pl.Int64(), "float": pl.Float64(), "bool": pl.Boolean(), "str": pl.String()}


def frames(
    project: metricdsl.Project, calls: list[dict[str, object]], orders: Sequence[dict[str, object]] = ()
) -> dict[str, pl.DataFrame]:
    sources = project.definitions.sources
    schemas = {name: {c: DTYPES[col.type] for c, col in source.columns.items()} for name, source in sources.items()}
    return {"calls": pl.DataFrame(calls, schema=schemas["calls"]), "orders": pl.DataFrame(orders, schema=schemas["orders"])}


def rows(
    project: metricdsl.Project,
    calls: list[dict[str, object]],
    orders: Sequence[dict[str, object]] = (),
    *,
    metrics: list[str],
    by: tuple[str, ...] | list[str] = (),
    grain: str | None = None,
    with_ci: bool = False,
) -> list[dict[str, Any]]:
    """The engine's rows, after checking that the reference evaluator gives the same values."""
    result = project.evaluate(frames(project, calls, orders), metrics=metrics, by=by, grain=grain, with_ci=with_ci)
    expected = evaluate_reference(project.model, {"calls": calls, "orders": list(orders)}, metrics, by, grain)
    keys = [*by, *([grain] if grain else [])]
    actual = {(*(r[k] for k in keys), m): r[m] for r in result.to_dicts() for m in metrics}
    assert actual == pytest.approx({(*(r[k] for k in keys), m): r[m] for r in expected for m in metrics})
    return result.to_dicts()


# -- `where:` on a metric of metrics ------------------------------------------------------------------------

# Phone: 2 of 3 answered, 1 sale of 2 known; chat: 3 of 3 answered, 3 sales of 3. Unfiltered: 5/6 + 4/5 = 1.633.
COMBO = [
    call(answered=True, sale=True),
    call(answered=True, sale=False),
    call(answered=False, sale=None),
    call(channel="chat", sale=True),
    call(channel="chat", sale=True),
    call(channel="chat", sale=True),
]


def test_where_on_a_metric_of_metrics_re_aggregates_the_metrics_it_uses(project: metricdsl.Project) -> None:
    [result] = rows(project, COMBO, metrics=["answered_rate", "sales_rate", "phone_combo"])
    assert result["answered_rate"] + result["sales_rate"] == pytest.approx(5 / 6 + 4 / 5)  # 1.633: not the answer
    assert result["phone_combo"] == pytest.approx(2 / 3 + 1 / 2)  # 1.167


def test_filters_of_nested_metrics_of_metrics_compose(project: metricdsl.Project) -> None:
    calls = [*COMBO, call(team="south", answered=False, sale=False), call(team="south", channel="chat")]
    [result] = rows(project, calls, metrics=["phone_combo", "north_phone_combo"])
    assert result["phone_combo"] == pytest.approx(2 / 4 + 1 / 3)  # south's phone call counts here
    assert result["north_phone_combo"] == pytest.approx(10 * (2 / 3 + 1 / 2))  # north and phone


def test_where_of_a_metric_with_aggregates_filters_the_metrics_it_uses_too(project: metricdsl.Project) -> None:
    calls = [call(wait_s=5.0), call(wait_s=30.0), call(wait_s=5.0, answered=False), call(channel="chat", wait_s=1.0)]
    [result] = rows(project, calls, metrics=["answered", "answered_share"])
    assert result["answered"] == 2  # phone calls answered, whatever the wait
    assert result["answered_share"] == pytest.approx(1 / 3)  # answered phone calls under 20 s, of calls under 20 s


def test_explain_shows_the_filtered_inputs(project: metricdsl.Project) -> None:
    explained = explain_metric(project, "north_phone_combo")
    assert explained.filtered == (
        ("phone_combo", ('channel == "phone"', 'team == "north"')),
        ("answered_rate", ('team == "north"', 'channel == "phone"')),
        ("sales_rate", ('team == "north"', 'channel == "phone"')),
    )
    report = metric_report(explained)
    assert 'answered_rate where (team == "north") and (channel == "phone")' in report


def test_a_filter_that_a_used_metrics_source_lacks_is_a_diagnostic() -> None:
    text = (
        SPEC + '  order_total: sum(amount)\n  phone_value: {expr: answered_rate + order_total, where: channel == "phone"}\n'
    )
    definitions, _ = load_text("spec.yaml", text)
    _, diagnostics = check(definitions)
    [found] = [d for d in diagnostics if d.code == "MD233"]
    assert "order_total" in found.message
    assert "`orders` has no column `channel`" in found.message
    assert found.location is not None
    assert (found.location.line, found.location.col) == (text.count("\n"), text.splitlines()[-1].index("channel") + 1)
    assert found.hint is not None
    assert "`where` of the metrics whose source has them" in found.hint


@pytest.mark.parametrize(
    ("metric", "message", "hint"),
    [
        ('{expr: answered_rate + sales_rate, where: chanel == "phone"}', "unknown column `chanel`", "did you mean"),
        ('{expr: count(where sale), where: chanel == "phone"}', "unknown column `chanel`", "did you mean"),
    ],
)
def test_an_unknown_column_in_a_filter_is_an_unknown_name(metric: str, message: str, hint: str) -> None:
    definitions, _ = load_text("spec.yaml", SPEC + f"  bad: {metric}\n")
    [found] = check(definitions)[1]
    assert (found.code, message in found.message, hint in (found.hint or "")) == ("MD201", True, True)


# -- prev, change and pct_change in metrics ------------------------------------------------------------------

# Week 2: NPS 0 (one promoter, one detractor), ASA 10 s; week 3: NPS 100, ASA 25 s; week 4: nothing; week 5:
# NPS -100, ASA 0 s; week 6: ASA 5 s.
WEEKS = [
    call(0, nps_score=10, wait_s=10.0),
    call(1, nps_score=0, wait_s=10.0),
    call(7, nps_score=9, wait_s=20.0),
    call(8, nps_score=10, wait_s=30.0),
    call(21, nps_score=3, wait_s=0.0),
    call(22, nps_score=6, wait_s=0.0),
    call(28, wait_s=5.0),
]


def test_period_arithmetic_in_metrics_per_group_in_period_order(project: metricdsl.Project) -> None:
    metrics = ["nps", "nps_prev", "nps_wow", "nps_growth", "asa_change", "asa_growth", "calls_growth"]
    by_week = {r["week"]: r for r in rows(project, WEEKS, metrics=metrics, by=["team"], grain="week")}
    assert list(by_week) == ["2026-W02", "2026-W03", "2026-W04", "2026-W05", "2026-W06"]  # week 4 from the spine
    first, second, gap, after_gap, last = by_week.values()
    assert (first["nps"], first["nps_prev"], first["nps_wow"], first["asa_change"]) == (0.0, None, None, None)
    assert (second["nps_prev"], second["nps_wow"], second["nps_growth"]) == (0.0, 100.0, None)  # growth from 0: null
    assert (second["asa_change"], second["asa_growth"], second["calls_growth"]) == (15.0, 1.5, 0.0)
    # Week 4 had no calls: its count is 0, its other metrics are null, and it is the period before week 5.
    assert (gap["nps"], gap["nps_prev"], gap["nps_wow"], gap["calls_growth"]) == (None, 100.0, None, -1.0)
    assert (after_gap["nps_prev"], after_gap["nps_wow"], after_gap["asa_change"]) == (None, None, None)
    assert after_gap["calls_growth"] is None  # a growth from 0 calls is null
    assert last["nps"] is None  # below min_n
    assert (last["nps_prev"], last["nps_wow"]) == (-100.0, None)
    assert (last["asa_change"], last["asa_growth"]) == (5.0, None)  # a growth from 0 s is null


def test_periods_are_per_group(project: metricdsl.Project) -> None:
    calls = [call(0, wait_s=10.0), call(7, wait_s=20.0), call(7, team="south", wait_s=40.0)]
    result = {
        (r["team"], r["week"]): r["asa_change"]
        for r in rows(project, calls, metrics=["asa_change"], by=["team"], grain="week")
    }
    assert result == {
        ("north", "2026-W02"): None,
        ("north", "2026-W03"): 10.0,
        ("south", "2026-W02"): None,  # from the spine: no calls, no ASA
        ("south", "2026-W03"): None,
    }


def test_change_keeps_the_unit_and_pct_change_is_a_ratio(project: metricdsl.Project) -> None:
    types = project.model.metrics
    assert (types["asa"].type.unit, types["asa_change"].type.unit) == ("s", "s")
    assert (types["asa_growth"].type.kind, types["asa_growth"].type.unit) == ("float", None)


def test_period_arithmetic_without_a_grain_is_a_request_error(
    project: metricdsl.Project, spec_path: Path, tmp_path: Path
) -> None:
    with pytest.raises(metricdsl.RequestError, match="metric `nps_wow` compares periods: it needs a grain"):
        project.evaluate(frames(project, WEEKS), metrics=["nps_wow"])
    data = tmp_path / "calls.csv"
    frames(project, WEEKS)["calls"].write_csv(data)
    result = CliRunner().invoke(main, ["eval", str(spec_path), "--data", f"calls={data}", "--metrics", "asa_change"])
    assert result.exit_code == EXIT_ERROR
    assert "metric `asa_change` compares periods: it needs a grain" in result.output


def test_period_arithmetic_in_a_row_level_expression_is_a_diagnostic() -> None:
    text = SPEC + "  faster: count(where wait_s < prev(wait_s))\n"
    definitions, _ = load_text("spec.yaml", text)
    _, diagnostics = check(definitions)
    assert [d.code for d in diagnostics] == ["MD230"]


# -- trailing windows -----------------------------------------------------------------------------------------

# A thin team: one to three answers a week, over six weeks (W02..W07), and a week without answers (W05).
THIN = [
    call(0, nps_score=10),
    call(7, nps_score=9),
    call(8, nps_score=2),
    call(14, nps_score=7),
    call(15, nps_score=10),
    call(16, nps_score=0),
    call(22, nps_score=None),
    call(28, nps_score=8),
    call(35, nps_score=10),
]


def nps_of(scores: list[int]) -> float:
    return 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


def test_trailing_nps_pools_the_answers_of_four_weeks(project: metricdsl.Project) -> None:
    result = rows(project, THIN, metrics=["nps", "nps_4w", "nps_4p"], by=["team"], grain="week", with_ci=True)
    by_week = {r["week"]: r for r in result}
    assert list(by_week) == ["2026-W02", "2026-W03", "2026-W04", "2026-W05", "2026-W06", "2026-W07"]
    # Pooled answers: W02 [10]; W03 + [9, 2]; W04 + [7, 10, 0]; W05 none; W06 [8] drops W02; W07 [10] drops W03.
    expected_n = {"2026-W02": 1, "2026-W03": 3, "2026-W04": 6, "2026-W05": 6, "2026-W06": 6, "2026-W07": 5}
    assert {week: r["nps_4w_n"] for week, r in by_week.items()} == expected_n
    assert by_week["2026-W04"]["nps_4w"] == pytest.approx(100 * (3 - 2) / 6)  # 7 is passive
    assert by_week["2026-W05"]["nps_4w"] == pytest.approx(100 * (3 - 2) / 6)
    assert by_week["2026-W06"]["nps_4w"] == pytest.approx(100 * (2 - 2) / 6)
    # Not the mean of the weekly values (W04: 0, W06: 0, W07: 100): a ratio of the pooled counts.
    assert by_week["2026-W07"]["nps_4w"] == pytest.approx(100 * (2 - 1) / 5)
    assert by_week["2026-W07"]["nps_4p"] == pytest.approx(100 * (2 - 1) / 5)
    # min_n 5 counts the pooled answers: null until the window holds five.
    assert [r["nps_4w"] is None for r in result] == [True, True, False, False, False, False]
    # The interval is that of the pooled answers: as for the NPS of the same answers in one period.
    interval = stats.difference_interval(pl.lit(3 / 6), pl.lit(2 / 6), pl.lit(6), 100.0)
    low, high = (pl.select(bound).item() for bound in interval)
    assert (by_week["2026-W04"]["nps_4w_ci_low"], by_week["2026-W04"]["nps_4w_ci_high"]) == pytest.approx((low, high))


def test_trailing_sums_and_extremes(project: metricdsl.Project) -> None:
    orders = [
        {"ordered_at": MONDAY, "team": "north", "amount": 10.0},
        {"ordered_at": MONDAY + timedelta(days=40), "team": "north", "amount": 5.0},
        {"ordered_at": MONDAY + timedelta(days=70), "team": "north", "amount": 1.0},
    ]
    months = {r["month"]: r["revenue_2p"] for r in rows(project, [], orders, metrics=["revenue_2p"], grain="month")}
    assert months == {"2026-01": 10.0, "2026-02": 15.0, "2026-03": 6.0}
    calls = [call(0, wait_s=50.0), call(1, wait_s=30.0), call(2, wait_s=20.0)]
    days = {r["day"].day: r["longest_wait_2p"] for r in rows(project, calls, metrics=["longest_wait_2p"], grain="day")}
    assert days == {5: 50.0, 6: 50.0, 7: 30.0}


def test_a_range_of_periods_keeps_the_periods_before_it_for_prev_and_trailing(project: metricdsl.Project) -> None:
    """`--from` shows fewer periods, never other values: the first period of the range compares with the period
    before it and pools the weeks before it, as without a range."""
    metrics = ["nps_prev", "calls_growth", "nps_4p"]
    start, end = MONDAY.date() + 2 * WEEK, MONDAY.date() + 3 * WEEK  # W04 and W05
    table = project.evaluate(frames(project, THIN), metrics=metrics, by=["team"], grain="week", start=start, end=end)
    # W04 [7, 10, 0] after W03 [9, 2] (NPS 0); its four periods pool [10], [9, 2] and [7, 10, 0]: 100 * (3 - 2) / 6.
    # W05 has one call without an answer after W04's three calls (NPS 0).
    assert table.rows() == [
        ("north", "2026-W04", 0.0, 0.5, pytest.approx(100 / 6)),
        ("north", "2026-W05", 0.0, pytest.approx(-2 / 3), pytest.approx(100 / 6)),
    ]
    everything = project.evaluate(frames(project, THIN), metrics=metrics, by=["team"], grain="week")
    assert table.rows() == everything.filter(pl.col("week").is_in(["2026-W04", "2026-W05"])).rows()
    expected = evaluate_reference(
        project.model, {"calls": THIN, "orders": []}, metrics, ["team"], "week", start=start, end=end
    )
    assert [tuple(r.values()) for r in expected] == table.rows()
    # Without dimensions the data is one group, which has every period of the range, rows or not.
    empty = project.evaluate(frames(project, []), metrics=["volume"], grain="week", start=start, end=end)
    assert empty.rows() == [("2026-W04", 0), ("2026-W05", 0)]
    nothing = evaluate_reference(project.model, {"calls": [], "orders": []}, ["volume"], (), "week", start=start, end=end)
    assert [tuple(r.values()) for r in nothing] == empty.rows()


def test_trailing_needs_a_grain_that_its_duration_fits(project: metricdsl.Project) -> None:
    with pytest.raises(metricdsl.RequestError, match=r"metric `nps_4w` is trailing \(4w\): it needs a grain"):
        project.evaluate(frames(project, THIN), metrics=["nps_4w"])
    with pytest.raises(metricdsl.RequestError, match="trailing 4w, which is not a whole number of months"):
        project.evaluate(frames(project, THIN), metrics=["nps_4w"], grain="month")
    by_day = project.evaluate(frames(project, THIN), metrics=["nps_4w"], grain="day")  # 28 days
    days = [row["started_at"].date() for row in THIN]  # type: ignore[union-attr]
    assert by_day.height == (max(days) - min(days)).days + 1  # every day from the first to the last: the spine


@pytest.mark.parametrize(
    ("metric", "code", "message"),
    [
        ("{expr: p90(wait_s), trailing: 4w}", "MD231", "`p90` cannot be pooled from its periods"),
        ("{expr: 2 * asa, trailing: 4w}", "MD231", "is computed from other metrics"),
        ("{expr: mean(wait_s), trailing: 4 weeks}", "MD006", "neither a duration nor a number of periods"),
        ("{expr: mean(wait_s), trailing: 0w}", "MD006", "neither a duration nor a number of periods"),
        ("{expr: mean(wait_s), trailing: 36h}", "MD006", "not a whole number of days"),
    ],
)
def test_trailing_mistakes_are_diagnostics(metric: str, code: str, message: str) -> None:
    text = SPEC + f"  bad: {metric}\n"
    definitions, diagnostics = load_text("spec.yaml", text)
    diagnostics += check(definitions)[1]
    [found] = diagnostics
    assert (found.code, found.location.line if found.location else None) == (code, text.count("\n"))
    assert message in found.message
    assert found.hint


def test_a_dashboard_without_the_grain_its_metrics_need_is_a_diagnostic() -> None:
    text = SPEC + "dashboards:\n  weekly: {metrics: [nps_wow, nps_4w], grain: month}\n  overall: {metrics: [asa_change]}\n"
    definitions, _ = load_text("spec.yaml", text)
    diagnostics = check(definitions)[1]
    assert [(d.code, d.message) for d in diagnostics] == [
        ("MD232", "dashboard `weekly`: metric `nps_4w` is trailing 4w, which is not a whole number of months"),
        ("MD232", "dashboard `overall`: metric `asa_change` compares periods: it needs a grain"),
    ]


def test_trailing_is_in_the_json_schema() -> None:
    schema = json.loads(CliRunner().invoke(main, ["schema"]).output)
    assert "trailing" in json.dumps(schema)


def test_fmt_rewrites_expressions_and_keeps_trailing(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        SPEC.replace("trailing: 4w}", "trailing: 4w}  # four weeks").replace(
            "answered_rate + sales_rate", "answered_rate+sales_rate"
        )
    )
    assert CliRunner().invoke(main, ["fmt", str(path)]).exit_code == 0
    written = path.read_text()
    assert "{expr: answered_rate + sales_rate, where:" in written
    assert "min_n: 5, trailing: 4w}  # four weeks" in written
    assert metricdsl.load(path).definitions.metrics["nps_4w"].trailing.seconds == 28 * 86_400  # type: ignore[union-attr]
