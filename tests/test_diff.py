"""`metricdsl diff`: a repository of the bundled example with two commits, the second reformatting one metric,
changing a target's threshold and a metric's filter, and renaming a metric; then bad input, each side named."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from metricdsl import cli
from metricdsl.render import diff as diff_render
from metricdsl.tools.diff import diff_specs

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden" / "diff"
IDENTITY = {
    "GIT_AUTHOR_NAME": "metricdsl",
    "GIT_AUTHOR_EMAIL": "metricdsl@example.com",
    "GIT_COMMITTER_NAME": "metricdsl",
    "GIT_COMMITTER_EMAIL": "metricdsl@example.com",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}
# The second commit: (file, old text, new text), each old text found once.
EDITS = [
    # A reformatted metric: a comment, keys in another order, spaces in its expression. No change.
    (
        "sales.yaml",
        "  sales_conversion:\n    label: Sales conversion\n    short: Conversion\n    source: interactions\n"
        "    expr: share(sale where answered)\n    unit: ratio",
        "  sales_conversion:   # closed sales\n    unit: ratio\n    label: Sales conversion\n    short: Conversion\n"
        '    source: interactions\n    expr: "share( sale   where answered )"',
    ),
    # A target's threshold.
    ("grading.yaml", 'aht: {warn: "> 11m", fail: "> 15m"}', 'aht: {warn: "> 8m", fail: "> 15m"}'),
    # A metric's filter.
    (
        "operations.yaml",
        "    expr: mean(wait_s where answered)\n    where: live",
        '    expr: mean(wait_s where answered)\n    where: channel == "phone"',
    ),
]
RENAMED = ("buy_again_30d", "repurchase_30d")  # in every file that names it


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **IDENTITY}
    )
    return done.stdout


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run(folder: Path, *args: str) -> tuple[int, str, str]:
    with inside(folder):
        result = CliRunner().invoke(cli.main, ["diff", *args], env={"NO_COLOR": "1"})
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's specs and data committed, then the second commit above."""
    repo = tmp_path_factory.mktemp("repo")
    shutil.copytree(ROOT / "specs", repo / "specs")
    shutil.copytree(ROOT / "examples" / "data", repo / "examples" / "data")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    for name, old, new in EDITS:
        path = repo / "specs" / name
        assert path.read_text().count(old) == 1, old
        path.write_text(path.read_text().replace(old, new))
    for path in (repo / "specs").glob("*.yaml"):
        path.write_text(path.read_text().replace(*RENAMED))
    git(repo, "commit", "-q", "-am", "head")
    return repo


@pytest.fixture(scope="module")
def outcome(scenario: Path) -> dict:
    """`diff HEAD~1 --format json` in the scenario (the dashboard's layout: team and week), with what git says of the
    work tree and the index before and after."""
    index = scenario / ".git" / "index"
    status = git(scenario, "status", "--porcelain")  # which may refresh the index: before it is read below
    before = (status, index.stat().st_mtime_ns, index.read_bytes())
    code, out, err = run(scenario, "HEAD~1", "--dashboard", "service_2_0", "--format", "json")
    after = (index.stat().st_mtime_ns, index.read_bytes())
    after = (git(scenario, "status", "--porcelain"), *after)
    return {"code": code, "diff": json.loads(out) if code == 0 else err, "before": before, "after": after}


def _weekly(repo: Path) -> pl.DataFrame:
    """ASA and AHT by team and ISO week, computed here from the CSV: ASA over answered live contacts (the old filter)
    and over answered phone contacts (the new), AHT over answered contacts."""
    rows = pl.read_csv(repo / "examples" / "data" / "interactions.csv", try_parse_dates=True)
    answered = rows.filter(pl.col("answered"))
    week = pl.col("started_at").dt.strftime("%G-W%V").alias("week")
    return answered.group_by("team", week).agg(
        pl.col("wait_s").filter(pl.col("channel").is_in(["phone", "chat"])).mean().alias("asa_old"),
        pl.col("wait_s").filter(pl.col("channel") == "phone").mean().alias("asa_new"),
        (pl.col("talk_s") + pl.col("hold_s") + pl.col("wrap_s")).mean().alias("aht"),
    )


