"""Nodes of the expression language: frozen, slotted dataclasses, one class per concept.

Every node carries its `span` (offsets into the expression string) as a field left out of equality,
so that two trees parsed from differently spaced text compare equal.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open range of character offsets `[start, end)` in the expression text."""

    start: int
    end: int


NO_SPAN = Span(0, 0)


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class String:
    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Null:
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration literal such as `7d`; `seconds` is its length, `text` how it was written."""

    seconds: float
    text: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Date:
    value: datetime.date
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Name:
    """A column, derived column, metric or source, resolved by the checker."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ListOf:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic (`+ - * / %`), comparison (`== != < <= > >=`) or logic (`and or`)."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class In:
    operand: Expr
    items: ListOf
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Between:
    """`operand between low and high`, both ends included."""

    operand: Expr
    low: Expr
    high: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class IsNull:
    operand: Expr
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Case:
    whens: tuple[tuple[Expr, Expr], ...]
    otherwise: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Keyword:
    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    """A function, aggregate or window call; `where` filters its first argument's rows."""

    func: str
    args: tuple[Expr, ...] = ()
    where: Expr | None = None
    keywords: tuple[Keyword, ...] = ()
    span: Span = _span()

    def keyword(self, name: str) -> Expr | None:
        """The value of keyword argument `name`, or None."""
        return next((k.value for k in self.keywords if k.name == name), None)


Expr: TypeAlias = (
    Number | String | Bool | Null | Duration | Date | Name | ListOf | Unary | Binary | In | Between | IsNull | Case | Call
)


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of `node`, in source order."""
    match node:
        case ListOf(items=items):
            return items
        case Unary(operand=operand) | IsNull(operand=operand):
            return (operand,)
        case Binary(left=left, right=right):
            return (left, right)
        case In(operand=operand, items=items):
            return (operand, *items.items)
        case Between(operand=operand, low=low, high=high):
            return (operand, low, high)
        case Case(whens=whens, otherwise=otherwise):
            flat = tuple(part for pair in whens for part in pair)
            return flat + ((otherwise,) if otherwise is not None else ())
        case Call(args=args, where=where, keywords=keywords):
            return args + ((where,) if where is not None else ()) + tuple(k.value for k in keywords)
    return ()


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of the tree below and including `node`, parents before children."""
    yield node
    for child in children(node):
        yield from walk(child)
