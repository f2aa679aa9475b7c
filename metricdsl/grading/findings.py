"""Findings and scores of a graded table, as records with a stable schema.

The records hold values, not text: a finding keeps its metric's value and unit, a rule's finding
its message template with each placeholder's raw value, unit and kind, and a data finding the data-quality
problem it reports (invalid values made missing in a source's column, or a source without rows).
`metricdsl.render.findings` writes them out (`message()` gives a finding's message as text).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from metricdsl.engine.columns import LABEL, graded_column, hidden, points_column
from metricdsl.engine.polars.compiler import Compiler
from metricdsl.engine.quality import DataProblem
from metricdsl.errors import Location
from metricdsl.grading.grader import Graded, Skipped, period_label
from metricdsl.language import ast
from metricdsl.semantics.model import Model

SEVERITY_ORDER: dict[str, int] = {"info": 0, "warn": 1, "fail": 2}

Group = dict[str, object]  # a group's dimension values, by dimension
Period = str | int | datetime.date | None  # a period's label (`2026-W01`, a day, a year); None without a grain
Row = Mapping[str, Any]  # one row of a graded table, as Polars returns it

# How a placeholder's value reads: a metric's value in its unit, a `change()` signed in that unit, a
# `pct_change()` as a signed percentage, an `n()` as a whole number.
PlaceholderKind = Literal["value", "change", "pct_change", "count"]
_KINDS: dict[str, PlaceholderKind] = {"change": "change", "pct_change": "pct_change", "n": "count"}


@dataclass(frozen=True)
class Placeholder:
    """One `{expression}` of a rule's message, with its value in this group and period."""

    text: str  # the expression as written between the braces
    value: object  # None when not available (no data, or a metric not computed for these dimensions)
    unit: str | None  # the unit of the metric it reads, if any
    kind: PlaceholderKind


@dataclass(frozen=True)
class Finding:
    """One target missed or one rule fired, in one group and period; or one data-quality problem of the data read
    (`kind` "data", severity warn, with its `problem`; no group nor period, placed at its column's declaration)."""

    kind: Literal["target", "rule", "data"]
    name: str  # the metric of a target, the name of a rule, `source.column` (or `source`) of a data problem
    severity: str  # info, warn or fail
    status: str  # a target's status (warn, fail), "fired", or a data problem's "invalid" (values) or "empty" (source)
    group: Group
    period: Period
    file: str | None
    line: int | None
    revision: str | None
    # What one kind of finding has and the others leave out.
    value: float | None = None  # a target's metric value
    unit: str | None = None  # a target's metric unit
    label: str | None = None  # a target's metric label
    threshold: str | None = None  # the threshold a target's value is past (`> 60s`)
    n: int | None = None
    ci: list[float | None] | None = None  # [low, high] of the metric's 95 % interval
    template: str | None = None  # a rule's message, with its `{placeholders}`
    placeholders: tuple[Placeholder, ...] = ()  # their values, in the order of the template
    # The message as text, as `metricdsl.render.findings.message` writes it: filled in by `Project.check`,
    # None straight out of grading (which makes no text).
    message: str | None = None
    problem: DataProblem | None = None  # what a data finding reports: source, column, rows, reason, first, value
    # A rule's: the metrics its condition reads, in order, and its description.
    reads: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class ScoreItem:
    metric: str
    value: float | None
    points: float | None  # null: no data, left out and the other weights renormalised
    weight: float


@dataclass(frozen=True)
class Score:
    scorecard: str
    group: Group
    period: Period
    score: float | None
    capped: bool  # a critical item failed and capped the score
    items: tuple[ScoreItem, ...]


@dataclass(frozen=True)
class Pending:
    """The groups and periods whose metrics (`metrics`) depend on a window past the data's horizon: not graded."""

    rows: int  # groups and periods, counted in pairs
    periods: tuple[Period, ...]  # their distinct periods, in order (None without a grain)
    metrics: tuple[str, ...]
    # Where their windows are cut: "end" (`followed_by`, past a horizon), "start" (`preceded_by`, before a first time).
    edges: tuple[str, ...] = ("end",)


@dataclass(frozen=True)
class Report:
    """What `check` reports: the findings, the scores and the layout they were graded in."""

    findings: list[Finding]
    scores: list[Score]
    by: tuple[str, ...]
    grain: str | None
    skipped: dict[str, Skipped]  # rule or target → why it was not graded
    revision: str | None  # the specs' git revision, when known
    pending: Pending | None = None  # None when no value is pending


def report(model: Model, graded: Graded, revision: str | None = None, problems: Iterable[DataProblem] = ()) -> Report:
    """The findings and scores of a graded table, with a data finding for each of the data's `problems`."""
    return Report(
        findings(model, graded, revision, problems),
        scores(graded),
        graded.by,
        graded.grain,
        dict(graded.skipped),
        revision,
        pending(graded, model),
    )


def pending(graded: Graded, model: Model | None = None) -> Pending | None:
    """The groups and periods with a pending metric, if any (see `metricdsl.grading.grader.STATUSES`)."""
    flags = {m: hidden("pending", m) for m in graded.metrics if hidden("pending", m) in graded.table.columns}
    table = graded.table.with_columns(period_label(graded).alias(LABEL))
    rows = table.filter(pl.any_horizontal(pl.col(c).fill_null(False) for c in flags.values())) if flags else table.clear()
    if rows.is_empty():
        return None
    metrics = tuple(m for m, c in flags.items() if rows[c].fill_null(False).any())
    periods = tuple(rows.select(pl.col(LABEL).unique(maintain_order=True)).to_series().sort(nulls_last=True).to_list())
    return Pending(rows.height, periods, metrics, _edges(model, metrics) if model is not None else ("end",))


