"""The data-quality report in words: a `DataProblem` as a sentence, and the lines `eval` and `check` print on
standard error (`warning: data: ...` for each problem, `notice: ...` for each notice)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from metricdsl.engine.quality import DataProblem
from metricdsl.render.terminal import inline
from metricdsl.render.values import counted


def problem_text(problem: DataProblem, insert: Callable[[str], str] = str) -> str:
    """`source `interactions`, column `nps_score`: 12 rows invalid (outside [0, 10]); first at calls.csv:14: `99``,
    the value only when it may be quoted; `source `interactions`: no rows` for a source without rows.

    `insert` writes each part taken from data or specs (names, the reason, the place, the value): text outputs pass
    `terminal.inline`, so that a line break in a value is not one in the line.
    """
    where = f"source `{insert(problem.source)}`"
    if problem.column is None:
        return f"{where}: {insert(problem.reason)}"
    text = f"{where}, column `{insert(problem.column)}`: {counted(problem.rows, 'row')} invalid ({insert(problem.reason)})"
    if problem.first is not None:
        text += f"; first at {insert(problem.first)}"
        if problem.value is not None:
            text += f": `{insert(problem.value)}`"
    return text


def report_lines(problems: Iterable[DataProblem], notices: Iterable[str]) -> list[str]:
    """One line per problem, then one per notice, each written with control characters visible."""
    return [
        *(f"warning: data: {problem_text(problem, inline)}" for problem in problems),
        *(f"notice: {inline(notice)}" for notice in notices),
    ]
