"""Specs from a stranger: git runs none of the repository's commands, `path:` stays in the project folder, and
messages quote no value of a file that only a spec named."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import metricdsl
from metricdsl.cli import main
from metricdsl.spec import data_paths
from metricdsl.tools.revision import spec_revision

SPEC = """\
sources:
  calls:
    path: ../data/calls.csv
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: float}
metrics:
  asa: mean(wait_s)
targets:
  asa: {fail: "> 60"}
dashboards:
  board: {metrics: [asa], by: [team]}
"""
CALLS = "team,started_at,wait_s\nnorth,2026-01-05T09:00:00,20\nsouth,2026-01-05T10:00:00,70\n"
# The test's own git commands: no user or system configuration, a fixed identity.
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


def git(folder: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    completed = subprocess.run(
        [*command, "-C", str(folder), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    return completed.stdout.strip()


def hostile_commands(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A marker file, a command that creates it and fails, and a filter that creates it and passes its input on."""
    marker, command, filter_command = tmp_path / "MARKER", tmp_path / "hostile.sh", tmp_path / "filter.sh"
    command.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    filter_command.write_text(f"#!/bin/sh\ntouch '{marker}'\nexec cat\n")
    for script in (command, filter_command):
        script.chmod(0o755)
    return marker, command, filter_command


@pytest.fixture
def repo(tmp_path):
    """A committed project whose `.git/config` then names a command at every place git could run one: the
    fsmonitor hook, the hooks folder, and a clean filter that `.gitattributes` applies to every file."""
    marker, script, filter_script = hostile_commands(tmp_path)
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "specs" / "calls.yaml").write_text(SPEC)
    (root / "data" / "calls.csv").write_text(CALLS)
    (root / ".gitattributes").write_text("* filter=hostile diff=hostile\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "specs")
    (root / "hooks").mkdir()
    for hook in ("post-index-change", "pre-commit", "post-checkout"):
        (root / "hooks" / hook).symlink_to(script)
    for key, value in [
        ("core.fsmonitor", script),
        ("core.hooksPath", root / "hooks"),
        ("filter.hostile.clean", filter_script),
        ("filter.hostile.smudge", filter_script),
        ("filter.hostile.required", "true"),
        ("diff.hostile.textconv", script),
    ]:
        git(root, "config", key, str(value))
    return root, marker


def edit_in_place(path: Path) -> None:
    """Change a file without changing its size, so that git must read it to tell."""
    path.write_text(path.read_text().replace("> 60", "> 61"))


def test_the_hostile_repository_does_run_commands_through_git_status(repo):
    root, marker = repo
    edit_in_place(root / "specs" / "calls.yaml")
    git(root, "status", "--porcelain")
    assert marker.exists()  # so the tests below would see a command that ran


def test_the_revision_runs_none_of_the_repository_commands(repo):
    root, marker = repo
    head = git(root, "rev-parse", "HEAD")
    assert spec_revision([root / "specs"]) == head
    assert spec_revision([root / "specs" / "calls.yaml"]) == head
    edit_in_place(root / "specs" / "calls.yaml")
    assert spec_revision([root / "specs"]) == f"{head}-dirty"
    assert not marker.exists()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda root: (root / "specs" / "more.yaml").write_text("metrics: {}\n"), id="a new spec file"),
        pytest.param(lambda root: (root / "specs" / "calls.yaml").unlink(), id="a deleted spec file"),
        pytest.param(lambda root: (root / "specs" / "calls.yaml").write_text(SPEC + "\n"), id="a longer spec file"),
    ],
)
def test_a_changed_spec_makes_the_revision_dirty(repo, change):
    root, marker = repo
    (root / "specs" / "other.yaml").write_text("metrics: {}\n")
    git(root, "add", "specs/other.yaml")
    git(root, "-c", "core.hooksPath=/dev/null", "-c", "filter.hostile.clean=cat", "commit", "-q", "-m", "more")
    head = git(root, "rev-parse", "HEAD")
    marker.unlink(missing_ok=True)
    change(root)
    assert spec_revision([root / "specs"]) == f"{head}-dirty"
    assert not marker.exists()


def test_the_revision_describes_the_specs_not_the_data_beside_them(repo):
    root, _ = repo
    (root / "data" / "calls.csv").write_text(CALLS + "west,2026-01-05T11:00:00,5\n")
    (root / "specs" / "notes.txt").write_text("not a spec\n")
    (root / "specs" / "calls.yaml").write_bytes(SPEC.replace("\n", "\r\n").encode())  # a Windows checkout
    assert spec_revision([root / "specs"]) == git(root, "rev-parse", "HEAD")


