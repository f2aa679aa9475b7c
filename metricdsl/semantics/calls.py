"""Type calls: functions, aggregates, windows and the functions of rules.

Each rule receives the `Typer`, which types the call's arguments and takes its diagnostics.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from metricdsl.errors import did_you_mean
from metricdsl.language import ast
from metricdsl.language.functions import (
    AGGREGATES,
    ALL_FUNCTIONS,
    FOREIGN_NAMES,
    NUMERIC,
    ORDERED,
    RULE_FUNCTIONS,
    SCALARS,
    TEMPORAL,
    WINDOWS,
)
from metricdsl.semantics.model import ExprType, Ref
from metricdsl.semantics.scope import Scope, arity
from metricdsl.semantics.types import ANY, BOOL, describe

if TYPE_CHECKING:
    from metricdsl.semantics.typer import Typer


def call_type(typer: Typer, node: ast.Call, scope: Scope) -> ExprType:
    """The type of a call: ANY, with a diagnostic, for an unknown function, a wrong number of arguments or an
    unknown keyword; otherwise the type the rule of its kind gives."""
    signature = ALL_FUNCTIONS.get(node.func)
    if signature is None:
        meant = FOREIGN_NAMES.get(node.func) or next(iter(difflib.get_close_matches(node.func, ALL_FUNCTIONS, 1)), None)
        typer.reporter.report("MD202", f"unknown function `{node.func}`", scope.text, node, meant and f"write `{meant}`")
        if meant in AGGREGATES and scope.mode == "metric" and scope.source is not None:
            scope = Scope("row", scope.source, scope.text, True, scope.owner)  # check its arguments as rows
        for child in ast.children(node):
            typer.infer(child, scope)
        return ANY
    unknown = [k for k in node.keywords if k.name not in signature.keywords]
    for keyword in unknown:
        hint = f"to compare, write `{keyword.name} == ...`" if not signature.keywords else f"usage: {signature.usage}"
        typer.reporter.report("MD203", f"`{node.func}` has no argument `{keyword.name}`", scope.text, keyword, hint)
    count = len(node.args)
    if not unknown and (count < signature.min_args or (signature.max_args is not None and count > signature.max_args)):
        typer.reporter.report(
            "MD203",
            f"`{node.func}` takes {arity(signature)}, got {count}",
            scope.text,
            node,
            f"usage: {signature.usage}",
        )
    if unknown or count < signature.min_args or (signature.max_args is not None and count > signature.max_args):
        return ANY
    if node.where is not None and node.func not in AGGREGATES and node.func not in WINDOWS:
        typer.reporter.report("MD203", f"`where` filters aggregates only, not `{node.func}`", scope.text, node.where)
    if node.func in RULE_FUNCTIONS:
        return _rule_function(typer, node, scope)
    if scope.mode == "rule" and (node.func in AGGREGATES or node.func in WINDOWS):
        typer.reporter.report(
            "MD209",
            f"`{node.func}` in {scope.owner}, which reads metric values per group",
            scope.text,
            node,
            "aggregate in a metric, and name the metric here",
        )
        return ANY
    if node.func in AGGREGATES:
        return _aggregate(typer, node, scope)
    if node.func in WINDOWS:
        return _window(typer, node, scope)
    return _scalar(typer, node, scope)


def _rule_function(typer: Typer, node: ast.Call, scope: Scope) -> ExprType:
    """`prev(m)`, `change(m)`, `pct_change(m)`, `n(m)`, `ci_low(m)`, `ci_high(m)`, `significant(change(m))`."""
    if scope.mode != "rule":
        typer.reporter.report(
            "MD203", f"`{node.func}` is for rules and targets only", scope.text, node, RULE_FUNCTIONS[node.func].usage
        )
        return ANY
    argument = node.args[0]
    if node.func == "significant":
        if not (isinstance(argument, ast.Call) and argument.func in ("change", "pct_change")):
            typer.reporter.report("MD203", "`significant` takes a change: `significant(change(m))`", scope.text, argument)
            return ANY
        typer.infer(argument, scope)
        return BOOL
    if not (isinstance(argument, ast.Name) and argument.name in typer.defs.metrics):
        typer.reporter.report(
            "MD203",
            f"`{node.func}` takes a metric name",
            scope.text,
            argument,
            did_you_mean(getattr(argument, "name", ""), typer.defs.metrics),
        )
        return ANY
    found = typer.infer(argument, scope)
    if node.func == "n":
        return ExprType("int")
    if node.func == "pct_change":
        return ExprType("float")
    return found


def _aggregate(typer: Typer, node: ast.Call, scope: Scope) -> ExprType:
    if scope.in_aggregate:
        typer.reporter.report(
            "MD207",
            f"`{node.func}` inside another aggregate",
            scope.text,
            node,
            "compute the inner aggregate as a metric of its own",
        )
        return ANY
    if scope.mode == "row":
        typer.reporter.report(
            "MD209",
            f"aggregate `{node.func}` in a row-level expression of {scope.owner}",
            scope.text,
            node,
            "derived columns and filters are per row; aggregate in a metric",
        )
        return ANY
    if scope.source is None:
        return ANY
    inner = Scope("row", scope.source, scope.text, True, scope.owner)
    if node.where is not None:
        typer.expect_bool(node.where, inner, "`where`")
    args = [typer.infer(arg, inner) for arg in node.args]
    if node.func == "count" or node.func == "count_distinct":
        return ExprType("int")
    value = args[0]
    if node.func == "share":
        if value.kind not in ("bool", "null", "any"):
            typer.reporter.report(
                "MD204",
                f"`share` takes a condition, not {describe(value)}",
                scope.text,
                node.args[0],
                "write a comparison, as in `share(nps_score >= 9)`",
            )
        return ExprType("float")
    if node.func == "quantile":
        q = node.args[1]
        if not isinstance(q, ast.Number) or not 0 <= q.value <= 1:
            typer.reporter.report(
                "MD203", "the quantile must be a number from 0 to 1", scope.text, q, "as in `quantile(x, 0.9)`"
            )
    allowed = ORDERED if node.func in ("min", "max") else NUMERIC | {"bool", "duration"}
    if value.kind not in allowed | {"null", "any"}:
        typer.reporter.report("MD204", f"`{node.func}` cannot aggregate {describe(value)}", scope.text, node.args[0])
        return ANY
    if node.func in ("min", "max") or value.kind == "duration":
        return value
    if node.func == "sum":
        return ExprType("int" if value.kind in ("int", "bool") else "float", value.unit)
    return ExprType("float", value.unit)


def _window(typer: Typer, node: ast.Call, scope: Scope) -> ExprType:
    if scope.mode != "row":
        typer.reporter.report(
            "MD208", f"`{node.func}` is per row: aggregate it, as in `share({node.func}(...))`", scope.text, node
        )
        return ANY
    assert scope.source is not None  # a row is a row of a source
    target, window = node.args
    if not isinstance(target, ast.Name) or target.name not in typer.defs.sources:
        name = target.name if isinstance(target, ast.Name) else ""
        typer.reporter.report(
            "MD201",
            f"`{node.func}` needs a source as its first argument",
            scope.text,
            target,
            did_you_mean(name, typer.defs.sources) or f"one of: {', '.join(typer.defs.sources)}",
        )
        return ANY
    typer.model.refs[id(target)] = Ref("source", target.name)
    if not isinstance(window, ast.Duration):
        typer.reporter.report("MD203", f"the window of `{node.func}` must be a duration such as `30d`", scope.text, window)
    other = Scope("row", target.name, scope.text, scope.in_aggregate, f"the filter of `{node.func}`")
    if node.where is not None:
        typer.expect_bool(node.where, other, "`where`")
    for name, side in ((scope.source, "this"), (target.name, "the other")):
        if typer.defs.sources[name].time is None:
            typer.reporter.report(
                "MD203", f"`{node.func}` needs a `time` column in {side} source `{name}`", scope.text, node
            )
            return ANY
    _window_keys(typer, node, scope, other)
    return BOOL


def _window_keys(typer: Typer, node: ast.Call, scope: Scope, other: Scope) -> None:
    """Resolve `on=`: a column shared by both sources, a list of them, or `mine == theirs`."""
    on = node.keyword("on")
    if on is None:
        assert scope.source is not None
        assert other.source is not None
        if typer.defs.shared_entity(scope.source, other.source) is None:
            typer.reporter.report(
                "MD203",
                f"sources `{scope.source}` and `{other.source}` share no entity",
                scope.text,
                node,
                "name the key columns with `on=`, as in `on=customer_id`",
            )
        return
    pairs = on.items if isinstance(on, ast.ListOf) else (on,)
    for pair in pairs:
        if (
            isinstance(pair, ast.Binary)
            and pair.op == "=="
            and all(isinstance(side, ast.Name) for side in (pair.left, pair.right))
        ):
            left, right = typer.infer(pair.left, scope), typer.infer(pair.right, other)
        elif isinstance(pair, ast.Name):
            left, right = typer.infer(pair, scope), typer.infer(pair, other)
        else:
            typer.reporter.report(
                "MD203",
                "`on=` takes key columns: `on=customer_id`, `on=[a, b]` or `on=mine == theirs`",
                scope.text,
                pair,
            )
            continue
        if "any" not in (left.kind, right.kind) and left.kind != right.kind:
            typer.reporter.report("MD204", f"key columns of different types: {left.kind} and {right.kind}", scope.text, pair)


def _scalar(typer: Typer, node: ast.Call, scope: Scope) -> ExprType:
    args = [typer.infer(arg, scope) for arg in node.args]
    for keyword in node.keywords:
        typer.infer(keyword.value, scope)
    func = node.func

    def need(kinds: frozenset[str] | set[str], index: int = 0) -> bool:
        found = args[index]
        if found.kind in kinds | {"null", "any"}:
            return True
        typer.reporter.report(
            "MD204",
            f"`{func}` cannot take {describe(found)}",
            scope.text,
            node.args[index],
            f"usage: {SCALARS[func].usage}",
        )
        return False

    if func in ("coalesce", "least", "greatest"):
        return typer.unify_or_report(args, node, scope)
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
