"""No output holds NaN or ±inf: a metric whose value overflows or is undefined is missing (null), as x / 0 is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricdsl import cli
from tests.reference import evaluate_reference
from tests.test_reference import load_model

SPEC = """\
sources:
  s:
    columns:
      team: str
      w: {type: float, unit: s}
      v: float
metrics:
  m: {expr: mean(w), better: lower}
  total: {expr: sum(w)}
  r: {expr: sum(w) / sum(w)}
  big: {expr: max(w) * 1e308}
  twice: {expr: m * 2}
  spread: {expr: mean(v)}
targets:
  m: {warn: "> 11m", fail: "> 15m"}
"""
ROWS = """\
team,w,v
A,1e308,1e308
A,1e308,-1e308
B,5,1
B,7,3
"""


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    Path("spec.yaml").write_text(SPEC)
    Path("s.csv").write_text(ROWS)

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli.main, [*args, "spec.yaml", "--data", "s=s.csv"])
        assert isinstance(result.exception, SystemExit | None), result.exception
        return result.stdout

    return invoke


def test_eval_makes_an_overflow_or_nan_missing_in_values_and_intervals(run):
    out = run("eval", "--by", "team", "--with-ci", "--output", "-", "--output-format", "json")
    assert "Infinity" not in out
    assert "NaN" not in out
    rows = {row["team"]: row for row in json.loads(out[: out.rindex("]") + 1])}
    for name in ("m", "total", "r", "big", "twice", "m_ci_low", "m_ci_high", "spread_ci_low", "spread_ci_high"):
        assert rows["A"][name] is None, name
    assert rows["A"]["spread"] == 0.0
    assert rows["B"]["m"] == 6.0
    assert rows["B"]["r"] == 1.0
    assert rows["B"]["twice"] == 12.0
    assert rows["B"]["m_ci_low"] is not None


def test_check_grades_no_non_finite_value(run):
    out = run("check", "--by", "team", "--format", "json")
    assert "Infinity" not in out
    assert "NaN" not in out
    assert " inf" not in out
    assert [f for f in json.loads(out)["findings"] if f.get("group", {}).get("team") == "A"] == []


def test_the_reference_evaluator_makes_them_missing_too(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    rows = [{"team": "A", "w": 1e308, "v": 1e308}, {"team": "A", "w": 1e308, "v": -1e308}]
    [row] = evaluate_reference(load_model(path), {"s": rows}, ["m", "total", "r", "big", "twice", "spread"])
    assert row == {"m": None, "total": None, "r": None, "big": None, "twice": None, "spread": 0.0}
