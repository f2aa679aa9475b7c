"""The checker on readable YAML cases (tests/cases/check.yaml), and on the standard library."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import SPECS
from metricdsl.semantics.checker import check
from metricdsl.spec.loader import load_files

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "check.yaml").read_text())

SOURCES = """\
sources:
  calls:
    time: started_at
    entities: {customer: customer_id}
    columns:
      customer_id: int
      started_at: datetime
      channel: str
      answered: bool
      talk_s: {type: float, unit: s}
      nps_score: {type: int, unit: points}
    derive: {}
  orders:
    time: ordered_at
    entities: {customer: customer_id}
    columns: {customer_id: int, ordered_at: datetime, amount: {type: float, unit: EUR}}
"""


def write_project(tmp_path: Path, case: dict) -> Path:
    text = SOURCES.replace(
        "derive: {}",
        "derive:\n" + "".join(f"      {name}: {expr}\n" for name, expr in case.get("derive", {}).items())
        if case.get("derive")
        else "derive: {}",
    )
    metrics = case["metrics"]
    text += (
        "metrics:\n" + "".join(f"  {name}:\n    source: calls\n    expr: '{expr}'\n" for name, expr in metrics.items())
        if metrics
        else ""
    )
    path = tmp_path / "project.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_checker_case(tmp_path, case):
    path = write_project(tmp_path, case)
    if case["name"].startswith("a source cannot be inferred"):
        path.write_text(path.read_text().replace("    source: calls\n", ""))
    definitions, loaded = load_files([path])
    assert loaded == []
    diagnostics = check(definitions)[1]
    found = [
        {
            "code": d.code,
            "at": d.location.source_line[d.location.col - 1 : (d.location.end_col or d.location.col + 1) - 1],
            "hint": d.hint,
        }
        for d in diagnostics
    ]
    assert [f["code"] for f in found] == [e["code"] for e in case["expect"]], found
    for got, expected in zip(found, case["expect"], strict=True):
        if "at" in expected:
            assert got["at"] == expected["at"]
        if "hint" in expected:
            assert got["hint"] == expected["hint"]


def test_standard_library_is_clean():
    definitions, loaded = load_files([SPECS])
    assert loaded == []
    assert check(definitions)[1] == []


def test_metric_source_is_inferred_from_its_columns(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(SOURCES + "metrics:\n  spend: sum(amount)\n  talk: mean(talk_s)\n")
    model, diagnostics = check(load_files([path])[0])
    assert diagnostics == []
    assert (model.metrics["spend"].source, model.metrics["talk"].source) == ("orders", "calls")


def test_an_entity_without_a_column_is_a_diagnostic_not_a_crash(tmp_path):
    spec = SOURCES.replace("entities: {customer: customer_id}", "entities: {customer: }", 1)
    (tmp_path / "spec.yaml").write_text(
        spec + 'metrics:\n  repeat: {expr: "share(followed_by(calls, 7d))", source: calls}\n'
    )
    definitions, diagnostics = load_files([tmp_path])
    assert [(d.code, d.message, d.location.line if d.location else None) for d in diagnostics] == [
        ("MD005", "entity `customer` names no column", 4)
    ]
    assert definitions.sources["calls"].entities == {}


def test_a_metric_that_aggregates_in_a_project_without_sources_is_md211(tmp_path):
    (tmp_path / "spec.yaml").write_text('metrics:\n  x: {expr: "share(nope)"}\n  y: count()\n  z: 1 + 2\n')
    definitions, diagnostics = load_files([tmp_path])
    found = [(d.code, d.message) for d in diagnostics + check(definitions)[1]]
    assert found == [
        ("MD211", "metric `x` aggregates rows, but the project declares no source"),
        ("MD211", "metric `y` aggregates rows, but the project declares no source"),
    ]