def test_two_commits_report_the_three_real_changes_and_the_rename(outcome):
    assert outcome["code"] == 0, outcome["diff"]
    changes = {(c["change"], c["kind"], c["name"]): c for c in outcome["diff"]["changes"]}
    # The reformatted `sales_conversion` is no change; the references to the renamed metric (loyalty_index, the
    # dashboard, the scorecard, its target) are none either.
    assert sorted(changes) == [
        ("changed", "metric", "asa"),
        ("changed", "target", "aht"),
        ("renamed", "metric", "repurchase_30d"),
    ]
    asa = changes["changed", "metric", "asa"]
    assert ("where: live" in asa["old"], 'where: channel == "phone"' in asa["new"]) == (True, True)
    assert asa["old_place"] == asa["new_place"] == "specs/operations.yaml:35"
    assert asa["reach"] == ["dashboard:service_2_0", "target:asa"]
    renamed = changes["renamed", "metric", "repurchase_30d"]
    assert (renamed["old_name"], renamed["old"] == renamed["new"]) == ("buy_again_30d", True)
    assert renamed["old_place"] == renamed["new_place"] == "specs/sales.yaml:18"
    assert renamed["reach"] == [
        "dashboard:service_2_0",
        "dashboard:voice_of_customer",
        "metric:loyalty_index",
        "scorecard:loyalty_driver",
        "target:repurchase_30d",
    ]
    aht = changes["changed", "target", "aht"]
    assert (aht["old"], aht["new"]) == (
        "base: {warn: aht > 11m, fail: aht > 15m}",
        "base: {warn: aht > 8m, fail: aht > 15m}",
    )
    assert aht["old_place"] == "specs/grading.yaml:9"


def test_two_commits_report_value_deltas_and_status_changes_on_the_data(outcome, scenario):
    numbers = outcome["diff"]["numbers"]
    assert (numbers["skipped"], numbers["by"], numbers["grain"]) == (None, ["team"], "week")
    weekly = {(r["team"], r["week"]): r for r in _weekly(scenario).to_dicts()}
    moved = {(v["metric"], v["group"]["team"], v["period"]): v for v in numbers["values"]}
    assert {m for m, _, _ in moved} == {"asa", "aht"}  # the renamed metric and loyalty_index did not move
    # ASA: every team and week whose value moved, to the value computed from the CSV; none left out.
    asa = {(t, w): v for (m, t, w), v in moved.items() if m == "asa"}
    expected = {k: r for k, r in weekly.items() if r["asa_old"] != r["asa_new"]}
    assert asa.keys() == expected.keys()
    for key, value in asa.items():
        assert value["old"] == pytest.approx(expected[key]["asa_old"], rel=1e-9)
        if expected[key]["asa_new"] is None:  # a team without phone contacts
            assert (value["new"], value["delta"], value["new_status"]) == (None, None, "no_data")
        else:
            assert value["new"] == pytest.approx(expected[key]["asa_new"], rel=1e-9)
            assert value["delta"] == pytest.approx(value["new"] - value["old"], rel=1e-9)
            assert value["relative"] == pytest.approx(value["delta"] / value["old"], rel=1e-9)
    # AHT: its value is unchanged; its status goes from ok to warn exactly where it is over 8 and at most 11 minutes.
    aht = {(t, w): v for (m, t, w), v in moved.items() if m == "aht"}
    assert aht.keys() == {k for k, r in weekly.items() if 480 < r["aht"] <= 660}
    assert {(v["old_status"], v["new_status"], v["delta"]) for v in aht.values()} == {("ok", "warn", 0.0)}
    # Those are the findings that appear; none disappears (ASA stays under its 30 s warning), no score moves.
    assert {(f["name"], f["group"]["team"], f["period"]) for f in numbers["findings_appeared"]} == {
        ("aht", t, w) for t, w in aht
    }
    assert (numbers["findings_disappeared"], numbers["scores"]) == ([], [])
    # Status changes come first, then the largest relative change.
    statuses = [v["old_status"] != v["new_status"] for v in numbers["values"]]
    assert statuses == sorted(statuses, reverse=True)


