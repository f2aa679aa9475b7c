"""The report's view-models: what each part of the page shows, as frozen records of text and numbers, no HTML.

`report_view()` builds them from graded tables (the dashboard's layout, its centre totals without `by`, one per
drill-down column), the findings report and the sources' data ranges; `metricdsl.render.html.page` renders them.
Everything is sorted explicitly, so the same inputs give the same records (and the same page).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from metricdsl.engine.columns import LABEL, graded_column, hidden, points_column
from metricdsl.engine.stats import significant_change
from metricdsl.grading.findings import Pending, Report
from metricdsl.grading.grader import Graded, period_label
from metricdsl.render.findings import skipped_text
from metricdsl.render.html import charts
from metricdsl.render.html.findings import FindingGroup, finding_groups
from metricdsl.render.html.text import (
    STATUS_ICONS,
    STATUS_WORDS,
    change_text,
    ci_text,
    group_label,
    n_text,
    period_text,
    short_label,
    threshold_text,
    thresholds_of,
    too_few,
)
from metricdsl.render.values import counted, format_value
from metricdsl.semantics.model import Model
from metricdsl.spec.definitions import Dashboard

SIGNIFICANT = "__significant"  # the column of a metric's z test against its previous period, while tiles are built


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
class Cell:
    status: str
    icon: str
    word: str
    text: str  # the value, or `n=24` below min_n
    title: str  # value, n, interval (the cell's tooltip; all of it is in the table's text or the tiles too)
    hatched: bool  # below min_n, or no data
    provisional: bool


@dataclass(frozen=True)
class Column:
    name: str
    short: str
    label: str
    period: str | None  # the period its cells show when not the latest (a metric provisional there)


@dataclass(frozen=True)
class Row:
    group: str
    score: str  # the scorecard's score in the period, "" without a scorecard
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Matrix:
    caption: str
    dimension: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class ScoreCell:
    period: str
    text: str
    level: int  # 0 (below 40 points) … 4 (70 and up; see `SCORE_BANDS`), -1 without a score: the cell's shade
    capped: bool
    title: str


@dataclass(frozen=True)
class ScoreRow:
    group: str
    cells: tuple[ScoreCell, ...]


@dataclass(frozen=True)
class Contribution:
    metric: str
    label: str
    value: str
    points: str  # `62`, or `n/a`
    weight: float
    share: float | None  # points × weight / total weight of the items with points; None for n/a
    text: str  # `+18.6` or `n/a (weight 3 renormalised)`


@dataclass(frozen=True)
class GroupScore:
    group: str
    score: str
    capped: bool
    reason: str
    items: tuple[Contribution, ...]


@dataclass(frozen=True)
class ScoreGrid:
    title: str
    periods: tuple[str, ...]
    rows: tuple[ScoreRow, ...]
    period: str  # the latest, whose contributions are shown
    contributions: tuple[GroupScore, ...]


@dataclass(frozen=True)
class DrillRow:
    value: str
    text: str
    n: str
    status: str
    icon: str
    word: str


@dataclass(frozen=True)
class DrillTable:
    metric: str
    label: str
    rows: tuple[DrillRow, ...]


@dataclass(frozen=True)
class Drill:
    column: str
    slug: str
    period: str | None
    matrix: Matrix | None  # None for a column with many values (an agent): its tables alone
    tables: tuple[DrillTable, ...]


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


MATRIX_LIMIT = 24  # a drill-down column with more values is shown as sorted tables only


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
    rows = _rows(graded)
    totals = _rows(centre, significance=dashboard.metrics)
    periods = _periods(rows)
    latest = periods[-1] if periods else None
    groups = sorted({group_label(r, graded.by) for r in rows}) if graded.by else []
    # The metrics in the order of the page's sections: tiles, the matrix's columns and the trends follow it.
    listed = [m for section in dashboard.sections for m in section.metrics]
    shown = [m for m in [*listed, *dashboard.metrics] if m in centre.metrics]
    shown = list(dict.fromkeys(shown))
    scores = _latest_scores(graded, rows, latest)
    centre_name = f"All {graded.by[0]}s" if len(graded.by) == 1 else "All groups" if graded.by else "All"
    header = Header(
        dashboard.title or dashboard.name,
        dashboard.name,
        latest,
        len(periods),
        periods[0] if periods else None,
        len(groups),
        ", ".join(graded.by),
        revision,
        generated_at.isoformat(timespec="seconds"),
    )
    return ReportView(
        header,
        _verdict(graded, rows, latest),
        _sections(model, dashboard, centre, totals, shown),
        _matrix(model, graded, rows, latest, scores, _against(graded.by), shown) if graded.by and rows else None,
        _score_grid(model, graded, rows, periods) if graded.scorecard is not None and rows else None,
        finding_groups(model, report, latest),
        _trends(model, graded, rows, totals, shown, centre_name) if graded.grain and periods else (),
        tuple(_drill(model, column, table, shown) for column, table in sorted((drills or {}).items())),
        _notes(model, dashboard, report, sources, notices),
    )


def _periods(rows: list[dict[str, object]]) -> list[str]:
    """The periods' labels, in order (labels of one grain sort as their periods do)."""
    return sorted({str(r[LABEL]) for r in rows if r[LABEL] is not None})


