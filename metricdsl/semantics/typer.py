"""Infer the type and unit of expressions, resolve their names, and report what is wrong.

A `Typer` types one expression at a time in a `Scope`; calls are typed by the rules of `calls`, which receive
the typer. The types of metrics and derived columns named in an expression come from a `Resolver` (the
checker's `resolution.Resolution`, which types each definition once, after what it reads, and finds cycles).
"""

from __future__ import annotations

from typing import Protocol

from metricdsl.errors import did_you_mean
from metricdsl.language import ast
from metricdsl.language.functions import NUMERIC, TEMPORAL
from metricdsl.language.units import TIME_UNITS, combine_units
from metricdsl.semantics import calls
from metricdsl.semantics.model import ExprType, Model, Ref
from metricdsl.semantics.scope import At, Reporter, Scope, column_names
from metricdsl.semantics.types import ANY, BOOL, describe, unify
from metricdsl.spec.definitions import Definitions, ExprText

COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}
Via = tuple[ExprText, ast.Expr]  # the expression that names a definition, where a cycle through it is reported


class Resolver(Protocol):
    """The types of the metrics and derived columns of the project, each typed once."""

    def metric_type(self, name: str, via: Via | None = None) -> ExprType: ...

    def derived_type(self, source: str, name: str, via: Via | None = None) -> ExprType: ...


