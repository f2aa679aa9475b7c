"""The plan of the functions across groups (`of_total(m)`, `spread(m, dim)`): the coarser or finer groupings they need.

`of_total(m)` divides m in a group by m computed over the rows of all groups of the same period; `spread(m, dim)` is
the largest minus the smallest value of m computed per group, period and value of `dim`. Neither follows from the
groups' values (a mean over all groups is no mean of means), so each needs m computed again at another grouping: a
*level*, the request's grain with other dimensions (none for `of_total`; the request's and `dim` for `spread`).

A level is a request of its own (the same grain, range, horizon and `min_n`) for the variants of the metrics it
computes, with everything they are computed from. Its aggregated groups are stacked below the request's own in stage
(1), marked by `LEVEL_COLUMN` and with their columns prefixed (`level_column`), so that stage (1) stays one frame (one
query in SQL) and stage (2) computes every level's metrics from it and joins their values to the request's groups:
`of_total` on the period, `spread` reduced over `dim` first, counting only the values that have rows in the period
(`PRESENT_COLUMN`) and that are not null.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from metricdsl.engine.plan import Request
from metricdsl.language import ast
from metricdsl.language.functions import ACROSS, ACROSS_SPREAD
from metricdsl.semantics.filters import Variant, used_variant
from metricdsl.semantics.model import Model

# Which level of groupings a row of stage (1) belongs to: 0 for the request's own groups.
LEVEL_COLUMN = "__level"
# In a level's computed groups: whether the group had rows in the period (not added by the spine).
PRESENT_COLUMN = "__present"


def level_column(index: int, name: str) -> str:
    """The name of column `name` of level `index`'s groups, stacked in stage (1) below the request's own."""
    return f"__l{index}_{name}"


def across_column(index: int, part: str = "value") -> str:
    """The hidden column of the `index`-th function across groups of a request: its `value` (the total, or the spread)
    and whether it is `pending` (a value it reduces read rows whose window was censored)."""
    return f"__across{index}_{part}"


@dataclass(frozen=True)
class Across:
    """One function across groups as a variant computes it: the variant of `m` it reads at the level's grouping."""

    func: str
    target: Variant
    dimension: str | None
    column: int  # its index among the request's functions across groups (`across_column`)


@dataclass(frozen=True)
class Level:
    """A grouping that functions across groups need: its `request` (by its dimensions), the variants it computes
    (`needed`, dependencies first) and those the request reads from it (`targets`), and the calls it serves: all
    totals, or all spreads over one dimension."""

    index: int
    request: Request
    needed: tuple[Variant, ...]
    targets: tuple[Variant, ...]
    calls: tuple[Across, ...]


def across_calls(model: Model, variant: Variant) -> list[ast.Call]:
    """The calls of functions across groups in the expression of `variant`'s metric."""
    checked = model.metrics.get(variant.metric)
    if checked is None:
        return []
    return [n for n in ast.walk(checked.tree) if isinstance(n, ast.Call) and n.func in ACROSS]


def closure(model: Model, targets: list[Variant]) -> list[Variant]:
    """`targets` and the variants they are computed from, each after those it uses."""
    found: dict[Variant, None] = {}
    pending = list(targets)
    while pending:
        variant = pending.pop()
        if variant in found:
            continue
        found[variant] = None
        pending += [used_variant(model, variant, used) for used in model.uses(variant.metric)]
    levels = model.metric_levels(list(dict.fromkeys(v.metric for v in found)))
    return sorted(found, key=lambda v: levels.get(v.metric, 0))


def plan_levels(
    model: Model, request: Request, needed: list[Variant]
) -> tuple[list[Level], dict[tuple[Variant, int], Across]]:
    """The levels the `needed` variants of `request` read, and each call across groups by its variant and `id`."""
    # The calls by the level they read: its dimensions, and the dimension a spread reduces (none for a total).
    by_keys: dict[tuple[tuple[str, ...], str | None], list[Across]] = {}
    calls: dict[tuple[Variant, int], Across] = {}
    done: dict[tuple[str, Variant, str | None], Across] = {}
    for variant in needed:
        for call in across_calls(model, variant):
            metric = call.args[0]
            assert isinstance(metric, ast.Name)  # the checker made sure
            dimension = None
            if call.func == ACROSS_SPREAD:
                named = call.args[1]
                assert isinstance(named, ast.Name)
                dimension = named.name
            target = used_variant(model, variant, metric.name)
            key = (call.func, target, dimension)
            if key not in done:
                done[key] = Across(call.func, target, dimension, len(done))
                by = () if dimension is None else request.by if dimension in request.by else (*request.by, dimension)
                by_keys.setdefault((by, dimension), []).append(done[key])
            calls[(variant, id(call))] = done[key]
    levels = []
    for index, ((by, _), served) in enumerate(by_keys.items(), start=1):
        targets = tuple(dict.fromkeys(a.target for a in served))
        sub = dataclasses.replace(
            request,
            metrics=tuple(dict.fromkeys(t.metric for t in targets)),
            by=by,
            with_ci=False,
            keep_hidden=False,
        )
        levels.append(Level(index, sub, tuple(closure(model, list(targets))), targets, tuple(served)))
    return levels, calls


def reads_across(model: Model, variant: Variant) -> list[Variant]:
    """The variants computed with `variant` (itself and those it uses) whose metric calls a function across groups."""
    return [v for v in closure(model, [variant]) if across_calls(model, v)]