def _edges(model: Model, metrics: Iterable[str]) -> tuple[str, ...]:
    """Where the windows that `metrics` (and the metrics they use) read are cut: "end" for a `followed_by`, "start"
    for a `preceded_by`, in that order."""
    compiler = Compiler(model)
    funcs = {
        call.func
        for checked in (model.metrics[m] for m in model.metric_order(list(metrics)))
        if checked.source is not None
        for call in compiler.windows_in(checked.source, [checked.tree, *([checked.where] if checked.where else [])])
    }
    return tuple(edge for edge, func in (("end", "followed_by"), ("start", "preceded_by")) if func in funcs)


def findings(
    model: Model, graded: Graded, revision: str | None = None, problems: Iterable[DataProblem] = ()
) -> list[Finding]:
    """Every finding of this run's rows and of the data's `problems`, most severe first; among findings as severe,
    those of the data first, as they bear on the others' values."""
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
    found += (data_finding(model, problem, revision) for problem in problems)
    return sorted(
        found,
        key=lambda f: (-SEVERITY_ORDER[f.severity], f.kind != "data", str(f.period), json.dumps(f.group, default=str)),
    )


def data_finding(model: Model, problem: DataProblem, revision: str | None = None) -> Finding:
    """A data-quality problem as a warning, placed at its column's declaration (else its source's)."""
    source = model.definitions.sources.get(problem.source)
    column = source.columns.get(problem.column) if source is not None and problem.column is not None else None
    location = column.location if column is not None and column.location else source.location if source else None
    return Finding(
        kind="data",
        name=problem.source if problem.column is None else f"{problem.source}.{problem.column}",
        severity="warn",
        status="empty" if problem.column is None else "invalid",
        group={},
        period=None,
        file=_file(location),
        line=_line(location),
        revision=revision,
        problem=problem,
    )


def at_least(found: list[Finding], severity: str) -> bool:
    """Whether some finding is at least as severe as `severity` (info, warn or fail)."""
    return any(SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER[severity] for f in found)


def _target_finding(model: Model, metric: str, row: Row, group: Group, revision: str | None) -> Finding:
    checked = model.metrics[metric].metric
    status = row[graded_column(metric, "status")]
    return Finding(
        kind="target",
        name=metric,
        severity=status,
        status=status,
        group=group,
        period=row[LABEL],
        value=row[metric],
        unit=checked.unit,
        label=checked.label,
        threshold=row[graded_column(metric, "threshold")],
        n=row[hidden("n", metric)],
        ci=_interval(row, metric),
        file=_file(model.targets[metric].target.location),
        line=_line(model.targets[metric].target.location),
        revision=revision,
    )


def _rule_finding(model: Model, rule: str, row: Row, group: Group, revision: str | None) -> Finding:
    checked = model.rules[rule]
    placeholders = tuple(
        _placeholder(model, text, tree, row.get(graded_column(rule, str(i))))
        for i, (text, tree) in enumerate(checked.placeholders)
    )
    return Finding(
        kind="rule",
        name=rule,
        severity=checked.rule.severity,
        status="fired",
        group=group,
        period=row[LABEL],
        template=checked.rule.message.text if checked.rule.message else None,
        placeholders=placeholders,
        file=_file(checked.rule.location),
        line=_line(checked.rule.location),
        revision=revision,
        reads=metrics_read(model, checked.when),
        description=checked.rule.description,
    )


def metrics_read(model: Model, tree: ast.Expr) -> tuple[str, ...]:
    """The metrics an expression reads (`prev(service_level) - service_level`: `service_level`), each once, in order."""
    refs = (model.refs.get(id(node)) for node in ast.walk(tree))
    return tuple(dict.fromkeys(ref.name for ref in refs if ref is not None and ref.kind == "metric"))


def _file(location: Location | None) -> str | None:
    return location.file if location else None


def _line(location: Location | None) -> int | None:
    return location.line if location else None


def _interval(row: Row, metric: str) -> list[float | None] | None:
    low, high = row.get(hidden("ci_low", metric)), row.get(hidden("ci_high", metric))
    return None if low is None and high is None else [low, high]


def _placeholder(model: Model, text: str, tree: ast.Expr, value: object) -> Placeholder:
    """A placeholder's value and what it is: a metric in its unit, a change, a percentage change, a count."""
    metric = _metric_of(model, tree)
    unit = model.metrics[metric].metric.unit if metric else None
    kind = _KINDS.get(tree.func, "value") if isinstance(tree, ast.Call) else "value"
    return Placeholder(text, value, unit, kind)


def _metric_of(model: Model, tree: ast.Expr) -> str | None:
    node = tree.args[0] if isinstance(tree, ast.Call) and tree.args else tree
    ref = model.refs.get(id(node))
    return ref.name if ref is not None and ref.kind == "metric" else None


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
            tuple(
                ScoreItem(i.metric, row.get(i.metric), row[points_column(card.name, i.metric)], i.weight) for i in card.items
            ),
        )
        for row in table.to_dicts()
    ]
