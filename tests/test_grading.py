"""Grading: target statuses and overrides, rules over periods, scorecards, findings, history."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import metricdsl
from metricdsl.cli import main
from metricdsl.grading.findings import findings, report, scores
from metricdsl.grading.grader import Skipped
from metricdsl.grading.history import write_history
from metricdsl.render.findings import as_json, as_text, message
from metricdsl.render.spectests import failure_text
from metricdsl.render.values import format_value

SPEC = """\
sources:
  calls:
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: {type: float, unit: s}, ok: bool}
metrics:
  asa: {expr: mean(wait_s), unit: s, better: lower, min_n: 2}
  good: {expr: share(ok), unit: ratio, better: higher}
targets:
  asa:
    warn: "> 30s"
    fail: "> 60s"
    overrides:
      - when: team == "vip"
        warn: "> 10s"
        fail: "> 20s"
      - from: 2026-01-12
        warn: "> 20s"
rules:
  slower:
    when: asa > prev(asa)
    message: "{team}: waits {pct_change(asa)} to {asa}"
  slow_twice:
    when: asa > 25s
    for: 2 periods
    severity: fail
scorecards:
  card:
    items:
      asa: {weight: 1, floor: 60, ceiling: 0, critical: true}
      good: {weight: 3, floor: 0, ceiling: 1}
dashboards:
  board: {metrics: [asa, good], by: [team], grain: week, scorecard: card}