def test_check_records_the_revision_and_runs_none_of_the_repository_commands(repo, monkeypatch):
    root, marker = repo
    monkeypatch.chdir(root)
    edit_in_place(root / "specs" / "calls.yaml")
    result = CliRunner().invoke(main, ["check", "specs", "--format", "json"])
    assert result.exit_code == 1, result.output  # south's asa fails its target
    assert json.loads(result.stdout)["revision"] == git(root, "rev-parse", "HEAD") + "-dirty"
    assert not marker.exists()


def test_a_partial_clone_fetches_nothing_through_its_configured_ssh_command(tmp_path):
    marker, script, _ = hostile_commands(tmp_path)
    source = tmp_path / "source"
    (source / "specs").mkdir(parents=True)
    (source / "specs" / "calls.yaml").write_text(SPEC)
    git(source, "init", "-q")
    git(source, "add", ".")
    git(source, "commit", "-q", "-m", "specs")
    git(source, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--no-checkout", "--filter=tree:0", f"file://{source}", str(clone))
    git(clone, "config", "core.sshCommand", str(script))
    git(clone, "config", "remote.origin.url", "ssh://example.invalid/specs")
    (clone / "specs").mkdir()
    (clone / "specs" / "calls.yaml").write_text(SPEC)
    git(clone, "ls-tree", "-r", "HEAD")
    assert marker.exists()  # git itself would run it to fetch the missing trees
    marker.unlink()
    assert spec_revision([clone / "specs"]) is None
    assert not marker.exists()


# -- data paths ------------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path, monkeypatch):
    """A project folder `project/` (the current folder, no repository) with its data, and a secret beside it."""
    project = tmp_path / "project"
    (project / "specs").mkdir(parents=True)
    (project / "data").mkdir()
    (project / "data" / "calls.csv").write_text(CALLS)
    (tmp_path / "secret.csv").write_text("team,started_at,wait_s\nsecret,oops,20\n")
    monkeypatch.chdir(project)
    monkeypatch.setenv("HOME", str(tmp_path))
    return project


def spec_reading(path: str) -> str:
    return SPEC.replace("../data/calls.csv", path)


@pytest.mark.parametrize(
    ("path", "setup"),
    [
        pytest.param("{tmp}/secret.csv", None, id="absolute"),
        pytest.param("../secret.csv", None, id="up-and-out"),
        pytest.param("../*.csv", None, id="a glob out"),
        pytest.param("~/secret.csv", None, id="home"),
        pytest.param("data/link.csv", lambda p: (p / "data" / "link.csv").symlink_to(p.parent / "secret.csv"), id="link"),
        pytest.param("data/*.csv", lambda p: (p / "data" / "z.csv").symlink_to(p.parent / "secret.csv"), id="glob link"),
        pytest.param("linked/calls.csv", lambda p: (p / "linked").symlink_to(p.parent), id="linked folder"),
        pytest.param(
            "data/set.parquet",
            lambda p: [(p / "data" / "set.parquet").mkdir(), (p / "data" / "set.parquet" / "a").symlink_to(p.parent)],
            id="link in a dataset folder",
        ),
    ],
)
def test_a_path_out_of_the_project_folder_is_an_error_at_its_position(outside, path, setup):
    if setup:
        setup(outside)
    Path("calls.yaml").write_text(spec_reading(path.replace("{tmp}", str(outside.parent))))
    with pytest.raises(metricdsl.SpecError) as raised:
        metricdsl.load("calls.yaml")
    (found,) = raised.value.diagnostics
    assert (found.code, found.location.line, found.location.col) == ("MD009", 3, 11)
    assert "source `calls`" in found.message
    assert "--data calls=FILE" in found.hint
    metricdsl.load("calls.yaml", allow_outside_paths=True)


def test_paths_inside_the_project_folder_load_and_are_read(outside):
    (outside / "data" / "copy.csv").symlink_to(outside / "data" / "calls.csv")
    (outside / "data" / ".hidden.csv").symlink_to(outside.parent / "secret.csv")  # a glob's `*` skips it
    (outside / "specs" / "calls.yaml").write_text(spec_reading("../data/*.csv"))
    table = metricdsl.load("specs").evaluate(metrics=["asa"])
    assert table["asa"].to_list() == [45.0]


def test_the_project_folder_is_the_git_work_tree_wherever_the_command_runs(outside, monkeypatch):
    (outside / ".git").mkdir()
    (outside / "specs" / "calls.yaml").write_text(SPEC)
    monkeypatch.chdir(outside.parent)
    assert metricdsl.load(outside / "specs").evaluate(metrics=["asa"])["asa"].to_list() == [45.0]


def test_outside_a_repository_and_the_current_folder_the_project_folder_is_the_specs_folder(outside, monkeypatch):
    (outside / "specs" / "calls.yaml").write_text(SPEC)
    (outside.parent / "elsewhere").mkdir()
    monkeypatch.chdir(outside.parent / "elsewhere")
    with pytest.raises(metricdsl.SpecError, match="MD009"):
        metricdsl.load(outside / "specs")


def test_the_command_line_reports_allows_and_trusts_what_the_user_names(outside):
    (outside / "specs" / "calls.yaml").write_text(spec_reading("../../secret.csv"))
    validated = CliRunner().invoke(main, ["validate", "specs"])
    assert validated.exit_code == 1
    assert "error[MD009]" in validated.stdout
    assert "specs/calls.yaml:3:11" in validated.stdout
    allowed = CliRunner().invoke(main, ["eval", "specs", "--metrics", "asa", "--grain", "day", "--allow-outside-paths"])
    assert allowed.exit_code == 2  # read, and its bad value found
    given = CliRunner().invoke(
        main, ["eval", "specs", "--metrics", "asa", "--grain", "day", "--data", f"calls={outside.parent / 'secret.csv'}"]
    )
    assert given.exit_code == 2  # the file the user named is read, wherever it is, and its bad value quoted
    assert "`oops` is not an ISO 8601 datetime" in given.stderr
    assert "MD009" not in given.stderr


TWO_SOURCES = """\
sources:
  calls:
    path: ../../secret.csv
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: float}
  orders:
    path: ORDERS
    columns: {team: str, amount: float}
metrics:
  asa: mean(wait_s)
  revenue: sum(amount)
targets:
  asa: {fail: "> 60"}
"""


@pytest.mark.parametrize("command", ["eval", "check"])
def test_data_given_for_a_source_lifts_the_rule_for_its_path_alone(outside, command):
    """`--data calls=FILE` replaces the `path:` of `calls`, which is then never read: where it leads is no matter.
    The `path:` of any other source still must lead inside the project folder."""
    (outside / "data" / "orders.csv").write_text("team,amount\nnorth,10\n")
    (outside / "specs" / "spec.yaml").write_text(TWO_SOURCES.replace("ORDERS", "../data/orders.csv"))
    given = ["--metrics", "asa,revenue", "--data", f"calls={outside / 'data' / 'calls.csv'}"]
    result = CliRunner().invoke(main, [command, "specs", *given])
    assert result.exit_code == 0, result.output
    assert "secret" not in result.output
    assert "MD009" not in result.output
    without = CliRunner().invoke(main, [command, "specs", "--metrics", "asa"])
    assert without.exit_code == 2
    assert "error[MD009]: the `path:` of source `calls`" in without.stderr
    (outside / "specs" / "spec.yaml").write_text(TWO_SOURCES.replace("ORDERS", "../../secret.csv"))
    other = CliRunner().invoke(main, [command, "specs", *given])
    assert other.exit_code == 2
    assert "error[MD009]: the `path:` of source `orders`" in other.stderr
    assert "source `calls`" not in other.stderr
    validated = CliRunner().invoke(main, ["validate", "specs"])  # validate reads no data: every path is checked
    assert validated.exit_code == 1
    assert validated.stdout.count("error[MD009]") == 2


def test_a_path_outside_of_a_source_given_to_the_api_is_left_out_never_read(outside):
    (outside / "specs" / "spec.yaml").write_text(SPEC.replace("../data/calls.csv", "../../secret.csv"))
    project = metricdsl.load("specs", given_sources={"calls"})
    assert project.definitions.sources["calls"].path is None
    with pytest.raises(metricdsl.DataError, match="no data for source `calls`"):
        project.evaluate(metrics=["asa"])
    assert project.evaluate({"calls": outside / "data" / "calls.csv"}, metrics=["asa"])["asa"].to_list() == [45.0]
    (outside / "specs" / "spec.yaml").write_text(SPEC)  # a path inside is kept
    assert metricdsl.load("specs", given_sources={"calls"}).definitions.sources["calls"].path is not None


# -- what messages quote ---------------------------------------------------------------------------


def test_a_bad_value_is_quoted_only_from_a_file_the_user_named(outside):
    (outside / "data" / "calls.csv").write_text(CALLS + "west,TOKEN-1234,30\n")
    (outside / "specs" / "calls.yaml").write_text(SPEC)
    project = metricdsl.load("specs")
    with pytest.raises(metricdsl.DataError) as from_spec:
        project.evaluate(metrics=["asa"], grain="day")
    message = str(from_spec.value)
    assert "data/calls.csv, line 4, column `started_at`: a value is not an ISO 8601 datetime" in message
    assert "TOKEN-1234" not in message
    with pytest.raises(
        metricdsl.DataError, match=r"data/calls.csv, line 4, column `started_at`: `TOKEN-1234` is not an ISO 8601 datetime"
    ):
        project.evaluate({"calls": outside / "data" / "calls.csv"}, metrics=["asa"], grain="day")


def test_a_files_columns_and_polars_messages_are_quoted_only_from_a_file_the_user_named(outside):
    (outside / "specs" / "calls.yaml").write_text(SPEC)
    project = metricdsl.load("specs")
    (outside / "data" / "calls.csv").write_text("team,started_at,TOKEN-1234\nnorth,2026-01-05T09:00:00,20\n")
    with pytest.raises(metricdsl.DataError, match="has no column `wait_s`") as from_spec:
        project.evaluate(metrics=["asa"])
    assert "TOKEN-1234" not in str(from_spec.value)
    with pytest.raises(metricdsl.DataError, match="it has: TOKEN-1234"):
        project.evaluate({"calls": outside / "data" / "calls.csv"}, metrics=["asa"])
    (outside / "data" / "calls.csv").write_text('team,started_at,wait_s\nnorth,2026-01-05T09:00:00,"TOKEN-1234,3\n')
    with pytest.raises(metricdsl.DataError, match=r"calls.csv, line 2: a quoted field that is not closed") as from_spec:
        project.evaluate(metrics=["asa"])
    assert "TOKEN-1234" not in str(from_spec.value)


def test_a_spec_file_found_in_a_folder_that_links_outside_is_neither_read_nor_rewritten(tmp_path, monkeypatch):
    outside = tmp_path / "outside.yaml"
    outside.write_text("secret: 'the first line of a file of the machine'\n")
    project = tmp_path / "project"
    (project / "specs").mkdir(parents=True)
    (project / "specs" / "m.yaml").write_text(
        "sources:\n  calls:\n    columns: {answered: bool}\nmetrics:\n  answered_rate: share(answered)\n"
    )
    (project / "specs" / "linked.yaml").symlink_to(outside)
    (project / "specs" / "dangling.yaml").symlink_to(project / "specs" / "nowhere.yaml")
    monkeypatch.chdir(project)
    validated = CliRunner().invoke(main, ["validate", "specs"])
    assert validated.exit_code == 1
    assert "links to a file outside the project folder" in validated.output
    assert "cannot read specs/dangling.yaml" in validated.output
    assert "the first line" not in validated.output
    formatted = CliRunner().invoke(main, ["fmt", "specs"])
    assert formatted.exit_code == 2
    assert outside.read_text() == "secret: 'the first line of a file of the machine'\n"
    named = CliRunner().invoke(main, ["validate", "specs/m.yaml", "specs/linked.yaml"])
    assert "links to a file outside" not in named.output  # named, it is read


def test_a_double_star_glob_does_not_enter_linked_folders_and_reads_each_file_once(outside):
    (outside / "data" / "sub").mkdir()
    (outside / "data" / "sub" / "a").symlink_to("..")
    (outside / "data" / "sub" / "b").symlink_to("..")
    (outside / "data" / "sub" / "more.csv").write_text(CALLS)
    (outside / "specs" / "calls.yaml").write_text(spec_reading("../data/**/*.csv"))
    definitions = metricdsl.load("specs")
    assert sorted(os.path.relpath(f, "data") for f in data_paths.files("data/**/*.csv")) == ["calls.csv", "sub/more.csv"]
    assert definitions.evaluate(metrics=["asa"])["asa"].to_list() == [45.0]
    assert metricdsl.load("specs").evaluate(metrics=["asa"], by=["team"]).height == 2


def test_a_glob_of_too_many_files_is_an_error_at_its_position(outside, monkeypatch):
    monkeypatch.setattr(data_paths, "MAX_MATCHES", 1)
    (outside / "data" / "more.csv").write_text(CALLS)
    (outside / "specs" / "calls.yaml").write_text(spec_reading("../data/*.csv"))
    with pytest.raises(metricdsl.SpecError) as raised:
        metricdsl.load("specs")
    (found,) = raised.value.diagnostics
    assert (found.code, found.location.line, found.location.col) == ("MD006", 3, 11)
    assert "matches more than 1 files" in found.message
    with pytest.raises(metricdsl.DataError, match="matches more than 1 files"):
        data_paths.files("data/*.csv")
