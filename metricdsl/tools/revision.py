"""The git revision of a project's specs, recorded in findings so that a report names what it graded."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

GIT_TIMEOUT_S = 10


def spec_revision(paths: Sequence[str | Path]) -> str | None:
    """The commit of the repository holding the first of `paths`, with `-dirty` when the specs' folder has
    local changes; None outside a repository or without git."""
    first = Path(paths[0])
    folder = first if first.is_dir() else first.parent
    try:
        head = _git(folder, "rev-parse", "HEAD")
        dirty = _git(folder, "status", "--porcelain", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def _git(folder: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=True
    )
    return completed.stdout.strip()
