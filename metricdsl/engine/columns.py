"""Every column name the engine and grading add to a table, in one place.

Hidden columns start with `__` and graded columns are `<name>__<part>`, which is why names containing `__`
are reserved in specs (`metricdsl.spec.definitions.RESERVED`): a user's column or metric cannot collide with
them. The columns a request shows (dimensions, the grain's label, metrics and their `--with-ci` columns) are
checked for clashes by the request itself (`metricdsl.project.Project.request`).
"""

from __future__ import annotations

from metricdsl.spec.definitions import RESERVED

GRAIN_COLUMN = "__grain"  # the start of each row's period
TIME_COLUMN = "__time"  # a source's time column, as a datetime, while windows are computed
ROW_COLUMN = "__row"  # the row number, to name the line of a bad value
ONE_COLUMN = "__one"  # the single column of the one-row frame that constant metrics are computed over
GROUP, CURRENT, PERIOD, NEXT = "__group", "__current", "__period", "__next"  # grading's keys and period numbers
# The column of a request's table that marks a group whose windowed metrics may change when the data is complete.
PROVISIONAL = "provisional"
LABEL = "__label"  # a period's readable label, while findings are built
LAYOUT, RECORDED = "__layout", "__recorded_at"  # a history row's grain and dimensions, and when it was written


# The hidden columns of a metric: observations, standard error, interval, and the previous period's value and
# standard error. `__<part>_<metric>` is unambiguous only while no part is another part followed by `_`
# (`prev_se` would make `prev` of `se_x` and `prev_se` of `x` one column), which a test keeps true.
HIDDEN_PARTS = ("n", "se", "ci_low", "ci_high", "prev", "prevse", "pending")


def hidden(part: str, metric: str) -> str:
    """The name of the hidden column `part` (one of `HIDDEN_PARTS`) of a metric."""
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


def variant_column(index: int, metric: str) -> str:
    """The hidden column of the `index`-th variant of a request: metric `metric` under the `where` of a metric of
    metrics that uses it."""
    return f"__variant{index}_{metric}"


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


def dotted_column(path: str) -> str:
    """The graded column a spec test names with dots: `nps.status`, `card.score`, `card.nps.points`."""
    return RESERVED.join(path.split("."))


CHECK_PREFIX = "__check_"


def check_column(part: str, column: str) -> str:
    """The hidden column that marks the rows where a source's `column` fails: `invalid` (made missing and
    reported), `unreadable` (a data error) or `offsets` (text with a UTC offset, where no zone is declared)."""
    return f"{CHECK_PREFIX}{part}_{column}"
