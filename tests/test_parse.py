"""The grammar and the AST: precedence, literals, calls, spans and syntax errors."""

from __future__ import annotations

import datetime

import pytest

from metricdsl import ast
from metricdsl.parse import SyntaxProblem, parse

N, B = ast.Name, ast.Binary


@pytest.mark.parametrize(("text", "tree"), [
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
])
def test_precedence_and_associativity(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(("text", "node"), [
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
])
def test_literals(text, node):
    assert parse(text) == node


def test_aggregate_with_filter_and_keywords():
    tree = parse("followed_by(orders where amount > 0, 30d, on=customer_id == referred_by)")
    assert tree == ast.Call(
        "followed_by", (N("orders"), ast.Duration(2592000, "30d")),
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
    assert text[tree.where.span.start:tree.where.span.end] == "answered"
    assert text[tree.args[0].span.start:tree.args[0].span.end] == "handle_s"


def test_spaces_do_not_change_the_tree():
    assert parse("share( x>=9 )") == parse("share(x >= 9)")


@pytest.mark.parametrize(("text", "message", "at"), [
    ("mean(x", "unclosed parenthesis", 6),
    ("a +", "unexpected end of expression", 3),
    ("a && b", "unexpected character `&`", 2),
    ('"open', "unclosed string", 0),
    ("a < b < c", "unexpected a comparison", 6),
    ("@2026-02-30", "not a calendar date", 0),
    ("f(a=1, b)", "positional argument after a keyword argument", 7),
    ("(" * 500 + "1" + ")" * 500, "nested more than", 200),
])
def test_syntax_errors_name_the_problem_and_its_position(text, message, at):
    with pytest.raises(SyntaxProblem) as raised:
        parse(text)
    assert message in raised.value.message
    assert raised.value.start == at


def test_no_terminal_is_anonymous():
    from metricdsl.parse import parser
    assert not [t.name for t in parser().terminals if t.name.startswith("__ANON")]
