"""The report's view-models: what each part of the page shows, as frozen records of text and numbers, no HTML.

`report_view()` builds them from graded tables (the dashboard's layout, its centre totals without `by`, one per
drill-down column), the findings report and the sources' data ranges; `metricdsl.render.html.page` renders them.
The header, verdict, tiles, trends and notes are here; the matrix, scorecard grid and drill-downs in `grids`,
the findings in `findings`, the words and numbers in `text`. Everything is sorted explicitly, so the same inputs
give the same records (and the same page).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from metricdsl.engine.columns import LABEL, graded_column, hidden
from metricdsl.grading.findings import Pending, Report
from metricdsl.grading.grader import Graded
from metricdsl.render.findings import skipped_text
from metricdsl.render.html import charts
from metricdsl.render.html.findings import FindingGroup, finding_groups
from metricdsl.render.html.grids import Drill, Matrix, ScoreGrid, drill, latest_scores, matrix, score_grid
from metricdsl.render.html.rows import SIGNIFICANT, graded_rows, number, periods, text_of
from metricdsl.render.html.text import (
    STATUS_ICONS,
    STATUS_WORDS,
    change_text,
    ci_text,
    group_label,
    n_text,
    threshold_text,
    thresholds_of,
    too_few,
)
from metricdsl.render.values import counted, format_value
from metricdsl.semantics.model import Model
from metricdsl.spec.definitions import Dashboard


@dataclass(frozen=True)
class SourceRange:
    """A source's data: its first and last time (local, as text) and its number of rows."""

    name: str
    first: str | None
    last: str | None
    rows: int


@dataclass(frozen=True)
class Header:
    title: str
    dashboard: str
    period: str | None  # the latest period's label
    periods: int
    first_period: str | None
    groups: int
    dimension: str  # what the groups are: "team", "team, channel"; "" without `by`
    revision: str | None
    generated_at: str  # ISO 8601, to the second


@dataclass(frozen=True)
class StatusCount:
    status: str
    icon: str
    word: str
    count: int


@dataclass(frozen=True)
class Change:
    text: str  # `+0.4 pts`
    against: str  # the period compared with, or "previous"
    direction: str  # up, down, flat
    tone: str  # better, worse, neutral (by the metric's `better`)
    significance: str  # significant, within noise, "" (no interval to test with)


@dataclass(frozen=True)
class Tile:
    name: str
    label: str
    period: str | None  # the period shown: the latest, or the latest complete one
    value: str
    status: str | None  # None: the metric has no target
    icon: str
    word: str
    change: Change | None
    spark: tuple[float | None, ...]
    spark_provisional: tuple[bool, ...]
    target: str  # `target ≥ 80% · warn < 75% · fail < 60%`, "" without target
    n: str
    ci: str
    note: str  # provisional or too few answers, said in words


@dataclass(frozen=True)
class Section:
    title: str
    slug: str
    tiles: tuple[Tile, ...]


@dataclass(frozen=True)
class Definition:
    name: str
    label: str
    description: str
    expression: str
    unit: str
    better: str
    min_n: str
    targets: str
    place: str


@dataclass(frozen=True)
class Notes:
    sources: tuple[SourceRange, ...]
    notices: tuple[str, ...]  # remarks on the data read (times with offsets where no zone is declared)
    provisional: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    definitions: tuple[Definition, ...]


@dataclass(frozen=True)
class ReportView:
    header: Header
    verdict: tuple[StatusCount, ...]
    sections: tuple[Section, ...]
    matrix: Matrix | None
    scorecard: ScoreGrid | None
    findings: tuple[FindingGroup, ...]
    trends: tuple[charts.TrendChart, ...]
    drills: tuple[Drill, ...]
    notes: Notes


