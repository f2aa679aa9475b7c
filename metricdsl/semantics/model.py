"""The checked model: definitions with parsed, typed and resolved expressions, ready to compile."""

from __future__ import annotations

from dataclasses import dataclass, field

from metricdsl.language import ast
from metricdsl.spec.definitions import Definitions, Metric, Rule, Source, Target, Thresholds


@dataclass(frozen=True)
class ExprType:
    """What an expression yields: a `kind` (a column type, `null` or `list`) and a unit."""

    kind: str
    unit: str | None = None


@dataclass(frozen=True)
class Ref:
    """What a name stands for: a `column`, `derived` column, `metric` or `source`."""

    kind: str
    name: str
    source: str | None = None


# The rule functions that metrics may use too: a metric's value in the previous period of the same group.
PERIOD_FUNCTIONS = ("prev", "change", "pct_change")


@dataclass(frozen=True)
class CheckedMetric:
    metric: Metric
    tree: ast.Expr
    where: ast.Expr | None
    source: str | None  # the source its aggregates read; None for a metric of metrics only
    type: ExprType
    metrics: tuple[str, ...]  # the metrics it is computed from
    # The sources whose rows it is computed from, its own and those of the metrics it uses, directly or not.
    reaches: tuple[str, ...] = ()
    # Its `where`, typed in each source it reaches: it filters its aggregates and the metrics it uses.
    filters: dict[str, ast.Expr] = field(default_factory=dict)

    @property
    def periodic(self) -> bool:
        """Whether its value depends on other periods: it is trailing or compares periods (`change(m)`)."""
        return self.metric.trailing is not None or any(
            isinstance(n, ast.Call) and n.func in PERIOD_FUNCTIONS for n in ast.walk(self.tree)
        )


@dataclass(frozen=True)
class CheckedSource:
    source: Source
    derived: dict[str, ast.Expr]


@dataclass(frozen=True)
class CheckedThresholds:
    """Thresholds as trees: each a condition on the metric (`aht > 420s`), true when it is met."""

    thresholds: Thresholds
    target: ast.Expr | None = None
    warn: ast.Expr | None = None
    fail: ast.Expr | None = None
    when: ast.Expr | None = None


@dataclass(frozen=True)
class CheckedTarget:
    target: Target
    base: CheckedThresholds
    overrides: tuple[CheckedThresholds, ...] = ()


@dataclass(frozen=True)
class CheckedRule:
    rule: Rule
    when: ast.Expr
    placeholders: tuple[tuple[str, ast.Expr], ...] = ()  # `{text}` of the message and its tree


@dataclass
class Model:
    """A project that passed the checker. Node facts are keyed by `id(node)`: the trees live here."""

    definitions: Definitions
    sources: dict[str, CheckedSource] = field(default_factory=dict)
    metrics: dict[str, CheckedMetric] = field(default_factory=dict)
    targets: dict[str, CheckedTarget] = field(default_factory=dict)
    rules: dict[str, CheckedRule] = field(default_factory=dict)
    types: dict[int, ExprType] = field(default_factory=dict)
    refs: dict[int, Ref] = field(default_factory=dict)
    # Duration literals used as plain numbers: seconds per unit of the quantity they meet.
    duration_units: dict[int, float] = field(default_factory=dict)

    def type_of(self, node: ast.Expr) -> ExprType:
        return self.types[id(node)]

    def metric_order(self, names: list[str]) -> list[str]:
        """`names` and the metrics they depend on, dependencies first (depth first, without recursion)."""
        order: dict[str, None] = {}
        entered: set[str] = set()
        for name in names:
            if name in entered:
                continue
            entered.add(name)
            stack = [(name, iter(self.uses(name)))]
            while stack:
                current, dependencies = stack[-1]
                dependency = next(dependencies, None)
                if dependency is None:
                    stack.pop()
                    order[current] = None
                elif dependency not in entered:  # a dependency entered but not finished is a cycle: not followed
                    entered.add(dependency)
                    stack.append((dependency, iter(self.uses(dependency))))
        return list(order)

    def metric_levels(self, names: list[str]) -> dict[str, int]:
        """`names` and the metrics they depend on, dependencies first, each with its level: 0 for a metric of
        aggregates only, else one more than the highest level of the metrics it is computed from."""
        levels: dict[str, int] = {}
        for name in self.metric_order(names):
            levels[name] = max((levels[m] + 1 for m in self.uses(name) if m in levels), default=0)
        return levels

    def uses(self, name: str) -> tuple[str, ...]:
        """The metrics that metric `name` is computed from (none for a metric that did not parse)."""
        checked = self.metrics.get(name)
        return checked.metrics if checked is not None else ()
