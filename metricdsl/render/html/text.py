"""The report's words and numbers: status icons and words, values, changes, intervals and thresholds in their unit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from metricdsl.engine.columns import hidden
from metricdsl.render import values
from metricdsl.render.values import format_count, format_value
from metricdsl.semantics.model import Model

# Never colour alone: every status has an icon and a word.
STATUS_ICONS = {"fail": "✕", "warn": "!", "ok": "✓", "no_data": "○", "pending": "◌", "none": ""}
STATUS_WORDS = {
    "fail": "fail",
    "warn": "warn",
    "ok": "ok",
    "no_data": "too few answers",
    "pending": "provisional",
    "none": "",
}
Level = Literal["target", "warn", "fail"]
LEVELS: tuple[Level, ...] = ("target", "warn", "fail")
SHOWN_OPS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}


def group_label(row: Mapping[str, object], by: Sequence[str]) -> str:
    """A group's values, `north` or `north, chat`; a missing value is `(none)`."""
    return ", ".join("(none)" if row.get(d) is None else str(row.get(d)) for d in by)


def period_text(period: object) -> str:
    return "" if period is None else str(period)


def n_text(n: object) -> str:
    return f"n={format_count(n)}" if isinstance(n, int) and not isinstance(n, bool) else ""


def too_few(n: int, min_n: int) -> str:
    return f"too few answers (n={n} < {min_n})"


def ci_text(row: Mapping[str, object], metric: str, unit: str | None) -> str:
    low, high = row.get(hidden("ci_low", metric)), row.get(hidden("ci_high", metric))
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)):
        return ""
    return f"95% CI {format_value(float(low), unit)} – {format_value(float(high), unit)}"


def change_text(delta: float, unit: str | None) -> str:
    """A change in what a reader compares: a ratio's in percentage points, a duration signed in its unit."""
    return values.format_change(delta, unit)


def short_label(model: Model, metric: str) -> str:
    """The metric's `short:` label for table headers, else its label."""
    spec = model.metrics[metric].metric
    return spec.short or spec.label or metric


def thresholds_of(model: Model, metric: str) -> tuple[tuple[Level, str, float, str], ...]:
    """The base thresholds of a metric's target that compare it with a number: (level, op, value in the metric's
    stored unit, text in its unit), target first."""
    unit = model.metrics[metric].metric.unit
    found = []
    for level, written in _written(model, metric):
        bound = values.threshold_bound(written, unit)
        if bound is not None and bound[0] in ("<", "<=", ">", ">="):
            op, value = bound
            found.append((level, op, value, _threshold(op, value, unit)))
    return tuple(found)


def _written(model: Model, metric: str) -> list[tuple[Level, str]]:
    """Each level of the metric's base target with its comparison as written, without the metric (`< 0.6`)."""
    target = model.targets.get(metric)
    if target is None:
        return []
    given = [(level, getattr(target.base.thresholds, level)) for level in LEVELS]
    return [(level, text.text[len(metric) + 1 :]) for level, text in given if text is not None]


def threshold_text(model: Model, metric: str) -> str:
    """`target ≥ 80% · warn < 75% · fail < 60%`; "" for a metric without a target."""
    bounds = {level: text for level, _, _, text in thresholds_of(model, metric)}
    return " · ".join(f"{level} {bounds.get(level, written)}" for level, written in _written(model, metric))


def _threshold(op: str, value: float, unit: str | None) -> str:
    return values.format_threshold(SHOWN_OPS.get(op, op), value, unit)
