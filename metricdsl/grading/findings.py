"""Findings and scores of a graded table, as records with a stable schema, and how to print them."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import polars as pl

from metricdsl.engine.columns import LABEL, graded_column, hidden, points_column
from metricdsl.grading.grader import Graded, period_label
from metricdsl.language import ast
from metricdsl.language.units import TIME_UNITS
from metricdsl.semantics.model import Model

SCHEMA_ID = "metricdsl-findings/1"
SEVERITY_ORDER = {"info": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Finding:
    """One target missed or one rule fired, in one group and period."""

    kind: str  # "target" or "rule"
    name: str  # the metric of a target, the name of a rule
    severity: str  # info, warn or fail
    status: str  # a target's status (warn, fail), or "fired"
    group: dict
    period: object
    value: float | None
    threshold: str | None
    n: int | None
    ci: list | None  # [low, high] of the metric's 95 % interval
    message: str
    file: str | None
    line: int | None
    revision: str | None


@dataclass(frozen=True)
class ScoreItem:
    metric: str
    value: float | None
    points: float | None  # null: no data, left out and the other weights renormalised
    weight: float


@dataclass(frozen=True)
class Score:
    scorecard: str
    group: dict
    period: object
    score: float | None
    capped: bool  # a critical item failed and capped the score
    items: list[ScoreItem]


def findings(model: Model, graded: Graded, revision: str | None = None) -> list[Finding]:
    """Every finding of this run's rows, most severe first."""
    table = graded.table.with_columns(period_label(graded).alias(LABEL))
    found: list[Finding] = []
    for row in table.to_dicts():
        group = {d: row[d] for d in graded.by}
        for metric in graded.targets:
            status = row[graded_column(metric, "status")]
            if status in ("warn", "fail"):
                found.append(_target_finding(model, metric, row, group, revision))
        for rule in graded.rules:
            if row[graded_column(rule, "fires")]:
                found.append(_rule_finding(model, rule, row, group, revision))
    return sorted(found, key=lambda f: (-SEVERITY_ORDER[f.severity], str(f.period), json.dumps(f.group, default=str)))


def _target_finding(model: Model, metric: str, row: dict, group: dict, revision: str | None) -> Finding:
    checked = model.metrics[metric].metric
    target = model.targets[metric].target
    status, value, threshold = row[graded_column(metric, "status")], row[metric], row[graded_column(metric, "threshold")]
    where = ", ".join(f"{v}" for v in group.values())
    label = checked.label or metric
    message = (
        f"{where + ': ' if where else ''}{label} is {format_value(value, checked.unit)}, "
        f"past the {status} threshold ({threshold})"
    )
    return Finding(
        "target",
        metric,
        status,
        status,
        group,
        row[LABEL],
        value,
        threshold,
        row[hidden("n", metric)],
        _interval(row, metric),
        message,
        *_place(target.location),
        revision,
    )


def _rule_finding(model: Model, rule: str, row: dict, group: dict, revision: str | None) -> Finding:
    checked = model.rules[rule]
    message = checked.rule.message.text if checked.rule.message else rule
    for i, (text, tree) in enumerate(checked.placeholders):
        rendered = (
            _placeholder(model, tree, row.get(graded_column(rule, str(i)))) if graded_column(rule, str(i)) in row else "n/a"
        )
        message = message.replace("{" + text + "}", rendered, 1)
    return Finding(
        "rule",
        rule,
        checked.rule.severity,
        "fired",
        group,
        row[LABEL],
        None,
        None,
        None,
        None,
        message,
        *_place(checked.rule.location),
        revision,
    )


def _place(location) -> tuple[str | None, int | None]:
    return (location.file, location.line) if location else (None, None)


def _interval(row: dict, metric: str) -> list | None:
    low, high = row.get(hidden("ci_low", metric)), row.get(hidden("ci_high", metric))
    return None if low is None and high is None else [low, high]


def _placeholder(model: Model, tree: ast.Expr, value) -> str:
    """A message placeholder's value, formatted by what it is: a metric in its unit, a change as a
    signed percentage, a count as a whole number, a dimension as text."""
    if value is None:
        return "n/a"
    metric = _metric_of(model, tree)
    unit = model.metrics[metric].metric.unit if metric else None
    if isinstance(tree, ast.Call) and tree.func == "pct_change":
        return f"{value * 100:+.1f}%"
    if isinstance(tree, ast.Call) and tree.func == "n":
        return f"{int(value):,}"
    if isinstance(tree, ast.Call) and tree.func == "change":
        return ("+" if value >= 0 else "-") + format_value(abs(value), unit)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return format_value(value, unit)


