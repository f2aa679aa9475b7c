"""The pre-commit hooks name commands that exist."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from conftest import ROOT, SPECS
from metricdsl.cli import main


def test_every_hook_runs_a_command_that_passes_on_the_standard_library():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {hook["id"] for hook in hooks} == {"metricdsl-validate", "metricdsl-fmt", "metricdsl-test"}
    for hook in hooks:
        program, *args = hook["entry"].split()
        assert program == "metricdsl"
        assert hook["language"] == "python"
        result = CliRunner().invoke(main, [*args, str(SPECS)])
        assert result.exit_code == 0, (hook["id"], result.output)
