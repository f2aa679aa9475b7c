"""Names of the columns metricdsl adds, and of those a request shows, never clash."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

import metricdsl
from metricdsl.engine.columns import HIDDEN_PARTS, dotted_column, hidden

SPEC = """\
sources:
  calls:
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: {type: float, unit: s}, ok: bool}
    derive: {day: weekday(started_at)}
metrics:
  x: {expr: mean(wait_s), unit: s, better: lower}
  se_x: {expr: mean(wait_s), unit: s, better: lower}
  x_n: count()
  team: count()
rules:
  x_rose:
    when: significant(change(x)) and x > prev(x)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("columns")
    (folder / "spec.yaml").write_text(SPEC)
    return metricdsl.load(folder)


def calls() -> pl.DataFrame:
    monday = datetime(2026, 1, 5, 9)
    rows = [
        (team, monday + timedelta(weeks=week), 10.0 * (week + 1) + i) for team in "ab" for week in range(2) for i in range(5)
    ]
    return pl.DataFrame(
        {
            "team": [r[0] for r in rows],
            "started_at": [r[1] for r in rows],
            "wait_s": [r[2] for r in rows],
            "ok": [True] * len(rows),
        }
    )


def test_no_hidden_part_is_another_part_and_an_underscore():
    # `__<part>_<metric>` is one column per (part, metric) only while this holds.
    for part in HIDDEN_PARTS:
        assert not [other for other in HIDDEN_PARTS if other.startswith(part + "_")]


def test_hidden_columns_of_x_and_se_x_are_distinct():
    names = [hidden(part, metric) for part in HIDDEN_PARTS for metric in ("x", "se_x", "n_x", "prev_x")]
    assert len(set(names)) == len(names)


def test_grading_x_and_se_x_together(project):
    graded = project.grade({"calls": calls()}, metrics=["x", "se_x"], by=["team"], grain="week")
    table = graded.table.sort("team", "__grain")
    assert table["x"].to_list() == pytest.approx([12.0, 22.0, 12.0, 22.0])
    assert table["se_x"].to_list() == table["x"].to_list()
    assert table[hidden("prev", "x")].to_list()[1] == pytest.approx(12.0)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"metrics": ["x", "x_n"], "with_ci": True}, "`x_n` would be both a metric and the n of `x`"),
        ({"metrics": ["team"], "by": ["team"]}, "`team` would be both a dimension and a metric"),
        ({"metrics": ["x"], "by": ["day"], "grain": "day"}, "`day` would be both a dimension and the grain"),
    ],
)
def test_a_request_whose_columns_clash_is_a_request_error(project, request_, message):
    with pytest.raises(metricdsl.RequestError, match=message):
        project.evaluate({"calls": calls()}, **request_)


def test_a_metric_or_dimension_asked_twice_is_computed_once(project):
    table = project.evaluate({"calls": calls()}, metrics=["x", "x"], by=["team", "team"])
    assert table.columns == ["team", "x"]


def test_dotted_names_of_spec_tests():
    assert [dotted_column(n) for n in ("nps.status", "card.score", "card.nps.points")] == [
        "nps__status",
        "card__score",
        "card__nps__points",
    ]
