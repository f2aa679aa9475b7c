"""Formatting by unit: values, changes and thresholds; `eval`'s table for a reader; `check`'s overview, its findings
shown once, and its GitHub annotations capped."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from conftest import SPECS
from metricdsl import cli
from metricdsl.project import load
from metricdsl.render import tables
from metricdsl.render.findings import GITHUB_ANNOTATIONS_PER_LEVEL
from metricdsl.render.values import format_change, format_threshold, format_value, settled, threshold_bound, threshold_text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (550.0, "s", "9m 10s"),
        (45.0, "s", "45s"),  # whole seconds without `.0`
        (45.25, "s", "45.2s"),
        (0.0, "s", "0s"),
        (-90.0, "s", "-1m 30s"),
        (-0.01, "s", "0s"),  # no sign on what reads as zero
        (3725.0, "s", "1h 02m"),
        (360_000.0, "s", "100h 00m"),
        (2.5, "min", "2m 30s"),
        (1500.0, "ms", "1.5s"),
        (0.642, "ratio", "64.2%"),
        (-0.05, "ratio", "-5.0%"),
        (0.0, "ratio", "0.0%"),
        (12.5, "ratio", "1,250.0%"),
        (41.24, "points", "41.2"),
        (-10.0, "points", "-10.0"),
        (3.03, None, "3.03"),
        (0.0, None, "0"),
        (1234567, "contacts", "1,234,567 contacts"),
        (1234.5, "EUR", "1,234.5 EUR"),
        (None, "ratio", "n/a"),
        (float("nan"), "s", "n/a"),
        (float("inf"), "s", "inf"),
        (float("-inf"), "ratio", "-inf"),
    ],
)
def test_a_value_is_written_in_its_unit(value, unit, text):
    assert format_value(value, unit) == text


def test_a_table_column_writes_its_numbers_alike_and_its_unit_once():
    assert [format_value(v, "EUR", digits=2, bare=True) for v in (3.0, -1.234, 1234.5)] == ["3.00", "-1.23", "1,234.50"]
    assert format_value(0.5, "ratio", digits=0, bare=True) == "50.0%"  # a ratio and a time keep their own form


@pytest.mark.parametrize(
    ("delta", "unit", "text"),
    [
        (0.004, "ratio", "+0.4 pts"),  # a ratio's change in percentage points, not a relative `%`
        (-0.035, "ratio", "-3.5 pts"),
        (-0.00001, "ratio", "0.0 pts"),
        (-9.3, "s", "-9s"),
        (0.4, "s", "+0.4s"),  # under a second: never `+0s`
        (-0.02, "s", "0s"),
        (65.0, "s", "+1m 05s"),
        (-3725.0, "s", "-1h 02m"),
        (0.5, "min", "+30s"),
        (-162.0, None, "-162"),  # a whole change of a count: no decimals
        (-162.0, "contacts", "-162 contacts"),
        (1500.0, None, "+1,500"),
        (0.25, "points", "+0.25"),
        (12.34, "points", "+12.3"),
        (0.0, None, "0"),
        (None, "s", "n/a"),
        (float("inf"), None, "+inf"),
    ],
)
def test_a_change_is_signed_in_what_a_reader_compares(delta, unit, text):
    assert format_change(delta, unit) == text


@pytest.mark.parametrize(
    ("text", "unit", "bound", "shown"),
    [
        ("< 0.6", "ratio", ("<", 0.6), "< 60%"),
        ("> 0.075", "ratio", (">", 0.075), "> 7.5%"),
        (">= 0.8", "ratio", (">=", 0.8), ">= 80%"),
        ("> 660", "s", (">", 660.0), "> 11m 00s"),
        ("> 11m", "s", (">", 660.0), "> 11m 00s"),  # a duration literal, in the metric's unit
        ("> 30s", "s", (">", 30.0), "> 30s"),
        ("> 2m", "min", (">", 2.0), "> 2m 00s"),
        ("< -10", "points", ("<", -10.0), "< -10"),
        ("<= 2", None, ("<=", 2.0), "<= 2"),
        (">= 1_000", "EUR", (">=", 1000.0), ">= 1,000 EUR"),
        ("between 1 and 2", "s", None, "between 1 and 2"),  # not one comparison: as written
        ("> 5m", None, None, "> 5m"),  # a duration of a metric not in a time unit
        ("< other", "ratio", None, "< other"),
    ],
)
def test_a_threshold_is_written_in_its_metrics_unit(text, unit, bound, shown):
    assert threshold_bound(text, unit) == bound
    assert threshold_text(text, unit) == shown
    if bound is not None:
        assert format_threshold(*bound, unit) == shown


def test_a_formatted_table_is_split_into_blocks_that_fit_each_with_the_key_columns():
    table = pl.DataFrame(
        {
            "team": ["north", "south"],
            "aht": [550.0, None],
            "fcr": [0.642, 0.7],
            "contacts": [1204, 98],
            "cost": [3.0, 12.4],
        }
    )
    shown = {
        "aht": tables.Shown("Average handle time", "s"),
        "fcr": tables.Shown("First contact resolution", "ratio"),
        "contacts": tables.Shown("Contacts offered", "contacts"),
        "cost": tables.Shown("Cost", "EUR"),
    }
    wide = tables.as_formatted_text(table, shown, 200)
    # Headers wrapped on words; a unit other than a time or a ratio once in its header; a column's numbers alike.
    assert wide.splitlines() == [
        "┌───────┬──────────────┬──────────────┬──────────────┬────────────┐",
        "│ team  ┆ Average      ┆ First        ┆ Contacts     ┆ Cost (EUR) │",
        "│       ┆ handle time  ┆ contact      ┆ offered      ┆            │",
        "│       ┆              ┆ resolution   ┆              ┆            │",
        "╞═══════╪══════════════╪══════════════╪══════════════╪════════════╡",
        "│ north ┆       9m 10s ┆        64.2% ┆        1,204 ┆        3.0 │",
        "│ south ┆          n/a ┆        70.0% ┆           98 ┆       12.4 │",
        "└───────┴──────────────┴──────────────┴──────────────┴────────────┘",
    ]
    narrow = tables.as_formatted_text(table, shown, 40)
    blocks = narrow.split("\n\n")
    assert len(blocks) == 2
    assert all(max(len(line) for line in block.splitlines()) <= 40 for block in blocks)
    assert all(block.splitlines()[1].startswith("│ team  ┆ ") for block in blocks)
    assert blocks[1].splitlines()[1] == "│ team  ┆ Contacts     ┆ Cost (EUR) │"


EVAL_SPEC = """\
sources:
  calls:
    time: started_at
    columns: {started_at: datetime, team: str, wait_s: {type: float, unit: s}, ok: bool}
