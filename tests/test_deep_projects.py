"""Long chains and wide projects: checked, planned and evaluated without recursion, in time and memory linear
in the number of definitions, or refused with a diagnostic beyond the bounds."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from metricdsl.cli import main
from metricdsl.language.parser import MAX_NESTING
from metricdsl.project import Project, load
from metricdsl.render.explain import metric_report
from metricdsl.render.spectests import failure_text
from metricdsl.semantics.checker import check
from metricdsl.semantics.nesting import MAX_METRIC_LEVELS, MAX_WRITTEN_OUT
from metricdsl.spec.loader import load_text
from metricdsl.tools.explain import dependencies, explain_metric

SOURCE = "sources:\n  s:\n    columns: {x: int, y: str}\n"
ROWS = pl.DataFrame({"x": list(range(10)), "y": ["a"] * 10})


def chain(levels: int, reverse: bool = False) -> str:
    """`m0: count()`, then `m{i}: m{i-1} + 1` up to `m{levels}`, written in order or the other way round."""
    lines = ["  m0: count()\n"] + [f"  m{i}: m{i - 1} + 1\n" for i in range(1, levels + 1)]
    return SOURCE + "metrics:\n" + "".join(lines[::-1] if reverse else lines)


def codes(text: str) -> list[str]:
    definitions, diagnostics = load_text("spec.yaml", text)
    return [d.code for d in diagnostics + check(definitions)[1]]


def project_of(tmp_path: Path, text: str) -> Project:
    (tmp_path / "spec.yaml").write_text(text)
    return load(tmp_path)


def with_columns_steps(project: Project, **request: object) -> int:
    return project.compile({"s": ROWS}, **request).explain(optimized=False).count("WITH_COLUMNS")  # type: ignore[arg-type]


@pytest.mark.parametrize("reverse", [False, True], ids=["defined in order", "defined last first"])
def test_a_chain_of_3000_metrics_is_one_diagnostic_not_a_recursion_error(reverse):
    definitions, _ = load_text("spec.yaml", chain(2999, reverse))
    (diagnostic,) = check(definitions)[1]
    assert diagnostic.code == "MD214"
    assert diagnostic.message == (
        f"metric `m{MAX_METRIC_LEVELS + 1}` is computed from metrics {MAX_METRIC_LEVELS + 1} levels deep "
        f"(at most {MAX_METRIC_LEVELS})"
    )


@pytest.mark.parametrize("command", [["validate"], ["eval", "--data", "s=rows.csv"], ["explain", "m2999"], ["graph"]])
def test_every_command_reports_the_long_chain(tmp_path, command):
    (tmp_path / "spec.yaml").write_text(chain(2999))
    (tmp_path / "rows.csv").write_text("x,y\n1,a\n")
    result = CliRunner().invoke(main, [command[0], *command[1:], str(tmp_path / "spec.yaml")], catch_exceptions=False)
    assert result.exit_code == (1 if command == ["validate"] else 2)  # invalid specs; a run that could not work
    assert "MD214" in result.output


def test_a_chain_at_the_limit_is_computed_in_one_step_per_level(tmp_path):
    project = project_of(tmp_path, chain(MAX_METRIC_LEVELS, reverse=True))
    top = f"m{MAX_METRIC_LEVELS}"
    assert project.evaluate({"s": ROWS}, metrics=[top]).to_dicts() == [{top: 10 + MAX_METRIC_LEVELS}]
    assert with_columns_steps(project, metrics=[top]) == MAX_METRIC_LEVELS + 1
    assert dependencies(project.model, top)["metrics"] == [f"m{i}" for i in range(MAX_METRIC_LEVELS - 1, -1, -1)]
    assert "Polars plan" in metric_report(explain_metric(project, top))
    result = CliRunner().invoke(main, ["graph", str(tmp_path), "--impact", "m0"])
    assert result.exit_code == 0
    assert f"metric:m0 affects {MAX_METRIC_LEVELS}:" in result.output


def test_metrics_that_read_each_metric_twice_are_explained_once_each(tmp_path):
    lines = "".join(f"  m{i}: m{i - 1} + m{i - 1}\n" for i in range(1, MAX_METRIC_LEVELS + 1))
    project = project_of(tmp_path, SOURCE + "metrics:\n  m0: count()\n" + lines)
    top = f"m{MAX_METRIC_LEVELS}"
    assert len(dependencies(project.model, top)["metrics"]) == MAX_METRIC_LEVELS  # 2 ** 64 paths, each metric once
    assert project.evaluate({"s": ROWS}, metrics=["m3"]).to_dicts() == [{"m3": 80}]


@pytest.mark.parametrize("expr", ["count()", "mean(x)"])
def test_2000_metrics_are_computed_in_one_step(tmp_path, expr):
    project = project_of(tmp_path, SOURCE + "metrics:\n" + "".join(f"  m{i}: {expr}\n" for i in range(2000)))
    assert with_columns_steps(project) == 1  # was one step per metric: 2.3 GB and 11 s
    row = project.evaluate({"s": ROWS}).row(0, named=True)
    assert len(row) == 2000
    assert set(row.values()) == {10 if expr == "count()" else 4.5}


def test_grading_a_long_chain_checks_each_metric_once(tmp_path, monkeypatch):
    text = chain(MAX_METRIC_LEVELS) + f"targets:\n  m{MAX_METRIC_LEVELS}: {{warn: '< 0'}}\n"
    project = project_of(tmp_path, text)
    calls = []
    original = Project._unreadable

    def counted(self: Project, name: str, request: object) -> str | None:
        calls.append(name)
        return original(self, name, request)  # type: ignore[arg-type]

    monkeypatch.setattr(Project, "_unreadable", counted)
    graded = project.grade({"s": ROWS})  # every metric, each with the chain below it
    assert graded.table.height == 1
    assert len(calls) == 3 * (MAX_METRIC_LEVELS + 1)  # three passes over the metrics; was once per pair of them


def test_a_cycle_of_3000_metrics_is_named_by_its_ends():
    lines = "".join(f"  m{i}: m{(i + 1) % 3000} + 1\n" for i in range(3000))
    definitions, _ = load_text("spec.yaml", SOURCE + "metrics:\n" + lines)
    (diagnostic,) = check(definitions)[1]
    assert diagnostic.code == "MD210"
    assert (
        diagnostic.message == "metric `m0` depends on itself: m0 → m1 → m2 → m3 → (2,993 more) → m2997 → m2998 → m2999 → m0"
    )


def derived(lines: list[str], metric: str) -> str:
    return SOURCE + "    derive:\n" + "".join(f"      {line}\n" for line in lines) + f"metrics:\n  m: {metric}\n"


def test_derived_columns_that_double_are_refused_where_they_grow_too_large():
    lines = ["d0: x + x"] + [f"d{i}: d{i - 1} + d{i - 1}" for i in range(1, 40)]  # 2 ** 40 parts written out
    definitions, _ = load_text("spec.yaml", derived(lines, "sum(d39)"))
    (diagnostic,) = check(definitions)[1]
    assert diagnostic.code == "MD215"
    assert diagnostic.message.startswith("derived column `d12` grows to 16,383 parts")
    assert 2**13 - 1 <= MAX_WRITTEN_OUT < 2**14 - 1


def test_a_chain_of_derived_columns_at_the_depth_limit_compiles(tmp_path):
    # `d{i}` written out is i + 2 levels deep; `sum(d{i})`, i + 3.
    last = MAX_NESTING - 3
    lines = ["d0: x + 1"] + [f"d{i}: d{i - 1} + 1" for i in range(1, last + 1)]
    project = project_of(tmp_path, derived(lines, f"sum(d{last})"))
    assert project.evaluate({"s": ROWS}).to_dicts() == [{"m": 45 + 10 * (last + 1)}]
    assert codes(derived([*lines, f"d{last + 1}: d{last} + 1"], f"sum(d{last + 1})")) == ["MD215"]


def test_expressions_at_the_nesting_limit_pass_every_stage(tmp_path):
    depth = MAX_NESTING - 2  # sum( and the name inside the calls
    text = SOURCE + "metrics:\n  m: sum(" + "abs(" * depth + "x" + ")" * depth + ")\n"
    project = project_of(tmp_path, text)
    assert project.evaluate({"s": ROWS}).to_dicts() == [{"m": 45}]
    assert "typed tree" in metric_report(explain_metric(project, "m"))
    result = CliRunner().invoke(main, ["fmt", "--check", str(tmp_path)])
    assert not isinstance(result.exception, RecursionError)
    assert codes(text.replace("sum(", "sum(abs(", 1).replace(")\n", "))\n")) == ["MD101"]


def test_a_spec_test_finds_each_expected_group_directly(tmp_path, monkeypatch):
    from metricdsl.tools import spectest

    groups = 2000
    rows = "".join(f"        - {{x: {i}, y: a}}\n" for i in range(groups))
    expect = "".join(f"      - {{x: {i}, n: 1}}\n" for i in range(groups)) + "      - {x: -1, n: 1}\n"
    test = f"tests:\n  - name: t\n    by: [x]\n    given:\n      s:\n{rows}    expect:\n{expect}"
    project = project_of(tmp_path, SOURCE + "metrics:\n  n: count()\n" + test)
    compared = []
    same_key = spectest._same_key
    monkeypatch.setattr(spectest, "_same_key", lambda a, e: compared.append(1) or same_key(a, e))
    (outcome,) = spectest.run_tests(project)
    assert len(compared) == groups  # each expected group against its own row: was every row, 4 million in all
    (failure,) = (failure_text(f) for f in outcome.failures)
    assert failure.startswith("no group x=-1; groups found: x=0; x=1; ")
    assert failure.endswith(f"x=9; and {groups - 10:,} more")


def test_the_documented_bounds_are_the_enforced_ones():
    from metricdsl.codes import CODES

    assert f"more than {MAX_METRIC_LEVELS} levels" in CODES["MD214"].what
    assert f"more than {MAX_WRITTEN_OUT:,} parts" in CODES["MD215"].what
    assert f"more than {MAX_NESTING} levels" in CODES["MD215"].what
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    for bound in (
        f"nests at most {MAX_NESTING} levels",
        f"{MAX_WRITTEN_OUT:,} parts",
        f"at most {MAX_METRIC_LEVELS} levels deep",
    ):
        assert bound in readme


def test_the_groups_of_many_sources_are_joined_in_a_balanced_tree(tmp_path):
    sources = 64
    columns = "".join(f"  s{i}:\n    columns: {{x: int, y: str}}\n" for i in range(sources))
    lines = "".join(f"  m{i}: {{expr: count(), source: s{i}}}\n" for i in range(sources))
    project = project_of(tmp_path, f"sources:\n{columns}metrics:\n{lines}")
    data = {f"s{i}": pl.DataFrame({"x": [1] * (i % 3), "y": ["a", "b"][: i % 3]}) for i in range(sources)}
    plan = project.compile(data, by=["y"]).explain(optimized=False).splitlines()
    indents = [len(line) - len(line.lstrip()) for line in plan if line.strip() == "FULL JOIN:"]
    assert len(indents) == sources - 1
    assert (max(indents) - min(indents)) // 2 + 1 == 6  # joins nested log2(64) deep; a chain nested 63
    rows = project.evaluate(data, by=["y"]).to_dicts()
    assert [row["y"] for row in rows] == ["a", "b"]
    assert [rows[0][f"m{i}"] for i in range(6)] == [0, 1, 1, 0, 1, 1]  # a group a source lacks counts 0
    assert [rows[1][f"m{i}"] for i in range(6)] == [0, 0, 1, 0, 0, 1]
