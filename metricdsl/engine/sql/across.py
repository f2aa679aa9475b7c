"""The functions across groups (`of_total(m)`, `spread(m, dim)`, `metricdsl.engine.across`) in the SQL of stage (2), as
`metricdsl.engine.polars.across` computes them in Polars: each level's groups split from the stacked groups of stage
(1); once a finish of their own has computed them (`metricdsl.engine.sql.finish`), reduced to the value of each
function it serves and whether that is pending, then joined to the request's groups."""

from __future__ import annotations

from sqlglot import exp

from metricdsl.engine.across import LEVEL_COLUMN, PRESENT_COLUMN, Level, across_column, level_column
from metricdsl.engine.columns import GRAIN_COLUMN
from metricdsl.engine.plan import Request
from metricdsl.engine.sql.compiler import column


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def split_level(groups: str, names: list[str], level: Level) -> tuple[exp.Select, list[str]]:
    """The query of `level`'s groups in the CTE `groups` of the stacked groups (whose columns are `names`), with their
    columns' own names; and those names."""
    prefix = level_column(level.index, "")
    inner = [c for c in names if c.startswith(prefix)]
    query = (
        exp.select(*(exp.alias_(column(c), c[len(prefix) :], quoted=True) for c in inner))
        .from_(_table(groups))
        .where(exp.EQ(this=column(LEVEL_COLUMN), expression=exp.Literal.number(level.index)))
    )
    return query, [c[len(prefix) :] for c in inner]


def reduced_level(found: str, level: Level, request: Request) -> tuple[exp.Select, list[str]]:
    """The value of each function across groups that `level` serves, and whether it is pending, from the CTE `found`
    of the level's computed groups (the keys, `PRESENT_COLUMN`, and per target `__target{i}` and its `_pending`); and
    the request's columns to join them on. A total is the level's value in the period; a spread is the largest minus
    the smallest value over the dimension's values that have rows in the period and are not null, per group."""
    parts: list[exp.Expr] = []
    for call in level.calls:
        index = level.targets.index(call.target)
        value: exp.Expr = column(f"__target{index}")
        pending: exp.Expr = column(f"__target{index}_pending")
        if call.dimension is not None:
            value = exp.Sub(this=exp.Max(this=value), expression=exp.Min(this=value.copy()))
            one = exp.Case(ifs=[exp.If(this=pending, true=exp.Literal.number(1))], default=exp.Literal.number(0))
            pending = exp.GT(this=exp.Max(this=one), expression=exp.Literal.number(0))  # any, in every dialect
        parts.append(exp.alias_(value, across_column(call.column), quoted=True))
        parts.append(exp.alias_(pending, across_column(call.column, "pending"), quoted=True))
    spread = level.calls[0].dimension  # a level serves totals only, or spreads over one dimension only
    keys = ([GRAIN_COLUMN] if request.grain else []) if spread is None else list(request.keys)
    query = exp.select(*(column(k) for k in keys), *parts).from_(_table(found))
    if spread is not None:
        query = query.where(
            exp.and_(column(PRESENT_COLUMN), exp.Not(this=exp.Is(this=column(spread), expression=exp.null())))
        )
        query = query.group_by(*(column(k) for k in keys)) if keys else query
    return query, keys


def joined_level(current: str, reduced: str, keys: list[str], level: Level) -> exp.Select:
    """The rows of the CTE `current` with the values of the CTE `reduced` (`reduced_level`) joined on `keys` (null keys
    equal), or beside every row without keys."""
    values = [column(across_column(c.column, part), reduced) for c in level.calls for part in ("value", "pending")]
    everything = exp.Column(this=exp.Star(), table=exp.to_identifier(current, quoted=True))
    query = exp.select(everything, *values).from_(_table(current))
    if not keys:
        return query.join(_table(reduced), join_type="cross")
    on = exp.and_(*(exp.NullSafeEQ(this=column(k, current), expression=column(k, reduced)) for k in keys))
    return query.join(_table(reduced), on=on, join_type="left")
