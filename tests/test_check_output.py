"""`metricdsl check` in every format, as golden files, and GitHub workflow commands one line per finding."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricdsl import cli

GOLDEN = Path(__file__).parent / "golden"
REVISION = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # pinned: the specs' real revision depends on the checkout
SPEC = """\
sources:
  calls:
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: {type: float, unit: s}, ok: bool}
metrics:
  asa: {expr: mean(wait_s), label: Average speed of answer, unit: s, better: lower}
  resolved: {expr: share(ok), unit: ratio, better: higher}
targets:
  asa:
    warn: "> 30s"
    fail: "> 60s"
rules:
  slower:
    when: asa > prev(asa)
    severity: info
    message: |-
      {team}: waits {pct_change(asa)} to {asa}, over {n(asa)} calls
      runbook: 100% of teams | step <2>
scorecards:
  service:
    items:
      asa: {weight: 1, floor: 60, ceiling: 0, critical: true}
      resolved: {weight: 1, floor: 0, ceiling: 1}
dashboards:
  board: {metrics: [asa, resolved], by: [team], grain: week, scorecard: service}
"""
CALLS = """\
team,started_at,wait_s,ok
north,2026-01-05T09:00:00,20,true
north,2026-01-06T09:00:00,24,false
north,2026-01-12T09:00:00,50,true
north,2026-01-13T10:00:00,40,true
south,2026-01-05T09:00:00,70,false
south,2026-01-12T09:00:00,65,true
south,2026-01-12T11:00:00,90,true
"""
GOLDEN_FILES = {"text": "check.txt", "markdown": "check.md", "github": "check_github.txt", "json": "check.json"}
# One command: its level, properties (no unescaped `,` or `:` in a value) and a message on the same line.
COMMAND = re.compile(r"::(notice|warning|error) file=[^,:\r\n]+,line=\d+,title=[^,:\r\n]+::[^\r\n]+")


@pytest.fixture
def check(tmp_path, monkeypatch):
    """Run `check` on the spec and data above, in a folder of their own, with the revision pinned."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(cli, "spec_revision", lambda paths: REVISION)
    Path("spec.yaml").write_text(SPEC)
    Path("calls.csv").write_text(CALLS)

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli.main, ["check", "spec.yaml", "--data", "calls=calls.csv", *args])
        assert isinstance(result.exception, SystemExit | None), result.exception
        return result.exit_code, result.stdout

    return run


@pytest.mark.parametrize("output_format", sorted(GOLDEN_FILES))
def test_check_output_matches_its_golden_file(check, output_format, request):
    code, out = check("--format", output_format)
    assert code == 1  # a target fails
    golden = GOLDEN / GOLDEN_FILES[output_format]
    if request.config.getoption("--update-golden"):
        golden.write_text(out)
    assert golden.read_text() == out, f"{golden} differs; run pytest --update-golden if intended"


def test_github_output_is_one_command_per_finding_even_for_a_multi_line_message(check):
    report = json.loads(check("--format", "json")[1])
    lines = check("--format", "github")[1].splitlines()
    overview, commands, summary = lines[0], lines[1:-1], lines[-1]
    assert overview == "::notice title=metricdsl check::5 findings in 2 periods: 2 fail, 1 warn, 2 info"
    assert summary == "2 fail, 1 warn, 2 info findings"
    # The `slower` findings (a rule reading `asa` alone) are shown with the `asa` finding of their group and
    # period: one command per target finding, the most severe first, the latest period first.
    targets = sorted(report["findings"][:3], key=lambda f: (f["severity"] != "fail", f["period"] != "2026-W03"))
    rules = {(f["group"]["team"], f["period"]): f["message"] for f in report["findings"] if f["kind"] == "rule"}
    assert len(commands) == len(targets) == 3
    for line, finding in zip(commands, targets, strict=True):
        assert COMMAND.fullmatch(line), line
        message = line.split("::", 2)[2]
        decoded = message.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        also = rules.get((finding["group"]["team"], finding["period"]))
        assert decoded == f"{finding['period']}: {finding['message']}" + (f"\nalso: slower: {also}" if also else "")
    assert any("\n" in f["message"] for f in report["findings"])


def test_json_output_file_holds_the_printed_report(check):
    _, printed = check("--format", "json", "--output", "out/findings.json")
    assert Path("out/findings.json").read_text() == printed
    assert json.loads(printed)["revision"] == REVISION


def test_fail_on_warn_exits_1_on_a_warning_only(check):
    Path("calls.csv").write_text("".join(line for line in CALLS.splitlines(keepends=True) if not line.startswith("south")))
    assert check()[0] == 0
    assert check("--fail-on", "warn")[0] == 1
