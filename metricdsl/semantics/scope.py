"""What the checking of expressions shares: where an expression stands, and where its diagnostics go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from metricdsl.errors import Diagnostic, Location
from metricdsl.language import ast
from metricdsl.language.functions import Function
from metricdsl.spec.definitions import ExprText, Source


@dataclass(frozen=True)
class Scope:
    """Where an expression stands: `row` (per row of `source`), `metric` (per group), or `rule`
    (per group and period, over metric values and dimensions)."""

    mode: str
    source: str | None
    text: ExprText
    in_aggregate: bool = False
    owner: str = ""


class Spanned(Protocol):
    """A piece of an expression with its place in the text: a node, or a keyword argument."""

    @property
    def span(self) -> ast.Span: ...


@dataclass(frozen=True)
class At:
    """A place in an expression's text that is no node of its own: an operator, or operands side by side."""

    span: ast.Span


@dataclass
class Reporter:
    """The diagnostics of a project, in the order they were found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def report(
        self,
        code: str,
        message: str,
        text: ExprText | None,
        node: Spanned | None = None,
        hint: str | None = None,
        location: Location | None = None,
    ) -> None:
        """Add a diagnostic at `node` of `text` (the whole text without a node), or at `location`."""
        if location is None and text is not None:
            span = node.span if node is not None else ast.Span(0, len(text.text))
            location = text.location(span.start, span.end)
        self.diagnostics.append(Diagnostic.make(code, message, location, hint))


def arity(function: Function) -> str:
    """How many arguments a function takes, in words."""
    low, high = function.min_args, function.max_args
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def column_names(source: Source) -> list[str]:
    """The names a row of `source` has: its columns, then its derived columns."""
    return [*source.columns, *source.derive]