def test_the_work_tree_and_the_index_are_untouched(outcome):
    assert outcome["before"] == outcome["after"]
    assert outcome["before"][0] == ""


def test_the_text_names_the_sides_and_the_markdown_escapes_names(scenario):
    code, out, _ = run(scenario, "HEAD~1", "specs", "--by", "team")
    base = git(scenario, "rev-parse", "--short=7", "HEAD~1").strip()
    assert code == 0
    assert out.startswith(f"base ({base}) → head (working tree): 3 definitions changed (1 renamed, 2 changed)")
    assert "renamed metric buy_again_30d → repurchase_30d" in out


@pytest.mark.parametrize(("output_format", "name"), [("text", "diff.txt"), ("markdown", "diff.md"), ("json", "diff.json")])
def test_output_matches_its_golden_file(scenario, output_format, name, request):
    """The scenario by team alone (its outputs stay short), the base's commit written as `BASE`."""
    with inside(scenario):
        found = diff_specs(["specs"], "HEAD~1", by=["team"])
    text = diff_render.render(found, output_format).replace(found.base, "base (BASE)")
    if output_format == "json":  # to ten digits: the last bits of a mean depend on the order of its sum
        text = json.dumps(_settled(json.loads(text)), indent=2, ensure_ascii=False)
    text = text.rstrip("\n") + "\n"
    golden = GOLDEN / name
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.read_text() == text, f"{golden} differs; run pytest --update-golden if intended"


def _settled(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _settled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_settled(v) for v in value]
    return value


# -- bad input, and a small project without data ------------------------------------------------------------------

SPEC = """\
sources:
  calls:
    path: calls.csv
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: {type: float, unit: s}}
metrics:
  asa: {expr: mean(wait_s), unit: s}
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "calls.yaml").write_text(SPEC)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def test_a_change_in_the_work_tree_without_data_skips_the_numbers(small):
    (small / "specs" / "calls.yaml").write_text(SPEC.replace("mean(wait_s)", "max(wait_s)"))
    code, out, _ = run(small)  # BASE: the merge base with main, here HEAD; PATHS: ./specs
    assert code == 0
    assert "changed metric asa (specs/calls.yaml:7)\n  - expr: mean(wait_s)\n  + expr: max(wait_s)" in out
    assert out.endswith("numbers skipped: no data for source `calls`: give --data calls=FILE or set its `path:`\n")


def test_not_a_repository(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "calls.yaml").write_text(SPEC)
    code, _, err = run(tmp_path, "HEAD", "specs")
    assert (code, err) == (2, "error: base: specs is not in a git repository\n")


def test_an_unknown_revision(small):
    code, _, err = run(small, "no-such-branch", "specs")
    assert (code, err) == (2, "error: base: unknown revision `no-such-branch`\n")
    code, _, err = run(small, "HEAD", "specs", "--head", "nope")
    assert (code, err) == (2, "error: head: unknown revision `nope`\n")


def test_invalid_specs_at_the_base_are_diagnostics_naming_the_base(small):
    (small / "specs" / "calls.yaml").write_text(SPEC.replace("mean(wait_s)", "mean(wait_z)"))
    git(small, "commit", "-q", "-am", "broken")
    (small / "specs" / "calls.yaml").write_text(SPEC)
    code, _, err = run(small, "HEAD", "specs")
    base = git(small, "rev-parse", "--short=7", "HEAD").strip()
    assert code == 2
    assert err.startswith(f"base ({base}): the specs do not validate\n")
    assert "specs/calls.yaml:7" in err
    assert "wait_z" in err
    assert "Traceback" not in err
    code, _, err = run(small, "HEAD~1", "specs", "--head", "HEAD")
    assert code == 2
    assert err.startswith(f"head ({base}): the specs do not validate\n")


def test_a_path_missing_at_one_side(small):
    (small / "more").mkdir()
    (small / "more" / "extra.yaml").write_text("metrics:\n  calls: count()\n")
    code, _, err = run(small, "HEAD", "specs", "more")
    base = git(small, "rev-parse", "--short=7", "HEAD").strip()
    assert (code, err) == (2, f"error: base ({base}): more does not exist at this revision\n")
    git(small, "add", "more")
    git(small, "commit", "-q", "-m", "more")
    shutil.rmtree(small / "more")
    code, _, err = run(small, "HEAD", "specs", "more")
    assert (code, err) == (2, "error: head (working tree): more does not exist\n")


def test_a_crafted_repository_runs_no_command(small):
    """The repository's configuration names commands that git would run to read the work tree: none runs."""
    mark = small / "ran"
    git(small, "config", "core.fsmonitor", f"touch {mark}")
    git(small, "config", "filter.evil.clean", f"touch {mark}")
    (small / ".gitattributes").write_text("*.yaml filter=evil\n")
    (small / "specs" / "calls.yaml").write_text(SPEC + "  busy: {expr: count(), unit: calls}\n")
    code, out, _ = run(small, "HEAD", "specs")
    assert code == 0
    assert "added metric busy" in out
    assert not mark.exists()


