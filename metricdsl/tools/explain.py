"""`metricdsl explain METRIC`: the facts about a metric (definition, typed tree, dependencies, time zones, Polars
plan).

`metricdsl.render.explain` writes them as text.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import polars as pl

from metricdsl.engine.polars.compiler import Compiler
from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.language import ast
from metricdsl.language.printer import format_expr
from metricdsl.project import Project
from metricdsl.semantics.filters import Variant, used_variant
from metricdsl.semantics.model import ExprType, Model, Ref
from metricdsl.semantics.periods import grain_problem
from metricdsl.spec.definitions import GRAINS, Definitions, Metric


@dataclass(frozen=True)
class TreeNode:
    """One node of a typed tree, at its depth (the root's is 1), with its type and what its name stands for."""

    depth: int
    node: ast.Expr
    type: ExprType | None  # None for a node the checker did not type
    ref: Ref | None  # for a name: the column, derived column, metric or source it stands for


@dataclass(frozen=True)
class Explanation:
    """Everything about one metric: its definition, typed trees, dependencies and Polars plan."""

    name: str
    metric: Metric
    source: str | None  # the source its aggregates read; None for a metric of metrics only
    tree: tuple[TreeNode, ...]  # the expression's nodes, depth first
    where: tuple[TreeNode, ...] | None  # those of its `where:`, if any
    dependencies: dict[str, list[str]]  # see `dependencies`
    zones: dict[str, str]  # see `zones`
    plan: str  # the optimised Polars plan over empty inputs, as Polars writes it
    week_start: str | None = None  # the day its weeks start on, when it reads times (see `zones`)
    # The metrics it uses re-aggregated under its `where` (and those of metrics between), with every filter of each.
    filtered: tuple[tuple[str, tuple[str, ...]], ...] = ()
    windows: tuple[Horizon, ...] = ()  # see `horizons`


@dataclass(frozen=True)
class Horizon:
    """Where a window a metric reads stops being known: the other source's horizon (`followed_by`) or first time."""

    call: str  # the window as written, `followed_by(interactions where answered, 7d)`
    source: str  # the other source, whose data bounds it
    bound: str  # "complete_until" (given in the spec), "latest" or "first" (found in the data)
    at: datetime.datetime | None  # the `complete_until`, else None


def explain_metric(project: Project, name: str) -> Explanation:
    """Everything about metric `name`."""
    checked = project.model.metrics[name]
    needs = dependencies(project.model, name)
    zones_of = zones(project.definitions, needs)
    return Explanation(
        name=name,
        metric=checked.metric,
        source=checked.source,
        tree=tuple(typed_tree(project.model, checked.tree)),
        where=tuple(typed_tree(project.model, checked.where)) if checked.where is not None else None,
        dependencies=needs,
        zones=zones_of,
        plan=polars_plan(project, name),
        week_start=project.definitions.calendar.week_start if zones_of else None,
        filtered=filtered_inputs(project.model, name),
        windows=tuple(horizons(project.model, name)),
    )


def filtered_inputs(model: Model, name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each metric that metric `name` computes under added filters, with all the conditions its aggregates meet
    beside their own: its own `where`, then those of the metrics of metrics that filter it, outermost first."""
    found: dict[Variant, None] = {}
    pending = [Variant(name)]
    while pending:
        variant = pending.pop()
        for used in model.uses(variant.metric):
            child = used_variant(model, variant, used)
            if child.filters and child not in found:
                found[child] = None
                pending.append(child)
    return tuple(
        (v.metric, tuple(w.text for w in [model.metrics[m].metric.where for m in (v.metric, *v.filters)] if w))
        for v in found
    )


def horizons(model: Model, name: str) -> list[Horizon]:
    """The windows that metric `name` (and the metrics it uses) read, each with how its horizon is found; `--as-of`
    (`as_of=`) replaces every `followed_by`'s."""
    compiler = Compiler(model)
    found: dict[str, Horizon] = {}
    for metric in (model.metrics[m] for m in model.metric_order([name])):
        if metric.source is None:
            continue
        trees = [metric.tree, *([metric.where] if metric.where is not None else [])]
        for call in compiler.windows_in(metric.source, trees):
            target = call.args[0].name  # type: ignore[union-attr]
            given = model.definitions.sources[target].complete_until
            bound = "first" if call.func == "preceded_by" else "complete_until" if given else "latest"
            text = format_expr(call)
            found.setdefault(text, Horizon(text, target, bound, given if bound == "complete_until" else None))
    return list(found.values())


def typed_tree(model: Model, node: ast.Expr, depth: int = 1) -> list[TreeNode]:
    """`node` and its descendants, depth first, each with its type and reference."""
    nodes = [TreeNode(depth, node, model.types.get(id(node)), model.refs.get(id(node)))]
    for child in ast.children(node):
        nodes += typed_tree(model, child, depth + 1)
    return nodes


def dependencies(model: Model, name: str) -> dict[str, list[str]]:
    """The columns, derived columns, metrics and sources metric `name` reads, directly or not (each definition
    followed once, without recursion)."""
    found: dict[str, dict[str, None]] = {"columns": {}, "derived columns": {}, "metrics": {}, "sources": {}}
    kinds = {"column": "columns", "derived": "derived columns", "metric": "metrics", "source": "sources"}
    checked = model.metrics[name]
    stack = [*([checked.where] if checked.where is not None else []), checked.tree]  # the tree first
    while stack:
        node = stack.pop()
        ref = model.refs.get(id(node))
        if ref is not None:
            label = f"{ref.source}.{ref.name}" if ref.source else ref.name
            first = label not in found[kinds[ref.kind]]
            found[kinds[ref.kind]][label] = None
            if first and ref.kind == "derived" and ref.source is not None:
                stack.append(model.sources[ref.source].derived[ref.name])
            elif first and ref.kind == "metric":
                stack.append(model.metrics[ref.name].tree)
                source = model.metrics[ref.name].source
                if source:
                    found["sources"][source] = None
        stack += reversed(ast.children(node))
    if checked.source:
        found["sources"][checked.source] = None
    return {kind: list(names) for kind, names in found.items()}


def zones(definitions: Definitions, needs: dict[str, list[str]]) -> dict[str, str]:
    """The time zone of each source in `needs` (a metric's `dependencies`) whose times the metric uses: its days,
    weeks, windows and `hour()` are local to it. A source with a `time:` column uses it for grains and windows; one
    without, only when the metric reads a datetime column of it."""
    read = [column.split(".", 1) for column in needs["columns"]]
    found = {}
    for name in needs["sources"]:
        source = definitions.sources[name]
        datetimes = [c for s, c in read if s == name and c in source.columns and source.columns[c].type == "datetime"]
        if source.time or datetimes:
            found[name] = definitions.zone(name)
    return found


def polars_plan(project: Project, name: str) -> str:
    empty = {
        source: pl.DataFrame(schema={c: DTYPES[col.type] for c, col in spec.columns.items()})
        for source, spec in project.definitions.sources.items()
    }
    # A metric over periods is planned at the first grain it can be evaluated at (`trailing: 4w` at week, not day).
    needs = project.model.metric_order([name])
    fits = [g for g in (None, "week", *GRAINS) if not any(grain_problem(project.model.metrics[m], m, g) for m in needs)]
    grain = fits[0] if fits else None
    return project.compile(empty, metrics=[name], grain=grain).explain(optimized=True)
