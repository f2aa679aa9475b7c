"""Every column name the engine and grading add to a table, in one place.

Hidden columns start with `__`, which is why names starting with or containing `__` are reserved in
specs: a user's column or metric can never collide with them. Graded columns are `<name>__<part>`.
"""

from __future__ import annotations

GRAIN_COLUMN = "__grain"  # the start of each row's period
TIME_COLUMN = "__time"  # a source's time column, as a datetime, while windows are computed
ROW_COLUMN = "__row"  # the row number, to name the line of a bad value
ONE_COLUMN = "__one"  # the single column of the one-row frame that constant metrics are computed over
GROUP, CURRENT, PERIOD, NEXT = "__group", "__current", "__period", "__next"  # grading's keys and period numbers
LABEL = "__label"  # a period's readable label, while findings are built
LAYOUT, RECORDED = "__layout", "__recorded_at"  # a history row's grain and dimensions, and when it was written


def hidden(part: str, metric: str) -> str:
    """The name of a hidden column of a metric: its `n`, `se`, `ci_low`, `ci_high`, `prev`, `prev_se`."""
    return f"__{part}_{metric}"


def aggregate_column(index: int) -> str:
    """The hidden column of the `index`-th aggregate of a request."""
    return f"__agg{index}"


def aggregate_part(column: str, part: str) -> str:
    """A companion of an aggregate's hidden column: its `n` (observations) or, for a mean, its `sd`."""
    return f"{column}_{part}"


def interval_column(metric: str, part: str) -> str:
    """A column `eval --with-ci` shows beside a metric: its `n`, `ci_low` or `ci_high`."""
    return f"{metric}_{part}"


def window_column(index: int) -> str:
    """The hidden column of the `index`-th window call of a request."""
    return f"__window{index}"


def graded_column(name: str, part: str) -> str:
    """A graded column: `status`, `threshold` of a target; `fires` and the message placeholders `0`, `1`, … of a rule;
    `score`, `capped` of a scorecard."""
    return f"{name}__{part}"


def points_column(scorecard: str, metric: str) -> str:
    """The points an item of a scorecard contributes."""
    return f"{scorecard}__{metric}__points"