def test_markdown_keeps_text_from_specs_inert(small):
    """A description holding a fence, HTML and a table's `|` stays inside its code block, fenced longer."""
    hostile = 'asa: {expr: mean(wait_s), unit: s, description: "``` </details><img src=x onerror=alert(1)> | @team"}'
    (small / "specs" / "calls.yaml").write_text(SPEC.replace("asa: {expr: mean(wait_s), unit: s}", hostile))
    code, out, _ = run(small, "HEAD", "specs", "--format", "markdown")
    assert code == 0
    block = out.split("````diff\n")[1].split("\n````\n")[0]
    assert block == '+ description: "``` </details><img src=x onerror=alert(1)> | @team"'
    assert out.count("<img") == 1  # in the code block only
    assert "| changed | metric | asa | specs/calls.yaml:7 |  |" in out


def test_without_git(small, monkeypatch):
    monkeypatch.setenv("PATH", str(small / "no-programs-here"))
    code, _, err = run(small, "HEAD", "specs")
    assert (code, err) == (2, "error: base: cannot run git: is it installed?\n")


def test_unreadable_data_is_one_line_naming_the_side(small):
    (small / "specs" / "calls.yaml").write_text(SPEC.replace("mean(wait_s)", "max(wait_s)"))
    (small / "calls.csv").write_text("team,started_at\nnorth,2026-01-05T09:00:00\n")
    code, _, err = run(small, "HEAD", "specs", "--data", "calls=calls.csv")
    assert code == 2
    assert err.startswith("error: head (working tree): ")
    assert "wait_s" in err
    assert len(err.splitlines()) == 1


