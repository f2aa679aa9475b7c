"""Type calls by the function registry: the name, arity and keywords of every call, then the rule of its kind.

Each rule of a kind (aggregate, window, scalar, rule function) receives the `Typer`, which types the call's
arguments and takes its diagnostics, and the call's row of `metricdsl.language.functions`, whose parameters
say what each argument must be and whose `returns` and `unit` give the type of the call's value.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING

from metricdsl.errors import did_you_mean
from metricdsl.language import ast
from metricdsl.language.functions import (
    AGGREGATES,
    CHANGES,
    FOREIGN_NAMES,
    FUNCTIONS,
    NUMERIC,
    WINDOW_FORMS,
    Form,
    Function,
    Kind,
    Parameter,
    Result,
)
from metricdsl.language.parser import SINGLE_EQUALS, single_equals_hint
from metricdsl.semantics.model import PERIOD_FUNCTIONS, ExprType, Ref
from metricdsl.semantics.scope import At, Scope, arity, column_names
from metricdsl.semantics.types import ANY, NULL, describe, value_type

if TYPE_CHECKING:
    from metricdsl.semantics.typer import Typer

CallRule = Callable[["Typer", Function, ast.Call, Scope], ExprType]


def call_type(typer: Typer, node: ast.Call, scope: Scope) -> ExprType:
    """The type of a call: ANY, with a diagnostic, for an unknown function, a wrong number of arguments or an
    unknown keyword; otherwise the type the rule of its kind gives."""
    function = FUNCTIONS.get(node.func)
    if function is None:
        return _unknown(typer, node, scope)
    report = typer.reporter.report
    unknown = [k for k in node.keywords if k.name not in function.keywords]
    for keyword in unknown:
        meant = did_you_mean(keyword.name, function.keywords)
        if meant is None:  # `share(answered = true)`: a comparison with a single `=`
            _single_equals(typer, node, keyword, scope)
        else:
            report("MD203", f"`{node.func}` has no argument `{keyword.name}`", scope.text, keyword, meant)
    given = {p.name for p in function.parameters[: len(node.args)]}
    twice = [k for k in node.keywords if k.name in given]
    for keyword in twice:
        report("MD203", f"`{keyword.name}` of `{node.func}` is given twice", scope.text, keyword, f"usage: {function.usage}")
    unknown += twice
    count = len(node.args)
    wrong_count = count < function.min_args or (function.max_args is not None and count > function.max_args)
    if not unknown and wrong_count:
        report("MD203", f"`{node.func}` takes {arity(function)}, got {count}", scope.text, node, f"usage: {function.usage}")
    if unknown or wrong_count:
        return ANY
    if node.where is not None and function.kind not in (Kind.AGGREGATE, Kind.WINDOW):
        report("MD203", f"`where` filters aggregates only, not `{node.func}`", scope.text, node.where)
    if scope.mode == "rule" and function.kind in (Kind.AGGREGATE, Kind.WINDOW):
        report(
            "MD209",
            f"`{node.func}` in {scope.owner}, which reads metric values per group",
            scope.text,
            node,
            "aggregate in a metric, and name the metric here",
        )
        return ANY
    return KIND_RULES[function.kind](typer, function, node, scope)


def _single_equals(typer: Typer, node: ast.Call, keyword: ast.Keyword, scope: Scope) -> None:
    """Report `name = value` in a call whose function takes no keyword like `name`: a comparison was meant."""
    text = scope.text.text
    position = text.index("=", keyword.span.start + len(keyword.name), keyword.value.span.start)
    call = text[node.span.start : node.span.end]
    hint = single_equals_hint(call, position - node.span.start)
    typer.reporter.report("MD101", SINGLE_EQUALS, scope.text, At(ast.Span(position, position + 1)), hint)


def _unknown(typer: Typer, node: ast.Call, scope: Scope) -> ExprType:
    """Report an unknown function, with what was probably meant, and still type its arguments."""
    meant = FOREIGN_NAMES.get(node.func) or next(iter(difflib.get_close_matches(node.func, FUNCTIONS, 1)), None)
    typer.reporter.report("MD202", f"unknown function `{node.func}`", scope.text, node, meant and f"write `{meant}`")
    if meant in AGGREGATES and scope.mode == "metric" and scope.source is not None:
        scope = Scope("row", scope.source, scope.text, True, scope.owner)  # check its arguments as rows
    for child in ast.children(node):
        typer.infer(child, scope)
    return ANY


# The literal forms a parameter may require, and the test of an argument written in that form.
LITERALS: dict[Form, Callable[[ast.Expr], bool]] = {
    Form.PROBABILITY: lambda node: isinstance(node, ast.Number) and 0 <= node.value <= 1,
    Form.DIGITS: lambda node: isinstance(node, ast.Number) and isinstance(node.value, int) and 0 <= node.value <= 15,
}


def _arguments(typer: Typer, function: Function, node: ast.Call, types: list[ExprType], scope: Scope) -> ExprType:
    """Check the arguments of a scalar or an aggregate against the parameters of its row, and type its value.

    Literal parameters (a quantile's probability) are checked first, then the kinds of values."""
    keywords = {k.name: k.value for k in node.keywords}
    for index, argument in enumerate(function.bind(node.args, keywords)):
        parameter = function.parameter(index)
        literal = LITERALS.get(parameter.form)
        if literal is not None and not literal(argument):
            message = f"the {parameter.name} must be {parameter.form.value}"
            typer.reporter.report("MD203", message, scope.text, argument, f"as in `{function.usage}`")
    valid = True
    for index, found in enumerate(types):
        parameter = function.parameter(index)
        if parameter.accepts is None or found.kind in parameter.accepts | {"null", "any"}:
            continue
        valid = False
        message, hint = _wrong_kind(function, parameter, found)
        typer.reporter.report("MD204", message, scope.text, node.args[index], hint)
    if not valid and not function.keeps_type:
        return ANY
    if function.returns is Result.COMMON:
        return value_type(function, typer.common(list(node.args), scope))
    return value_type(function, types[0] if types else NULL)


def _wrong_kind(function: Function, parameter: Parameter, found: ExprType) -> tuple[str, str | None]:
    """The message and hint for an argument of a kind that `parameter` does not accept."""
    if parameter.hint is not None:
        return f"`{function.name}` takes a {parameter.name}, not {describe(found)}", parameter.hint
    if function.kind is Kind.AGGREGATE:
        return f"`{function.name}` cannot aggregate {describe(found)}", None
    return f"`{function.name}` cannot take {describe(found)}", f"usage: {function.usage}"


def _aggregate(typer: Typer, function: Function, node: ast.Call, scope: Scope) -> ExprType:
    """An aggregate: in a metric, over the rows of its source, not inside another aggregate."""
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
    types = [typer.infer(arg, inner) for arg in node.args]
    return _arguments(typer, function, node, types, scope)


def _scalar(typer: Typer, function: Function, node: ast.Call, scope: Scope) -> ExprType:
    """A scalar function, per row or per group."""
    types = [typer.infer(arg, scope) for arg in node.args]
    for keyword in node.keywords:
        typer.infer(keyword.value, scope)
    return _arguments(typer, function, node, types, scope)


def _window(typer: Typer, function: Function, node: ast.Call, scope: Scope) -> ExprType:
    """A window, per row: of a source (whose columns its `where` reads) over a duration literal, both sources
    with a time column, and keys to match their rows by."""
    report = typer.reporter.report
    if scope.mode != "row":
        report("MD208", f"`{node.func}` is per row: aggregate it, as in `share({node.func}(...))`", scope.text, node)
        return ANY
    assert scope.source is not None  # a row is a row of a source
    defs = typer.defs
    target, window = node.args
    if not isinstance(target, ast.Name) or target.name not in defs.sources:
        name = target.name if isinstance(target, ast.Name) else ""
        report(
            "MD201",
            f"`{node.func}` needs a source as its first argument",
            scope.text,
            target,
            did_you_mean(name, defs.sources) or f"one of: {', '.join(defs.sources)}",
        )
        return ANY
    typer.model.refs[id(target)] = Ref("source", target.name)
    if not isinstance(window, ast.Duration):
        report("MD203", f"the window of `{node.func}` must be a duration such as `30d`", scope.text, window)
    other = Scope("row", target.name, scope.text, scope.in_aggregate, f"the filter of `{node.func}`")
    if node.where is not None:
        typer.expect_bool(node.where, other, "`where`")
    for name, side in ((scope.source, "this"), (target.name, "the other")):
        if defs.sources[name].time is None:
            report("MD203", f"`{node.func}` needs a `time` column in {side} source `{name}`", scope.text, node)
            return ANY
    _window_keys(typer, node, scope, other)
    return _window_form(typer, function, node, scope, other)


def _window_form(typer: Typer, function: Function, node: ast.Call, scope: Scope, other: Scope) -> ExprType:
    """The type of a window by its form: a bool; with `value=COL` COL's type and unit (COL a column of the other
    source); with `count=true` an int; with `sum=COL` the sum's type of a numeric COL, in its unit."""
    report = typer.reporter.report
    forms = [k for k in node.keywords if k.name in WINDOW_FORMS]
    if not forms:
        return value_type(function, NULL)
    hint = f"usage: {function.usage}"
    for extra in forms[1:]:
        report("MD203", f"`{node.func}` takes one of `value=`, `count=` and `sum=`", scope.text, extra, hint)
    form = forms[0]
    if len(forms) > 1:
        return ANY
    if form.name == "count":
        if not (isinstance(form.value, ast.Bool) and form.value.value):
            report("MD203", "`count=` takes `true`: the number of rows found", scope.text, form.value, hint)
            return ANY
        return ExprType("int")
    assert other.source is not None
    if not isinstance(form.value, ast.Name):
        message = f"`{form.name}=` takes a column of `{other.source}`"
        report("MD203", message, scope.text, form.value, f"as in `{form.name}=amount`")
        return ANY
    found = typer.infer(form.value, other)
    if form.name == "value" or found.kind == "any":
        return found
    if found.kind not in NUMERIC:
        message = f"`sum=` adds numbers, not {describe(found)}"
        report("MD204", message, scope.text, form.value, "count the rows found with `count=true`")
        return ANY
    return found


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
        if "any" in (left.kind, right.kind):
            continue
        if left.kind != right.kind:
            typer.reporter.report("MD204", f"key columns of different types: {left.kind} and {right.kind}", scope.text, pair)
        elif left.kind in NUMERIC:  # keys in units match as the operands of `==` compare
            sides = (pair.left, pair.right) if isinstance(pair, ast.Binary) else (pair, pair)
            typer.units(left, right, *sides, scope, "match")


def _rule_function(typer: Typer, function: Function, node: ast.Call, scope: Scope) -> ExprType:
    """A rule function, in rules and thresholds only: of a metric's name, or of a change (`significant`)."""
    if scope.mode != "rule" and not _period_in_metric(typer, node, scope):
        return ANY
    argument = node.args[0]
    if function.parameters[0].form is Form.CHANGE:
        if not (isinstance(argument, ast.Call) and argument.func in CHANGES):
            message = f"`{node.func}` takes a change: `{node.func}(change(m))`"
            typer.reporter.report("MD203", message, scope.text, argument)
            return ANY
    elif not (isinstance(argument, ast.Name) and argument.name in typer.defs.metrics):
        name = argument.name if isinstance(argument, ast.Name) else ""
        hint = did_you_mean(name, typer.defs.metrics)
        typer.reporter.report("MD203", f"`{node.func}` takes a metric name", scope.text, argument, hint)
        return ANY
    return value_type(function, typer.infer(argument, scope))


def _period_in_metric(typer: Typer, node: ast.Call, scope: Scope) -> bool:
    """Whether a rule function outside rules is one that metrics may use (`prev`, `change`, `pct_change` of a
    metric, per group and period); reports it where it is not."""
    if node.func not in PERIOD_FUNCTIONS:
        usage = FUNCTIONS[node.func].usage
        typer.reporter.report("MD203", f"`{node.func}` is for rules and targets only", scope.text, node, usage)
        return False
    if scope.mode == "metric":
        return True
    typer.reporter.report(
        "MD230",
        f"`{node.func}` compares periods of a metric: not in a row-level expression of {scope.owner}",
        scope.text,
        node,
        f"compute it in a metric of metrics, as in `{node.func}(nps)`",
    )
    return False


def _across(typer: Typer, function: Function, node: ast.Call, scope: Scope) -> ExprType:
    """A function across groups (`of_total(m)`, `spread(m, dim)`): in a metric's expression only (MD240), of a
    numeric metric's name; `spread`'s dimension a column of every source that metric reads (MD241)."""
    if scope.mode != "metric":
        typer.reporter.report(
            "MD240",
            f"`{node.func}` sets a metric against the other groups of its period: not in {scope.owner}",
            scope.text,
            node,
            f"compute it in a metric of metrics, as in `share_of_contacts: {{expr: {node.func}(contacts)}}`"
            if node.func == "of_total"
            else "compute it in a metric of metrics, as in `csat_spread: {expr: spread(csat, channel)}`",
        )
        return ANY
    argument = node.args[0]
    if not (isinstance(argument, ast.Name) and argument.name in typer.defs.metrics):
        name = argument.name if isinstance(argument, ast.Name) else ""
        hint = did_you_mean(name, typer.defs.metrics) or f"define a metric and name it: {function.usage.split(':')[0]}"
        typer.reporter.report("MD203", f"`{node.func}` takes a metric name", scope.text, argument, hint)
        return ANY
    found = typer.infer(argument, scope)
    valid = _arguments(typer, function, node, [found], scope)
    if len(node.args) > 1:
        valid = ANY if not _dimension(typer, argument.name, node.args[1], scope) else valid
    return valid


def _dimension(typer: Typer, metric: str, argument: ast.Expr, scope: Scope) -> bool:
    """Whether `argument` of `spread` names a column (or derived column) of every source metric `metric` reads;
    reports it (MD241) where it does not."""
    if not isinstance(argument, ast.Name):
        typer.reporter.report(
            "MD241", "the dimension of `spread` must be a column name", scope.text, argument, "as in `spread(csat, channel)`"
        )
        return False
    checked = typer.model.metrics.get(metric)
    if checked is None:  # a metric with errors of its own: they are reported there
        return False
    for source in checked.reaches:
        columns = column_names(typer.defs.sources[source])
        if argument.name not in columns:
            hint = did_you_mean(argument.name, columns) or f"columns of `{source}`: {', '.join(columns)}"
            message = f"`spread` over `{argument.name}`: metric `{metric}` reads source `{source}`, which has no such column"
            typer.reporter.report("MD241", message, scope.text, argument, hint)
            return False
    return True


KIND_RULES: dict[Kind, CallRule] = {
    Kind.AGGREGATE: _aggregate,
    Kind.WINDOW: _window,
    Kind.SCALAR: _scalar,
    Kind.RULE: _rule_function,
    Kind.ACROSS: _across,
}