"""
MONDAY = datetime(2026, 1, 5, 9)
RANK = {"ok": 0, "warn": 1, "fail": 2}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = tmp_path_factory.mktemp("grading") / "spec.yaml"
    path.write_text(SPEC)
    return metricdsl.load(path)


def calls(*rows: tuple) -> pl.DataFrame:
    """Rows of (team, week index from 2026-01-05, wait in s, ok), each twice to pass min_n 2."""
    records = [
        {"team": team, "started_at": MONDAY + timedelta(weeks=week), "wait_s": wait, "ok": ok}
        for team, week, wait, ok in rows
        for _ in range(2)
    ]
    return pl.DataFrame(
        records, schema={"team": pl.String, "started_at": pl.Datetime("us"), "wait_s": pl.Float64, "ok": pl.Boolean}
    )


def graded_rows(project, *rows, **request) -> list[dict]:
    graded = project.grade({"calls": calls(*rows)}, dashboard="board", **request)
    return graded.table.sort("team", "__grain").to_dicts()


def test_statuses_by_threshold_and_no_data(project):
    rows = graded_rows(project, ("a", 0, 10.0, True), ("b", 0, 45.0, True), ("c", 0, 90.0, True), ("d", 0, None, True))
    assert [r["asa__status"] for r in rows] == ["ok", "warn", "fail", "no_data"]
    assert [r["asa__threshold"] for r in rows] == [None, "> 30s", "> 60s", None]


def test_below_min_n_is_no_data(project):
    frame = calls(("a", 0, 90.0, True)).head(1)
    graded = project.grade({"calls": frame}, dashboard="board")
    assert graded.table["asa__status"].to_list() == ["no_data"]


def test_segment_and_dated_overrides(project):
    rows = graded_rows(project, ("vip", 0, 15.0, True), ("a", 0, 25.0, True), ("a", 1, 25.0, True))
    assert [(r["team"], str(r["__grain"]), r["asa__status"]) for r in rows] == [
        ("a", "2026-01-05", "ok"),
        ("a", "2026-01-12", "warn"),
        ("vip", "2026-01-05", "warn"),
        ("vip", "2026-01-12", "no_data"),  # every team has every week
    ]


@settings(max_examples=40, deadline=None)
@given(st.floats(0, 200), st.floats(0, 200))
def test_a_worse_value_never_has_a_better_status(project, first, second):
    better, worse = sorted([first, second])  # asa: lower is better
    rows = graded_rows(project, ("a", 0, better, True), ("b", 0, worse, True))
    assert RANK[rows[0]["asa__status"]] <= RANK[rows[1]["asa__status"]]


def test_rules_compare_with_the_previous_period_and_format_their_message(project):
    graded = project.grade(
        {"calls": calls(("a", 0, 20.0, True), ("a", 1, 30.0, True), ("a", 3, 40.0, True))}, dashboard="board"
    )
    fired = [f for f in findings(project.model, graded) if f.name == "slower"]
    # Week 3 follows a gap: it has no previous period, so only week 1 fires.
    assert [(f.period, message(f)) for f in fired] == [("2026-W03", "a: waits +50.0% to 30s")]


def test_project_check_gives_findings_with_their_messages(project):
    data = {"calls": calls(("a", 0, 20.0, True), ("a", 1, 30.0, True))}
    found = project.check(data, dashboard="board")
    assert [(f.name, f.message) for f in found if f.name == "slower"] == [("slower", "a: waits +50.0% to 30s")]
    assert all(f.message == message(f) for f in found)


def test_a_value_holding_braces_is_not_filled_in_as_a_placeholder(project):
    data = {"calls": calls(("{asa}", 0, 20.0, True), ("{asa}", 1, 30.0, True))}
    fired = [f for f in project.check(data, dashboard="board") if f.name == "slower"]
    assert [f.message for f in fired] == ["{asa}: waits +50.0% to 30s"]


def test_a_rule_with_a_warning_is_still_graded(tmp_path):
    # `asa > 10` compares seconds with a bare number: a warning (MD206), not an error.
    (tmp_path / "spec.yaml").write_text(SPEC.replace("when: asa > 25s", "when: asa > 25"))
    project = metricdsl.load(tmp_path)
    assert [d.code for d in project.diagnostics] == ["MD206"]
    graded = project.grade({"calls": calls(("a", 0, 26.0, True), ("a", 1, 27.0, True))}, dashboard="board")
    fired = [f for f in findings(project.model, graded) if f.name == "slow_twice"]
    assert [f.period for f in fired] == ["2026-W03"]


def test_for_n_periods_needs_consecutive_periods(project):
    graded = project.grade(
        {
            "calls": calls(
                ("a", 0, 26.0, True), ("a", 1, 27.0, True), ("a", 2, 10.0, True), ("a", 3, 26.0, True), ("a", 5, 26.0, True)
            )
        },
        dashboard="board",
    )
    fired = [f.period for f in findings(project.model, graded) if f.name == "slow_twice"]
    assert fired == ["2026-W03"]


def test_scores_renormalise_weights_and_a_failing_critical_item_caps(project):
    graded = project.grade(
        {"calls": calls(("a", 0, 30.0, True), ("b", 0, 90.0, True), ("c", 0, None, None))}, dashboard="board"
    )
    by_team = {s.group["team"]: s for s in scores(graded)}
    assert by_team["a"].score == pytest.approx((50 * 1 + 100 * 3) / 4)
    assert by_team["b"].capped
    assert by_team["b"].score == pytest.approx(50.0)  # 75 capped at 50
    assert by_team["c"].score is None
    assert all(i.points is None for i in by_team["c"].items)


def test_a_range_of_periods_grades_its_first_period_against_the_one_before(project):
    """`--from` grades fewer periods, never otherwise: `prev()` and `for: N periods` of the range's first period
    read the periods before it, which are not graded themselves."""
    data = {"calls": calls(("a", 0, 20.0, True), ("a", 1, 30.0, True), ("a", 2, 40.0, True))}
    start = (MONDAY + timedelta(weeks=2)).date()  # W04
    graded = project.grade(data, dashboard="board", start=start)
    assert graded.table["asa"].to_list() == [40.0]
    fired = [(f.name, f.period, message(f)) for f in findings(project.model, graded) if f.kind == "rule"]
    # W04 after W03: 30 s to 40 s (+33.3 %), and past 25 s two weeks in a row.
    assert sorted(fired) == [("slow_twice", "2026-W04", "slow_twice"), ("slower", "2026-W04", "a: waits +33.3% to 40s")]
    everything = project.grade(data, dashboard="board")
    assert [f for f in findings(project.model, everything) if f.period == "2026-W04"] == findings(project.model, graded)
    # A range that starts before the data grades its empty periods too, and nothing fires there.
    earlier = project.grade(data, dashboard="board", start=(MONDAY - timedelta(weeks=1)).date())
    assert earlier.table["asa"].to_list() == [None, 20.0, 30.0, 40.0]


def test_every_format_of_check_says_what_was_not_graded(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    calls(("a", 0, 40.0, True)).write_csv(tmp_path / "calls.csv")
    arguments = ["check", str(tmp_path / "spec.yaml"), "--data", f"calls={tmp_path / 'calls.csv'}", "--metrics", "asa"]
    text = CliRunner().invoke(main, arguments).stdout
    assert "not graded: slow_twice: `for: 2 periods` needs a grain" in text
    markdown = CliRunner().invoke(main, [*arguments, "--format", "markdown"]).stdout
    assert "not graded: slow\\_twice: \\`for: 2 periods\\` needs a grain" in markdown
    github = CliRunner().invoke(main, [*arguments, "--format", "github"]).stdout
    assert "::notice title=not graded::slow_twice: `for: 2 periods` needs a grain" in github
    document = json.loads(CliRunner().invoke(main, [*arguments, "--format", "json"]).stdout)
    assert document["skipped"] == {"slow_twice": "`for: 2 periods` needs a grain"}


def test_a_value_on_the_floor_of_a_lower_is_better_item_scores_0_not_minus_0(project):
    graded = project.grade({"calls": calls(("a", 0, 60.0, True), ("b", 0, 30.0, True))}, dashboard="board")
    score = next(s for s in scores(graded) if s.group["team"] == "a")
    points = {i.metric: i.points for i in score.items}["asa"]
    assert points == 0.0
    assert math.copysign(1.0, points) == 1.0  # (60 - 60) / (0 - 60) is -0.0: printed "-0"
    assert "asa -0" not in as_text(report(project.model, graded))


@settings(max_examples=40, deadline=None)
@given(st.floats(-1e6, 1e6), st.booleans())
def test_scores_stay_between_0_and_100(project, wait, ok):
    graded = project.grade({"calls": calls(("a", 0, abs(wait), ok))}, dashboard="board")
    (score,) = scores(graded)
    assert score.score is None or 0 <= score.score <= 100


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (432.0, "s", "7m 12s"),
        (45.25, "s", "45.2s"),
        (3725.0, "s", "1h 02m"),
        (0.4123, "ratio", "41.2%"),
        (41.24, "points", "41.2"),
        (1234.5, "EUR", "1,234.5 EUR"),
        (None, "s", "n/a"),
    ],
)
def test_values_are_formatted_by_unit(value, unit, text):
    assert format_value(value, unit) == text


def test_history_feeds_prev_and_a_rerun_replaces_its_period(project, tmp_path):
    history = tmp_path / "history.parquet"
    first = project.grade({"calls": calls(("a", 0, 20.0, True))}, dashboard="board", history=history)
    assert write_history(history, first) == 1
    second = project.grade({"calls": calls(("a", 1, 30.0, True))}, dashboard="board", history=history)
    assert [message(f) for f in findings(project.model, second) if f.name == "slower"] == ["a: waits +50.0% to 30s"]
    assert write_history(history, second) == 2
    again = project.grade({"calls": calls(("a", 1, 10.0, True))}, dashboard="board", history=history)
    assert write_history(history, again) == 2
    assert pl.read_parquet(history).sort("__grain")["asa"].to_list() == [20.0, 10.0]


def test_check_says_how_many_rows_the_history_holds(project, tmp_path):
    data, spec, history = tmp_path / "calls.parquet", tmp_path / "spec.yaml", tmp_path / "history.parquet"
    calls(("a", 0, 20.0, True), ("b", 0, 20.0, True)).write_parquet(data)
    spec.write_text(SPEC)
    result = CliRunner().invoke(main, ["check", str(spec), "--data", f"calls={data}", "--history", str(history)])
    assert result.exit_code == 0
    assert result.stderr == f"history: {history} holds 2 rows\n"


def test_a_failed_history_write_leaves_the_file_whole(project, tmp_path, monkeypatch):
    history = tmp_path / "history.parquet"
    write_history(history, project.grade({"calls": calls(("a", 0, 20.0, True))}, dashboard="board"))
    before = history.read_bytes()

    def crash(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pl.DataFrame, "write_parquet", crash)
    with pytest.raises(KeyboardInterrupt):
        write_history(history, project.grade({"calls": calls(("a", 1, 20.0, True))}, dashboard="board"))
    assert history.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.parquet", "history.parquet.lock"]  # no temporary file


def test_check_exits_1_on_a_fail_and_prints_every_format(project, tmp_path):
    data = tmp_path / "calls.parquet"
    calls(("a", 0, 90.0, True), ("b", 0, 45.0, False)).write_parquet(data)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    base = ["check", str(spec), "--data", f"calls={data}"]
    result = CliRunner().invoke(main, base)
    assert result.exit_code == 1
    assert "a: asa is 1m 30s, past the fail threshold (> 1m 00s)" in result.stdout
    report = json.loads(CliRunner().invoke(main, [*base, "--format", "json"]).stdout)
    assert report["schema"] == "metricdsl-findings/1"
    assert {(f["name"], f["status"], f["group"]["team"]) for f in report["findings"]} == {
        ("asa", "fail", "a"),
        ("asa", "warn", "b"),
    }
    assert report["scores"][0]["items"][0] == {"metric": "asa", "value": 90.0, "points": 0.0, "weight": 1.0}
    markdown = CliRunner().invoke(main, [*base, "--format", "markdown"]).stdout
    assert "| fail | 2026-W02 | a | asa |" in markdown
    github = CliRunner().invoke(main, [*base, "--format", "github"]).stdout
    assert f"::error file={spec},line=" in github
    only_warn = tmp_path / "warn.parquet"
    calls(("b", 0, 45.0, True)).write_parquet(only_warn)
    assert CliRunner().invoke(main, ["check", str(spec), "--data", f"calls={only_warn}"]).exit_code == 0
    assert CliRunner().invoke(main, ["check", str(spec), "--data", f"calls={only_warn}", "--fail-on", "warn"]).exit_code == 1


def test_cost_over_loyalty_fires_when_handle_time_falls_and_repeats_rise_significantly():
    from conftest import SPECS, frame

    library = metricdsl.load(SPECS)
    week1, week2 = datetime(2026, 1, 5, 9), datetime(2026, 1, 12, 9)
    rows = [
        {
            "team": "north",
            "customer_id": c,
            "started_at": week1,
            "answered": True,
            "talk_s": 600.0,
            "hold_s": 0.0,
            "wrap_s": 0.0,
        }
        for c in range(40)
    ]
    rows += [
        {
            "team": "north",
            "customer_id": 100 + c,
            "started_at": week2,
            "answered": True,
            "talk_s": 300.0,
            "hold_s": 0.0,
            "wrap_s": 0.0,
        }
        for c in range(40)
    ]
    # Every week-2 customer comes back two days later: repeat rate 0 % → 100 % (the callbacks are in week 2 too).
    rows += [
        {
            "team": "north",
            "customer_id": 100 + c,
            "started_at": week2 + timedelta(days=2),
            "answered": True,
            "talk_s": 300.0,
            "hold_s": 0.0,
            "wrap_s": 0.0,
        }
        for c in range(40)
    ]
    graded = library.grade(
        {"interactions": frame(library, "interactions", rows), "orders": frame(library, "orders", [])},
        dashboard="service_2_0",
        as_of=week2 + timedelta(days=14),  # the data is complete: no repeat window is pending
    )
    fired = [f for f in findings(library.model, graded) if f.name == "cost_over_loyalty"]
    assert [(f.period, f.severity) for f in fired] == [("2026-W03", "warn")]
    assert message(fired[0]) == "north: handle time -50.0% to 5m 00s while effort (n/a) or repeat contacts (50.0%) rose"


def test_spec_tests_assert_statuses_scores_and_findings(tmp_path):
    from metricdsl.tools.spectest import run_tests

    (tmp_path / "spec.yaml").write_text(
        SPEC
        + """\