def test_a_score_moves_and_a_finding_disappears(small):
    """By hand: south's ASA goes from (50 + 70) / 2 = 60 s to 50 s (the 70 s call left out), from warn (> 30 s) to ok
    (> 55 s); its score from (60 - 60) / (0 - 60) = 0 to (50 - 60) / (0 - 60) = 16.7 points. North's stays 15 s."""
    graded = SPEC + 'targets:\n  asa: {warn: "> 30s"}\nscorecards:\n  svc: {items: {asa: {floor: 60, ceiling: 0}}}\n'
    graded += "dashboards:\n  board: {metrics: [asa], by: [team], scorecard: svc}\n"
    (small / "specs" / "calls.yaml").write_text(graded)
    (small / "specs" / "calls.csv").write_text(  # the source's `path:`, beside its spec
        "team,started_at,wait_s\nnorth,2026-01-05T09:00:00,10\nnorth,2026-01-05T10:00:00,20\n"
        "south,2026-01-05T09:00:00,50\nsouth,2026-01-05T10:00:00,70\n"
    )
    git(small, "add", ".")
    git(small, "commit", "-q", "-m", "graded")
    changed = graded.replace("mean(wait_s)", "mean(wait_s where wait_s < 60s)").replace('"> 30s"', '"> 55s"')
    (small / "specs" / "calls.yaml").write_text(changed)
    code, out, _ = run(small, "HEAD", "--format", "json")
    assert code == 0
    numbers = json.loads(out)["numbers"]
    ((value),) = numbers["values"]
    assert (value["group"], value["old"], value["new"], value["delta"]) == ({"team": "south"}, 60.0, 50.0, -10.0)
    assert value["relative"] == pytest.approx(-1 / 6)
    assert (value["old_status"], value["new_status"]) == ("warn", "ok")
    assert [(f["name"], f["group"], f["status"]) for f in numbers["findings_disappeared"]] == [
        ("asa", {"team": "south"}, "warn")
    ]
    assert numbers["findings_appeared"] == []
    ((score),) = numbers["scores"]
    assert (score["group"], score["old"]) == ({"team": "south"}, 0.0)
    assert score["new"] == pytest.approx(100 / 6)
    code, out, _ = run(small, "HEAD")
    assert "  asa south: 1m 00s → 50s (-10s, -16.7%)  warn → ok" in out
    assert "scores that moved:\n  svc south: 0.0 → 16.7" in out


def test_the_output_never_replaces_a_spec_file_or_the_data(small):
    """A spec file under a folder given, and a source's data at its `path:`, are inputs: `--output` refuses them."""
    (small / "specs" / "calls.csv").write_text("team,started_at,wait_s\nnorth,2026-01-05T09:00:00,10\n")
    (small / "specs" / "calls.yaml").write_text(SPEC.replace("mean(wait_s)", "max(wait_s)"))
    for output, what in (("specs/calls.yaml", "a spec file"), ("specs/calls.csv", "the data of source `calls`")):
        before = (small / output).read_bytes()
        code, _, err = run(small, "HEAD", "specs", "--output", output)
        assert code == 2
        assert what in err
        assert (small / output).read_bytes() == before


def test_a_source_written_or_implied_is_the_same_definition(small):
    """`asa` reads `calls`, the only source: naming it, or moving the metric to a file of its own, is no change."""
    (small / "specs" / "calls.yaml").write_text(SPEC.replace("metrics:\n  asa: {expr: mean(wait_s), unit: s}\n", ""))
    (small / "specs" / "asa.yaml").write_text("metrics:\n  asa: {source: calls, expr: mean(wait_s), unit: s}\n")
    code, out, _ = run(small, "HEAD", "specs")
    assert code == 0
    assert "0 definitions changed" in out.splitlines()[0]


def test_the_calendar_reaches_every_metric_and_its_defaults_are_no_change(small):
    """Weeks that start on Sunday move every weekly value; writing the default, Monday, changes nothing."""
    spec = small / "specs" / "calls.yaml"
    spec.write_text("calendar: {week_start: monday}\n" + SPEC)
    code, out, _ = run(small, "HEAD", "specs", "--format", "json")
    assert (code, json.loads(out)["changes"]) == (0, [])
    spec.write_text("calendar: {week_start: sunday}\n" + SPEC)
    code, out, _ = run(small, "HEAD", "specs", "--format", "json")
    ((change),) = json.loads(out)["changes"]
    assert (change["kind"], change["change"], change["old"], change["new"]) == (
        "calendar",
        "changed",
        "",
        "week_start: sunday",
    )
    assert (change["old_place"], change["new_place"], change["reach"]) == (None, "specs/calls.yaml:1", ["metric:asa"])


