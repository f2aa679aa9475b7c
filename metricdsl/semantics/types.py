"""The types of expressions: the invalid type, the common type of branches, and the type of a function's value.

A type is an `ExprType`: a kind (`int float bool str datetime date duration`, `null`, `list`, or `any` for an
expression already reported as wrong) and a unit (see `metricdsl.language.units`).
"""

from __future__ import annotations

from collections.abc import Sequence

from metricdsl.language.functions import NUMERIC, TEMPORAL, Function, Result
from metricdsl.semantics.model import ExprType

ANY = ExprType("any")  # the type of an expression already reported as wrong: accepted anywhere
BOOL = ExprType("bool")
NULL = ExprType("null")


def describe(found: ExprType) -> str:
    """A type for a message: `a float in s`, `a str`, `null`."""
    unit = f" in {found.unit}" if found.unit else ""
    article = "an" if found.kind[:1] in "aeiou" else "a"  # an int, a float
    return {"null": "null", "any": "an invalid value", "list": "a list"}.get(found.kind, f"{article} {found.kind}{unit}")


def unify(types: Sequence[ExprType]) -> ExprType:
    """The type of a value that may be any of `types` (the items of a list; for the branches of `case` and the
    arguments of `coalesce`, whose units must agree, `Typer.common` checks them first): their kind, a float for
    ints and floats, a datetime for dates and datetimes, and ANY when they disagree. Nulls fit anything; the unit is
    the first typed one's."""
    known = [t for t in types if t.kind not in ("null", "any")]
    if not known:
        return types[0] if types else NULL
    kinds = {t.kind for t in known}
    if len(kinds) == 1:
        return known[0]
    if kinds <= NUMERIC:
        return ExprType("float", known[0].unit)
    if kinds <= TEMPORAL:
        return ExprType("datetime")
    return ANY


def _kind(rule: str | Result, base: str) -> str:
    """The kind of a function's value by its `returns` rule, from the kind of its base."""
    match rule:
        case Result.ARGUMENT | Result.COMMON:
            return base
        case Result.SUM:
            return base if base == "duration" else "int" if base in ("int", "bool") else "float"
        case Result.STATISTIC:
            return base if base == "duration" else "float"
        case str():
            return rule


def value_type(function: Function, base: ExprType) -> ExprType:
    """The type of a call of `function` by its row's `returns` and `unit` rules, from the type of its base:
    its first argument, or for `Result.COMMON` the common type of its arguments. ANY stays ANY where the
    value's kind is the base's."""
    kind = _kind(function.returns, base.kind)
    if kind == "any":
        return ANY
    return ExprType(kind, function.unit(base.unit))
