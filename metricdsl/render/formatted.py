"""What `metricdsl fmt` reports: a file left alone and why, the diff of a file it would change, the counts."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def left_alone(path: str, problem: str) -> str:
    return f"{path}: left as it is: {problem}"


def diff(path: str, before: str, after: str) -> str:
    """A unified diff from the file as it is to the file formatted."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"{path} (now)", f"{path} (formatted)"
        )
    )


def fmt_summary(changed: Sequence[str], files: int, check: bool) -> str:
    """`reformatted 2 of 6 files` (`would reformat` with `--check`), then one changed file a line."""
    verb = "would reformat" if check else "reformatted"
    return f"{verb} {len(changed)} of {files} files" + "".join(f"\n  {p}" for p in changed)
