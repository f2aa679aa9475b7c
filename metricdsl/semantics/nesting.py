"""How far definitions build on one another: metrics of metrics in levels, and expressions with the derived
columns they read written out in them, as the compiler does.

Both are bounded, so that a spec from a pull request cannot make the query take memory or time out of
proportion to its text: each level of metrics of metrics is one more step of the query, and a derived
column that reads another twice doubles the expression that reads it.
"""

from __future__ import annotations

from collections.abc import Iterable

from metricdsl.language import ast
from metricdsl.language.parser import MAX_NESTING
from metricdsl.semantics.model import Model
from metricdsl.semantics.scope import Reporter
from metricdsl.spec.definitions import ExprText

MAX_METRIC_LEVELS = 64  # metrics computed from metrics computed from metrics...
MAX_WRITTEN_OUT = 10_000  # nodes of an expression once the derived columns it reads are written out in it

Size = tuple[int, int]  # an expression written out: its number of nodes and its depth


def written_out(model: Model, tree: ast.Expr, derived: dict[tuple[str, str], Size]) -> Size:
    """The nodes and depth of `tree` with each derived column it reads replaced by its own tree (`derived` holds
    the sizes of those already written out; a column not among them counts as a name)."""
    nodes = deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        ref = model.refs.get(id(node))
        if ref is not None and ref.kind == "derived" and ref.source is not None:
            inner_nodes, inner_depth = derived.get((ref.source, ref.name), (1, 1))
            nodes, deepest = nodes + inner_nodes, max(deepest, level - 1 + inner_depth)
            continue
        nodes, deepest = nodes + 1, max(deepest, level)
        stack += [(child, level + 1) for child in ast.children(node)]
    return nodes, deepest


def check_nesting(
    model: Model,
    derived: Iterable[tuple[str, str, ExprText]],
    metrics: Iterable[tuple[str, ExprText]],
    reporter: Reporter,
) -> None:
    """Report metrics of metrics more than `MAX_METRIC_LEVELS` deep (MD214), and derived columns and metrics too
    large or deep once their derived columns are written out (MD215). `derived` lists (source, name, text) with
    each column after those it reads; `metrics`, (name, text). Each excess is reported where it starts only."""
    sizes: dict[tuple[str, str], Size] = {}
    too_large: set[tuple[str, str]] = set()

    def excess(what: str, trees: list[ast.Expr], text: ExprText) -> bool:
        parts = [written_out(model, t, sizes) for t in trees]
        nodes, depth = sum(n for n, _ in parts), max(d for _, d in parts)
        if nodes <= MAX_WRITTEN_OUT and depth <= MAX_NESTING:
            return False
        read = {(r.source, r.name) for t in trees for n in ast.walk(t) if (r := model.refs.get(id(n))) and r.source}
        if not read & too_large:
            amount = f"{nodes:,} parts" if nodes > MAX_WRITTEN_OUT else f"{depth} levels deep"
            limit = f"{MAX_WRITTEN_OUT:,} parts" if nodes > MAX_WRITTEN_OUT else f"{MAX_NESTING} levels"
            reporter.report(
                "MD215",
                f"{what} grows to {amount} with the derived columns it reads written out (at most {limit})",
                text,
                hint="compute it from fewer derived columns, or from the columns themselves",
            )
        return True

    for source, name, text in derived:
        tree = model.sources[source].derived.get(name) if source in model.sources else None
        if tree is None:
            continue
        sizes[(source, name)] = written_out(model, tree, sizes)
        if excess(f"derived column `{name}`", [tree], text):
            too_large.add((source, name))
    for name, text in metrics:
        checked = model.metrics.get(name)
        if checked is not None:
            excess(f"metric `{name}`", [checked.tree, *([checked.where] if checked.where else [])], text)
    levels: dict[str, int] = {}
    for name in model.metric_order([n for n, _ in metrics if n in model.metrics]):
        if any(m not in levels for m in model.uses(name)):
            return  # a cycle (reported as such): levels have no meaning
        levels[name] = level = max((levels[m] + 1 for m in model.uses(name)), default=0)
        if level == MAX_METRIC_LEVELS + 1:
            reporter.report(
                "MD214",
                f"metric `{name}` is computed from metrics {level} levels deep (at most {MAX_METRIC_LEVELS})",
                model.metrics[name].metric.expr,
                hint="compute it from fewer levels of metrics, such as from aggregates of its source",
            )
