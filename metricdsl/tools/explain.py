"""`metricdsl explain METRIC`: a metric's definition, typed tree, dependencies and Polars plan."""

from __future__ import annotations

import polars as pl

from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.language import ast
from metricdsl.language.printer import format_expr
from metricdsl.project import Project
from metricdsl.semantics.model import Model


def explain_metric(project: Project, name: str) -> str:
    """Everything about metric `name`, as text."""
    checked = project.model.metrics[name]
    metric = checked.metric
    lines = [f"metric {name}" + (f" — {metric.label}" if metric.label else "")]
    if metric.location:
        lines.append(f"  defined at {metric.location.file}:{metric.location.line}")
    facts = {"source": checked.source, "unit": metric.unit, "better": metric.better, "min_n": metric.min_n}
    lines.append("  " + "; ".join(f"{k}: {v}" for k, v in facts.items() if v is not None))
    lines.append(f"  expr: {metric.expr.text}")
    if metric.where:
        lines.append(f"  where: {metric.where.text}")
    if metric.description:
        lines.append(f"  {metric.description}")
    lines += ["", "typed tree:"]
    lines += typed_tree(project.model, checked.tree, 1)
    if checked.where is not None:
        lines += ["", "where:", *typed_tree(project.model, checked.where, 1)]
    lines += ["", "depends on:"]
    for kind, names in dependencies(project.model, name).items():
        lines.append(f"  {kind}: {', '.join(names) if names else '-'}")
    lines += ["", "Polars plan (optimised, over empty inputs):", polars_plan(project, name)]
    return "\n".join(lines)


def typed_tree(model: Model, node: ast.Expr, depth: int) -> list[str]:
    """One line per node: what it is, then its type and unit."""
    found = model.types.get(id(node))
    kind = f"{found.kind}" + (f" [{found.unit}]" if found and found.unit else "") if found else ""
    ref = model.refs.get(id(node))
    what = _label(node) + (f" ({ref.kind}{' of ' + ref.source if ref.source else ''})" if ref else "")
    lines = [f"{'  ' * depth}{what}" + (f" : {kind}" if kind else "")]
    for child in ast.children(node):
        lines += typed_tree(model, child, depth + 1)
    return lines


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


def polars_plan(project: Project, name: str) -> str:
    empty = {
        source: pl.DataFrame(schema={c: DTYPES[col.type] for c, col in spec.columns.items()})
        for source, spec in project.definitions.sources.items()
    }
    return project.compile(empty, metrics=[name]).explain(optimized=True)
