"""Names containing `__` are reserved for the columns metricdsl adds: the loader rejects them (MD008)."""

from __future__ import annotations

from pathlib import Path

import pytest

import metricdsl
from metricdsl.errors import SpecError
from metricdsl.spec.loader import load_text

SOURCES = """\
sources:
  calls:
    time: started_at
    columns:
      started_at: datetime
      answered: bool
      wait_s: {type: float, unit: s}
"""

# One spec per kind of name a spec declares, each declaring one reserved name: the kind, the name, the text.
DECLARATIONS = {
    "source": ("re__calls", "sources:\n  re__calls:\n    columns: {answered: bool}\n"),
    "column": ("was__answered", "sources:\n  calls:\n    columns:\n      was__answered: bool\n"),
    "derived column": (
        "__answered",
        "sources:\n  calls:\n    columns: {answered: bool}\n    derive:\n      __answered: answered\n",
    ),
    "metric": ("x__status", SOURCES + "metrics:\n  x__status: share(answered)\n"),
    "target": ("asa__n", SOURCES + "targets:\n  asa__n: {warn: '< 30'}\n"),
    "rule": ("slow__wait", SOURCES + "rules:\n  slow__wait: {when: asa > 30s}\n"),
    "scorecard": ("team__card", SOURCES + "scorecards:\n  team__card: {items: {asa: {floor: 60, ceiling: 10}}}\n"),
    "dashboard": ("ops__board", SOURCES + "dashboards:\n  ops__board: {metrics: [asa]}\n"),
}


@pytest.mark.parametrize("kind", DECLARATIONS)
def test_a_declared_name_with_a_double_underscore_is_reported_at_the_name(kind):
    name, text = DECLARATIONS[kind]
    diagnostics = load_text("spec.yaml", text)[1]
    reported = [d for d in diagnostics if d.code == "MD008"]
    assert len(reported) == 1, diagnostics
    (diagnostic,) = reported
    assert diagnostic.message == f"{kind} name `{name}` contains `__`, which is reserved for the columns metricdsl adds"
    assert diagnostic.location is not None
    location = diagnostic.location
    assert location.source_line[location.col - 1 : (location.end_col or 0) - 1] == name
    assert diagnostic.hint == f"rename it `{name.replace('__', '_')}`"


def test_the_hint_collapses_every_run_of_underscores():
    diagnostics = load_text("spec.yaml", SOURCES + "metrics:\n  a___b__c: share(answered)\n")[1]
    assert [d.hint for d in diagnostics] == ["rename it `a_b_c`"]


def test_single_underscores_and_references_are_not_reported():
    text = SOURCES + (
        "metrics:\n  _asa: mean(wait_s)\n  answer_rate: share(answered)\n"
        "targets:\n  _asa: {warn: '> 30s'}\n"
        "scorecards:\n  card: {items: {answer_rate: {floor: 0.5, ceiling: 0.9}}}\n"
    )
    assert load_text("spec.yaml", text)[1] == []


@pytest.mark.parametrize(
    "metrics",
    [
        "  x__status: share(answered)\n",
        # Without the diagnostic, the status of `asa` would overwrite the metric `asa__status`.
        "  asa: mean(wait_s)\n  asa__status: share(answered)\ntargets:\n  asa: {warn: '> 30s'}\n",
    ],
    ids=["x__status", "asa__status next to a target on asa"],
)
def test_a_project_with_a_reserved_metric_name_does_not_load(tmp_path: Path, metrics):
    path = tmp_path / "spec.yaml"
    path.write_text(SOURCES + "metrics:\n" + metrics)
    with pytest.raises(SpecError) as raised:
        metricdsl.load(path)
    assert [d.code for d in raised.value.diagnostics] == ["MD008"]