tests:
  - name: right
    by: [team]
    scorecard: card
    given: {calls: [{team: a, wait_s: 45, ok: true, started_at: 2026-01-05T09:00:00},
                    {team: a, wait_s: 45, ok: true, started_at: 2026-01-05T09:00:00}]}
    expect: [{team: a, asa.status: warn, card.score: 81.25, card.asa.points: 25}]
    findings: [asa]
  - name: wrong
    by: [team]
    scorecard: card
    given: {calls: [{team: a, wait_s: 45, ok: true, started_at: 2026-01-05T09:00:00}]}
    expect: [{team: a, asa.status: ok, card.score: 10}]
    findings: [slower]
"""
    )
    outcomes = run_tests(metricdsl.load(tmp_path))
    assert [[failure_text(f) for f in o.failures] for o in outcomes] == [
        [],
        [
            "expected finding `slower` did not fire",
            "asa.status (team=a): expected ok, got no_data",
            "card.score (team=a): expected 10, got 100.0",
        ],
    ]


def test_spec_test_failures_are_records_written_as_sentences(tmp_path):
    from metricdsl.tools.spectest import Failure, run_tests

    (tmp_path / "spec.yaml").write_text(
        SPEC
        + """\
tests:
  - name: every way to fail
    by: [team]
    given: {calls: [{team: a, wait_s: 45, started_at: 2026-01-05T09:00:00},
                    {team: a, wait_s: 45, started_at: 2026-01-05T09:00:00},
                    {team: b, wait_s: 5, started_at: 2026-01-05T09:00:00}]}
    expect: [{team: a, asa: 40}, {team: c, asa: 1}]
    findings: [slower]
  - name: no group keys
    ignore_min_n: true
    given: {calls: [{wait_s: 45, started_at: 2026-01-05T09:00:00}]}
    expect: {asa: null}
  - name: unknown source
    given: {phones: [{x: 1}]}
    expect: {asa: 1}
