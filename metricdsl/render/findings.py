"""Findings and scores as text: a terminal table, Markdown, GitHub workflow commands and JSON; the findings as a table.

JSON follows the stable schema `metricdsl-findings/1` (see the README); the table (CSV, Parquet) has the columns of a
finding's JSON, its group spread over one column per dimension and a data finding's fields in `data_` columns. What
`check` was not able to grade, and what it recorded in a history file, are written here too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

import polars as pl

from metricdsl.errors import OutputError
from metricdsl.files import output_name, write_text_atomically
from metricdsl.grading.findings import SEVERITY_ORDER, Finding, Group, Pending, Period, Placeholder, Report, Score
from metricdsl.grading.grader import Skipped
from metricdsl.render import markdown, tables
from metricdsl.render.github import Level, command, inert
from metricdsl.render.quality import problem_text
from metricdsl.render.terminal import inline
from metricdsl.render.values import (
    counted,
    format_change,
    format_count,
    format_percent_change,
    format_value,
    threshold_text,
)
from metricdsl.spec.definitions import PLACEHOLDER

SCHEMA_ID = "metricdsl-findings/1"
FORMATS = ("text", "json", "markdown", "github")
GITHUB_LEVELS: dict[str, Level] = {"info": "notice", "warn": "warning", "fail": "error"}
# GitHub shows at most 10 error, 10 warning and 10 notice annotations of a step (and 50 of a job): see "Limitations"
# in https://github.com/actions/toolkit/blob/main/docs/problem-matchers.md. `--format github` annotates the 10 most
# severe findings of each level, its own notices (the summary, what was left out) within the 10 notices.
GITHUB_ANNOTATIONS_PER_LEVEL = 10


def render(report: Report, output_format: str) -> str:
    """The findings and scores of `report` in `output_format` (one of `FORMATS`)."""
    return RENDERERS[output_format](report)


def message(finding: Finding, insert: Callable[[str], str] = str) -> str:
    """A finding's message: a rule's own, with its placeholders formatted; for a target, what it missed; for data,
    the problem (`metricdsl.render.quality.problem_text`).

    `insert` writes each value put into the message (a placeholder, the group's values, a label): text outputs
    pass `terminal.inline`, so that a line break in a team's name is not one in the message.
    """
    if finding.problem is not None:
        return problem_text(finding.problem, insert)
    if finding.kind == "rule":
        if finding.template is None:
            return finding.name
        # One pass over the template, so that a value holding `{...}` (a team's name) is not filled in itself.
        values = iter(finding.placeholders)

        def fill(match: re.Match[str]) -> str:
            placeholder = next(values, None)
            return insert(placeholder_text(placeholder)) if placeholder is not None else match.group(0)

        return PLACEHOLDER.sub(fill, finding.template)
    where = insert(_where(finding.group))
    value = format_value(finding.value, finding.unit)
    return (
        f"{where + ': ' if where else ''}{insert(finding.label or finding.name)} is {value}, "
        f"past the {finding.status} threshold ({insert(threshold_text(str(finding.threshold), finding.unit))})"
    )


def placeholder_text(placeholder: Placeholder) -> str:
    """A placeholder's value by what it is: a change signed, a count whole, a metric in its unit, else as text."""
    value = placeholder.value
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if placeholder.kind == "pct_change":
        return format_percent_change(value)
    if placeholder.kind == "count":
        return format_count(value)
    if placeholder.kind == "change":
        return format_change(value, placeholder.unit)
    return format_value(value, placeholder.unit)


def skipped_text(skipped: Skipped) -> str:
    """Why a target or rule was not graded, as the text table and JSON (`skipped`) say it."""
    match skipped.reason:
        case "target_metric_not_computed":
            return "its metric is not computed for these dimensions"
        case "metric_not_computed":
            return f"metric `{skipped.metric}` is not computed for these dimensions"
        case "needs_grain":
            return f"`for: {skipped.periods} periods` needs a grain"


def summary(found: list[Finding]) -> str:
    """`1 fail, 2 warn, 0 info findings`."""
    counts = {s: sum(f.severity == s for f in found) for s in ("fail", "warn", "info")}
    return ", ".join(f"{n} {s}" for s, n in counts.items()) + f" finding{'s' if len(found) != 1 else ''}"


def overview(found: list[Finding]) -> list[str]:
    """What leads the text output: `307 findings in 13 periods: 44 fail, 237 warn, 26 info`, then one line per
    metric (a target's findings) or rule, most failing first: `  fcr  47: 12 fail, 35 warn`. Nothing without
    findings."""
    if not found:
        return []
    periods = {str(f.period) for f in found if f.period is not None}
    within = f" in {counted(len(periods), 'period')}" if periods else ""
    lines = [f"{counted(len(found), 'finding')}{within}: {_by_severity(found, keep_zeros=True)}"]
    by_name: dict[str, list[Finding]] = {}
    for f in found:
        by_name.setdefault(f.name, []).append(f)
    ranked = sorted(by_name.items(), key=lambda item: [-sum(f.severity == s for f in item[1]) for s in _SEVERITIES])
    width = max(len(inline(name)) for name in by_name)
    lines += [f"  {inline(name):<{width}}  {len(group):>4}: {_by_severity(group)}" for name, group in ranked]
    return lines


def fold(found: list[Finding]) -> list[tuple[Finding, list[Finding]]]:
    """Each finding as it is shown once: with the rule findings that say the same thing, folded into it.

    A rule finding says the same as a target finding when the rule's condition reads one metric only (`when:
    service_level < 0.8`, `for: 3 periods`: `Finding.reads` is that metric), it fires in the same group and period as
    that metric's target finding, and it is not more severe: the target's finding is shown with `also: <rule>`
    and the rule has no line of its own. A rule reading more metrics, or none, or more severe than the target's
    status, or firing where the metric met its target, is shown on its own. The text and GitHub outputs show the
    findings folded; JSON, Markdown and the findings table keep every finding, as records.
    """
    targets = {(f.name, _key(f.group), str(f.period)): f for f in found if f.kind == "target"}
    also: dict[int, list[Finding]] = {}
    folded: set[int] = set()
    for f in found:
        if f.kind != "rule" or len(f.reads) != 1:
            continue
        target = targets.get((f.reads[0], _key(f.group), str(f.period)))
        if target is not None and SEVERITY_ORDER[f.severity] <= SEVERITY_ORDER[target.severity]:
            also.setdefault(id(target), []).append(f)
            folded.add(id(f))
    return [(f, also.get(id(f), [])) for f in found if id(f) not in folded]


def also_text(rules: list[Finding]) -> str:
    """One line a rule folded into a finding (`fold`): `also: service_level_slipping (service level below target for
    three periods in a row)` with the rule's description, else `also: slow: <its message>`."""
    return "\n".join(
        f"also: {inline(r.name)} ({inline(r.description.strip().rstrip('.'))})"
        if r.description
        else f"also: {inline(r.name)}: {message(r, inline)}"
        for r in rules
    )


def as_text(report: Report) -> str:
    """The overview (counts by severity and by metric or rule), a table of the findings each shown once (`fold`),
    each score with its items' points, what was not graded, the summary.

    Values from data and specs are written on one line with control characters visible (`terminal.inline`); a
    rule's message keeps its own line breaks.
    """
    lines = overview(report.findings)
    if report.findings:
        shown = fold(report.findings)
        rows = [
            {
                "severity": f.severity,
                "period": _period(f.period),
                "group": _where(f.group),
                "finding": f.name,
                "message": message(f, inline) + ("\n" + also_text(rules) if rules else ""),
            }
            for f, rules in shown
        ]
        if len(shown) < len(report.findings):
            lines.append(
                f"{counted(len(report.findings) - len(shown), 'rule finding')} shown with the target finding of "
                "the metric it reads (`also:`)"
            )
        lines.append(tables.as_text(pl.DataFrame(rows), float_precision=None, text_width=200, line_breaks=["message"]))
    if report.scores:
        lines.append(f"\nscorecard {inline(report.scores[0].scorecard)}:")
        lines += [_score_line(score) for score in report.scores]
    lines += [f"not graded: {inline(name)}: {inline(skipped_text(why))}" for name, why in report.skipped.items()]
    if report.pending is not None:
        lines.append(pending_text(report.pending))
    lines.append(summary(report.findings))
    return inert("\n".join(lines))


def pending_text(pending: Pending) -> str:
    """`pending: 6 periods (2026-W05) of fcr, repeat_rate: ...`: how many group periods (groups, without a grain) are
    not graded yet, and why."""
    periods = ", ".join(inline(_period(p)) for p in pending.periods if p is not None)
    where = f" ({periods})" if periods else ""
    # Without a grain the rows are groups, not periods.
    count = counted(pending.rows, "period" if any(p is not None for p in pending.periods) else "group")
    names = ", ".join(inline(m) for m in pending.metrics)
    edges = {
        "end": "past the end of the data (a source's `complete_until`, its latest time, or --as-of)",
        "start": "before the start of the data (a source's first time)",
    }
    reach = " or ".join(edges[e] for e in pending.edges) or edges["end"]
    return f"pending: {count}{where} of {names}: their windows reach {reach}, so they are not graded yet"


def pending_json(pending: Pending) -> PendingJson:
    """What the JSON report says of the values not graded yet: how many group periods, which periods and metrics."""
    return {
        "count": pending.rows,
        "periods": list(pending.periods),
        "metrics": list(pending.metrics),
        "edges": list(pending.edges),
        "message": pending_text(pending),
    }


def history_recorded(path: Path, rows: int) -> str:
    """What `check --history` says once it recorded this run: `history: runs.parquet holds 13 rows`."""
    return f"history: {inline(path)} holds {counted(rows, 'row')}"


def _score_line(score: Score) -> str:
    period = f" {inline(score.period)}" if score.period is not None else ""
    capped = " (capped: a critical item fails)" if score.capped else ""
    parts = ", ".join(f"{inline(i.metric)} {'n/a' if i.points is None else f'{i.points:.0f}'}" for i in score.items)
    return f"  {inline(_where(score.group)) or 'all'}{period}: {_points(score.score)}{capped}  [{parts}]"


def as_markdown(report: Report) -> str:
    """A table of the findings and, with a scorecard, a table of the scores; then the summary.

    Every cell is escaped by `markdown.cell`; a line break in a value from data is written `\\n`, as in text.
    """
    lines = markdown.table(
        ("severity", "period", "group", "finding", "message"),
        ((f.severity, f.period, inline(_where(f.group)), f.name, message(f, inline)) for f in report.findings),
    )
    if report.scores:
        header = ("group", "period", f"{report.scores[0].scorecard} score")
        lines += [
            "",
            *markdown.table(header, ((inline(_where(s.group)) or "all", s.period, _points(s.score)) for s in report.scores)),
        ]
    # What was not graded, as the text says it; escaped as a cell: shown as written.
    told = [f"not graded: {inline(name)}: {inline(skipped_text(why))}" for name, why in report.skipped.items()]
    told += [pending_text(report.pending)] if report.pending is not None else []
    lines += ["", *(markdown.cell(line) + "  " for line in told[:-1]), markdown.cell(told[-1])] if told else []
    return "\n".join([*lines, "", summary(report.findings)])


def as_github(report: Report) -> str:
    """A summary notice, then one workflow command per finding shown (an annotation at its definition; `fold`), the
    most severe first and at most `GITHUB_ANNOTATIONS_PER_LEVEL` of each level, what was not graded, a notice of
    how many were left out, then the summary.

    A line break in a value from data is written `\\n`, as in text; a rule's message keeps its own (`%0A`).
    """
    notices = [
        command("notice", f"{inline(name)}: {inline(skipped_text(why))}", {"title": "not graded"})
        for name, why in report.skipped.items()
    ]
    if report.pending is not None:  # one notice, without a place: no definition is at fault
        notices.append(command("notice", pending_text(report.pending), {"title": "pending"}))
    # The most severe first; of one severity, the latest period first (what a reader acts on now).
    latest = sorted(fold(report.findings), key=lambda item: str(item[0].period), reverse=True)
    shown = sorted(latest, key=lambda item: -SEVERITY_ORDER[item[0].severity])
    # The summary, and the notice of what was left out, take two of the notices GitHub shows.
    room = {"error": GITHUB_ANNOTATIONS_PER_LEVEL, "warning": GITHUB_ANNOTATIONS_PER_LEVEL}
    room["notice"] = max(0, GITHUB_ANNOTATIONS_PER_LEVEL - 2 - len(notices))
    lines = [command("notice", overview(report.findings)[0], {"title": "metricdsl check"})] if report.findings else []
    left_out = 0
    for f, rules in shown:
        level = GITHUB_LEVELS[f.severity]
        if room[level] == 0:
            left_out += 1
            continue
        room[level] -= 1
        text = message(f, inline) + ("\n" + also_text(rules) if rules else "")
        lines.append(
            command(
                level,
                f"{inline(f.period)}: {text}" if f.period is not None else text,
                {"file": f.file, "line": f.line if f.file else None, "title": f"{f.kind} {f.name}"},
            )
        )
    lines += notices
    if left_out:
        lines.append(
            command(
                "notice",
                f"{counted(left_out, 'more finding')} not annotated (GitHub shows {GITHUB_ANNOTATIONS_PER_LEVEL} "
                "of each level per step): `metricdsl check --format json` lists every finding",
                {"title": "metricdsl check"},
            )
        )
    return "\n".join([*lines, summary(report.findings)])


class FindingJson(TypedDict):
    kind: str
    name: str
    severity: str
    status: str
    group: Group
    period: Period
    value: float | str | None  # a target's metric value; a data finding's first invalid value, as it reads
    threshold: str | None
    n: int | None
    ci: list[float | None] | None
    message: str
    file: str | None
    line: int | None
    revision: str | None


class DataFindingJson(FindingJson):
    """A finding of kind `data`: the keys of every finding, and those of its `DataProblem`."""

    source: str
    column: str | None
    rows: int
    reason: str
    first: str | None


class ScoreItemJson(TypedDict):
    metric: str
    value: float | None
    points: float | None
    weight: float


class ScoreJson(TypedDict):
    scorecard: str
    group: Group
    period: Period
    score: float | None
    capped: bool
    items: list[ScoreItemJson]


class PendingJson(TypedDict):
    count: int  # groups and periods, counted in pairs
    periods: list[Period]
    metrics: list[str]
    edges: list[str]  # "end" (windows past a horizon), "start" (windows before a source's first time)
    message: str


class ReportJson(TypedDict):
    schema: str
    revision: str | None
    by: list[str]
    grain: str | None
    skipped: dict[str, str]
    findings: list[FindingJson | DataFindingJson]
    scores: list[ScoreJson]
    pending: PendingJson | None


def as_json(report: Report) -> str:
    """The report in the stable JSON schema `metricdsl-findings/1`."""
    document: ReportJson = {
        "schema": SCHEMA_ID,
        "revision": report.revision,
        "by": list(report.by),
        "grain": report.grain,
        "skipped": {name: skipped_text(why) for name, why in report.skipped.items()},
        "findings": [finding_json(f) for f in report.findings],
        "scores": [score_json(s) for s in report.scores],
        "pending": pending_json(report.pending) if report.pending is not None else None,
    }
    return json.dumps(document, indent=2, default=str)


# The types of the findings table's columns (see `as_table`) but the dimensions and the period, whose types are those of
# their values.
TABLE_TYPES: dict[str, type[pl.DataType]] = {
    "kind": pl.String,
    "name": pl.String,
    "severity": pl.String,
    "status": pl.String,
    "value": pl.Float64,
    "threshold": pl.String,
    "n": pl.Int64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "message": pl.String,
    "file": pl.String,
    "line": pl.Int64,
    "revision": pl.String,
    **{f"data_{field}": pl.String for field in ("source", "column", "reason", "first", "value")},
    "data_rows": pl.Int64,
}


def as_table(report: Report) -> pl.DataFrame:
    """The findings, one row each, in the columns of their JSON, but the group's values in one column per dimension
    (named as the dimension), the interval in `ci_low` and `ci_high`, and a data finding's fields in `data_source`,
    `data_column`, `data_rows`, `data_reason`, `data_first` and `data_value` (text, as `value` is a number). The scores
    are in JSON only."""
    found = report.findings
    problems = [f.problem for f in found]
    columns: dict[str, list[object]] = {
        "kind": [f.kind for f in found],
        "name": [f.name for f in found],
        "severity": [f.severity for f in found],
        "status": [f.status for f in found],
        **{dimension: [f.group.get(dimension) for f in found] for dimension in report.by},
        "period": [f.period for f in found],
        "value": [f.value for f in found],
        "threshold": [f.threshold for f in found],
        "n": [f.n for f in found],
        "ci_low": [f.ci[0] if f.ci else None for f in found],
        "ci_high": [f.ci[1] if f.ci else None for f in found],
        "message": [message(f) for f in found],
        "file": [f.file for f in found],
        "line": [f.line for f in found],
        "revision": [f.revision for f in found],
        "data_source": [p.source if p else None for p in problems],
        "data_column": [p.column if p else None for p in problems],
        "data_rows": [p.rows if p else None for p in problems],
        "data_reason": [p.reason if p else None for p in problems],
        "data_first": [p.first if p else None for p in problems],
        "data_value": [p.value if p else None for p in problems],
    }
    return pl.DataFrame(columns, schema_overrides=TABLE_TYPES)


def write_report(report: Report, path: Path, output_format: str) -> None:
    """Write the report as JSON, or its findings as a CSV or Parquet table (`as_table`), whole or not at all."""
    if output_format == "json":
        write_text_atomically(path, as_json(report) + "\n")
        return
    taken = next((d for d in report.by if d in TABLE_TYPES or d == "period"), None)
    if taken is not None:
        raise OutputError(output_name(path), f"dimension `{inline(taken)}` would be a second `{taken}` column: write JSON")
    tables.write_table(as_table(report), path, output_format)


def finding_json(f: Finding) -> FindingJson | DataFindingJson:
    """A finding's JSON record; one of kind `data` has its problem's fields in place of a metric's."""
    if f.problem is not None:
        return {
            "kind": f.kind,
            "name": f.name,
            "severity": f.severity,
            "status": f.status,
            "group": f.group,
            "period": f.period,
            "source": f.problem.source,
            "column": f.problem.column,
            "rows": f.problem.rows,
            "reason": f.problem.reason,
            "first": f.problem.first,
            "value": f.problem.value,
            "threshold": None,
            "n": None,
            "ci": None,
            "message": message(f),
            "file": f.file,
            "line": f.line,
            "revision": f.revision,
        }
    return {
        "kind": f.kind,
        "name": f.name,
        "severity": f.severity,
        "status": f.status,
        "group": f.group,
        "period": f.period,
        "value": f.value,
        "threshold": f.threshold,
        "n": f.n,
        "ci": f.ci,
        "message": message(f),
        "file": f.file,
        "line": f.line,
        "revision": f.revision,
    }


def score_json(s: Score) -> ScoreJson:
    return {
        "scorecard": s.scorecard,
        "group": s.group,
        "period": s.period,
        "score": s.score,
        "capped": s.capped,
        "items": [{"metric": i.metric, "value": i.value, "points": i.points, "weight": i.weight} for i in s.items],
    }


_SEVERITIES = ("fail", "warn", "info")


def _by_severity(found: list[Finding], keep_zeros: bool = False) -> str:
    """`44 fail, 237 warn, 26 info`; without `keep_zeros`, a severity with none is left out."""
    counts = [(sum(f.severity == s for f in found), s) for s in _SEVERITIES]
    return ", ".join(f"{n} {s}" for n, s in counts if n or keep_zeros)


def _key(group: Group) -> str:
    return json.dumps(group, sort_keys=True, default=str)


def _where(group: Group) -> str:
    return ", ".join(map(str, group.values()))


def _period(period: Period) -> str:
    return "" if period is None else str(period)


def _points(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.1f}"


RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": as_text,
    "json": as_json,
    "markdown": as_markdown,
    "github": as_github,
}