def test_a_rename_is_told_only_when_one_definition_could_be_it(small):
    """Two twins renamed at once could each be either new name: removed and added, not a guess. One twin removed and
    none added is a removal."""
    spec = small / "specs" / "calls.yaml"
    spec.write_text(SPEC + "  a: {expr: count()}\n  b: {expr: count()}\n")
    git(small, "commit", "-q", "-am", "twins")
    spec.write_text(SPEC + "  c: {expr: count()}\n  d: {expr: count()}\n")
    code, out, _ = run(small, "HEAD", "specs", "--format", "json")
    changes = [(c["change"], c["name"], c["old_name"]) for c in json.loads(out)["changes"]]
    assert changes == [("removed", "a", None), ("removed", "b", None), ("added", "c", None), ("added", "d", None)]
    spec.write_text(SPEC + "  a: {expr: count()}\n")
    code, out, _ = run(small, "HEAD", "specs", "--format", "json")
    assert code == 0
    assert [(c["change"], c["name"]) for c in json.loads(out)["changes"]] == [("removed", "b")]


def test_the_columns_of_a_renamed_source_follow_it(small):
    """Renaming the source is one rename: its columns (two of the same type) are not renamed one by one."""
    spec = small / "specs" / "calls.yaml"
    spec.write_text(SPEC.replace("columns: {team: str,", "columns: {queue: str, team: str,"))
    git(small, "commit", "-q", "-am", "queue")
    spec.write_text(spec.read_text().replace("  calls:", "  contacts:").replace("team: str,", "team: int,"))
    code, out, _ = run(small, "HEAD", "specs", "--format", "json")
    assert code == 0
    changes = [(c["change"], c["kind"], c["name"], c["old_name"]) for c in json.loads(out)["changes"]]
    assert changes == [("renamed", "source", "contacts", "calls"), ("changed", "column", "contacts.team", None)]


def test_labels_and_descriptions_move_no_number_and_compute_none(small, monkeypatch):
    """A change of a description alone is shown, and neither side is evaluated for it."""
    (small / "specs" / "calls.csv").write_text("team,started_at,wait_s\nnorth,2026-01-05T09:00:00,10\n")
    git(small, "add", ".")
    git(small, "commit", "-q", "-m", "data")
    described = "asa: {expr: mean(wait_s), unit: s, label: ASA, description: Mean wait.}"
    (small / "specs" / "calls.yaml").write_text(SPEC.replace("asa: {expr: mean(wait_s), unit: s}", described))
    monkeypatch.setattr("metricdsl.project.Project.run_graded", None)  # calling it would fail
    code, out, _ = run(small, "HEAD", "specs")
    assert code == 0
    assert "changed metric asa (specs/calls.yaml:7)\n  + label: ASA\n  + description: Mean wait." in out
    assert out.endswith("numbers skipped: no change can move a number (labels and descriptions do not)\n")


def test_a_period_on_one_side_only_has_no_status_there(small):
    """Weeks that start on Sunday: the Monday's call moves from week 2026-W02 to the week of 2026-01-04."""
    (small / "specs" / "calls.csv").write_text("team,started_at,wait_s\nnorth,2026-01-05T09:00:00,10\n")
    (small / "specs" / "calls.yaml").write_text(SPEC + 'targets:\n  asa: {warn: "> 30s"}\n')
    git(small, "add", ".")
    git(small, "commit", "-q", "-m", "graded")
    (small / "specs" / "calls.yaml").write_text(
        "calendar: {week_start: sunday}\n" + SPEC + 'targets:\n  asa: {warn: "> 30s"}\n'
    )
    code, out, _ = run(small, "HEAD", "specs", "--grain", "week")
    assert code == 0
    assert "  asa 2026-01-04: n/a → 10s  n/a → ok\n  asa 2026-W02: 10s → n/a  ok → n/a" in out
    code, out, _ = run(small, "HEAD", "specs", "--grain", "week", "--format", "markdown")
    assert "| asa | 2026-W02 | 10s | n/a |  | ok → n/a |" in out


