"""`metricdsl explain METRIC` as text: the definition and the time zone of its times, the typed tree (a type and unit
per node), the dependencies, the horizons of its windows and the Polars plan."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Protocol

from metricdsl.language import ast
from metricdsl.language.printer import format_expr
from metricdsl.render.github import inert
from metricdsl.render.terminal import inline, multiline
from metricdsl.semantics.model import ExprType, Ref
from metricdsl.spec.definitions import Metric


class TypedNode(Protocol):
    """One node of a typed tree (`metricdsl.tools.explain.TreeNode` is one)."""

    @property
    def depth(self) -> int: ...

    @property
    def node(self) -> ast.Expr: ...

    @property
    def type(self) -> ExprType | None: ...

    @property
    def ref(self) -> Ref | None: ...


class MetricExplanation(Protocol):
    """The facts about a metric (`metricdsl.tools.explain.Explanation` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def metric(self) -> Metric: ...

    @property
    def source(self) -> str | None: ...

    @property
    def tree(self) -> Sequence[TypedNode]: ...

    @property
    def where(self) -> Sequence[TypedNode] | None: ...

    @property
    def dependencies(self) -> Mapping[str, Sequence[str]]: ...

    @property
    def zones(self) -> Mapping[str, str]: ...

    @property
    def plan(self) -> str: ...

    @property
    def week_start(self) -> str | None: ...

    @property
    def filtered(self) -> Sequence[tuple[str, Sequence[str]]]: ...

    @property
    def windows(self) -> Sequence[WindowHorizon]: ...


class WindowHorizon(Protocol):
    @property
    def call(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def bound(self) -> str: ...

    @property
    def at(self) -> datetime.datetime | None: ...


def metric_report(explained: MetricExplanation) -> str:
    """The metric's name and label, where it is defined, its facts and expressions, typed trees, dependencies
    and plan.

    What comes from the specs is written with control characters visible (`terminal`), on one line but for the
    description, whose lines are indented, and the plan.
    """
    metric = explained.metric
    lines = [f"metric {inline(explained.name)}" + (f" — {inline(metric.label)}" if metric.label else "")]
    if metric.location:
        lines.append(f"  defined at {inline(metric.location.file)}:{metric.location.line}")
    facts = {
        "source": explained.source,
        "unit": metric.unit,
        "better": metric.better,
        "min_n": metric.min_n,
        "trailing": metric.trailing.text if metric.trailing else None,
        "time zone": _zones(explained.zones),
        "weeks": WEEKS.get(explained.week_start or "monday"),
    }
    lines.append("  " + "; ".join(f"{k}: {inline(v)}" for k, v in facts.items() if v is not None))
    lines.append(f"  expr: {inline(metric.expr.text)}")
    if metric.where:
        lines.append(f"  where: {inline(metric.where.text)}")
    if metric.description:
        lines += [f"  {line}" for line in multiline(metric.description).splitlines()]
    lines += ["", "typed tree:"]
    lines += typed_tree(explained.tree)
    if explained.where is not None:
        lines += ["", "where:", *typed_tree(explained.where)]
    if explained.filtered:
        lines += ["", "computed from, under its `where`:"]
        lines += [
            f"  {inline(m)} where {' and '.join(f'({inline(c)})' for c in conditions)}"
            for m, conditions in explained.filtered
        ]
    lines += ["", "depends on:"]
    for kind, names in explained.dependencies.items():
        lines.append(f"  {kind}: {', '.join(inline(n) for n in names) if names else '-'}")
    if explained.windows:
        lines += ["", "windows (unknown past these; --as-of replaces every followed_by's horizon):"]
        lines += [f"  {inline(w.call)}: {inline(_horizon(w))}" for w in explained.windows]
    lines += ["", "Polars plan (optimised, over empty inputs):", multiline(explained.plan)]
    return inert("\n".join(lines))


# How weeks run, where they are not ISO weeks (which go without saying).
WEEKS = {"sunday": "Sunday to Saturday, labelled by their Sunday"}


def _horizon(window: WindowHorizon) -> str:
    if window.bound == "first":
        return f"from the first time in the data of `{window.source}`"
    if window.bound == "complete_until":
        return f"until `{window.source}`'s complete_until, {window.at}"
    return f"until the latest time in the data of `{window.source}`"


def _zones(zones: Mapping[str, str]) -> str | None:
    """`Europe/Berlin` when every source's times are local to it, else each zone and its source."""
    if len(set(zones.values())) == 1:
        return next(iter(zones.values()))
    return ", ".join(f"{zone} ({source})" for source, zone in zones.items()) or None


def typed_tree(nodes: Sequence[TypedNode]) -> list[str]:
    """One line per node, indented by its depth: what it is, then its type and unit."""
    return [_line(node) for node in nodes]


def _line(tree_node: TypedNode) -> str:
    found, ref = tree_node.type, tree_node.ref
    kind = f"{found.kind}" + (f" [{found.unit}]" if found.unit else "") if found else ""
    what = _label(tree_node.node) + (f" ({ref.kind}{' of ' + ref.source if ref.source else ''})" if ref else "")
    return f"{'  ' * tree_node.depth}{inline(what)}" + (f" : {inline(kind)}" if kind else "")


def _label(node: ast.Expr) -> str:
    match node:
        case ast.ListOf():
            return "[list]"
        case ast.Unary(op=op) | ast.Binary(op=op):
            return op
        case ast.In(negated=negated):
            return "not in" if negated else "in"
        case ast.Between():
            return "between"
        case ast.IsNull(negated=negated):
            return "is not null" if negated else "is null"
        case ast.Case():
            return "case"
        case ast.Call(func=func, where=where):
            return f"{func}()" + (" where ↓last" if where is not None else "")
    return format_expr(node)  # a literal or a name
