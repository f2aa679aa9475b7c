"""A graded table's rows as the report reads them: period labels as text, in order, with each metric's z test
against its previous period."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl
import polars.selectors as cs

from metricdsl.engine.columns import LABEL, hidden
from metricdsl.engine.stats import significant_change
from metricdsl.grading.grader import Graded, period_label
from metricdsl.render.values import NOISE

SETTLED_DIGITS = 12  # as `metricdsl.render.values.settled`
SIGNIFICANT = "__significant"  # the column of a metric's z test against its previous period, while tiles are built


def periods(rows: list[dict[str, object]]) -> list[str]:
    """The periods' labels, in order (labels of one grain sort as their periods do)."""
    return sorted({str(r[LABEL]) for r in rows if r[LABEL] is not None})


def graded_rows(graded: Graded, significance: Sequence[str] = ()) -> list[dict[str, object]]:
    """The graded table's rows with their period labels (text), oldest first; with `significance`, each of those
    metrics' z test against its previous period (the one `significant(change(m))` runs)."""
    # Every number to twelve significant digits, and 0 within NOISE of it (see `settled`): the page is the same bytes
    # whichever engine summed.
    floats = pl.when(cs.float().abs() < NOISE).then(0.0).otherwise(cs.float().round_sig_figs(SETTLED_DIGITS))
    table = graded.table.with_columns(floats.name.keep(), period_label(graded).cast(pl.String).alias(LABEL))
    tests = [
        significant_change(pl.col(m), pl.col(hidden("se", m)), pl.col(hidden("prev", m)), pl.col(hidden("prevse", m))).alias(
            f"{SIGNIFICANT}_{m}"
        )
        for m in significance
        if m in graded.metrics and hidden("prevse", m) in table.columns
    ]
    if tests:
        table = table.with_columns(tests)
    order = [c for c in ("__grain", *graded.by) if c in table.columns]
    return table.sort(order, nulls_last=True).to_dicts() if order else table.to_dicts()


def number(value: object) -> float | None:
    """A numeric cell's value (an int stays one, so a count reads `1,557`); None for null, NaN or anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if isinstance(value, float) and math.isnan(value) else value


def text_of(value: object) -> str | None:
    return None if value is None else str(value)