def _against(by: Sequence[str]) -> str:
    """`teams against targets`, `team, channel against targets`."""
    return f"{by[0]}s against targets" if len(by) == 1 else f"{', '.join(by)} against targets"


def _rows(graded: Graded, significance: Sequence[str] = ()) -> list[dict[str, object]]:
    """The graded table's rows with their period labels (text), oldest first; with `significance`, each of those
    metrics' z test against its previous period (the one `significant(change(m))` runs)."""
    table = graded.table.with_columns(period_label(graded).cast(pl.String).alias(LABEL))
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


def _latest_scores(graded: Graded, rows: list[dict[str, object]], latest: str | None) -> dict[str, float | None]:
    card = graded.scorecard
    if card is None:
        return {}
    column = graded_column(card.name, "score")
    return {group_label(r, graded.by): _number(r.get(column)) for r in rows if r[LABEL] == latest}


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
    value, n = _number(row.get(metric)), row.get(hidden("n", metric))
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
        _text(row.get(LABEL)),
        format_value(value, spec.unit) if value is not None else "–",
        str(status) if status is not None else None,
        STATUS_ICONS[word_status] if word_status else "",
        STATUS_WORDS[word_status] if word_status else "no target",
        _change(model, metric, row, totals),
        tuple(_number(r.get(metric)) for r in totals),
        tuple(pending),
        threshold_text(model, metric),
        n_text(n),
        ci_text(row, metric, spec.unit),
        "; ".join(notes),
    )


def _change(model: Model, metric: str, row: Mapping[str, object], totals: list[dict[str, object]]) -> Change | None:
    spec = model.metrics[metric].metric
    value, before = _number(row.get(metric)), _number(row.get(hidden("prev", metric)))
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
    against = _text(labels[at - 1]) if at > 0 else "previous period"
    return Change(change_text(delta, spec.unit), against or "previous period", direction, tone, significance)


def _cell(model: Model, metric: str, row: Mapping[str, object], graded: Graded) -> Cell:
    spec = model.metrics[metric].metric
    status = row.get(graded_column(metric, "status")) if metric in graded.targets else None
    value, n = _number(row.get(metric)), row.get(hidden("n", metric))
    pending = bool(row.get(hidden("pending", metric)))
    few = value is None and isinstance(n, int) and bool(spec.min_n) and n < (spec.min_n or 0)
    word_status = "pending" if pending else str(status) if status else "no_data" if value is None else "none"
    if pending:
        text = format_value(value, spec.unit) if value is not None else "provisional"
    else:
        text = f"n={n}" if few else format_value(value, spec.unit) if value is not None else "no data"
    parts = [
        f"{spec.label or metric}: {format_value(value, spec.unit)}",
        n_text(n),
        ci_text(row, metric, spec.unit),
        too_few(n, spec.min_n or 0) if few and isinstance(n, int) else "",
        "provisional: its windows reach past the data" if pending else "",
    ]
    return Cell(
        word_status,
        STATUS_ICONS.get(word_status, ""),
        STATUS_WORDS.get(word_status, ""),
        text,
        " · ".join(p for p in parts if p),
        value is None and not pending,
        pending,
    )


