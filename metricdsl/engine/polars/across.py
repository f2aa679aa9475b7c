"""The functions across groups in Polars (`metricdsl.engine.across`): the groups of their levels stacked below the
request's own in stage (1), then in stage (2) each level's metrics computed and joined to the request's groups."""

from __future__ import annotations

import functools
from collections.abc import Callable

import polars as pl

from metricdsl.engine.across import (
    LEVEL_COLUMN,
    PRESENT_COLUMN,
    Across,
    Level,
    across_calls,
    across_column,
    level_column,
    reads_across,
)
from metricdsl.engine.columns import GRAIN_COLUMN
from metricdsl.engine.plan import Request
from metricdsl.semantics.filters import Variant
from metricdsl.semantics.model import Model


def stack_levels(frame: pl.LazyFrame, levels: list[tuple[int, pl.LazyFrame]]) -> pl.LazyFrame:
    """The request's groups (level 0) with the groups of each level below them, their columns prefixed; unchanged
    without levels."""
    if not levels:
        return frame
    parts = [frame.with_columns(pl.lit(0, dtype=pl.Int32).alias(LEVEL_COLUMN))]
    for index, groups in levels:
        named = groups.select(pl.all().name.prefix(level_column(index, "")))
        parts.append(named.with_columns(pl.lit(index, dtype=pl.Int32).alias(LEVEL_COLUMN)))
    return pl.concat(parts, how="diagonal")


def split_levels(
    frame: pl.LazyFrame, levels: list[tuple[Level, Callable[[pl.LazyFrame], pl.LazyFrame]]]
) -> tuple[pl.LazyFrame, list[tuple[Level, pl.LazyFrame]]]:
    """The request's own groups of the stacked `frame`, and each level's computed groups (by its `finish`)."""
    if not levels:
        return frame, []
    own = frame.filter(pl.col(LEVEL_COLUMN) == 0).select(pl.exclude(r"^__l\d+_.*$", LEVEL_COLUMN))
    computed = []
    for level, finish in levels:
        prefix = level_column(level.index, "")
        rows = frame.filter(pl.col(LEVEL_COLUMN) == level.index).select(
            pl.col(f"^{prefix}.*$").name.map(functools.partial(_unprefixed, len(prefix)))
        )
        computed.append((level, finish(rows)))
    return own, computed


def _unprefixed(length: int, name: str) -> str:
    return name[length:]


def level_output(
    frame: pl.LazyFrame, request: Request, level: Level, columns: dict[Variant, str], pending: dict[Variant, pl.Expr]
) -> pl.LazyFrame:
    """A level's computed groups: its keys, whether the group had rows, and per variant the request reads from it its
    value and whether it is pending (by the variant's index among the level's targets)."""
    return frame.select(
        *(pl.col(k) for k in request.keys),
        pl.col(PRESENT_COLUMN).fill_null(False),
        *(pl.col(columns[t]).alias(f"__target{i}") for i, t in enumerate(level.targets)),
        *(pending[t].alias(f"__target{i}_pending") for i, t in enumerate(level.targets)),
    )


def join_levels(frame: pl.LazyFrame, request: Request, computed: list[tuple[Level, pl.LazyFrame]]) -> pl.LazyFrame:
    """The request's groups with the value of each function across groups, and whether it is pending: the total of
    the period for `of_total`, the largest minus the smallest value over the dimension's values that have rows in
    the group's period (and are not null) for `spread`."""
    for level, rows in computed:
        parts: list[pl.Expr] = []
        for call in level.calls:
            index = level.targets.index(call.target)
            value, pending = pl.col(f"__target{index}"), pl.col(f"__target{index}_pending")
            if call.dimension is None:
                parts += [value.alias(across_column(call.column)), pending.alias(across_column(call.column, "pending"))]
            else:
                parts += [
                    (value.max() - value.min()).alias(across_column(call.column)),
                    pending.any().alias(across_column(call.column, "pending")),
                ]
        spread = level.calls[0].dimension
        if spread is None:  # one group per period
            keys = [GRAIN_COLUMN] if request.grain else []
            part = rows.select(*keys, *parts)
        else:
            keys = request.keys
            rows = rows.filter(pl.col(PRESENT_COLUMN) & pl.col(spread).is_not_null())
            part = rows.group_by(keys).agg(parts) if keys else rows.select(parts)
        if keys:
            frame = frame.join(part, on=keys, how="left", nulls_equal=True, coalesce=True)
        else:
            frame = frame.join(part, how="cross")
    return frame


def pending_flags(model: Model, variant: Variant, calls: dict[tuple[Variant, int], Across]) -> list[pl.Expr]:
    """Whether each value across groups that `variant` depends on is pending."""
    columns = {
        across_column(calls[(v, id(c))].column, "pending")
        for v in reads_across(model, variant)
        for c in across_calls(model, v)
        if (v, id(c)) in calls
    }
    return [pl.col(c).fill_null(False) for c in sorted(columns)]
