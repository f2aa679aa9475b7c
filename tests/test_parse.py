"""The grammar and the AST: precedence, literals, calls, spans and syntax errors."""

from __future__ import annotations

import datetime

import pytest

from metricdsl.language import ast
from metricdsl.language.parser import SyntaxProblem, parse

N, B = ast.Name, ast.Binary


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a or b and not c", B("or", N("a"), B("and", N("b"), ast.Unary("not", N("c"))))),
        ("a + b * c - d", B("-", B("+", N("a"), B("*", N("b"), N("c"))), N("d"))),
        ("-a * b", B("*", ast.Unary("-", N("a")), N("b"))),
        ("a + b < c * 2", B("<", B("+", N("a"), N("b")), B("*", N("c"), ast.Number(2)))),
        ("not a == b", ast.Unary("not", B("==", N("a"), N("b")))),
        ("x between 1 and 2 and y", B("and", ast.Between(N("x"), ast.Number(1), ast.Number(2)), N("y"))),
        ("x not in ['a', \"b\"]", ast.In(N("x"), ast.ListOf((ast.String("a"), ast.String("b"))), negated=True)),
        ("x is not null", ast.IsNull(N("x"), negated=True)),
        ("A AND b Or c", B("or", B("and", N("A"), N("b")), N("c"))),
        ("(a + b) * c", B("*", B("+", N("a"), N("b")), N("c"))),
    ],
)
def test_precedence_and_associativity(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("42", ast.Number(42)),
        ("0.25", ast.Number(0.25)),
        ("1e3", ast.Number(1000.0)),
        ("20s", ast.Duration(20, "20s")),
        ("500ms", ast.Duration(0.5, "500ms")),
        ("5m", ast.Duration(300, "5m")),
        ("2h", ast.Duration(7200, "2h")),
        ("7d", ast.Duration(604800, "7d")),
        ("4w", ast.Duration(2419200, "4w")),
        ("@2026-01-31", ast.Date(datetime.date(2026, 1, 31))),
        ('"say \\"hi\\""', ast.String('say "hi"')),
        ("true", ast.Bool(True)),
        ("NULL", ast.Null()),
    ],
)
def test_literals(text, node):
    assert parse(text) == node


def test_aggregate_with_filter_and_keywords():
    tree = parse("followed_by(orders where amount > 0, 30d, on=customer_id == referred_by)")
    assert tree == ast.Call(
        "followed_by",
        (N("orders"), ast.Duration(2592000, "30d")),
        where=B(">", N("amount"), ast.Number(0)),
        keywords=(ast.Keyword("on", B("==", N("customer_id"), N("referred_by"))),),
    )
    assert parse("count(where sale)") == ast.Call("count", where=N("sale"))


def test_case_expression():
    tree = parse("case when a then 1 when b then 2 else 3 end")
    assert tree == ast.Case(((N("a"), ast.Number(1)), (N("b"), ast.Number(2))), ast.Number(3))


def test_spans_point_into_the_text():
    text = "mean(handle_s where answered)"
    tree = parse(text)
    assert text[tree.where.span.start : tree.where.span.end] == "answered"
    assert text[tree.args[0].span.start : tree.args[0].span.end] == "handle_s"


def test_spaces_do_not_change_the_tree():
    assert parse("share( x>=9 )") == parse("share(x >= 9)")


@pytest.mark.parametrize(
    ("text", "message", "at", "hint"),
    [
        ("mean(x", "unclosed `(`", 6, "add `)`"),
        ("x in [1, 2", "unclosed `[`", 10, "add `]`"),
        ('"open', "unclosed string", 0, 'close it with "'),
        ("a +", "the expression ends too early: expected an expression after `+`", 3, None),
        ("a and", "expected an expression after `and`", 5, None),
        ("mean(x where)", "expected a condition after `where`, found `)`", 12, None),
        ("quantile(x, )", "expected an expression after `,`, found `)`", 12, None),
        ("a && b", "`&&` is not an operator here", 2, "write `and`"),
        ("a || b", "`||` is not an operator here", 2, "write `or`"),
        ("!answered", "`!` is not an operator here", 0, "write `not`"),
        ("a <> b", "`<>` is not an operator here", 2, "write `!=`"),
        ("a = b", "`=` is not a comparison: `==` compares", 2, "write `a == b`"),
        ("count(where channel = 1)", "`=` is not a comparison: `==` compares", 20, "write `count(where channel == 1)`"),
        ("x = " + "1 + " * 20 + "1", "`=` is not a comparison: `==` compares", 2, "write `==`"),  # too long to repeat
        ("a < b < c", "expected an operator after `b`, found a comparison `<`", 6, "comparisons do not chain"),
        ("1 +* 2", "expected an expression after `+`, found `*`", 3, None),
        ("@2026-02-30", "not a calendar date", 0, "write dates as @YYYY-MM-DD"),
        ("f(a=1, b)", "positional argument after a keyword argument", 7, "put keyword arguments last"),
        ("(" * 500 + "1" + ")" * 500, "nested more than 100 levels", 100, "split it"),
        ("x >= 99999999999999999999", "too large for a whole number", 5, "write it as a decimal"),
        ("x >= 1e400", "too large for a number", 5, None),
    ],
)
def test_syntax_errors_name_the_problem_and_its_position(text, message, at, hint):
    with pytest.raises(SyntaxProblem) as raised:
        parse(text)
    assert message in raised.value.message
    assert raised.value.start == at
    assert (hint or "") in (raised.value.hint or "")
    assert hint is not None or raised.value.hint is None


def test_no_terminal_is_anonymous():
    from metricdsl.language.parser import parser

    assert not [t.name for t in parser().terminals if t.name.startswith("__ANON")]