metrics:
  asa: {expr: mean(wait_s), label: Average speed of answer, unit: s}
  resolved: {expr: share(ok), label: Resolved, unit: ratio}
  calls: {expr: count(), label: Calls}
dashboards:
  board: {metrics: [asa, resolved, calls], by: [team]}
"""
EVAL_CALLS = "started_at,team,wait_s,ok\n2026-01-05T09:00:00,north,20,true\n2026-01-05T10:00:00,north,95,false\n"


@pytest.fixture
def eval_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("spec.yaml").write_text(EVAL_SPEC)
    Path("calls.csv").write_text(EVAL_CALLS)
    return tmp_path


def test_eval_prints_labels_and_values_in_their_units_fitted_to_the_terminal(eval_folder):
    result = CliRunner(env={"COLUMNS": "80"}).invoke(
        cli.main, ["eval", "spec.yaml", "--dashboard", "board", "--data", "calls=calls.csv"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "┌───────┬──────────────┬──────────┬───────┐",
        "│ team  ┆ Average      ┆ Resolved ┆ Calls │",
        "│       ┆ speed of     ┆          ┆       │",
        "│       ┆ answer       ┆          ┆       │",
        "╞═══════╪══════════════╪══════════╪═══════╡",
        "│ north ┆        57.5s ┆    50.0% ┆     2 │",
        "└───────┴──────────────┴──────────┴───────┘",
    ]


def test_eval_raw_prints_the_numbers_under_the_column_names_as_before(eval_folder):
    result = CliRunner(env={"COLUMNS": "40"}).invoke(
        cli.main, ["eval", "spec.yaml", "--dashboard", "board", "--data", "calls=calls.csv", "--raw"]
    )
    assert result.exit_code == 0, result.output
    project = load("spec.yaml")
    table = project.run({"calls": Path("calls.csv")}, dashboard="board").table
    assert result.stdout == tables.as_text(table) + "\n"
    assert "│ north ┆ 57.500 ┆ 0.500    ┆ 2     │" in result.stdout


CHECK_SPEC = """\
sources:
  calls:
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: {type: float, unit: s}, ok: bool}
metrics:
  asa: {expr: mean(wait_s), label: Average speed of answer, unit: s}
  resolved: {expr: share(ok), label: Resolved, unit: ratio}
