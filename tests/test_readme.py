"""Every example of the README runs as printed.

Each fenced block is run by its language, in a sandbox folder that holds a copy of `specs/` and of the
example data, as a fresh checkout would:

- `yaml` spec files must validate, then evaluate their dashboards and pass their tests. A spec is on its
  own, unless an HTML comment just before it says `<!-- a part of specs/ -->` (added to the standard
  library), optionally `, in place of specs/FILE` (which it then replaces). Other YAML is a recipe: a
  pre-commit configuration names hooks that exist; a GitHub Actions job runs each `metricdsl` step.
- `bash` lines run in bash with `metricdsl` on the PATH; each must exit 0, or the code that a trailing
  `# exits N` comment gives. Installing the package and running the test suite are left out.
- `python` runs with the sandbox as the current folder; `json` is parsed and checked against the
  commands that use it; `text` is a picture.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import ROOT, SPECS
from metricdsl.cli import EXIT_CODES, main
from metricdsl.spec.definitions import TOP_KEYS

README = ROOT / "README.md"
LANGUAGES = {"yaml", "bash", "python", "json", "text"}
SETUP = ("python -m pip install", "python -m pytest")  # what a fresh checkout runs first, never the examples
EXITS = re.compile(r"#\s*exits (\d+)")


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    line: int  # of the opening fence
    note: str  # the HTML comment just before it, without `<!--` and `-->`

    def __str__(self) -> str:
        return f"README.md:{self.line}:{self.language}"


def blocks() -> list[Block]:
    lines = README.read_text().splitlines()
    found: list[Block] = []
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and line.startswith("```"):
            start = number
        elif start is not None and line == "```":
            before = [text for text in lines[: start - 1] if text.strip()]
            note = before[-1].strip() if before else ""
            note = note[4:-3].strip() if note.startswith("<!--") and note.endswith("-->") else ""
            found.append(Block(lines[start - 1][3:].strip(), "\n".join(lines[start : number - 1]) + "\n", start, note))
            start = None
    assert start is None, f"README.md:{start}: a fence that is never closed"
    return found


BLOCKS = blocks()


def of(language: str) -> list[Block]:
    return [block for block in BLOCKS if block.language == language]


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A fresh checkout's specs and example data, and a `metricdsl` command of this one."""
    shutil.copytree(SPECS, tmp_path / "specs")
    shutil.copytree(ROOT / "examples" / "data", tmp_path / "examples" / "data")
    (tmp_path / "bin").mkdir()
    command = tmp_path / "bin" / "metricdsl"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m metricdsl "$@"\n')
    command.chmod(0o755)
    return tmp_path


def shell(sandbox: Path, line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line],
        cwd=sandbox,
        env={**os.environ, "PATH": f"{sandbox / 'bin'}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )


def run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output)


def test_every_block_has_a_known_language():
    assert {block.language for block in BLOCKS} <= LANGUAGES, [str(b) for b in BLOCKS if b.language not in LANGUAGES]


@pytest.mark.parametrize("block", [b for b in of("yaml") if set(yaml.safe_load(b.text)) <= set(TOP_KEYS)], ids=str)
def test_spec_examples_validate_evaluate_and_pass_their_tests(block, sandbox, monkeypatch):
    part = re.fullmatch(r"a part of specs/(?:, in place of specs/(\S+))?", block.note)
    if part is None:
        assert block.note == "", f"{block}: unknown note `{block.note}`"
        shutil.rmtree(sandbox / "specs")
        (sandbox / "specs").mkdir()
    elif part.group(1):
        (sandbox / "specs" / part.group(1)).unlink()
    (sandbox / "specs" / "readme.yaml").write_text(block.text)
    monkeypatch.chdir(sandbox)
    run("validate", "specs")
    spec = yaml.safe_load(block.text)
    for dashboard in spec.get("dashboards", {}):
        run("eval", "specs", "--dashboard", dashboard)
    if "tests" in spec:
        run("test", "specs")