def test_markdown_fits_in_a_pull_request_comment():
    """Thousands of moves: the Markdown stays under GitHub's 65,536 characters, and says how many it left out."""
    from metricdsl.tools.diff import Diff
    from metricdsl.tools.diff_definitions import Change
    from metricdsl.tools.diff_numbers import Numbers, ValueChange

    changes = tuple(
        Change("metric", f"m{i:04}", "changed", None, "expr: count()", "expr: sum(x)", "a.yaml:1", "a.yaml:1", ())
        for i in range(600)
    )
    values = tuple(
        ValueChange(f"m{i % 600:04}", {"team": f"team{i}"}, "2026-W02", None, 1.0, 2.0, 1.0, 1.0, "ok", "warn")
        for i in range(5000)
    )
    found = Diff("base (1234567)", "head (working tree)", changes, Numbers(compared=("m0000",), rows=5000, values=values))
    text = diff_render.render(found, "markdown")
    assert len(text) <= diff_render.MARKDOWN_LIMIT
    assert text.count("| ok → warn |") == 10 + 200  # the first ten, then 200 of the 4990 others
    assert "… and 4790 more (`--format json` lists them all)" in text
    assert "… and 400 more (`--format json` lists them all)" in text  # of the 600 definitions
    assert len(json.loads(diff_render.render(found, "json"))["numbers"]["values"]) == 5000


def test_a_renamed_source_reads_the_same_data_on_both_sides(small):
    """The source renamed, its data given: the base side reads that data under the source's old name."""
    spec = small / "specs" / "calls.yaml"
    (small / "contacts.csv").write_text("team,started_at,wait_s\nnorth,2026-01-05T09:00:00,10\n")
    spec.write_text(SPEC.replace("  calls:", "  contacts:").replace("mean(wait_s)", "max(wait_s)"))
    code, out, err = run(small, "HEAD", "specs", "--data", "contacts=contacts.csv", "--format", "json")
    assert code == 0, err
    numbers = json.loads(out)["numbers"]
    assert (numbers["skipped"], numbers["compared"], numbers["rows"], numbers["values"]) == (None, ["asa"], 1, [])


def test_a_source_of_the_base_alone_without_data_skips_the_numbers(small):
    """The source's file renamed with it: the base's file is gone, so the numbers are skipped, naming the base."""
    (small / "specs" / "contacts.csv").write_text("team,started_at,wait_s\nnorth,2026-01-05T09:00:00,10\n")
    spec = small / "specs" / "calls.yaml"
    spec.write_text(SPEC.replace("  calls:", "  contacts:").replace("calls.csv", "contacts.csv"))
    code, out, _ = run(small, "HEAD", "specs")
    assert code == 0
    assert out.endswith("numbers skipped: no data for source `calls` of the base side: give --data calls=FILE\n")


def test_no_change_says_so_once(small):
    code, out, _ = run(small, "HEAD", "specs")
    base = git(small, "rev-parse", "--short=7", "HEAD").strip()
    assert (code, out) == (
        0,
        f"base ({base}) → head (working tree): 0 definitions changed\n\nnumbers skipped: no definition changed\n",
    )


GRADED = SPEC + 'targets:\n  asa: {warn: "> 5s"}\nrules:\n  slow: {when: asa > 8s, message: "{team} waits"}\n'


@pytest.fixture
def graded(small: Path) -> Path:
    """North's ASA is 10 s: over its target's warning (5 s) and the rule's 8 s."""
    (small / "specs" / "calls.yaml").write_text(GRADED)
    (small / "specs" / "calls.csv").write_text("team,started_at,wait_s\nnorth,2026-01-05T09:00:00,10\n")
    git(small, "add", ".")
    git(small, "commit", "-q", "-m", "graded")
    return small


def _numbers(repo: Path) -> dict:
    code, out, err = run(repo, "HEAD", "specs", "--by", "team", "--format", "json")
    assert code == 0, err
    return dict(json.loads(out)["numbers"])


