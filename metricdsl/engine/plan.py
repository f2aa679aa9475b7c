"""What a request computes, whatever the engine: the request itself, and the aggregates each source's groups need.

The Polars and the SQL backends both build the request's aggregated groups (one row per group and period) from
these plans, with the same hidden column names, so that the same finishing stage computes the table from either.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass

from metricdsl.engine.columns import GRAIN_COLUMN, aggregate_column, aggregate_part, variant_column
from metricdsl.language import ast
from metricdsl.language.functions import AGGREGATES, WINDOWS, window_form
from metricdsl.semantics.filters import Variant, added_filters, used_variant
from metricdsl.semantics.model import Model
from metricdsl.semantics.periods import trailing_periods
from metricdsl.spec.definitions import DEFAULT_ZONE


@dataclass(frozen=True)
class Request:
    """What to compute: `metrics`, grouped by the `by` columns and, optionally, a time `grain`."""

    metrics: tuple[str, ...]
    by: tuple[str, ...] = ()
    grain: str | None = None
    apply_min_n: bool = True  # off in spec tests whose small fixtures check a formula only
    with_ci: bool = False  # add each metric's n and 95 % confidence interval
    # Keep the period start and the n, se and interval columns, and the periods before `start`, for grading.
    keep_hidden: bool = False
    as_of: datetime.datetime | None = None  # the horizon of every `followed_by` (naive: local to each source)
    start: datetime.date | None = None  # with a grain, the first period (the one holding this day); else the data's
    end: datetime.date | None = None  # with a grain, the last period; else the data's

    @property
    def keys(self) -> list[str]:
        return [*self.by, GRAIN_COLUMN] if self.grain else list(self.by)


@dataclass
class Aggregate:
    """One aggregate call of a metric, computed as hidden columns of its source's `group_by`."""

    node: ast.Call
    where: ast.Expr | None  # the metric's own `where`, which filters every aggregate in it
    column: str
    n_column: str
    counts: bool = False  # count-like: 0, not null, for a group without rows
    sd_column: str | None = None  # also the sample standard deviation, for a mean's interval
    added: tuple[ast.Expr, ...] = ()  # the `where`s of the metrics of metrics that filter the metric it is part of
    trailing: int | None = None  # pooled over this many periods: its parts are computed too (`pooled_parts`)
    source: str | None = None  # the source whose rows it reads, for the windows it reads there


def aggregates_by_source(
    model: Model, needed: list[Variant], request: Request
) -> tuple[dict[str, list[Aggregate]], dict[Variant, dict[int, str]]]:
    """Every aggregate that the variants need, by source, and each variant's aggregate columns by call."""
    spread = request.with_ci or request.keep_hidden
    plans: dict[str, list[Aggregate]] = {}
    owned: dict[Variant, dict[int, str]] = {}
    count = 0
    for variant in needed:
        checked = model.metrics[variant.metric]
        owned[variant] = {}
        trailing = checked.metric.trailing
        periods = trailing_periods(trailing, request.grain) if trailing and request.grain else None
        for node in ast.walk(checked.tree):
            if isinstance(node, ast.Call) and node.func in AGGREGATES and checked.source is not None:
                column, count = aggregate_column(count), count + 1
                owned[variant][id(node)] = column
                counts = AGGREGATES[node.func].counts
                sd = aggregate_part(column, "sd") if spread and node.func == "mean" else None  # for the interval of a mean
                added = added_filters(model, variant, checked.source)
                plans.setdefault(checked.source, []).append(
                    Aggregate(
                        node,
                        checked.where,
                        column,
                        aggregate_part(column, "n"),
                        counts,
                        sd,
                        added=added,
                        trailing=periods,
                        source=checked.source,
                    )
                )
    return plans, owned


def variant_columns(needed: list[Variant]) -> dict[Variant, str]:
    """The column of each variant: a metric's own name, a hidden column for a metric under added filters."""
    filtered = [v for v in needed if v.filters]
    return {v: v.metric for v in needed if not v.filters} | {
        v: variant_column(index, v.metric) for index, v in enumerate(filtered)
    }


def layers(model: Model, needed: list[Variant]) -> list[list[Variant]]:
    """The variants by level of their metric: those of each layer are computed from those of earlier layers only."""
    found: list[list[Variant]] = []
    levels = model.metric_levels(list(dict.fromkeys(v.metric for v in needed)))
    for variant in needed:
        level = levels[variant.metric]
        while len(found) <= level:
            found.append([])
        found[level].append(variant)
    return found


def windowed_counts(
    model: Model, censored: Collection[str], owned: dict[Variant, dict[int, str]], variant: Variant
) -> list[str]:
    """The censored-row count columns of the aggregates that `variant` is computed from, through the variants
    (metrics under their filters) it uses; `censored` holds the aggregate columns that read a window."""
    found = [aggregate_part(c, "censored") for c in owned.get(variant, {}).values() if c in censored]
    for used in model.uses(variant.metric):
        found += windowed_counts(model, censored, owned, used_variant(model, variant, used))
    return found


def window_key_names(model: Model, call: ast.Call, source: str, target: str) -> list[tuple[str, str]]:
    """The key columns of a window call, as pairs (this side's column, the other side's): the entity the two sources
    share, or the columns its `on=` names (`customer_id`, or `customer_id == referred_by`)."""
    on = call.keyword("on")
    if on is None:
        defs = model.definitions
        entity = defs.shared_entity(source, target)
        assert entity is not None  # the checker made sure
        return [(defs.sources[source].entities[entity], defs.sources[target].entities[entity])]
    pairs = on.items if isinstance(on, ast.ListOf) else (on,)
    names = []
    for pair in pairs:
        left, right = (pair.left, pair.right) if isinstance(pair, ast.Binary) else (pair, pair)
        names.append((left.name, right.name))  # type: ignore[union-attr]
    return names


def window_calls(model: Model, source: str, trees: list[ast.Expr]) -> list[ast.Call]:
    """The window calls (`followed_by`, `preceded_by`) evaluated on `source`'s rows by `trees`, through derived
    columns too, each once."""
    found: dict[int, ast.Call] = {}
    derived = model.sources[source].derived

    def visit(node: ast.Expr) -> None:
        if isinstance(node, ast.Call) and node.func in WINDOWS:
            found.setdefault(id(node), node)
            return  # its filter and keys belong to the other source
        ref = model.refs.get(id(node))
        if ref is not None and ref.kind == "derived" and ref.source == source:
            visit(derived[ref.name])
        for child in ast.children(node):
            visit(child)

    for tree in trees:
        visit(tree)
    return list(found.values())


def zone_of(model: Model, node: ast.Expr) -> str:
    """The time zone of the datetimes in `node`: that of the source whose columns or metrics it reads (outside the
    filter of a window, which belongs to the other source); the project's zone when it reads none."""
    pending = [node]
    while pending:
        current = pending.pop()
        ref = model.refs.get(id(current))
        source = ref.source if ref is not None else None
        if ref is not None and ref.kind == "metric" and ref.name in model.metrics:
            source = model.metrics[ref.name].source
        if source is not None:
            return model.definitions.zone(source)
        if not (isinstance(current, ast.Call) and current.func in WINDOWS):
            pending.extend(reversed(list(ast.children(current))))
        elif (form := window_form(current)) is not None:  # `value=COL`: a column of the other source
            pending.append(form[1])
    return model.definitions.calendar.timezone or DEFAULT_ZONE
