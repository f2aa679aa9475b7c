"""Without PATHS, commands read `./specs`, else the project's spec files under the current folder: never CI
workflows, tool settings, virtual environments or installed packages."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from metricdsl.cli import main
from metricdsl.tools.default_paths import project_spec_files

SPEC = "metrics:\n  one: {expr: 1 + 1, unit: count}\n"
NOT_SPECS = {  # each would fail validation
    ".github/workflows/ci.yaml": "on: [push]\njobs: {}\n",
    ".pre-commit-config.yaml": "repos: []\n",
    ".pre-commit-hooks.yaml": "- id: x\n",
    ".venv/lib/python3.12/site-packages/pkg/data.yaml": "name: x\n",
    "venv/lib/pkg/data.yml": "name: x\n",
    "env/lib/pkg/data.yaml": "name: x\n",
    "tools/python/pyvenv.cfg": "home = /usr/bin\n",
    "tools/python/lib/pkg/data.yaml": "name: x\n",
    "web/node_modules/pkg/config.yaml": "name: x\n",
    "metrics/.draft.yaml": "name: x\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, text in {**NOT_SPECS, "metrics/calls.yaml": SPEC, "board.yml": "dashboards: {b: {metrics: [one]}}\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_search_skips_hidden_files_virtual_environments_and_packages(project):
    assert project_spec_files(Path(".")) == [Path("board.yml"), Path("metrics/calls.yaml")]
    assert project_spec_files(project) == [project / "board.yml", project / "metrics" / "calls.yaml"]


def test_without_specs_folder_the_commands_read_the_project_files_only(project):
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "0 errors, 0 warnings in 2 files"
    assert CliRunner().invoke(main, ["fmt", "--check"]).stderr.strip() == "would reformat 0 of 2 files"
    assert CliRunner().invoke(main, ["eval", "--metrics", "one"]).exit_code == 0


def test_a_specs_folder_is_read_whole_and_alone(project):
    (project / "specs" / ".hidden").mkdir(parents=True)
    (project / "specs" / ".hidden" / "more.yaml").write_text(SPEC.replace("one", "two"))
    result = CliRunner().invoke(main, ["validate"])
    assert result.stdout.strip() == "0 errors, 0 warnings in 1 file"  # as `metricdsl validate specs` reads it
    assert "two" in CliRunner().invoke(main, ["eval", "--metrics", "two"]).stdout
    assert CliRunner().invoke(main, ["eval", "--metrics", "one"]).exit_code == 2


def test_no_spec_file_anywhere_is_a_usage_error(tmp_path, monkeypatch):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "ci.yaml").write_text("jobs: {}\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2
    assert "no PATHS given, no ./specs folder and no spec files (*.yaml, *.yml) under this one" in result.stderr