"""
    )
    outcomes = run_tests(metricdsl.load(tmp_path))
    assert outcomes[0].failures[2] == Failure("wrong_value", name="asa", group={"team": "a"}, expected=40, actual=45.0)
    assert outcomes[0].failures[3] == Failure("no_group", group={"team": "c"}, groups=({"team": "a"}, {"team": "b"}))
    assert [[failure_text(f) for f in o.failures] for o in outcomes] == [
        [
            "expected finding `slower` did not fire",
            "unexpected finding `asa`",
            "asa (team=a): expected 40, got 45.0",
            "no group team=c; groups found: team=a; team=b",
        ],
        ["asa: expected None, got 45.0"],
        ["unknown source `phones` in `given`"],
    ]


def test_what_is_not_graded_is_a_record_written_as_a_sentence(tmp_path):
    (tmp_path / "spec.yaml").write_text(
        """\
sources:
  calls: {time: started_at, columns: {team: str, started_at: datetime, wait_s: {type: float, unit: s}}}
  orders: {time: ordered_at, columns: {ordered_at: datetime, amount: float}}
metrics:
  asa: {expr: mean(wait_s), unit: s, better: lower}
  revenue: {expr: sum(amount), better: higher}
targets:
  revenue: {warn: "< 10"}
rules:
  slow_and_poor: {when: asa > 10s and revenue < 100, severity: warn}
  slow_twice: {when: asa > 10s, for: 2 periods, severity: warn}
"""
    )
    project = metricdsl.load(tmp_path)
    data = {
        "calls": pl.DataFrame({"team": ["a"], "started_at": [MONDAY], "wait_s": [40.0]}),
        "orders": pl.DataFrame({"ordered_at": [MONDAY], "amount": [4.0]}),
    }
    graded = project.grade(data, metrics=["asa"], by=["team"])
    assert graded.skipped == {
        "revenue": Skipped("target_metric_not_computed", metric="revenue"),
        "slow_and_poor": Skipped("metric_not_computed", metric="revenue"),
        "slow_twice": Skipped("needs_grain", periods=2),
    }
    graded_report = report(project.model, graded)
    sentences = {
        "revenue": "its metric is not computed for these dimensions",
        "slow_and_poor": "metric `revenue` is not computed for these dimensions",
        "slow_twice": "`for: 2 periods` needs a grain",
    }
    assert json.loads(as_json(graded_report))["skipped"] == sentences
    assert [line for line in as_text(graded_report).splitlines() if line.startswith("not graded")] == [
        f"not graded: {name}: {why}" for name, why in sentences.items()
    ]