targets:
  asa: {warn: "> 30s", fail: "> 1m"}
  resolved: {fail: "< 0.6"}
rules:
  slow:
    description: Answers slower than half a minute.
    when: asa > 30s
    severity: warn
    message: "{team} waits {asa}"
  slow_and_unresolved:
    when: asa > 30s and resolved < 0.6
    severity: info
    message: "{team} waits and is not resolved"
dashboards:
  board: {metrics: [asa, resolved], by: [team], grain: week}
"""
CHECK_CALLS = """\
team,started_at,wait_s,ok
north,2026-01-05T09:00:00,20,true
south,2026-01-05T09:00:00,70,false
west,2026-01-05T09:00:00,45,true
"""


@pytest.fixture
def check_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "spec_revision", lambda paths: None)
    Path("spec.yaml").write_text(CHECK_SPEC)
    Path("calls.csv").write_text(CHECK_CALLS)
    return tmp_path


def check(*args: str) -> str:
    return CliRunner().invoke(cli.main, ["check", "spec.yaml", "--data", "calls=calls.csv", *args]).stdout


def test_check_leads_with_counts_and_shows_a_rule_saying_what_a_target_finding_says_with_it(check_folder):
    found = json.loads(check("--format", "json"))["findings"]
    # Every finding stays a record: asa and resolved for south, asa for west, each rule where it fired.
    assert [(f["name"], f["group"]["team"]) for f in found] == [
        ("asa", "south"),
        ("resolved", "south"),
        ("slow", "south"),
        ("asa", "west"),
        ("slow", "west"),
        ("slow_and_unresolved", "south"),
    ]
    lines = check().splitlines()
    assert lines[:5] == [
        "6 findings in 1 period: 2 fail, 3 warn, 1 info",
        "  asa                     2: 1 fail, 1 warn",
        "  resolved                1: 1 fail",
        "  slow                    2: 2 warn",
        "  slow_and_unresolved     1: 1 info",
    ]
    assert lines[5] == "2 rule findings shown with the target finding of the metric it reads (`also:`)"
    rows = [line for line in lines if line.startswith("│ ")][1:]
    assert [row.split("┆")[-1].strip(" │") for row in rows] == [
        "south: Average speed of answer is 1m 10s, past the fail threshold (> 1m 00s)",
        "also: slow (Answers slower than half a minute)",
        "south: Resolved is 0.0%, past the fail threshold (< 60%)",
        "west: Average speed of answer is 45s, past the warn threshold (> 30s)",
        "also: slow (Answers slower than half a minute)",
        "south waits and is not resolved",  # reads two metrics: shown on its own
    ]
    assert lines[-1] == "2 fail, 3 warn, 1 info findings"
    # Markdown keeps every finding, as JSON does.
    assert sum(line.startswith("| ") for line in check("--format", "markdown").splitlines()) == 1 + len(found)


GITHUB_SPEC = """\
sources:
  calls:
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: {type: float, unit: s}}
metrics:
  asa: {expr: mean(wait_s), unit: s}
targets:
  asa: {warn: "> 30s", fail: "> 60s"}
dashboards:
  board: {metrics: [asa], by: [team], grain: week}