def report_view(
    model: Model,
    dashboard: Dashboard,
    graded: Graded,
    centre: Graded,
    report: Report,
    *,
    drills: Mapping[str, Graded] | None = None,
    sources: Sequence[SourceRange] = (),
    notices: Sequence[str] = (),
    generated_at: datetime.datetime,
    revision: str | None = None,
) -> ReportView:
    """The whole page's records; `centre` is the dashboard's request graded without `by` (its totals)."""
    rows = graded_rows(graded)
    totals = graded_rows(centre, significance=dashboard.metrics)
    labels = periods(rows)
    latest = labels[-1] if labels else None
    groups = sorted({group_label(r, graded.by) for r in rows}) if graded.by else []
    # The metrics in the order of the page's sections: tiles, the matrix's columns and the trends follow it.
    listed = [m for section in dashboard.sections for m in section.metrics]
    shown = [m for m in [*listed, *dashboard.metrics] if m in centre.metrics]
    shown = list(dict.fromkeys(shown))
    scores = latest_scores(graded, rows, latest)
    centre_name = f"All {graded.by[0]}s" if len(graded.by) == 1 else "All groups" if graded.by else "All"
    sections = _sections(model, dashboard, centre, totals, shown)
    tiles = {tile.name: tile for section in sections for tile in section.tiles}
    header = Header(
        dashboard.title or dashboard.name,
        dashboard.name,
        latest,
        len(labels),
        labels[0] if labels else None,
        len(groups),
        ", ".join(graded.by),
        revision,
        generated_at.isoformat(timespec="seconds"),
    )
    return ReportView(
        header,
        _verdict(graded, rows, latest),
        sections,
        matrix(model, graded, rows, latest, scores, _against(graded.by), shown) if graded.by and rows else None,
        score_grid(model, graded, rows, labels) if graded.scorecard is not None and rows else None,
        finding_groups(model, report, latest),
        _trends(model, graded, rows, totals, tiles, centre_name, len(groups)) if graded.grain and labels else (),
        tuple(drill(model, column, table, shown) for column, table in sorted((drills or {}).items())),
        _notes(model, dashboard, report, sources, notices),
    )


def _against(by: Sequence[str]) -> str:
    """`teams against targets`, `team, channel against targets`."""
    return f"{by[0]}s against targets" if len(by) == 1 else f"{', '.join(by)} against targets"


def _verdict(graded: Graded, rows: list[dict[str, object]], latest: str | None) -> tuple[StatusCount, ...]:
    """How many group × target cells of the latest period fail, warn, pass, have too few answers, are provisional."""
    found = [r.get(graded_column(t, "status")) for r in rows if r[LABEL] == latest for t in graded.targets]
    return tuple(
        StatusCount(s, STATUS_ICONS[s], STATUS_WORDS[s], sum(f == s for f in found))
        for s in ("fail", "warn", "ok", "no_data", "pending")
    )


def _sections(
    model: Model, dashboard: Dashboard, centre: Graded, totals: list[dict[str, object]], shown: list[str]
) -> tuple[Section, ...]:
    declared = tuple((s.title, s.metrics) for s in dashboard.sections)
    listed = {m for _, metrics in declared for m in metrics}
    rest = tuple(m for m in shown if m not in listed)
    if rest:
        declared += (("Other metrics" if declared else "Metrics", rest),)
    return tuple(
        Section(title, f"section-{i}", tuple(_tile(model, centre, totals, m) for m in metrics if m in shown))
        for i, (title, metrics) in enumerate(declared)
    )


def _tile(model: Model, centre: Graded, totals: list[dict[str, object]], metric: str) -> Tile:
    spec = model.metrics[metric].metric
    pending = [bool(r.get(hidden("pending", metric))) for r in totals]
    complete = [r for r, p in zip(totals, pending, strict=True) if not p]
    row = complete[-1] if complete else (totals[-1] if totals else {})
    status = row.get(graded_column(metric, "status")) if metric in centre.targets else None
    value, n = number(row.get(metric)), row.get(hidden("n", metric))
    notes = []
    later = [
        str(r[LABEL]) for r, p in zip(totals, pending, strict=True) if p and (not row or str(r[LABEL]) > str(row[LABEL]))
    ]
    if row and later:
        said = later[0] if len(later) == 1 else f"{later[0]} – {later[-1]}"
        notes.append(f"provisional in {said} (windows past the data): showing the latest complete period")
    if not complete and totals:
        notes.append("provisional: its windows reach past the data")
    if value is None and isinstance(n, int) and spec.min_n and n < spec.min_n:
        notes.append(too_few(n, spec.min_n))
    word_status = str(status) if status is not None else ("no_data" if value is None else None)
    return Tile(
        metric,
        spec.label or metric,
        text_of(row.get(LABEL)),
        format_value(value, spec.unit) if value is not None else "–",
        str(status) if status is not None else None,
        STATUS_ICONS[word_status] if word_status else "",
        STATUS_WORDS[word_status] if word_status else "no target",
        _change(model, metric, row, totals),
        tuple(number(r.get(metric)) for r in totals),
        tuple(pending),
        threshold_text(model, metric),
        n_text(n),
        ci_text(row, metric, spec.unit),
        "; ".join(notes),
    )


