"""Infer the type and unit of expressions, resolve their names, and report what is wrong.

A mixin of the checker: it needs `report`, `defs`, `model`, `metric_type` and `derived_type`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from metricdsl import ast
from metricdsl.diagnostics import did_you_mean
from metricdsl.functions import (
    AGGREGATES,
    ALL_FUNCTIONS,
    FOREIGN_NAMES,
    NUMERIC,
    ORDERED,
    RULE_FUNCTIONS,
    SCALARS,
    TEMPORAL,
    TIME_UNITS,
    WINDOWS,
)
from metricdsl.model import ExprType, Ref
from metricdsl.spec import ExprText

ANY = ExprType("any")  # the type of an expression already reported as wrong: accepted anywhere
BOOL = ExprType("bool")
COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


@dataclass(frozen=True)
class Scope:
    """Where an expression stands: `row` (per row of `source`), `metric` (per group), or `rule`
    (per group and period, over metric values and dimensions)."""

    mode: str
    source: str | None
    text: ExprText
    in_aggregate: bool = False
    owner: str = ""


class ExpressionTyper:
    """Typing of expressions, for `check._Checker`."""

    # -- expressions ------------------------------------------------------------------------------

    def infer(self, node: ast.Expr, scope: Scope) -> ExprType:
        result = self._infer(node, scope)
        self.model.types[id(node)] = result
        return result

    def expect_bool(self, node: ast.Expr, scope: Scope, what: str) -> None:
        found = self.infer(node, scope)
        if found.kind not in ("bool", "null", "any"):
            self.report("MD204", f"{what} must be true or false, not {_describe(found)}", scope.text, node)

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
                return ExprType("list", _unify(kinds).kind if kinds else "null")
            case ast.Unary(op="not", operand=operand):
                self.expect_bool(operand, scope, "the operand of `not`")
                return BOOL
            case ast.Unary(operand=operand):
                found = self.infer(operand, scope)
                if found.kind not in NUMERIC | {"duration", "null", "any"}:
                    self.report("MD204", f"cannot negate {_describe(found)}", scope.text, node)
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
                values = []
                for condition, value in whens:
                    self.expect_bool(condition, scope, "a `when` condition")
                    values.append(self.infer(value, scope))
                if otherwise is not None:
                    values.append(self.infer(otherwise, scope))
                return self.unify_or_report(values, node, scope)
            case ast.Call():
                return self.call(node, scope)
        raise AssertionError(f"unhandled node {node!r}")

    def name(self, node: ast.Name, scope: Scope) -> ExprType:
        source = self.defs.sources.get(scope.source) if scope.source else None
        if scope.mode == "rule":
            return self.rule_name(node, scope)
        if scope.mode == "metric":
            if node.name in self.defs.metrics:
                self.model.refs[id(node)] = Ref("metric", node.name)
                return self.metric_type(node.name, (scope.text, node))
            if source is not None and (node.name in source.columns or node.name in source.derive):
                self.report("MD208", f"{scope.owner} uses column `{node.name}` outside an aggregate",
                            scope.text, node, f"aggregate it, as in `mean({node.name})` or `share({node.name})`")
                return ANY
            hint = did_you_mean(node.name, [*self.defs.metrics, *(self.column_names(scope.source) if source else [])])
            self.report("MD201", f"unknown metric `{node.name}`", scope.text, node, hint)
            return ANY
        assert source is not None
        if node.name in source.columns:
            column = source.columns[node.name]
            self.model.refs[id(node)] = Ref("column", node.name, source.name)
            return ExprType(column.type, column.unit)
        if node.name in source.derive:
            self.model.refs[id(node)] = Ref("derived", node.name, source.name)
            return self.derived_type(source.name, node.name, (scope.text, node))
        if node.name in self.defs.metrics:
            self.report("MD209", f"metric `{node.name}` used in a row-level expression of {scope.owner}",
                        scope.text, node, "metrics are per group; use columns here")
            return ANY
        self.report("MD201", f"unknown column `{node.name}` in source `{source.name}`", scope.text, node,
                    did_you_mean(node.name, self.column_names(source.name)))
        return ANY

    def rule_name(self, node: ast.Name, scope: Scope) -> ExprType:
        """In a rule or threshold, a name is a metric, or a dimension (a column of a source)."""
        if node.name in self.defs.metrics:
            self.model.refs[id(node)] = Ref("metric", node.name)
            return self.metric_type(node.name)
        for source in self.defs.sources.values():
            if node.name in source.columns:
                self.model.refs[id(node)] = Ref("dimension", node.name)
                return ExprType(source.columns[node.name].type)
        known = [*self.defs.metrics, *(c for s in self.defs.sources.values() for c in s.columns)]
        self.report("MD201", f"unknown metric or dimension `{node.name}`", scope.text, node, did_you_mean(node.name, known))
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
                else:
                    self.report("MD204", f"cannot apply `{node.op}` to a duration here", scope.text, node,
                                "compare durations, or add them to timestamps")
                    return ANY
            kind = "float" if node.op == "/" or "float" in kinds or "duration" in kinds else "int"
            return ExprType(kind, _combine_units(node.op, left.unit, right.unit))
        self.report("MD204", f"cannot apply `{node.op}` to {_describe(left)} and {_describe(right)}", scope.text, node)
        return ANY

    def types_of(self, node: ast.Expr) -> ExprType:
        return self.model.types.get(id(node), ANY)

    def compatible(self, left: ExprType, right: ExprType, left_node: ast.Expr, right_node: ast.Expr,
                   scope: Scope, verb: str) -> ExprType:
        """Check that two operands can be compared or added; return the type of their sum."""
        if "any" in (left.kind, right.kind) or "null" in (left.kind, right.kind):
            return left if right.kind in ("null", "any") else right
        kinds = {left.kind, right.kind}
        if kinds <= NUMERIC:
            return self.units(left, right, left_node, right_node, scope, verb)
        if kinds <= NUMERIC | {"duration"} and len(kinds) == 2:
            number, number_node, duration_node = (left, left_node, right_node) if left.kind != "duration" \
                else (right, right_node, left_node)
            if number.unit in TIME_UNITS and isinstance(duration_node, ast.Duration):
                self.model.duration_units[id(duration_node)] = TIME_UNITS[number.unit]
                return number
            unit = f"in {number.unit}" if number.unit else "without a time unit"
            self.report("MD205", f"cannot {verb} a duration and a number {unit}", scope.text, number_node,
                        "declare the column with `unit: s` (or min, h) to compare it with durations")
            return ANY
        if kinds <= TEMPORAL or len(kinds) == 1:
            return left if left.kind == right.kind else ExprType("datetime")
        self.report("MD204", f"cannot {verb} {_describe(left)} and {_describe(right)}", scope.text, right_node)
        return ANY

    def units(self, left: ExprType, right: ExprType, left_node: ast.Expr, right_node: ast.Expr,
              scope: Scope, verb: str) -> ExprType:
        kind = "float" if "float" in (left.kind, right.kind) else "int"
        if left.unit == right.unit:
            return ExprType(kind, left.unit)
        for quantity, literal in ((left, right_node), (right, left_node)):
            if isinstance(literal, ast.Number):
                if quantity.unit in TIME_UNITS and literal.value != 0:
                    self.report("MD206", f"bare number {literal.value} used with a quantity in {quantity.unit}",
                                scope.text, literal, f"write `{literal.value}{quantity.unit}`")
                return ExprType(kind, quantity.unit)
        if left.unit and right.unit:
            self.report("MD205", f"cannot {verb} {left.unit} and {right.unit}", scope.text,
                        ast.Binary("+", left_node, right_node, ast.Span(left_node.span.start, right_node.span.end)))
            return ANY
        return ExprType(kind, left.unit or right.unit)

    def unify_or_report(self, types: list[ExprType], node: ast.Expr, scope: Scope) -> ExprType:
        result = _unify(types)
        if result is ANY and not any(t.kind == "any" for t in types):
            self.report("MD204", "the branches have different types: " + ", ".join(map(_describe, types)),
                        scope.text, node)
        return result

    # -- calls ------------------------------------------------------------------------------------

    def call(self, node: ast.Call, scope: Scope) -> ExprType:
        signature = ALL_FUNCTIONS.get(node.func)
        if signature is None:
            meant = FOREIGN_NAMES.get(node.func) or next(iter(difflib.get_close_matches(node.func, ALL_FUNCTIONS, 1)), None)
            self.report("MD202", f"unknown function `{node.func}`", scope.text, node, meant and f"write `{meant}`")
            if meant in AGGREGATES and scope.mode == "metric" and scope.source is not None:
                scope = Scope("row", scope.source, scope.text, True, scope.owner)  # check its arguments as rows
            for child in ast.children(node):
                self.infer(child, scope)
            return ANY
        unknown = [k for k in node.keywords if k.name not in signature.keywords]
        for keyword in unknown:
            hint = f"to compare, write `{keyword.name} == ...`" if not signature.keywords else f"usage: {signature.usage}"
            self.report("MD203", f"`{node.func}` has no argument `{keyword.name}`", scope.text, keyword, hint)
        count = len(node.args)
        if not unknown and (count < signature.min_args or (signature.max_args is not None and count > signature.max_args)):
            self.report("MD203", f"`{node.func}` takes {_arity(signature)}, got {count}", scope.text, node,
                        f"usage: {signature.usage}")
        if unknown or count < signature.min_args or (signature.max_args is not None and count > signature.max_args):
            return ANY
        if node.where is not None and node.func not in AGGREGATES and node.func not in WINDOWS:
            self.report("MD203", f"`where` filters aggregates only, not `{node.func}`", scope.text, node.where)
        if node.func in RULE_FUNCTIONS:
            return self.rule_function(node, scope)
        if scope.mode == "rule" and (node.func in AGGREGATES or node.func in WINDOWS):
            self.report("MD209", f"`{node.func}` in {scope.owner}, which reads metric values per group", scope.text,
                        node, "aggregate in a metric, and name the metric here")
            return ANY
        if node.func in AGGREGATES:
            return self.aggregate(node, scope)
        if node.func in WINDOWS:
            return self.window(node, scope)
        return self.scalar(node, scope)

    def rule_function(self, node: ast.Call, scope: Scope) -> ExprType:
        """`prev(m)`, `change(m)`, `pct_change(m)`, `n(m)`, `ci_low(m)`, `ci_high(m)`, `significant(change(m))`."""
        if scope.mode != "rule":
            self.report("MD203", f"`{node.func}` is for rules and targets only", scope.text, node,
                        RULE_FUNCTIONS[node.func].usage)
            return ANY
        argument = node.args[0]
        if node.func == "significant":
            if not (isinstance(argument, ast.Call) and argument.func in ("change", "pct_change")):
                self.report("MD203", "`significant` takes a change: `significant(change(m))`", scope.text, argument)
                return ANY
            self.infer(argument, scope)
            return BOOL
        if not (isinstance(argument, ast.Name) and argument.name in self.defs.metrics):
            self.report("MD203", f"`{node.func}` takes a metric name", scope.text, argument,
                        did_you_mean(getattr(argument, "name", ""), self.defs.metrics))
            return ANY
        found = self.infer(argument, scope)
        if node.func == "n":
            return ExprType("int")
        if node.func == "pct_change":
            return ExprType("float")
        return found

    def aggregate(self, node: ast.Call, scope: Scope) -> ExprType:
        if scope.in_aggregate:
            self.report("MD207", f"`{node.func}` inside another aggregate", scope.text, node,
                        "compute the inner aggregate as a metric of its own")
            return ANY
        if scope.mode == "row":
            self.report("MD209", f"aggregate `{node.func}` in a row-level expression of {scope.owner}",
                        scope.text, node, "derived columns and filters are per row; aggregate in a metric")
            return ANY
        if scope.source is None:
            return ANY
        inner = Scope("row", scope.source, scope.text, True, scope.owner)
        if node.where is not None:
            self.expect_bool(node.where, inner, "`where`")
        args = [self.infer(arg, inner) for arg in node.args]
        if node.func == "count" or node.func == "count_distinct":
            return ExprType("int")
        value = args[0]
        if node.func == "share":
            if value.kind not in ("bool", "null", "any"):
                self.report("MD204", f"`share` takes a condition, not {_describe(value)}", scope.text, node.args[0],
                            "write a comparison, as in `share(nps_score >= 9)`")
            return ExprType("float")
        if node.func == "quantile":
            q = node.args[1]
            if not isinstance(q, ast.Number) or not 0 <= q.value <= 1:
                self.report("MD203", "the quantile must be a number from 0 to 1", scope.text, q, "as in `quantile(x, 0.9)`")
        allowed = ORDERED if node.func in ("min", "max") else NUMERIC | {"bool", "duration"}
        if value.kind not in allowed | {"null", "any"}:
            self.report("MD204", f"`{node.func}` cannot aggregate {_describe(value)}", scope.text, node.args[0])
            return ANY
        if node.func in ("min", "max") or value.kind == "duration":
            return value
        if node.func == "sum":
            return ExprType("int" if value.kind in ("int", "bool") else "float", value.unit)
        return ExprType("float", value.unit)

    def window(self, node: ast.Call, scope: Scope) -> ExprType:
        if scope.mode != "row":
            self.report("MD208", f"`{node.func}` is per row: aggregate it, as in `share({node.func}(...))`",
                        scope.text, node)
            return ANY
        target, window = node.args
        if not isinstance(target, ast.Name) or target.name not in self.defs.sources:
            name = target.name if isinstance(target, ast.Name) else ""
            self.report("MD201", f"`{node.func}` needs a source as its first argument", scope.text, target,
                        did_you_mean(name, self.defs.sources) or f"one of: {', '.join(self.defs.sources)}")
            return ANY
        self.model.refs[id(target)] = Ref("source", target.name)
        if not isinstance(window, ast.Duration):
            self.report("MD203", f"the window of `{node.func}` must be a duration such as `30d`", scope.text, window)
        other = Scope("row", target.name, scope.text, scope.in_aggregate, f"the filter of `{node.func}`")
        if node.where is not None:
            self.expect_bool(node.where, other, "`where`")
        for name, side in ((scope.source, "this"), (target.name, "the other")):
            if self.defs.sources[name].time is None:
                self.report("MD203", f"`{node.func}` needs a `time` column in {side} source `{name}`",
                            scope.text, node)
                return ANY
        self.window_keys(node, scope, other)
        return BOOL

    def window_keys(self, node: ast.Call, scope: Scope, other: Scope) -> None:
        """Resolve `on=`: a column shared by both sources, a list of them, or `mine == theirs`."""
        on = node.keyword("on")
        if on is None:
            assert scope.source is not None and other.source is not None
            if self.defs.shared_entity(scope.source, other.source) is None:
                self.report("MD203", f"sources `{scope.source}` and `{other.source}` share no entity", scope.text,
                            node, "name the key columns with `on=`, as in `on=customer_id`")
            return
        pairs = on.items if isinstance(on, ast.ListOf) else (on,)
        for pair in pairs:
            if isinstance(pair, ast.Binary) and pair.op == "==" and all(
                    isinstance(side, ast.Name) for side in (pair.left, pair.right)):
                left, right = self.infer(pair.left, scope), self.infer(pair.right, other)
            elif isinstance(pair, ast.Name):
                left, right = self.infer(pair, scope), self.infer(pair, other)
            else:
                self.report("MD203", "`on=` takes key columns: `on=customer_id`, `on=[a, b]` or `on=mine == theirs`",
                            scope.text, pair)
                continue
            if "any" not in (left.kind, right.kind) and left.kind != right.kind:
                self.report("MD204", f"key columns of different types: {left.kind} and {right.kind}", scope.text, pair)

    def scalar(self, node: ast.Call, scope: Scope) -> ExprType:
        args = [self.infer(arg, scope) for arg in node.args]
        for keyword in node.keywords:
            self.infer(keyword.value, scope)
        func = node.func

        def need(kinds: frozenset[str] | set[str], index: int = 0) -> bool:
            found = args[index]
            if found.kind in kinds | {"null", "any"}:
                return True
            self.report("MD204", f"`{func}` cannot take {_describe(found)}", scope.text, node.args[index],
                        f"usage: {SCALARS[func].usage}")
            return False

        if func in ("coalesce", "least", "greatest"):
            return self.unify_or_report(args, node, scope)
        if func in ("abs", "round"):
            return args[0] if need(NUMERIC) else ANY
        if func in ("lower", "upper"):
            return ExprType("str") if need({"str"}) else ANY
        if func in ("contains", "starts_with"):
            need({"str"})
            need({"str"}, 1)
            return BOOL
        if func in ("hour", "weekday"):
            need(TEMPORAL if func == "weekday" else {"datetime"})
            return ExprType("int")
        if func == "date":
            return ExprType("date") if need(TEMPORAL) else ANY
        if func == "days_between":
            need(TEMPORAL)
            need(TEMPORAL, 1)
            return ExprType("int")
        raise AssertionError(func)



def _unify(types: list[ExprType]) -> ExprType:
    known = [t for t in types if t.kind not in ("null", "any")]
    if not known:
        return types[0] if types else ExprType("null")
    kinds = {t.kind for t in known}
    if len(kinds) == 1:
        return known[0]
    if kinds <= NUMERIC:
        return ExprType("float", known[0].unit)
    if kinds <= TEMPORAL:
        return ExprType("datetime")
    return ANY


def _combine_units(op: str, left: str | None, right: str | None) -> str | None:
    if op == "%":
        return left
    if op == "*":
        return left if right is None else right if left is None else f"{left}*{right}"
    if left == right:
        return None
    if right is None:
        return left
    return f"{left or 1}/{right}"


def _arity(signature) -> str:
    low, high = signature.min_args, signature.max_args
    if high is None:
        return f"at least {low} arguments"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def _describe(found: ExprType) -> str:
    unit = f" in {found.unit}" if found.unit else ""
    return {"null": "null", "any": "an invalid value", "list": "a list"}.get(found.kind, f"a {found.kind}{unit}")
