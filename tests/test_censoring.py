"""Windows at the edge of the data are censored, and periods form a spine (DESIGN.md §4a), with values by hand."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import metricdsl
from metricdsl.cli import main
from metricdsl.engine.columns import graded_column, hidden, points_column
from metricdsl.grading.findings import findings, report
from metricdsl.grading.history import write_history
from metricdsl.render.findings import pending_text

SPEC = """
sources:
  contacts:
    time: at
    entities: {customer: customer_id}
    columns: {customer_id: int, team: str, at: datetime, answered: bool}
    derive:
      repeat: followed_by(contacts, 7d)
  orders:
    time: ordered_at
    complete_until: 2026-02-10T00:00:00
    entities: {customer: customer_id}
    columns: {customer_id: int, ordered_at: datetime}
metrics:
  contacts_n: {source: contacts, expr: count()}
  answered_share: {source: contacts, expr: share(answered)}
  repeat_rate: {source: contacts, expr: share(repeat)}
  answered_repeat: {source: contacts, expr: share(repeat where answered)}
  before: {source: contacts, expr: 'share(preceded_by(contacts, 7d))'}
  rebuy: {source: contacts, expr: 'share(followed_by(orders, 7d))'}
  repeats_per_contact: {expr: repeat_rate / contacts_n}
targets:
  repeat_rate: {warn: "> 0.4"}
rules:
  many_repeats:
    when: repeat_rate > 0.4
    severity: warn
    message: "{team}: repeats {repeat_rate}"
scorecards:
  card:
    items:
      repeat_rate: {weight: 1, floor: 1, ceiling: 0}
      contacts_n: {weight: 1, floor: 0, ceiling: 10}
