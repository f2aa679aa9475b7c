"""What the typing of expressions shares: the scope an expression stands in, and the invalid type."""

from __future__ import annotations

from dataclasses import dataclass

from metricdsl.semantics.model import ExprType
from metricdsl.spec.definitions import ExprText

ANY = ExprType("any")  # the type of an expression already reported as wrong: accepted anywhere
BOOL = ExprType("bool")


@dataclass(frozen=True)
class Scope:
    """Where an expression stands: `row` (per row of `source`), `metric` (per group), or `rule`
    (per group and period, over metric values and dimensions)."""

    mode: str
    source: str | None
    text: ExprText
    in_aggregate: bool = False
    owner: str = ""


def arity(signature) -> str:
    """How many arguments a function takes, in words."""
    low, high = signature.min_args, signature.max_args
    if high is None:
        return f"at least {low} arguments"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def describe(found: ExprType) -> str:
    """A type for a message: `a float in s`, `a str`, `null`."""
    unit = f" in {found.unit}" if found.unit else ""
    return {"null": "null", "any": "an invalid value", "list": "a list"}.get(found.kind, f"a {found.kind}{unit}")
