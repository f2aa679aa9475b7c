"""The numbers of two versions of the specs on the same data: values and statuses that moved, findings that appear and
disappear, scores that moved. Records only, no text.

Each side is evaluated and graded once (`Project.run_graded`), on the same data: the one given, else the head's
`path:` of each source (a renamed source's under its old name at the base; a source of the base alone, its own). The
metrics computed are those a change may move (changed or reached, those of the targets, rules and scorecards changed or
reached; a change of labels and descriptions alone moves none) and those every target and rule reads, as grading needs
them; no other.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import polars as pl

from metricdsl.engine.columns import LABEL, graded_column
from metricdsl.engine.inputs import Data
from metricdsl.engine.sql.engines import Engine
from metricdsl.errors import DataError, RequestError
from metricdsl.grading.findings import Finding, Group, findings, metrics_read, scores
from metricdsl.grading.grader import Graded, period_label
from metricdsl.project import Project
from metricdsl.semantics.model import Model
from metricdsl.spec.data_paths import files
from metricdsl.tools.diff_definitions import Change, Key

TOLERANCE = 1e-9  # relative: values closer than this are the same number summed in another order


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Where both sides are computed, as `Project.run` takes it."""

    engine: Engine = "polars"
    spark_remote: str | None = None
    tables: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ValueChange:
    """A metric's value in one group and period on both sides (None: no value), with its change (`delta`, in the
    metric's unit; `relative`, a fraction of the old value, None when that is 0 or missing) and its target's status
    on both sides (None without a target)."""

    metric: str
    group: Group
    period: object
    unit: str | None
    old: float | None
    new: float | None
    delta: float | None
    relative: float | None
    old_status: str | None
    new_status: str | None


@dataclasses.dataclass(frozen=True)
class ScoreChange:
    """A scorecard's score (0 to 100) in one group and period on both sides."""

    scorecard: str
    group: Group
    period: object
    old: float | None
    new: float | None


@dataclasses.dataclass(frozen=True)
class Numbers:
    """The numbers of both sides on the same data; `skipped` says why there are none (then the rest is empty).

    `values` holds the groups and periods whose value or status moved, status changes first, then the largest
    relative changes; `compared` names the metrics compared (head names), `rows` counts the values compared.
    `head_only` and `base_only` name the metrics a change reaches that one side alone defines: computed there, for the
    findings of their targets and of the rules that read them.
    `appeared` and `disappeared` are the findings of targets and rules (matched by kind, name, group and period) of
    one side only: head's and base's."""

    skipped: str | None = None
    by: tuple[str, ...] = ()
    grain: str | None = None
    compared: tuple[str, ...] = ()
    head_only: tuple[str, ...] = ()
    base_only: tuple[str, ...] = ()
    rows: int = 0
    values: tuple[ValueChange, ...] = ()
    appeared: tuple[Finding, ...] = ()
    disappeared: tuple[Finding, ...] = ()
    scores: tuple[ScoreChange, ...] = ()


def compare_numbers(
    base: Project,
    head: Project,
    changes: Sequence[Change],
    renames: Mapping[Key, str],
    data: Mapping[str, Data],
    dashboard: str | None = None,
    by: Iterable[str] = (),
    grain: str | None = None,
    run: RunOptions | None = None,
    sides: tuple[str, str] = ("base", "head"),
) -> Numbers:
    """Evaluate and grade both sides once on the same data (`data`, else the head's `path:` of each source), by the
    layout of `dashboard` (default: the head's only one) or `by` and `grain`, and compare the metrics a change may
    move (`changes`, with the base's names renamed as `renames` says); see `Numbers`. Without data for a source they
    read, or without such a metric, `Numbers.skipped` says so. Raises `RequestError` and `DataError` as
    `Project.run_graded` does, their messages starting with the side's name in `sides`."""
    run = run or RunOptions()
    moving = [c for c in changes if not _descriptive(c)]
    old_names = {new: old[1] for old, new in renames.items() if old[0] == "metric"}
    new_names = {old: new for new, old in old_names.items()}
    wanted = _metrics_wanted(head.model, [c for c in moving if c.change != "removed"])
    removed = _metrics_wanted(base.model, [c for c in moving if c.change == "removed"])
    wanted = tuple(
        dict.fromkeys([*wanted, *(new_names.get(m, m) for m in removed if new_names.get(m, m) in head.model.metrics)])
    )
    compared = tuple(m for m in wanted if old_names.get(m, m) in base.model.metrics)
    head_only = tuple(m for m in wanted if m not in compared)
    base_only = tuple(m for m in removed if new_names.get(m, m) not in head.model.metrics)
    if not (compared or head_only or base_only):
        if not changes:
            return Numbers(skipped="no definition changed")
        if not moving:
            return Numbers(skipped="no change can move a number (labels and descriptions do not)")
        return Numbers(skipped="no metric changed or reached that both sides define")
    inputs = {n: s.path for n, s in head.definitions.sources.items() if s.path is not None} | dict(data)
    missing = _without_data(head.model, _graded_metrics(head.model, [*compared, *head_only]), inputs, run.tables)
    if missing is not None:
        return Numbers(skipped=f"no data for source `{missing}`: give --data {missing}=FILE or set its `path:`")
    if dashboard is None and not by and grain is None and len(head.definitions.dashboards) == 1:
        dashboard = next(iter(head.definitions.dashboards))
    board = head.definitions.dashboards.get(dashboard) if dashboard else None
    if dashboard is not None and board is None:
        head.request(dashboard=dashboard)  # raises RequestError, naming the dashboards
    layout = (tuple(by) or (board.by if board else ()), grain or (board.grain if board else None))
    card = board.scorecard if board else None
    old_card = next((old[1] for old, new in renames.items() if old[0] == "scorecard" and new == card), card)
    base_metrics = [*(old_names.get(m, m) for m in compared), *base_only]
    base_inputs = _base_inputs(base, inputs, renames)
    missing = _without_data(base.model, _graded_metrics(base.model, base_metrics), base_inputs, run.tables)
    if missing is not None:
        return Numbers(skipped=f"no data for source `{missing}` of the base side: give --data {missing}=FILE")
    head_graded = _graded(head, [*compared, *head_only], inputs, layout, card, run, sides[1])
    base_graded = _graded(base, base_metrics, base_inputs, layout, old_card, run, sides[0])
    values, rows = _value_changes(base_graded, head_graded, compared, old_names, head.model)
    appeared, disappeared = _finding_changes(base.model, base_graded, head.model, head_graded, renames)
    return Numbers(
        by=layout[0],
        grain=layout[1],
        compared=compared,
        head_only=head_only,
        base_only=base_only,
        rows=rows,
        values=values,
        appeared=appeared,
        disappeared=disappeared,
        scores=_score_changes(base_graded, head_graded),
    )