"""

T0 = datetime.datetime(2026, 1, 5, 8)  # a Monday: 2026-W02
DAY, WEEK = datetime.timedelta(days=1), datetime.timedelta(days=7)
# r1 is followed by r2 (same customer, a day later); the data ends at r3, exactly a week after r1.
CONTACTS = [
    {"customer_id": 1, "team": "a", "at": T0, "answered": True},
    {"customer_id": 1, "team": "a", "at": T0 + DAY, "answered": False},
    {"customer_id": 2, "team": "a", "at": T0 + WEEK, "answered": True},
]
ORDERS = [{"customer_id": 1, "ordered_at": T0 + 2 * DAY}]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    path = tmp_path_factory.mktemp("censoring") / "spec.yaml"
    path.write_text(SPEC)
    return metricdsl.load(path)


def data(contacts: list[dict[str, object]] = CONTACTS) -> dict[str, pl.DataFrame]:
    return {
        "contacts": pl.DataFrame(
            contacts, schema={"customer_id": pl.Int64, "team": pl.String, "at": pl.Datetime("us"), "answered": pl.Boolean}
        ),
        "orders": pl.DataFrame(ORDERS, schema={"customer_id": pl.Int64, "ordered_at": pl.Datetime("us")}),
    }


def rows(project: metricdsl.Project, metrics: list[str], **request: object) -> list[dict[str, object]]:
    return project.evaluate(data(), metrics=metrics, **request).to_dicts()  # type: ignore[arg-type]


def test_a_window_that_ends_on_the_horizon_is_known_and_one_past_it_unknown(project: metricdsl.Project) -> None:
    # r1's week ends on the latest time (known: true), r2's and r3's reach past it (unknown): the share is over r1.
    assert rows(project, ["repeat_rate", "contacts_n"]) == [{"repeat_rate": 1.0, "contacts_n": 3, "provisional": True}]
    assert rows(project, ["repeat_rate"], grain="week") == [
        {"week": "2026-W02", "repeat_rate": 1.0, "provisional": True},  # r2 is censored
        {"week": "2026-W03", "repeat_rate": None, "provisional": True},
    ]


def test_only_rows_an_aggregate_keeps_make_it_pending(project: metricdsl.Project) -> None:
    # r2 is censored but not answered: `share(repeat where answered)` of W02 is final.
    assert rows(project, ["answered_repeat"], grain="week") == [
        {"week": "2026-W02", "answered_repeat": 1.0, "provisional": False},
        {"week": "2026-W03", "answered_repeat": None, "provisional": True},
    ]


def test_a_metric_of_metrics_is_pending_with_the_metric_it_uses(project: metricdsl.Project) -> None:
    graded = project.grade(data(), metrics=["repeats_per_contact"], grain="week").table
    assert graded.select("repeats_per_contact", "__pending_repeats_per_contact", "__pending_contacts_n").rows() == [
        (0.5, True, False),
        (None, True, False),
    ]


def test_preceded_by_is_unknown_before_the_first_time(project: metricdsl.Project) -> None:
    # r1 and r2 look back before the first time (r1): unknown; r3 looks back exactly to it: known, and false.
    assert rows(project, ["before"]) == [{"before": 0.0, "provisional": True}]


def test_complete_until_is_the_horizon_and_as_of_overrides_it(project: metricdsl.Project) -> None:
    # The orders are complete until 2026-02-10: r1 and r2 are followed by the order two days after r1, r3 is not.
    assert rows(project, ["rebuy"]) == [{"rebuy": pytest.approx(2 / 3), "provisional": False}]
    # As of r3's time, only r1's week is complete.
    assert rows(project, ["rebuy"], as_of=T0 + WEEK) == [{"rebuy": 1.0, "provisional": True}]
    assert rows(project, ["rebuy"], as_of=T0 + WEEK - datetime.timedelta(microseconds=1)) == [
        {"rebuy": None, "provisional": True}
    ]


def test_as_of_after_the_data_makes_every_window_known(project: metricdsl.Project) -> None:
    later = T0 + 3 * WEEK  # the data is complete until then: no repeat after r2 or r3 is a known false
    assert rows(project, ["repeat_rate"], grain="week", as_of=later) == [
        {"week": "2026-W02", "repeat_rate": 0.5, "provisional": False},
        {"week": "2026-W03", "repeat_rate": 0.0, "provisional": False},
    ]


def test_as_of_without_an_offset_is_local_time_of_each_source(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("    time: at\n", "    time: at\n    timezone: Europe/Berlin\n", 1))
    berlin = metricdsl.load(path)
    # 09:00 in Berlin is r3's time (08:00 UTC) as the naive data are local there too: r1's week is complete.
    found = berlin.evaluate(data(), metrics=["repeat_rate"], as_of=T0 + WEEK).to_dicts()
    assert found == [{"repeat_rate": 1.0, "provisional": True}]
    aware = (T0 + WEEK - datetime.timedelta(hours=1)).replace(tzinfo=datetime.timezone.utc)  # r3's time in UTC
    assert berlin.evaluate(data(), metrics=["repeat_rate"], as_of=aware).to_dicts() == found


SPREAD = [
    {"customer_id": 1, "team": "a", "at": T0, "answered": True},  # W02
    {"customer_id": 2, "team": "a", "at": T0 + 2 * WEEK, "answered": False},  # W04
    {"customer_id": 3, "team": "b", "at": T0 + WEEK, "answered": True},  # W03
]


def test_every_group_has_every_period(project: metricdsl.Project) -> None:
    table = project.evaluate(data(SPREAD), metrics=["contacts_n", "answered_share"], by=["team"], grain="week")
    assert table.rows() == [
        ("a", "2026-W02", 1, 1.0),
        ("a", "2026-W03", 0, None),
        ("a", "2026-W04", 1, 0.0),
        ("b", "2026-W02", 0, None),
        ("b", "2026-W03", 1, 1.0),
        ("b", "2026-W04", 0, None),
    ]
    # Without a grain, nothing is added.
    assert project.evaluate(data(SPREAD), metrics=["contacts_n"], by=["team"]).rows() == [("a", 2), ("b", 1)]


def test_the_compiled_query_gives_the_table_that_evaluate_gives(project: metricdsl.Project) -> None:
    # `evaluate()` collects the aggregated groups first, then completes the periods and computes the metrics from
    # them; `compile()` is one lazy plan of both. The contacts' horizon is a's W04 contact: its repeat is censored.
    request: dict[str, object] = {"metrics": ["contacts_n", "repeat_rate", "rebuy"], "by": ["team"], "grain": "week"}
    table = project.evaluate(data(SPREAD), **request)  # type: ignore[arg-type]
    assert table.rows() == [
        ("a", "2026-W02", 1, 0.0, 1.0, False),
        ("a", "2026-W03", 0, None, None, False),
        ("a", "2026-W04", 1, None, 0.0, True),
        ("b", "2026-W02", 0, None, None, False),
        ("b", "2026-W03", 1, 0.0, 0.0, False),
        ("b", "2026-W04", 0, None, None, False),
    ]
    assert project.compile(data(SPREAD), **request).collect().equals(table)  # type: ignore[arg-type]


def test_the_range_of_periods_can_be_given(project: metricdsl.Project) -> None:
    table = project.evaluate(
        data(SPREAD),
        metrics=["contacts_n"],
        by=["team"],
        grain="week",
        start=datetime.date(2026, 1, 1),  # a Thursday of 2026-W01
        end=datetime.date(2026, 1, 12),  # the Monday of 2026-W03
    )
    assert table.rows() == [
        ("a", "2026-W01", 0),
        ("a", "2026-W02", 1),
        ("a", "2026-W03", 0),
        ("b", "2026-W01", 0),
        ("b", "2026-W02", 0),
        ("b", "2026-W03", 1),
    ]
    with pytest.raises(metricdsl.RequestError, match="needs a grain"):
        project.evaluate(data(SPREAD), metrics=["contacts_n"], start=datetime.date(2026, 1, 1))


def test_the_spine_of_months_crosses_the_year(project: metricdsl.Project) -> None:
    dates = [datetime.datetime(2025, 11, 30), datetime.datetime(2026, 2, 1)]
    contacts = [{"customer_id": 1, "team": "a", "at": at, "answered": True} for at in dates]
    table = project.evaluate(data(contacts), metrics=["contacts_n"], grain="month")
    assert table.rows() == [("2025-11", 1), ("2025-12", 0), ("2026-01", 0), ("2026-02", 1)]


def test_pending_values_are_not_graded(project: metricdsl.Project) -> None:
    graded = project.grade(data(), by=["team"], grain="week", scorecard="card").table
    # W02's repeat rate (1.0) is past the threshold but pending: no status, no rule, not in the score (which is
    # the two contacts' 20 points alone).
    assert graded[graded_column("repeat_rate", "status")].to_list() == ["pending", "pending"]
    assert graded[graded_column("many_repeats", "fires")].to_list() == [False, False]
    assert graded[points_column("card", "repeat_rate")].to_list() == [None, None]
    assert graded[graded_column("card", "score")].to_list() == [20.0, 10.0]
    # Complete (as of three weeks later), W02's repeat rate of 0.5 warns and fires.
    later = project.grade(data(), by=["team"], grain="week", as_of=T0 + 3 * WEEK).table
    assert later[graded_column("repeat_rate", "status")].to_list() == ["warn", "ok"]
    assert later[graded_column("many_repeats", "fires")].to_list() == [True, False]


def test_a_pending_value_stays_pending_in_the_history(tmp_path: Path) -> None:
    """A later run's rules do not compare with an earlier run's pending value, nor count it for `for: N periods`."""
    rule = "  fewer:\n    when: repeat_rate < prev(repeat_rate)\n    severity: warn\n    message: fewer\n"
    rule += "  known_twice:\n    when: repeat_rate >= 0\n    for: 2 periods\n    severity: info\n    message: two\n"
    (tmp_path / "spec.yaml").write_text(SPEC.replace("rules:\n", "rules:\n" + rule))
    project = metricdsl.load(tmp_path / "spec.yaml")
    history = tmp_path / "history.parquet"
    # W03: the first contact's repeat is seen; the second's window ends a second after the data is complete.
    first = [{"customer_id": 1, "team": "a", "at": T0 + WEEK + d * DAY, "answered": True} for d in (0, 1)]
    graded = project.grade(data(first), by=["team"], grain="week", history=history, as_of=T0 + 2 * WEEK)
    assert graded.table.select("repeat_rate", hidden("pending", "repeat_rate")).rows() == [(1.0, True)]
    write_history(history, graded)
    # W04, complete: no repeats. Its previous period is W03's pending 1.0: neither rule holds on it.
    second = [{"customer_id": c, "team": "a", "at": T0 + 2 * WEEK + c * DAY, "answered": True} for c in (5, 6)]
    later = project.grade(data(second), by=["team"], grain="week", history=history, as_of=T0 + 6 * WEEK)
    assert later.table.select("repeat_rate", hidden("pending", "repeat_rate")).rows() == [(0.0, False)]
    assert [f.name for f in findings(project.model, later) if f.kind == "rule"] == []
    # Graded again once W03 is complete, the history holds its settled value, and both rules hold in W04.
    settled = project.grade(data(first), by=["team"], grain="week", history=history, as_of=T0 + 6 * WEEK)
    write_history(history, settled)
    again = project.grade(data(second), by=["team"], grain="week", history=history, as_of=T0 + 6 * WEEK)
    assert sorted(f.name for f in findings(project.model, again) if f.kind == "rule") == ["fewer", "known_twice"]


def test_a_rule_does_not_compare_with_a_pending_previous_period(project: metricdsl.Project, tmp_path: Path) -> None:
    """`preceded_by` leaves the first periods pending: the next period's `prev()` reads a value that may change."""
    rule = "  more_returns:\n    when: before > prev(before)\n    severity: warn\n    message: more\n"
    (tmp_path / "spec.yaml").write_text(SPEC.replace("rules:\n", "rules:\n" + rule))
    looking_back = metricdsl.load(tmp_path / "spec.yaml")
    contacts = [
        {"customer_id": 1, "team": "a", "at": T0 - DAY, "answered": True},  # W01, the first contact: unknown
        {"customer_id": 1, "team": "a", "at": T0, "answered": True},  # W02: its week reaches before the first
        {"customer_id": 2, "team": "a", "at": T0 + 6 * DAY, "answered": True},  # W02: no contact in the week before
        {"customer_id": 2, "team": "a", "at": T0 + WEEK, "answered": True},  # W03: a contact a day before
        {"customer_id": 1, "team": "a", "at": T0 + WEEK + DAY, "answered": True},  # W03: none in the week before
    ]
    graded = looking_back.grade(data(contacts), by=["team"], grain="week", as_of=T0 + 4 * WEEK)
    assert graded.table.select("before", hidden("pending", "before")).rows() == [(None, True), (0.0, True), (0.5, False)]
    # W03's 0.5 is above W02's 0.0, which is pending: the rule does not hold.
    assert [f.name for f in findings(looking_back.model, graded) if f.name == "more_returns"] == []


