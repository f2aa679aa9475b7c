"""What `metricdsl fmt` reports: a file left alone and why, the diff of a file it would change, the counts.

Paths and problems are written on one line, the files' lines with their line breaks, all with control characters
visible (`terminal`); no line of a diff can pass for a GitHub workflow command (`github.inert`).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from metricdsl.render.github import inert
from metricdsl.render.terminal import inline, multiline
from metricdsl.render.values import counted


def left_alone(path: str, problem: str) -> str:
    return inert(f"{inline(path)}: left as it is: {inline(problem)}")


def diff(path: str, before: str, after: str) -> str:
    """A unified diff from the file as it is to the file formatted."""
    name = inline(path)
    return inert(
        multiline(
            "".join(
                difflib.unified_diff(
                    before.splitlines(keepends=True), after.splitlines(keepends=True), f"{name} (now)", f"{name} (formatted)"
                )
            )
        )
    )


def fmt_summary(changed: Sequence[str], files: int, check: bool) -> str:
    """`reformatted 2 of 6 files` (`would reformat` with `--check`), then one changed file a line."""
    verb = "would reformat" if check else "reformatted"
    return inert(f"{verb} {len(changed)} of {counted(files, 'file')}" + "".join(f"\n  {inline(p)}" for p in changed))