# The keys of a definition that only name or describe it: a change of them alone moves no number.
DESCRIPTIVE = ("label", "short", "description", "title")


def _descriptive(change: Change) -> bool:
    """Whether `change` changes only what names or describes a definition, not what it computes."""
    old, new = (change.old_text or "").splitlines(), (change.new_text or "").splitlines()
    moved = [line for line in old if line not in new] + [line for line in new if line not in old]
    return change.change == "changed" and all(line.partition(":")[0] in DESCRIPTIVE for line in moved)


def _metrics_wanted(model: Model, changes: Sequence[Change]) -> tuple[str, ...]:
    """The metrics of `model` whose values or findings `changes` may move (all of them of that side: the head's for
    those added, renamed or changed, the base's for those removed): those changed or reached, those of targets changed
    or reached, those that rules changed or reached read, and the items of scorecards changed or reached."""
    nodes = [f"{c.kind}:{c.name}" for c in changes]
    nodes += [n for c in changes for n in c.reach]
    wanted: list[str] = []
    for node in dict.fromkeys(nodes):
        kind, _, name = node.partition(":")
        if kind in ("metric", "target") and name in model.metrics:
            wanted.append(name)
        elif kind == "rule" and name in model.rules:
            wanted += metrics_read(model, model.rules[name].when)
        elif kind == "scorecard" and name in model.definitions.scorecards:
            wanted += [item.metric for item in model.definitions.scorecards[name].items]
    return tuple(dict.fromkeys(wanted))


def _base_inputs(base: Project, inputs: Mapping[str, Data], renames: Mapping[Key, str]) -> dict[str, Data]:
    """The data of the base side: the head's (`inputs`), a renamed source's under its old name, and a source of the
    base alone at its own `path:`."""
    found = {n: s.path for n, s in base.definitions.sources.items() if s.path is not None} | dict(inputs)
    return found | {old[1]: inputs[new] for old, new in renames.items() if old[0] == "source" and new in inputs}


def _graded_metrics(model: Model, metrics: Iterable[str]) -> list[str]:
    """`metrics` and those grading computes with them: every target's, and those the rules read."""
    rules = [m for rule in model.rules.values() for m in metrics_read(model, rule.when)]
    return list(dict.fromkeys([*metrics, *model.targets, *rules]))


def _without_data(model: Model, metrics: Iterable[str], inputs: Mapping[str, Data], tables: Mapping[str, str]) -> str | None:
    """The first source that `metrics` read and that has no data: not given, nor a table, and its path names no file."""
    for name in model.metric_order(list(metrics)):
        for source in model.metrics[name].reaches:
            given = inputs.get(source)
            if source in tables:
                continue
            if given is None or (isinstance(given, (str, Path)) and not files(given)):
                return source
    return None


def _graded(
    project: Project,
    metrics: list[str],
    inputs: Mapping[str, Data],
    layout: tuple[tuple[str, ...], str | None],
    card: str | None,
    run: RunOptions,
    side: str,
) -> Graded:
    sources = project.definitions.sources
    data = {name: given for name, given in inputs.items() if name in sources and name not in run.tables}
    try:
        graded = project.run_graded(
            data,
            metrics=metrics,
            by=layout[0],
            grain=layout[1],
            scorecard=card if card in project.definitions.scorecards else None,
            engine=run.engine,
            spark_remote=run.spark_remote,
            tables={name: table for name, table in run.tables.items() if name in sources} or None,
        ).graded
    except (RequestError, DataError) as error:
        raise type(error)(f"{side}: {error}") from None
    assert graded is not None
    return graded