"""


def test_github_annotates_the_most_severe_findings_up_to_what_a_step_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "spec_revision", lambda paths: None)
    Path("spec.yaml").write_text(GITHUB_SPEC)
    # 15 teams past the fail threshold, 12 past the warn threshold, in one week.
    rows = [f"f{i:02d},2026-01-05T09:00:00,90" for i in range(15)] + [f"w{i:02d},2026-01-05T09:00:00,40" for i in range(12)]
    Path("calls.csv").write_text("team,started_at,wait_s\n" + "\n".join(rows) + "\n")
    lines = check("--format", "github").splitlines()
    assert lines[0] == "::notice title=metricdsl check::27 findings in 1 period: 15 fail, 12 warn, 0 info"
    levels = [line.split(" ", 1)[0] for line in lines[1:-2]]
    assert levels == ["::error"] * GITHUB_ANNOTATIONS_PER_LEVEL + ["::warning"] * GITHUB_ANNOTATIONS_PER_LEVEL
    assert lines[-2] == (
        "::notice title=metricdsl check::7 more findings not annotated (GitHub shows 10 of each level per step): "
        "`metricdsl check --format json` lists every finding"
    )
    assert lines[-1] == "15 fail, 12 warn, 0 info findings"


def test_the_bundled_example_shows_each_finding_once():
    board = ["--dashboard", "service_2_0"]
    result = CliRunner().invoke(cli.main, ["check", str(SPECS), *board])
    found = json.loads(CliRunner().invoke(cli.main, ["check", str(SPECS), *board, "--format", "json"]).stdout)["findings"]
    lines = result.stdout.splitlines()
    fails, warns, infos = (sum(f["severity"] == s for f in found) for s in ("fail", "warn", "info"))
    periods = len({f["period"] for f in found})
    assert lines[0] == f"{len(found)} findings in {periods} periods: {fails} fail, {warns} warn, {infos} info"
    # `service_level_slipping` reads `service_level` alone: where both fired, the rule is shown with the target.
    targets = {(f["group"]["team"], f["period"]) for f in found if f["name"] == "service_level"}
    slipping = [f for f in found if f["name"] == "service_level_slipping"]
    folded = sum((f["group"]["team"], f["period"]) in targets for f in slipping)
    assert folded > 0
    assert f"{folded} rule findings shown with the target finding of the metric it reads (`also:`)" in lines
    assert result.stdout.count("also: service_level_slipping") == folded
    assert "(< 0." not in result.stdout  # ratios' thresholds in percent
    assert "(> 0." not in result.stdout


# Two engines sum in different orders, so a value on a rounding tie comes back a bit above or a bit below it: the
# page of `--engine duckdb` wrote 19.7437 where Polars' wrote 19.7438, and -0.0810938 where it wrote -0.0810937.
@pytest.mark.parametrize(
    ("below", "above", "unit"),
    [
        (0.08109374999999999, 0.08109375000000001, None),
        (-0.08109374999999999, -0.08109375000000001, None),
        (19.74999999999999, 19.75000000000001, None),
        (0.06449999999999999, 0.06450000000000001, "ratio"),
        (0.3644999999999999, 0.3645000000000001, "ratio"),
        (44.49999999999999, 44.50000000000001, "s"),
        (1234.549999999999, 1234.550000000001, "EUR"),
        # a mean of zero, summed in another order: -5.55e-18 was written as such beside DuckDB's 0
        (-5.551115123125783e-18, 0.0, None),
        (-0.0, 1e-15, "ratio"),
    ],
)
def test_a_value_a_float_ulp_from_a_tie_is_written_alike_either_side(below, above, unit):
    assert format_value(below, unit) == format_value(above, unit)
    assert format_change(below, unit) == format_change(above, unit)
    assert settled(below) == settled(above)


def test_a_sums_rounding_error_around_zero_is_written_as_zero():
    assert format_value(-5.551115123125783e-18, None) == "0"
    assert format_value(-0.0, None) == "0"
    assert format_change(-5.551115123125783e-18, None) == "0"
    assert format_value(-1e-13, "ratio") == "0.0%"
    assert format_value(0.00012, None) == "0.00012"  # a small value that is one is written
    # and a value that rounds to zero has no sign either
    assert format_value(-0.0004, "ratio") == "0.0%"
    assert format_value(-0.004, None, digits=2) == "0.00"
    assert format_value(-0.04, None, digits=1, bare=True) == "0.0"
    assert format_value(-0.06, None, digits=1) == "-0.1"


def test_the_chart_data_and_the_page_rows_settle_their_numbers_alike():
    from metricdsl.render.html import charts

    assert charts._short(19.743749999999995) == charts._short(19.743750000000005)
    assert charts._short(-0.08109374999999999) == charts._short(-0.08109375000000001)
    assert charts._short(-5.551115123125783e-18) == 0.0
    assert charts._short(7) == 7
    assert charts._short(None) is None
