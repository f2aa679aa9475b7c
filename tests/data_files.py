"""Run `python -m metricdsl eval` of this checkout over many data files at once, and check how it ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def eval_each(
    tmp_path_factory: pytest.TempPathFactory, spec: str, cases: dict[str, bytes], name: str
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """Each case's folder and the end of `eval` over its bytes as file `name`, the data of source `calls`; the
    processes run side by side (with RUST_BACKTRACE set, so that a panic's text would show)."""
    started = {}
    for case, data in cases.items():
        folder = tmp_path_factory.mktemp(case)
        (folder / "spec.yaml").write_text(spec)
        (folder / name).write_bytes(data)
        command = [sys.executable, "-m", "metricdsl", "eval", str(folder / "spec.yaml"), "--data", f"calls={folder / name}"]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "RUST_BACKTRACE": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started[case] = (folder, command, process)
    finished = {}
    for case, (folder, command, process) in started.items():
        out, err = process.communicate(timeout=300)
        finished[case] = (folder, subprocess.CompletedProcess(command, process.returncode, out, err))
    return finished


def assert_one_line_naming(result: subprocess.CompletedProcess[str], file: Path) -> None:
    """The run ended with one line naming `file` as unreadable, exit 2: no traceback, no panic text, no table."""
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: source `calls`: cannot read {file}: "), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "panicked" not in result.stderr
    assert result.stdout == ""