def _value_changes(
    base: Graded, head: Graded, metrics: Sequence[str], old_names: Mapping[str, str], model: Model
) -> tuple[tuple[ValueChange, ...], int]:
    """The groups and periods where a metric's value or status moved, largest first, and how many were compared."""
    keys = [*head.by, LABEL]
    old_table = base.table.with_columns(period_label(base).alias(LABEL))
    new_table = head.table.with_columns(period_label(head).alias(LABEL))
    found: list[ValueChange] = []
    rows = 0
    for metric in metrics:
        old_name = old_names.get(metric, metric)
        if metric not in head.metrics or old_name not in base.metrics:
            continue
        old = old_table.select(*keys, _number(old_name, "old"), _status(base, old_name, "old_status"))
        new = new_table.select(*keys, _number(metric, "new"), _status(head, metric, "new_status"))
        joined = old.join(new, on=keys, how="full", coalesce=True, nulls_equal=True)
        rows += joined.height
        difference = pl.col("new") - pl.col("old")
        apart = difference.abs() > TOLERANCE * pl.max_horizontal(pl.lit(1.0), pl.col("old").abs())
        delta = pl.when(apart | difference.is_null()).then(difference).otherwise(pl.lit(0.0))  # null: a side has none
        moved = (
            (pl.col("old").is_null() != pl.col("new").is_null())
            | apart.fill_null(False)
            | pl.col("old_status").ne_missing(pl.col("new_status"))
        )
        unit = model.metrics[metric].metric.unit  # as declared (`ratio` shows as %), as check and report show it
        for row in joined.filter(moved).with_columns(delta.alias("delta")).to_dicts():
            old_value = row["old"]
            relative = row["delta"] / abs(old_value) if row["delta"] is not None and old_value else None
            group = {d: row[d] for d in head.by}
            found.append(
                ValueChange(
                    metric,
                    group,
                    row[LABEL],
                    unit,
                    old_value,
                    row["new"],
                    row["delta"],
                    relative,
                    row["old_status"],
                    row["new_status"],
                )
            )
    found.sort(key=_magnitude)
    return tuple(found), rows


def _number(metric: str, alias: str) -> pl.Expr:
    return pl.col(metric).cast(pl.Float64).alias(alias)


def _status(graded: Graded, metric: str, alias: str) -> pl.Expr:
    column = graded_column(metric, "status")
    return (pl.col(column) if column in graded.table.columns else pl.lit(None)).cast(pl.String).alias(alias)


def _magnitude(change: ValueChange) -> tuple[bool, float, float, str, str, str]:
    """Status changes first, then the largest relative change (a value from or to nothing counts as the largest)."""
    size = abs(change.relative) if change.relative is not None else float("inf") if change.delta != 0.0 else 0.0
    return (
        change.old_status == change.new_status,
        -size,
        -abs(change.delta or 0.0),
        change.metric,
        json.dumps(change.group, default=str, sort_keys=True),
        str(change.period),
    )


def _finding_changes(
    base_model: Model, base: Graded, head_model: Model, head: Graded, renames: Mapping[Key, str]
) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """The findings of targets and rules on the head side only, and on the base side only."""

    def keyed(found: list[Finding], name: Callable[[Finding], str]) -> dict[tuple[str, str, str, str], Finding]:
        return {
            (f.kind, name(f), json.dumps(f.group, default=str, sort_keys=True), str(f.period)): f
            for f in found
            if f.kind != "data"
        }

    def new_name(finding: Finding) -> str:
        kind = "metric" if finding.kind == "target" else finding.kind
        return renames.get((kind, finding.name), finding.name)

    old = keyed(findings(base_model, base), new_name)
    new = keyed(findings(head_model, head), lambda f: f.name)
    return tuple(f for k, f in new.items() if k not in old), tuple(f for k, f in old.items() if k not in new)


def _score_changes(base: Graded, head: Graded) -> tuple[ScoreChange, ...]:
    """The scores that moved, by group and period (a scorecard on one side only: all of its scores)."""
    old = {(json.dumps(s.group, default=str, sort_keys=True), str(s.period)): s for s in scores(base)}
    moved = []
    for score in scores(head):
        before = old.pop((json.dumps(score.group, default=str, sort_keys=True), str(score.period)), None)
        previous = before.score if before is not None else None
        same = previous is not None and score.score is not None and abs(score.score - previous) <= TOLERANCE * 100
        if not same and previous != score.score:
            moved.append(ScoreChange(score.scorecard, score.group, score.period, previous, score.score))
    moved += [ScoreChange(s.scorecard, s.group, s.period, s.score, None) for s in old.values() if s.score is not None]
    return tuple(sorted(moved, key=lambda s: -abs((s.new or 0.0) - (s.old or 0.0))))
