"""`metricdsl graph`: the dependencies calendar → sources → columns → derived columns → metrics → targets, rules,
scorecards and dashboards."""

from __future__ import annotations

from collections import defaultdict

from metricdsl.language import ast
from metricdsl.language.functions import WINDOWS
from metricdsl.semantics.model import Model

Node = str  # "kind:name", such as "metric:nps" or "column:interactions.wait_s"
# A dimension is a column by name, as rules and thresholds read it (`{team}`, `when: channel == "chat"`).
KINDS = ["calendar", "source", "column", "dimension", "derived", "metric", "target", "rule", "scorecard", "dashboard"]


def dependency_graph(model: Model) -> dict[Node, set[Node]]:
    """Each node and the nodes computed from it (its direct dependents)."""
    graph: dict[Node, set[Node]] = defaultdict(set)
    defs = model.definitions
    for name, source in defs.sources.items():
        if defs.calendar.timezone and not source.timezone:  # its days and weeks are local to the calendar's zone
            graph["calendar:timezone"].add(f"source:{name}")
        for column in source.columns:
            graph[f"source:{name}"].add(f"column:{name}.{column}")
        for derived, tree in model.sources[name].derived.items() if name in model.sources else ():
            for used in _reads(model, tree, name):
                graph[used].add(f"derived:{name}.{derived}")
    for name, checked in model.metrics.items():
        if checked.source:
            graph[f"source:{checked.source}"].add(f"metric:{name}")
        for tree in (checked.tree, *([checked.where] if checked.where is not None else [])):
            for used in _reads(model, tree, checked.source):
                graph[used].add(f"metric:{name}")
    for name, dashboard in defs.dashboards.items():
        for metric in dashboard.metrics:
            graph[f"metric:{metric}"].add(f"dashboard:{name}")
        if dashboard.scorecard:
            graph[f"scorecard:{dashboard.scorecard}"].add(f"dashboard:{name}")
    for metric, target in model.targets.items():
        trees = [t for c in (target.base, *target.overrides) for t in (c.target, c.warn, c.fail, c.when) if t]
        for used in {u for tree in trees for u in _reads(model, tree, None)}:
            graph[used].add(f"target:{metric}")
    for name, rule in model.rules.items():
        for used in {u for tree in (rule.when, *(t for _, t in rule.placeholders)) for u in _reads(model, tree, None)}:
            graph[used].add(f"rule:{name}")
    for name, card in defs.scorecards.items():
        for item in card.items:
            graph[f"metric:{item.metric}"].add(f"scorecard:{name}")
    return dict(graph)


def _reads(model: Model, tree: ast.Expr, host: str | None) -> set[Node]:
    """The columns, derived columns, metrics and sources an expression of `host` reads."""
    found = set()
    sources = model.definitions.sources
    for node in ast.walk(tree):
        ref = model.refs.get(id(node))
        if ref is not None:
            found.add(f"{ref.kind}:{ref.source}.{ref.name}" if ref.source else f"{ref.kind}:{ref.name}")
        if isinstance(node, ast.Call) and node.func in WINDOWS and ref is None and host in sources:
            target = getattr(node.args[0], "name", None)
            if target not in sources:
                continue
            # A window also reads both sides' times and, by default, their shared entity's keys.
            entity = None if node.keyword("on") else model.definitions.shared_entity(host, target)
            shared = [entity] if entity else []
            for side in (host, target):
                columns = [sources[side].time, *(sources[side].entities[e] for e in shared)]
                found |= {f"{'derived' if c in sources[side].derive else 'column'}:{side}.{c}" for c in columns if c}
    return found


def resolve(graph: dict[Node, set[Node]], name: str) -> list[Node]:
    """The nodes a user's NAME may mean: `nps`, `metric:nps`, `wait_s`, `interactions.wait_s`."""
    nodes = set(graph) | {n for dependents in graph.values() for n in dependents}
    if name in nodes:
        return [name]
    found = [n for n in nodes if n.split(":", 1)[1] == name or n.split(":", 1)[1].endswith(f".{name}")]
    # A metric before its target of the same name, a column before nothing: the most basic kind wins.
    best = min(map(_rank, found), default=0)
    return sorted(n for n in found if _rank(n) == best)


def _rank(node: Node) -> int:
    kind = node.partition(":")[0]
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def impact(graph: dict[Node, set[Node]], start: Node) -> list[Node]:
    """Everything that changes when `start` changes, nearest first; a column changes the dimension of its name."""
    seen: dict[Node, None] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for dependent in sorted(_dependents(graph, node)):
                if dependent not in seen and dependent != start:
                    seen[dependent] = None
                    following.append(dependent)
        frontier = following
    return list(seen)


def _dependents(graph: dict[Node, set[Node]], node: Node) -> set[Node]:
    kind, _, name = node.partition(":")
    dimension = f"dimension:{name.partition('.')[2]}"
    return graph.get(node, set()) | ({dimension} if kind == "column" and dimension in graph else set())