def test_the_first_spec_example_stands_alone():
    assert of("yaml")[0].note == ""


def command_lines() -> list[tuple[str, str]]:
    """Each line of the `bash` blocks, with its place in the README."""
    return [
        (f"README.md:{block.line + number}", line)
        for block in of("bash")
        for number, line in enumerate(block.text.splitlines(), 1)
        if line.strip()
    ]


@pytest.mark.parametrize(("place", "line"), command_lines(), ids=[place for place, _ in command_lines()])
def test_command_examples_exit_as_printed(place, line, sandbox):
    commands = " && ".join(part for part in line.split(" && ") if not part.startswith(SETUP))
    if not commands:
        pytest.skip("only sets up: installs the package or runs this test suite")
    expected = EXITS.search(line)
    result = shell(sandbox, commands)
    assert result.returncode == (int(expected.group(1)) if expected else 0), (place, result.stderr)
    assert "Traceback" not in result.stderr


def test_python_examples_run(sandbox, monkeypatch, capsys):
    monkeypatch.chdir(sandbox)
    for block in of("python"):
        exec(compile(block.text, str(block), "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out


def test_the_editor_settings_name_the_schema_the_readme_writes_and_the_specs(sandbox):
    (settings,) = of("json")
    (schema_command,) = [line for _, line in command_lines() if "metricdsl schema >" in line]
    written = schema_command.split(">")[1].split()[0]
    for schema, globs in json.loads(settings.text)["yaml.schemas"].items():
        assert Path(schema) == Path(written)
        assert all(list(sandbox.glob(pattern)) for pattern in globs)


def test_the_pre_commit_recipe_names_hooks_that_exist():
    (recipe,) = [b for b in of("yaml") if "repos" in yaml.safe_load(b.text)]
    defined = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    used = {hook["id"] for repo in yaml.safe_load(recipe.text)["repos"] for hook in repo["hooks"]}
    assert used
    assert used <= defined


@pytest.mark.parametrize("recipe", [b for b in of("yaml") if "jobs" in yaml.safe_load(b.text)], ids=str)
def test_the_github_actions_recipes_run(recipe, sandbox, monkeypatch):
    steps = [step["run"] for job in yaml.safe_load(recipe.text)["jobs"].values() for step in job["steps"] if "run" in step]
    commands = [step for step in steps if step.startswith("metricdsl ")]
    assert commands
    if any(command.startswith("metricdsl diff") for command in commands):
        _pull_request(sandbox)
        monkeypatch.setenv("GITHUB_BASE_REF", "main")
    for command in commands:
        result = shell(sandbox, command)
        assert result.returncode == 0, (command, result.stderr)


def _pull_request(sandbox: Path) -> None:
    """The sandbox as a checkout of a pull request: `origin/main` (its base, `GITHUB_BASE_REF`) and a change."""
    identity = {
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@b.c",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@b.c",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=sandbox, check=True, capture_output=True, env={**os.environ, **identity})
    subprocess.run(["git", "update-ref", "refs/remotes/origin/main", "HEAD"], cwd=sandbox, check=True)
    grading = sandbox / "specs" / "grading.yaml"
    grading.write_text(grading.read_text().replace('aht: {warn: "> 11m"', 'aht: {warn: "> 8m"'))


def test_every_yaml_example_is_a_spec_or_a_known_recipe():
    for block in of("yaml"):
        keys = set(yaml.safe_load(block.text))
        # A workflow's `on:` reads as True in YAML 1.1.
        assert keys <= set(TOP_KEYS) or keys in ({"repos"}, {"jobs"}, {True, "jobs"}), f"{block}: {keys}"


def test_the_exit_codes_table_is_the_one_of_the_command_line():
    section = README.read_text().split("<!-- exit-codes:start -->\n")[1].split("<!-- exit-codes:end -->")[0]
    rows = [line.strip("|").split("|") for line in section.splitlines()[2:]]
    assert {int(code): meaning.strip() for code, meaning in rows} == EXIT_CODES