class Typer:
    """Types expressions of the project `definitions`: records each node's type and each name's meaning in
    `model`, and reports what is wrong to `reporter`."""

    def __init__(self, definitions: Definitions, model: Model, reporter: Reporter, resolver: Resolver) -> None:
        self.defs = definitions
        self.model = model
        self.reporter = reporter
        self.resolver = resolver

    # -- expressions ------------------------------------------------------------------------------

    def infer(self, node: ast.Expr, scope: Scope) -> ExprType:
        result = self._infer(node, scope)
        self.model.types[id(node)] = result
        return result

    def expect_bool(self, node: ast.Expr, scope: Scope, what: str) -> None:
        found = self.infer(node, scope)
        if found.kind not in ("bool", "null", "any"):
            self.reporter.report("MD204", f"{what} must be true or false, not {describe(found)}", scope.text, node)

    def _infer(self, node: ast.Expr, scope: Scope) -> ExprType:
        match node:
            case ast.Number(value=value):
                return ExprType("int" if isinstance(value, int) else "float")
            case ast.String():
                return ExprType("str")
            case ast.Bool():
                return BOOL
            case ast.Null():
                return ExprType("null")
            case ast.Duration():
                return ExprType("duration")
            case ast.Date():
                return ExprType("date")
            case ast.Name():
                return self.name(node, scope)
            case ast.ListOf(items=items):
                kinds = [self.infer(item, scope) for item in items]
                return ExprType("list", unify(kinds).kind if kinds else "null")
            case ast.Unary(op="not", operand=operand):
                self.expect_bool(operand, scope, "the operand of `not`")
                return BOOL
            case ast.Unary(operand=operand):
                found = self.infer(operand, scope)
                if found.kind not in NUMERIC | {"duration", "null", "any"}:
                    self.reporter.report("MD204", f"cannot negate {describe(found)}", scope.text, node)
                    return ANY
                return found
            case ast.Binary(op=op) if op in ("and", "or"):
                self.expect_bool(node.left, scope, f"each side of `{op}`")
                self.expect_bool(node.right, scope, f"each side of `{op}`")
                return BOOL
            case ast.Binary():
                return self.binary(node, scope)
            case ast.In(operand=operand, items=items):
                found = self.infer(operand, scope)
                for item in items.items:
                    self.compatible(found, self.infer(item, scope), operand, item, scope, "compare")
                return BOOL
            case ast.Between(operand=operand, low=low, high=high):
                found = self.infer(operand, scope)
                for bound in (low, high):
                    self.compatible(found, self.infer(bound, scope), operand, bound, scope, "compare")
                return BOOL
            case ast.IsNull(operand=operand):
                self.infer(operand, scope)
                return BOOL
            case ast.Case(whens=whens, otherwise=otherwise):
                for condition, branch in whens:
                    self.expect_bool(condition, scope, "a `when` condition")
                    self.infer(branch, scope)
                if otherwise is not None:
                    self.infer(otherwise, scope)
                return self.common([branch for _, branch in whens] + ([otherwise] if otherwise is not None else []), scope)
            case ast.Call():
                return calls.call_type(self, node, scope)
        raise AssertionError(f"unhandled node {node!r}")

    def name(self, node: ast.Name, scope: Scope) -> ExprType:
        source = self.defs.sources.get(scope.source) if scope.source else None
        if scope.mode == "rule":
            return self.rule_name(node, scope)
        if scope.mode == "metric":
            if node.name in self.defs.metrics:
                self.model.refs[id(node)] = Ref("metric", node.name)
                return self.resolver.metric_type(node.name, (scope.text, node))
            if source is not None and (node.name in source.columns or node.name in source.derive):
                self.reporter.report(
                    "MD208",
                    f"{scope.owner} uses column `{node.name}` outside an aggregate",
                    scope.text,
                    node,
                    f"aggregate it, as in `mean({node.name})` or `share({node.name})`",
                )
                return ANY
            hint = did_you_mean(node.name, [*self.defs.metrics, *(column_names(source) if source else [])])
            self.reporter.report("MD201", f"unknown metric `{node.name}`", scope.text, node, hint)
            return ANY
        assert source is not None
        if node.name in source.columns:
            column = source.columns[node.name]
            self.model.refs[id(node)] = Ref("column", node.name, source.name)
            return ExprType(column.type, column.unit)
        if node.name in source.derive:
            self.model.refs[id(node)] = Ref("derived", node.name, source.name)
            return self.resolver.derived_type(source.name, node.name, (scope.text, node))
        if node.name in self.defs.metrics:
            self.reporter.report(
                "MD209",
                f"metric `{node.name}` used in a row-level expression of {scope.owner}",
                scope.text,
                node,
                "metrics are per group; use columns here",
            )
            return ANY
        self.reporter.report(
            "MD201",
            f"unknown column `{node.name}` in source `{source.name}`",
            scope.text,
            node,
            did_you_mean(node.name, column_names(source)),
        )
        return ANY

    def rule_name(self, node: ast.Name, scope: Scope) -> ExprType:
        """In a rule or threshold, a name is a metric, or a dimension (a column of a source)."""
        if node.name in self.defs.metrics:
            self.model.refs[id(node)] = Ref("metric", node.name)
            return self.resolver.metric_type(node.name)
        for source in self.defs.sources.values():
            if node.name in source.columns:
                self.model.refs[id(node)] = Ref("dimension", node.name)
                return ExprType(source.columns[node.name].type)
        known = [*self.defs.metrics, *(c for s in self.defs.sources.values() for c in s.columns)]
        self.reporter.report(
            "MD201", f"unknown metric or dimension `{node.name}`", scope.text, node, did_you_mean(node.name, known)
        )
        return ANY

    def binary(self, node: ast.Binary, scope: Scope) -> ExprType:
        left, right = self.infer(node.left, scope), self.infer(node.right, scope)
        if node.op in COMPARISONS:
            self.compatible(left, right, node.left, node.right, scope, "compare")
            return BOOL
        if "any" in (left.kind, right.kind):
            return ANY
        kinds = {left.kind, right.kind}
        if node.op in ("+", "-"):
            if left.kind in TEMPORAL and right.kind == "duration":
                return left
            if node.op == "-" and left.kind in TEMPORAL and right.kind in TEMPORAL:
                return ExprType("duration")
            if kinds <= {"duration", "null"}:
                return ExprType("duration")
        if kinds <= NUMERIC | {"null", "duration"}:
            if node.op in ("+", "-"):
                return self.compatible(left, right, node.left, node.right, scope, "add")
            if "duration" in kinds:
                other, duration = (node.right, node.left) if left.kind == "duration" else (node.left, node.right)
                if isinstance(duration, ast.Duration) and self.types_of(other).unit in TIME_UNITS:
                    self.model.duration_units[id(duration)] = TIME_UNITS[self.types_of(other).unit or "s"]
                    # The literal is a number in the other operand's unit: `aw / 1m` is a plain number.
                    unit = self.types_of(other).unit
                    left, right = ExprType(left.kind, unit), ExprType(right.kind, unit)
                else:
                    self.reporter.report(
                        "MD204",
                        f"cannot apply `{node.op}` to a duration here",
                        scope.text,
                        node,
                        "compare durations, or add them to timestamps",
                    )
                    return ANY
            kind = "float" if node.op == "/" or "float" in kinds or "duration" in kinds else "int"
            return ExprType(kind, combine_units(node.op, left.unit, right.unit))
        self.reporter.report(
            "MD204", f"cannot apply `{node.op}` to {describe(left)} and {describe(right)}", scope.text, node
        )
        return ANY

    def types_of(self, node: ast.Expr) -> ExprType:
        return self.model.types.get(id(node), ANY)

    def compatible(
        self, left: ExprType, right: ExprType, left_node: ast.Expr, right_node: ast.Expr, scope: Scope, verb: str
    ) -> ExprType:
        """Check that two operands can be compared or added; return the type of their sum."""
        if "any" in (left.kind, right.kind) or "null" in (left.kind, right.kind):
            return left if right.kind in ("null", "any") else right
        kinds = {left.kind, right.kind}
        if kinds <= NUMERIC:
            return self.units(left, right, left_node, right_node, scope, verb)
        if kinds <= NUMERIC | {"duration"} and len(kinds) == 2:
            number, number_node, duration_node = (
                (left, left_node, right_node) if left.kind != "duration" else (right, right_node, left_node)
            )
            if number.unit in TIME_UNITS and isinstance(duration_node, ast.Duration):
                self.model.duration_units[id(duration_node)] = TIME_UNITS[number.unit]
                return number
            unit = f"in {number.unit}" if number.unit else "without a time unit"
            self.reporter.report(
                "MD205",
                f"cannot {verb} a duration and a number {unit}",
                scope.text,
                number_node,
                "declare the column with `unit: s` (or min, h) to compare it with durations",
            )
            return ANY
        if kinds <= TEMPORAL or len(kinds) == 1:
            return left if left.kind == right.kind else ExprType("datetime")
        self.reporter.report("MD204", f"cannot {verb} {describe(left)} and {describe(right)}", scope.text, right_node)
        return ANY

    def units(
        self, left: ExprType, right: ExprType, left_node: ast.Expr, right_node: ast.Expr, scope: Scope, verb: str
    ) -> ExprType:
        kind = "float" if "float" in (left.kind, right.kind) else "int"
        if left.unit == right.unit:
            return ExprType(kind, left.unit)
        for quantity, literal in ((left, right_node), (right, left_node)):
            if isinstance(literal, ast.Number):
                if quantity.unit in TIME_UNITS and literal.value != 0:
                    self.reporter.report(
                        "MD206",
                        f"bare number {literal.value} used with a quantity in {quantity.unit}",
                        scope.text,
                        literal,
                        f"write `{literal.value}{quantity.unit}`",
                    )
                return ExprType(kind, quantity.unit)
        both = At(ast.Span(left_node.span.start, right_node.span.end))
        if left.unit and right.unit:
            self.reporter.report("MD205", f"cannot {verb} {left.unit} and {right.unit}", scope.text, both)
            return ANY
        # A time (a quantity in s, min, ...) meets a number without a unit that is no literal: a count, a score.
        timed, plain = (left, right_node) if left.unit in TIME_UNITS else (right, left_node)
        if timed.unit in TIME_UNITS:
            self.reporter.report(
                "MD205",
                f"cannot {verb} {left.unit or 'a number without a unit'} and {right.unit or 'a number without a unit'}",
                scope.text,
                both,
                _plain_hint(plain, timed.unit or "s"),
            )
            return ANY
        return ExprType(kind, left.unit or right.unit)

    def common(self, values: list[ast.Expr], scope: Scope) -> ExprType:
        """The type of a value that is one of `values`, already typed: the branches of `case`, the arguments of
        `coalesce`, `least` and `greatest`.

        Each value meets the first that is not a literal as the operands of `+` do: kinds must agree (ints with
        floats, dates with datetimes), so must units; a duration literal becomes a number in a time column's
        unit, and a bare number beside such a column is a warning."""
        known = [(node, found) for node in values if (found := self.types_of(node)).kind not in ("null", "any")]
        if not known:
            return unify([self.types_of(node) for node in values])
        anchor, anchor_type = next(
            ((node, found) for node, found in known if not isinstance(node, ast.Number | ast.Duration)), known[0]
        )
        met = [
            self.compatible(anchor_type, found, anchor, node, scope, "combine")
            for node, found in known
            if node is not anchor
        ]
        if any(found.kind == "any" for found in met):
            return ANY
        return unify([*met, anchor_type])


def _plain_hint(plain: ast.Expr, unit: str) -> str:
    """What to do where a time in `unit` meets `plain`, a number without a unit."""
    if isinstance(plain, ast.Name):
        return f"if `{plain.name}` holds {unit}, declare it with `unit: {unit}`; otherwise it does not mix with times"
    return f"a time in {unit} meets times only: durations such as `30s`, or columns declared with a time unit"
