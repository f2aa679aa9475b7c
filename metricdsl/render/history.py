"""What `check --history` says about a history file beside the findings: the metrics it and the specs do not share."""

from __future__ import annotations

from pathlib import Path

from metricdsl.grading.history import Drift
from metricdsl.render.terminal import inline


def drift_warning(path: Path, drift: Drift) -> str:
    """One line naming the metrics of `drift`, and why they matter: a renamed metric loses its `prev()` values.

    The names are read from the history file, and the path given: both are written on one line (`terminal.inline`).
    """
    parts = []
    if drift.gone:
        parts.append(f"it records {_names(drift.gone)}, which the specs no longer define")
    if drift.unrecorded:
        parts.append(f"it has no values of {_names(drift.unrecorded)}")
    return (
        f"warning: history {inline(path)}: {'; '.join(parts)} (a metric renamed in the specs keeps its old name in the"
        " history, so prev() of the new name finds no earlier period and rules on it cannot fire)"
    )


def _names(metrics: tuple[str, ...], shown: int = 5) -> str:
    """`a`, `b` and `c`; past `shown` names, `a`, …, `e` and 3 more."""
    quoted = [f"`{inline(m)}`" for m in metrics]
    if len(quoted) > shown:
        return f"{', '.join(quoted[:shown])} and {len(quoted) - shown} more"
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
