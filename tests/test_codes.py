"""Every diagnostic code: a spec that triggers it, and its rendering as golden text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from metricdsl.cli import main
from metricdsl.codes import CODES
from metricdsl.render.codes import explanation
from metricdsl.semantics.model import ExprType, Ref
from metricdsl.tools.explain import explain_metric

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "codes.yaml").read_text())
GOLDEN = Path(__file__).parent / "golden"
SOURCES = """\
sources:
  calls:
    time: started_at
    columns:
      started_at: datetime
      answered: bool
      wait_s: {type: float, unit: s}
      nps_score: {type: int, unit: points}"""


def test_every_code_has_a_case():
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_is_triggered_and_rendered_as_the_golden_files(code, tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    if CASES[code] is not None:
        Path("spec.yaml").write_text(CASES[code].replace("{sources}", SOURCES))
    else:
        Path("spec.yaml").write_bytes(b"metrics:\n  asa: \xff\n")
    target = "spec.yaml"
    text = CliRunner().invoke(main, ["validate", target]).stdout
    report = json.loads(CliRunner().invoke(main, ["validate", target, "--format", "json"]).stdout)
    assert code in {d["code"] for d in report["diagnostics"]}, text
    rendered = {"txt": text, "json": json.dumps(report, indent=2) + "\n"}
    for suffix, content in rendered.items():
        golden = GOLDEN / f"{code}.{suffix}"
        if request.config.getoption("--update-golden"):
            golden.write_text(content)
        assert golden.read_text() == content, f"{golden} differs; run pytest --update-golden if intended"


@pytest.mark.parametrize("metric", ["nps", "fcr", "loyalty_index"])
def test_explain_matches_its_golden_file(metric, request):
    from conftest import SPECS

    output = CliRunner().invoke(main, ["explain", metric, str(SPECS)]).stdout
    # The plan's text belongs to Polars and changes with its versions: the golden file stops before it.
    explained = output.split("Polars plan")[0].replace(str(SPECS), "specs")
    assert "Polars plan (optimised, over empty inputs):" in output
    golden = GOLDEN / f"explain_{metric}.txt"
    if request.config.getoption("--update-golden"):
        golden.write_text(explained)
    assert golden.read_text() == explained


def test_explain_code_matches_its_golden_file(request):
    output = CliRunner().invoke(main, ["explain", "md204"]).stdout
    golden = GOLDEN / "explain_MD204.txt"
    if request.config.getoption("--update-golden"):
        golden.write_text(output)
    assert golden.read_text() == output
    assert output == explanation(CODES["MD204"]) + "\n"


def test_explain_gathers_the_typed_tree_as_records(project):
    explained = explain_metric(project, "nps")
    assert (explained.tree[0].depth, explained.tree[0].type) == (1, ExprType("float"))
    names = [(node.depth, node.type, node.ref) for node in explained.tree if node.ref is not None]
    assert names == [(5, ExprType("int", "points"), Ref("column", "nps_score", "interactions"))] * 2
    assert explained.where is None
    assert explained.dependencies == {
        "columns": ["interactions.nps_score"],
        "derived columns": [],
        "metrics": [],
        "sources": ["interactions"],
    }