def test_check_says_which_periods_are_pending(project: metricdsl.Project, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    frames = data()
    for name, frame in frames.items():
        frame.write_csv(tmp_path / f"{name}.csv")
    arguments = ["check", str(spec), "--data", f"contacts={tmp_path / 'contacts.csv'}"]
    arguments += ["--data", f"orders={tmp_path / 'orders.csv'}", "--grain", "week", "--metrics", "repeat_rate"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert "pending: 2 periods (2026-W02, 2026-W03) of repeat_rate:" in result.output
    assert "0 fail, 0 warn, 0 info findings" in result.output
    later = CliRunner().invoke(main, [*arguments, "--as-of", "2026-01-26T08:00"])
    assert "pending" not in later.output
    assert "0 fail, 2 warn, 0 info findings" in later.output  # the target and the rule, in W02
    wrong = CliRunner().invoke(main, [*arguments, "--as-of", "soon"])
    assert wrong.exit_code == 2
    assert "is not a datetime" in wrong.output


def test_every_format_of_check_says_which_periods_are_pending(project: metricdsl.Project, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    for name, frame in data().items():
        frame.write_csv(tmp_path / f"{name}.csv")
    arguments = ["check", str(spec), "--data", f"contacts={tmp_path / 'contacts.csv'}"]
    arguments += ["--data", f"orders={tmp_path / 'orders.csv'}", "--grain", "week", "--metrics", "repeat_rate"]
    document = json.loads(CliRunner().invoke(main, [*arguments, "--format", "json"]).stdout)
    assert {k: v for k, v in document["pending"].items() if k != "message"} == {
        "count": 2,
        "periods": ["2026-W02", "2026-W03"],
        "metrics": ["repeat_rate"],
        "edges": ["end"],
    }
    assert document["pending"]["message"].startswith("pending: 2 periods (2026-W02, 2026-W03) of repeat_rate:")
    markdown = CliRunner().invoke(main, [*arguments, "--format", "markdown"]).stdout
    assert "pending: 2 periods (2026-W02, 2026-W03) of repeat\\_rate:" in markdown
    github = CliRunner().invoke(main, [*arguments, "--format", "github"]).stdout
    assert "::notice title=pending::pending: 2 periods (2026-W02, 2026-W03) of repeat_rate:" in github
    later = CliRunner().invoke(main, [*arguments, "--format", "json", "--as-of", "2026-01-26T08:00"]).stdout
    assert json.loads(later)["pending"] is None


def test_check_says_why_a_look_back_is_pending(project: metricdsl.Project, tmp_path: Path) -> None:
    """A `preceded_by` is cut at the start of the data, not at its end: the reason says so."""
    (tmp_path / "spec.yaml").write_text(SPEC[: SPEC.index("targets:")])  # no target reads `repeat_rate`
    alone = metricdsl.load(tmp_path / "spec.yaml")
    found = report(alone.model, alone.grade(data(), by=["team"], grain="week", metrics=["before"])).pending
    assert found is not None
    # W02's two contacts look back before the first one; W03's, exactly a week after it, does not.
    assert (found.rows, found.periods, found.metrics, found.edges) == (1, ("2026-W02",), ("before",), ("start",))
    assert pending_text(found) == (
        "pending: 1 period (2026-W02) of before: their windows reach before the start of the data "
        "(a source's first time), so they are not graded yet"
    )
    both = report(project.model, project.grade(data(), by=["team"], grain="week", metrics=["before"])).pending
    assert both is not None
    assert (both.metrics, both.edges) == (("repeat_rate", "before"), ("end", "start"))
    assert "past the end of the data (a source's `complete_until`, its latest time, or --as-of) or before the start" in (
        pending_text(both)
    )


def test_without_a_grain_pending_groups_are_counted_as_groups(project: metricdsl.Project) -> None:
    found = report(project.model, project.grade(data(), by=["team"], metrics=["repeat_rate"])).pending
    assert found is not None
    assert pending_text(found).startswith("pending: 1 group of repeat_rate: their windows reach past the end")


def test_eval_writes_the_provisional_flag(project: metricdsl.Project, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    for name, frame in data().items():
        frame.write_csv(tmp_path / f"{name}.csv")
    output = tmp_path / "out.parquet"
    arguments = ["eval", str(spec), "--data", f"contacts={tmp_path / 'contacts.csv'}", "--metrics", "repeat_rate"]
    arguments += ["--data", f"orders={tmp_path / 'orders.csv'}", "--grain", "week", "--output", str(output)]
    result = CliRunner().invoke(main, [*arguments, "--from", "2026-01-12"])
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(output).rows() == [("2026-W03", None, True)]


def test_complete_until_must_be_a_datetime(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("complete_until: 2026-02-10T00:00:00", "complete_until: soon"))
    with pytest.raises(metricdsl.SpecError) as error:
        metricdsl.load(path)
    [diagnostic] = error.value.diagnostics
    assert (diagnostic.code, diagnostic.message) == ("MD006", "`complete_until: soon` is not a datetime")


def calls_by_team(folder: Path) -> None:
    """A spec counting the calls of `calls.csv` (team, at) in `folder`."""
    (folder / "spec.yaml").write_text(
        "sources:\n  calls:\n    path: calls.csv\n    time: at\n    columns: {team: str, at: datetime}\n"
        "metrics:\n  calls: {expr: count(), source: calls}\n"
    )


def test_a_mistyped_year_is_a_data_error_not_millions_of_empty_periods(tmp_path: Path) -> None:
    calls_by_team(tmp_path)
    (tmp_path / "calls.csv").write_text("team,at\nnorth,2026-01-05T09:00\nsouth,0206-01-05T09:00\nsouth,2026-01-06T09:00\n")
    result = CliRunner().invoke(main, ["eval", str(tmp_path / "spec.yaml"), "--by", "team", "--grain", "day"])
    assert result.exit_code == 2
    assert result.stderr == (  # 2026-01-06 - 0206-01-05 is 664,743 days
        "error: complete periods by day from 0206-01-05 to 2026-01-06 would be 664,744 periods for each of 2 groups: "
        "look for times far from the others in the data (a mistyped year?), or ask for a coarser grain\n"
    )
    by_year = CliRunner().invoke(main, ["eval", str(tmp_path / "spec.yaml"), "--by", "team", "--grain", "year"])
    assert by_year.exit_code == 0, by_year.stderr  # 1,821 years for each team: complete periods are filled in


def test_a_year_before_year_1_is_a_data_error_too(tmp_path: Path) -> None:
    calls_by_team(tmp_path)
    (tmp_path / "calls.csv").write_text("team,at\nnorth,2026-01-05T09:00\nsouth,-026-01-14T15:00\n")
    result = CliRunner().invoke(main, ["eval", str(tmp_path / "spec.yaml"), "--by", "team", "--grain", "day"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: complete periods by day from -0026-01-14 to 2026-01-05 would be ")
