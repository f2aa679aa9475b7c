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
    checked = model.metrics.get(variant.metric)  # a metric that did not parse has none
    own = (variant.metric,) if checked is not None and checked.filters else ()
    return Variant(used, variant.filters + own)


# Filters along different paths make different variants: metrics of metrics that filter the two metrics they use,
# each filtering the same two below, need a number of variants that doubles with each level. The checker keeps a
# project to this many variants in all (MD234).
MAX_VARIANTS = 10_000


class TooManyVariants(Exception):
    """Computing a metric needs more than `MAX_VARIANTS` variants; `metric` is the one being expanded then."""

    def __init__(self, metric: str) -> None:
        super().__init__(metric)
        self.metric = metric


def variants(model: Model, names: list[str], limit: int | None = None) -> list[Variant]:
    """The variants that computing the metrics `names` needs, each after those it is computed from; the metrics
    themselves are the variants without added filters. Raises `TooManyVariants` past `limit` variants."""
    found: dict[Variant, None] = {}
    for name in model.metric_order(names):  # dependencies first, so a variant's inputs are listed before it
        found[Variant(name)] = None
    pending = [v for v in found if (checked := model.metrics.get(v.metric)) is not None and checked.filters]
    while pending:
        variant = pending.pop()
        for used in model.uses(variant.metric):
            child = used_variant(model, variant, used)
            if child not in found:
                found[child] = None
                pending.append(child)
                if limit is not None and len(found) > limit:
                    raise TooManyVariants(variant.filters[0] if variant.filters else variant.metric)
    levels = model.metric_levels(names)
    return sorted(found, key=lambda v: levels.get(v.metric, 0))


def added_filters(model: Model, variant: Variant, source: str) -> tuple[ast.Expr, ...]:
    """The conditions `variant` adds to the aggregates of its metric, which read `source`."""
    return tuple(model.metrics[owner].filters[source] for owner in variant.filters)