def _matrix(
    model: Model,
    graded: Graded,
    rows: list[dict[str, object]],
    latest: str | None,
    scores: Mapping[str, float | None],
    caption: str,
    order: Sequence[str],
) -> Matrix:
    """The groups × metrics with a target (all metrics when none has one), in `order`; best score first. A metric
    provisional in every group of the latest period shows its latest complete period instead, named in its header."""
    columns = set(graded.targets) or set(graded.metrics)
    ordered = [m for m in order if m in columns]
    current = [r for r in rows if r[LABEL] == latest]
    ranked = sorted(
        current,
        key=lambda r: (-(scores.get(group_label(r, graded.by)) or -1.0), group_label(r, graded.by)),
    )
    shown = {m: _complete_period(rows, m, latest) for m in ordered}
    index = {(group_label(r, graded.by), r[LABEL]): r for r in rows}
    return Matrix(
        f"{caption}, {period_text(latest)}" if latest else caption,
        ", ".join(graded.by),
        tuple(
            Column(m, short_label(model, m), model.metrics[m].metric.label or m, shown[m] if shown[m] != latest else None)
            for m in ordered
        ),
        tuple(
            Row(
                group_label(r, graded.by),
                _score_text(scores.get(group_label(r, graded.by))) if scores else "",
                tuple(_cell(model, m, index.get((group_label(r, graded.by), shown[m]), r), graded) for m in ordered),
            )
            for r in ranked
        ),
    )


def _complete_period(rows: list[dict[str, object]], metric: str, latest: str | None) -> str | None:
    """The latest period, or when `metric` is provisional in all its groups there, the latest one where it is in none."""
    pending: dict[object, bool] = {}
    for r in rows:
        pending[r[LABEL]] = pending.get(r[LABEL], True) and bool(r.get(hidden("pending", metric)))
    if not pending.get(latest, False):
        return latest
    settled = [str(p) for p, all_pending in pending.items() if p is not None and not all_pending]
    return max(settled) if settled else latest


def _score_grid(model: Model, graded: Graded, rows: list[dict[str, object]], periods: list[str]) -> ScoreGrid:
    card = graded.scorecard
    assert card is not None
    score, capped = graded_column(card.name, "score"), graded_column(card.name, "capped")
    by_group: dict[str, dict[str, dict[str, object]]] = {}
    for r in rows:
        by_group.setdefault(group_label(r, graded.by) or "All", {})[str(r[LABEL])] = r
    labels = [str(p) for p in periods] or ["None"]
    critical = [i.metric for i in card.items if i.critical]
    reason = f"capped at {card.cap:g}: critical item {', '.join(critical)} fails" if critical else f"capped at {card.cap:g}"
    grid = tuple(
        ScoreRow(
            group,
            tuple(
                ScoreCell(
                    period,
                    _score_text(_number(cells[period].get(score))) if period in cells else "",
                    _level(_number(cells[period].get(score))) if period in cells else -1,
                    bool(cells.get(period, {}).get(capped)),
                    f"{group} {period}: {_score_text(_number(cells[period].get(score)))}"
                    + (f" ({reason})" if cells[period].get(capped) else "")
                    if period in cells
                    else "",
                )
                for period in labels
            ),
        )
        for group, cells in sorted(by_group.items())
    )
    last = labels[-1]
    contributions = tuple(
        _contributions(model, graded, group, cells[last], reason)
        for group, cells in sorted(by_group.items())
        if last in cells
    )
    ranked = tuple(sorted(contributions, key=lambda g: (-(_number(g.score) or -1.0), g.group)))
    return ScoreGrid(card.title or card.name, tuple(labels), grid, last, ranked)


def _contributions(model: Model, graded: Graded, group: str, row: Mapping[str, object], reason: str) -> GroupScore:
    card = graded.scorecard
    assert card is not None
    points = {i.metric: _number(row.get(points_column(card.name, i.metric))) for i in card.items}
    total = sum(i.weight for i in card.items if points[i.metric] is not None)
    items = []
    for item in card.items:
        spec = model.metrics[item.metric].metric
        got = points[item.metric]
        share = got * item.weight / total if got is not None and total else None
        items.append(
            Contribution(
                item.metric,
                spec.label or item.metric,
                format_value(_number(row.get(item.metric)), spec.unit),
                "n/a" if got is None else f"{got:.0f}",
                item.weight,
                share,
                f"{share:.1f}" if share is not None else "n/a",
            )
        )
    capped = bool(row.get(graded_column(card.name, "capped")))
    return GroupScore(
        group,
        _score_text(_number(row.get(graded_column(card.name, "score")))),
        capped,
        reason if capped else "",
        tuple(items),
    )