def _metric_of(model: Model, tree: ast.Expr) -> str | None:
    node = tree.args[0] if isinstance(tree, ast.Call) and tree.args else tree
    ref = model.refs.get(id(node))
    return ref.name if ref is not None and ref.kind == "metric" else None


def format_value(value, unit: str | None) -> str:
    """A value in its unit: `7m 12s` for seconds, `41.2%` for ratios, `41.2` for points."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit in TIME_UNITS:
        seconds = value * TIME_UNITS[unit]
        minutes, rest = divmod(round(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {rest:02d}s" if minutes else f"{seconds:.1f}s"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    text = f"{value:,.0f}" if isinstance(value, int) else f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    return text if unit in (None, "points") else f"{text} {unit}"


def scores(graded: Graded) -> list[Score]:
    """The scorecard's score for each group and period, with every item's points."""
    card = graded.scorecard
    if card is None:
        return []
    table = graded.table.with_columns(period_label(graded).alias(LABEL))
    return [
        Score(
            card.name,
            {d: row[d] for d in graded.by},
            row[LABEL],
            row[graded_column(card.name, "score")],
            bool(row[graded_column(card.name, "capped")]),
            [ScoreItem(i.metric, row.get(i.metric), row[points_column(card.name, i.metric)], i.weight) for i in card.items],
        )
        for row in table.to_dicts()
    ]


def as_json(found: list[Finding], scored: list[Score], graded: Graded, revision: str | None) -> str:
    """The findings and scores in the stable JSON schema `metricdsl-findings/1` (see the README)."""
    return json.dumps(
        {
            "schema": SCHEMA_ID,
            "revision": revision,
            "by": list(graded.by),
            "grain": graded.grain,
            "skipped": graded.skipped,
            "findings": [asdict(f) for f in found],
            "scores": [asdict(s) for s in scored],
        },
        indent=2,
        default=str,
    )


def as_text(found: list[Finding], scored: list[Score], graded: Graded) -> str:
    lines = []
    if found:
        table = pl.DataFrame(
            [
                {
                    "severity": f.severity,
                    "period": str(f.period) if f.period is not None else "",
                    "group": ", ".join(map(str, f.group.values())),
                    "finding": f.name,
                    "message": f.message,
                }
                for f in found
            ]
        )
        with pl.Config(
            tbl_rows=-1,
            tbl_cols=-1,
            tbl_width_chars=30_000,
            fmt_str_lengths=200,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
        ):
            lines.append(str(table))
    if scored:
        lines.append(f"\nscorecard {scored[0].scorecard}:")
        for score in scored:
            where = ", ".join(map(str, score.group.values())) or "all"
            period = f" {score.period}" if score.period is not None else ""
            value = "n/a" if score.score is None else f"{score.score:.1f}"
            parts = ", ".join(f"{i.metric} {'n/a' if i.points is None else f'{i.points:.0f}'}" for i in score.items)
            lines.append(
                f"  {where}{period}: {value}{' (capped: a critical item fails)' if score.capped else ''}  [{parts}]"
            )
    for name, why in graded.skipped.items():
        lines.append(f"not graded: {name}: {why}")
    lines.append(summary(found))
    return "\n".join(lines)


def as_markdown(found: list[Finding], scored: list[Score], graded: Graded) -> str:
    rows = ["| severity | period | group | finding | message |", "|---|---|---|---|---|"]
    rows += [
        f"| {f.severity} | {f.period or ''} | {', '.join(map(str, f.group.values()))} | {f.name} | "
        f"{_escape_cell(f.message)} |"
        for f in found
    ]
    if scored:
        rows += ["", f"| group | period | {scored[0].scorecard} score |", "|---|---|---|"]
        rows += [
            f"| {', '.join(map(str, s.group.values())) or 'all'} | {s.period or ''} | "
            f"{'n/a' if s.score is None else f'{s.score:.1f}'} |"
            for s in scored
        ]
    return "\n".join(rows + ["", summary(found)])


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def as_github(found: list[Finding], scored: list[Score], graded: Graded) -> str:
    level = {"info": "notice", "warn": "warning", "fail": "error"}
    lines = []
    for f in found:
        where = f"file={f.file},line={f.line}," if f.file else ""
        message = f"{f.period}: {f.message}" if f.period is not None else f.message
        lines.append(f"::{level[f.severity]} {where}title={f.kind} {f.name}::{message.replace('%', '%25')}")
    return "\n".join(lines + [summary(found)])


def summary(found: list[Finding]) -> str:
    counts = {s: sum(f.severity == s for f in found) for s in ("fail", "warn", "info")}
    return ", ".join(f"{n} {s}" for s, n in counts.items()) + f" finding{'s' if len(found) != 1 else ''}"


RENDERERS = {"text": as_text, "markdown": as_markdown, "github": as_github}
