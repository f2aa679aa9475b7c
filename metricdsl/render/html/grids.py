"""The report's tables: the groups × metrics status matrix, the scorecard grid with each group's item contributions,
and the drill-downs by other columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from metricdsl.engine.columns import LABEL, graded_column, hidden, points_column
from metricdsl.grading.grader import Graded
from metricdsl.render.html.rows import graded_rows, number, periods
from metricdsl.render.html.text import (
    STATUS_ICONS,
    STATUS_WORDS,
    ci_text,
    group_label,
    n_text,
    period_text,
    short_label,
    too_few,
)
from metricdsl.render.values import format_value
from metricdsl.semantics.model import Model


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


MATRIX_LIMIT = 24  # a drill-down column with more values is shown as sorted tables only


def latest_scores(graded: Graded, rows: list[dict[str, object]], latest: str | None) -> dict[str, float | None]:
    card = graded.scorecard
    if card is None:
        return {}
    column = graded_column(card.name, "score")
    return {group_label(r, graded.by): number(r.get(column)) for r in rows if r[LABEL] == latest}


def cell(model: Model, metric: str, row: Mapping[str, object], graded: Graded) -> Cell:
    spec = model.metrics[metric].metric
    status = row.get(graded_column(metric, "status")) if metric in graded.targets else None
    value, n = number(row.get(metric)), row.get(hidden("n", metric))
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


def matrix(
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
                tuple(cell(model, m, index.get((group_label(r, graded.by), shown[m]), r), graded) for m in ordered),
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


def score_grid(model: Model, graded: Graded, rows: list[dict[str, object]], periods: list[str]) -> ScoreGrid:
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
                    _score_text(number(cells[period].get(score))) if period in cells else "",
                    _level(number(cells[period].get(score))) if period in cells else -1,
                    bool(cells.get(period, {}).get(capped)),
                    f"{group} {period}: {_score_text(number(cells[period].get(score)))}"
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
    ranked = tuple(sorted(contributions, key=lambda g: (-(number(g.score) or -1.0), g.group)))
    return ScoreGrid(card.title or card.name, tuple(labels), grid, last, ranked)


def _contributions(model: Model, graded: Graded, group: str, row: Mapping[str, object], reason: str) -> GroupScore:
    card = graded.scorecard
    assert card is not None
    points = {i.metric: number(row.get(points_column(card.name, i.metric))) for i in card.items}
    total = sum(i.weight for i in card.items if points[i.metric] is not None)
    items = []
    for item in card.items:
        spec = model.metrics[item.metric].metric
        got = points[item.metric]
        share = got * item.weight / total if got is not None and total else None
        items.append(
            Contribution(
                item.metric,
                short_label(model, item.metric),
                format_value(number(row.get(item.metric)), spec.unit),
                "n/a" if got is None else f"{got:.0f}",
                item.weight,
                share,
                f"{share:.1f}" if share is not None else "n/a",
            )
        )
    capped = bool(row.get(graded_column(card.name, "capped")))
    return GroupScore(
        group,
        _score_text(number(row.get(graded_column(card.name, "score")))),
        capped,
        reason if capped else "",
        tuple(items),
    )


def drill(model: Model, column: str, graded: Graded, order: Sequence[str]) -> Drill:
    rows = graded_rows(graded)
    labels = periods(rows)
    latest = labels[-1] if labels else None
    current = [r for r in rows if r[LABEL] == latest]
    values = {group_label(r, graded.by) for r in current}
    scores = latest_scores(graded, rows, latest)
    table = (
        matrix(model, graded, rows, latest, scores, f"By {column}", order)
        if len(values) <= MATRIX_LIMIT and current
        else None
    )
    tables = []
    for metric in [m for m in order if m in graded.metrics]:
        spec = model.metrics[metric].metric
        descending = spec.better != "lower"
        present = sorted(
            (r for r in current if number(r.get(metric)) is not None),
            key=lambda r: -(number(r.get(metric)) or 0.0) if descending else (number(r.get(metric)) or 0.0),
        )
        missing = sorted((r for r in current if number(r.get(metric)) is None), key=lambda r: group_label(r, graded.by))
        drill_rows = []
        for r in [*present, *missing]:
            shown = cell(model, metric, r, graded)
            drill_rows.append(
                DrillRow(group_label(r, graded.by), shown.text, n_text(r.get(hidden("n", metric))), *_status3(shown))
            )
        tables.append(DrillTable(metric, spec.label or metric, tuple(drill_rows)))
    return Drill(column, f"drill-{_slug(column)}", latest, table, tuple(tables))


def _status3(cell: Cell) -> tuple[str, str, str]:
    return cell.status, cell.icon, cell.word


def _score_text(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.0f}"


SCORE_BANDS = (40.0, 50.0, 60.0, 70.0)  # the shades of the scorecard grid: below 40, 40–49, … 70 and up


def _level(score: float | None) -> int:
    return -1 if score is None else sum(score >= band for band in SCORE_BANDS)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())