def _trends(
    model: Model,
    graded: Graded,
    rows: list[dict[str, object]],
    totals: list[dict[str, object]],
    shown: list[str],
    centre_name: str,
) -> tuple[charts.TrendChart, ...]:
    found = []
    for metric in shown:
        spec = model.metrics[metric].metric
        points = [_point(r, metric, centre_name) for r in totals]
        if graded.by and metric in graded.metrics:
            points += [_point(r, metric, group_label(r, graded.by)) for r in rows]
        thresholds = tuple(
            charts.Threshold(level, op, value, text) for level, op, value, text in thresholds_of(model, metric)
        )
        last = next((r for r in reversed(totals) if not r.get(hidden("pending", metric))), totals[-1] if totals else {})
        value = format_value(_number(last.get(metric)), spec.unit)
        status = last.get(graded_column(metric, "status"))
        description = f"{spec.label or metric} {value} in {last.get(LABEL)}" + (
            f", {STATUS_WORDS.get(str(status), str(status))}" if status else ""
        )
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
            )
        )
    return tuple(found)


def _point(row: Mapping[str, object], metric: str, who: str) -> charts.TrendPoint:
    n = row.get(hidden("n", metric))
    return charts.TrendPoint(
        str(row[LABEL]),
        who,
        _number(row.get(metric)),
        _number(row.get(hidden("ci_low", metric))),
        _number(row.get(hidden("ci_high", metric))),
        n if isinstance(n, int) else None,
        bool(row.get(hidden("pending", metric))),
    )


def _drill(model: Model, column: str, graded: Graded, order: Sequence[str]) -> Drill:
    rows = _rows(graded)
    periods = _periods(rows)
    latest = periods[-1] if periods else None
    current = [r for r in rows if r[LABEL] == latest]
    values = {group_label(r, graded.by) for r in current}
    scores = _latest_scores(graded, rows, latest)
    matrix = (
        _matrix(model, graded, rows, latest, scores, f"By {column}", order)
        if len(values) <= MATRIX_LIMIT and current
        else None
    )
    tables = []
    for metric in [m for m in order if m in graded.metrics]:
        spec = model.metrics[metric].metric
        descending = spec.better != "lower"
        present = sorted(
            (r for r in current if _number(r.get(metric)) is not None),
            key=lambda r: -(_number(r.get(metric)) or 0.0) if descending else (_number(r.get(metric)) or 0.0),
        )
        missing = sorted((r for r in current if _number(r.get(metric)) is None), key=lambda r: group_label(r, graded.by))
        drill_rows = []
        for r in [*present, *missing]:
            cell = _cell(model, metric, r, graded)
            drill_rows.append(
                DrillRow(group_label(r, graded.by), cell.text, n_text(r.get(hidden("n", metric))), *_status3(cell))
            )
        tables.append(DrillTable(metric, spec.label or metric, tuple(drill_rows)))
    return Drill(column, f"drill-{_slug(column)}", latest, matrix, tuple(tables))


def _status3(cell: Cell) -> tuple[str, str, str]:
    return cell.status, cell.icon, cell.word


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
    periods = [str(p) for p in pending.periods if p is not None]
    labels = [model.metrics[m].metric.label or m for m in pending.metrics if m in model.metrics]
    names = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
    reach = {
        "end": "reach past the end of the data (a source's complete_until, else its latest time, or --as-of)",
        "start": "reach before the start of the data",
    }
    why = " or ".join(reach[e] for e in pending.edges if e in reach) or reach["end"]
    where = f"In {', '.join(periods)}, " if periods else ""
    verb = "is" if len(labels) == 1 else "are"
    return (
        f"{where}{names} {verb} provisional ({counted(pending.rows, 'group period')}): their windows {why}. "
        "They may change when the data is complete, so they are drawn dashed and not graded, and the tiles show the "
        "latest complete period."
    )


def _number(value: object) -> float | None:
    """A numeric cell's value (an int stays one, so a count reads `1,557`); None for null, NaN or anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if isinstance(value, float) and math.isnan(value) else value


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _score_text(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.0f}"


SCORE_BANDS = (40.0, 50.0, 60.0, 70.0)  # the shades of the scorecard grid: below 40, 40–49, … 70 and up


def _level(score: float | None) -> int:
    return -1 if score is None else sum(score >= band for band in SCORE_BANDS)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())