def test_a_removed_target_or_rule_makes_its_findings_disappear(graded):
    spec = graded / "specs" / "calls.yaml"
    spec.write_text(GRADED.replace('targets:\n  asa: {warn: "> 5s"}\n', ""))
    numbers = _numbers(graded)
    assert [(f["kind"], f["name"]) for f in numbers["findings_disappeared"]] == [("target", "asa")]
    assert [(v["old_status"], v["new_status"]) for v in numbers["values"]] == [("warn", None)]
    spec.write_text(GRADED.split("rules:")[0])
    numbers = _numbers(graded)
    assert [(f["kind"], f["name"]) for f in numbers["findings_disappeared"]] == [("rule", "slow")]
    assert (numbers["compared"], numbers["values"]) == (["asa"], [])


def test_a_metric_of_one_side_is_computed_there_for_its_findings(graded):
    spec = graded / "specs" / "calls.yaml"
    spec.write_text(GRADED.replace("targets:\n", '  busy: {expr: count()}\ntargets:\n  busy: {warn: "> 0"}\n'))
    numbers = _numbers(graded)
    assert (numbers["compared"], numbers["head_only"], numbers["base_only"]) == ([], ["busy"], [])
    assert [(f["name"], f["group"], f["status"]) for f in numbers["findings_appeared"]] == [
        ("busy", {"team": "north"}, "warn")
    ]
    git(graded, "commit", "-q", "-am", "busy")
    spec.write_text(GRADED)
    numbers = _numbers(graded)
    assert (numbers["compared"], numbers["head_only"], numbers["base_only"]) == ([], [], ["busy"])
    assert [f["name"] for f in numbers["findings_disappeared"]] == ["busy"]


def test_a_default_branch_without_a_merge_base_is_an_error_not_head(small):
    """A branch with no history in common with `main` (as in a shallow clone): no silent comparison with HEAD."""
    git(small, "checkout", "-q", "--orphan", "other")
    git(small, "commit", "-q", "-m", "unrelated")
    code, _, err = run(small)
    assert code == 2
    assert err == "error: base: HEAD and refs/heads/main have no common commit (a shallow clone?): give BASE\n"


def test_a_repository_of_another_user_is_told_as_such(small, monkeypatch):
    """Git refuses a repository that another user owns (a checkout in a container): the message says so."""
    refusal = b"fatal: detected dubious ownership in repository at '/w'\n"

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise subprocess.CalledProcessError(128, "git", b"", refusal)

    monkeypatch.setattr("metricdsl.tools.diff.run_git", refuse)
    monkeypatch.setattr("metricdsl.tools.revision.run_git", refuse)  # under revision.git_text
    code, _, err = run(small, "HEAD", "specs")
    assert code == 2
    assert err == (
        "error: base: git refuses the repository holding specs, which another user owns: "
        "git config --global --add safe.directory DIR lets it read it\n"
    )


def test_values_are_in_the_unit_the_metric_declares(graded):
    """A share declared `unit: ratio` moves as a percentage in points, as `check` and the report show it, and JSON
    keeps the number and names the unit."""
    spec = graded / "specs" / "calls.yaml"
    spec.write_text(GRADED.replace("metrics:\n", "metrics:\n  slow_share: {expr: share(wait_s > 9s), unit: ratio}\n"))
    git(graded, "commit", "-q", "-am", "share")
    spec.write_text(GRADED.replace("metrics:\n", "metrics:\n  slow_share: {expr: share(wait_s > 20s), unit: ratio}\n"))
    code, out, err = run(graded, "HEAD", "specs", "--by", "team")
    assert code == 0, err
    assert "slow_share north: 100.0% → 0.0% (-100.0 pts, -100.0%)" in out
    values = _numbers(graded)["values"]
    assert [(v["metric"], v["old"], v["new"], v["unit"]) for v in values] == [("slow_share", 1.0, 0.0, "ratio")]
