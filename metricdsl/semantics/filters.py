"""The `where` of a metric of metrics re-aggregates the metrics it uses under it: each is computed as a *variant*,
its aggregates filtered by its own `where` and by those of the metrics of metrics that use it, outermost last.

`phone_combo: {expr: answered_rate + sales_rate, where: channel == "phone"}` computes `answered_rate` and
`sales_rate` over phone contacts; a metric of metrics that uses `phone_combo` under a filter of its own adds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from metricdsl.language import ast
from metricdsl.semantics.model import Model


@dataclass(frozen=True)
class Variant:
    """Metric `metric` with the `where` of each metric of `filters` added to its own."""

    metric: str
    filters: tuple[str, ...] = ()


def used_variant(model: Model, variant: Variant, used: str) -> Variant:
    """The variant of metric `used` that `variant` is computed from: under `variant`'s filters and its own `where`."""
    own = (variant.metric,) if model.metrics[variant.metric].filters else ()
    return Variant(used, variant.filters + own)


def variants(model: Model, names: list[str]) -> list[Variant]:
    """The variants that computing the metrics `names` needs, each after those it is computed from; the metrics
    themselves are the variants without added filters."""
    found: dict[Variant, None] = {}
    for name in model.metric_order(names):  # dependencies first, so a variant's inputs are listed before it
        found[Variant(name)] = None
    pending = [v for v in found if model.metrics[v.metric].filters]
    while pending:
        variant = pending.pop()
        for used in model.uses(variant.metric):
            child = used_variant(model, variant, used)
            if child not in found:
                found[child] = None
                pending.append(child)
    levels = model.metric_levels(names)
    return sorted(found, key=lambda v: levels.get(v.metric, 0))


def added_filters(model: Model, variant: Variant, source: str) -> tuple[ast.Expr, ...]:
    """The conditions `variant` adds to the aggregates of its metric, which read `source`."""
    return tuple(model.metrics[owner].filters[source] for owner in variant.filters)