def _change(model: Model, metric: str, row: Mapping[str, object], totals: list[dict[str, object]]) -> Change | None:
    spec = model.metrics[metric].metric
    value, before = number(row.get(metric)), number(row.get(hidden("prev", metric)))
    if value is None or before is None or row.get(hidden("prevpending", metric)):
        return None
    delta = value - before
    direction = "up" if delta > 0 else "down" if delta < 0 else "flat"
    tone = "neutral"
    if spec.better in ("higher", "lower") and direction != "flat":
        tone = "better" if (direction == "up") == (spec.better == "higher") else "worse"
    significant = row.get(f"{SIGNIFICANT}_{metric}")
    significance = "" if significant is None else "significant" if significant else "within noise"
    labels = [r[LABEL] for r in totals]
    at = labels.index(row[LABEL]) if row.get(LABEL) in labels else 0
    against = text_of(labels[at - 1]) if at > 0 else "previous period"
    return Change(change_text(delta, spec.unit), against or "previous period", direction, tone, significance)


def _trends(
    model: Model,
    graded: Graded,
    rows: list[dict[str, object]],
    totals: list[dict[str, object]],
    tiles: Mapping[str, Tile],
    centre_name: str,
    groups: int,
) -> tuple[charts.TrendChart, ...]:
    """A chart per tile, in the tiles' order: the centre line and each group's (up to TREND_GROUP_LIMIT groups), with
    the target's thresholds."""
    found = []
    for metric, tile in tiles.items():
        spec = model.metrics[metric].metric
        points = [_point(r, metric, centre_name) for r in totals]
        if graded.by and metric in graded.metrics and groups <= charts.TREND_GROUP_LIMIT:
            points += [_point(r, metric, group_label(r, graded.by)) for r in rows]
        thresholds = tuple(
            charts.Threshold(level, op, value, text) for level, op, value, text in thresholds_of(model, metric)
        )
        change = tile.change
        said = [f"{tile.label} {tile.value}" + (f" in {tile.period}" if tile.period else ""), tile.word]
        if change is not None:
            said.append(
                f"{change.text} against {change.against}" + (f", {change.significance}" if change.significance else "")
            )
        left_out = groups if graded.by and groups > charts.TREND_GROUP_LIMIT else 0
        if left_out:
            said.append(f"only the centre line drawn, of {left_out:,} {', '.join(graded.by)} groups")
        description = ", ".join(s for s in said if s)
        found.append(
            charts.TrendChart(
                metric,
                spec.label or metric,
                spec.unit,
                spec.better,
                centre_name,
                ", ".join(graded.by),
                tuple(points),
                thresholds,
                description,
                left_out,
            )
        )
    return tuple(found)


def _point(row: Mapping[str, object], metric: str, who: str) -> charts.TrendPoint:
    n = row.get(hidden("n", metric))
    return charts.TrendPoint(
        str(row[LABEL]),
        who,
        number(row.get(metric)),
        number(row.get(hidden("ci_low", metric))),
        number(row.get(hidden("ci_high", metric))),
        n if isinstance(n, int) else None,
        bool(row.get(hidden("pending", metric))),
    )


def _notes(
    model: Model, dashboard: Dashboard, report: Report, sources: Sequence[SourceRange], notices: Sequence[str]
) -> Notes:
    provisional = (_pending_sentence(model, report.pending),) if report.pending is not None else ()
    skipped = tuple(sorted((name, skipped_text(why)) for name, why in report.skipped.items()))
    definitions = []
    for metric in dashboard.metrics:
        spec = model.metrics[metric].metric
        target = model.targets.get(metric)
        location = spec.location
        definitions.append(
            Definition(
                metric,
                spec.label or metric,
                spec.description or "",
                spec.expr.text + (f" where {spec.where.text}" if spec.where is not None else ""),
                spec.unit or "",
                spec.better or "",
                str(spec.min_n) if spec.min_n else "",
                threshold_text(model, metric)
                + (
                    f" ({len(target.overrides)} override{'s' if len(target.overrides) != 1 else ''})"
                    if target and target.overrides
                    else ""
                ),
                f"{location.file}:{location.line}" if location else "",
            )
        )
    return Notes(tuple(sorted(sources, key=lambda s: s.name)), tuple(notices), provisional, skipped, tuple(definitions))


def _pending_sentence(model: Model, pending: Pending) -> str:
    """Which periods and metrics are provisional, and why, in a sentence for a reader of the page."""
    named = [str(p) for p in pending.periods if p is not None]
    labels = [model.metrics[m].metric.label or m for m in pending.metrics if m in model.metrics]
    names = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
    reach = {
        "end": "reach past the end of the data (a source's complete_until, else its latest time, or --as-of)",
        "start": "reach before the start of the data",
    }
    why = " or ".join(reach[e] for e in pending.edges if e in reach) or reach["end"]
    where = f"In {', '.join(named)}, " if named else ""
    verb = "is" if len(labels) == 1 else "are"
    return (
        f"{where}{names} {verb} provisional ({counted(pending.rows, 'group period')}): their windows {why}. "
        "They may change when the data is complete, so they are drawn dashed and not graded, and the tiles show the "
        "latest complete period."
    )
