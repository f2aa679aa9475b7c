"""Parse an expression string into an AST (`metricdsl.ast`), or raise `SyntaxProblem`."""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from typing import Any, TypeAlias

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.tree import Meta

from metricdsl.language import ast
from metricdsl.language.units import DURATION_SECONDS

GRAMMAR_FILE = "metricdsl.lark"
MAX_WHOLE_NUMBER = 2**63 - 1  # whole numbers are 64-bit integers, as the engines compute them

# How each terminal is named in an error message.
TERMINAL_WORDS = {
    "OR": "`or`",
    "AND": "`and`",
    "NOT": "`not`",
    "IN": "`in`",
    "IS": "`is`",
    "NULL": "`null`",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "BETWEEN": "`between`",
    "CASE": "`case`",
    "WHEN": "`when`",
    "THEN": "`then`",
    "ELSE": "`else`",
    "END": "`end`",
    "WHERE": "`where`",
    "COMPARE": "a comparison",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "MUL_OP": "`*`, `/` or `%`",
    "EQUALS": "`=`",
    "LPAREN": "`(`",
    "RPAREN": "`)`",
    "LBRACKET": "`[`",
    "RBRACKET": "`]`",
    "COMMA": "`,`",
    "DURATION": "a duration",
    "DATE": "a date",
    "NUMBER": "a number",
    "STRING": "a string",
    "NAME": "a name",
    "$END": "the end of the expression",
}
# Deeper expressions are refused: the checker and the compiler walk trees recursively, up to 5 frames a level.
MAX_NESTING = 100


@dataclass(frozen=True)
class SyntaxProblem(Exception):
    """A syntax error at offset `start` (to `end`) of the expression text."""

    message: str
    start: int
    end: int
    hint: str | None = None


@functools.cache
def parser() -> Lark:
    """The LALR parser, built once per process from the grammar inside the package."""
    return Lark.open_from_package(
        "metricdsl.language", GRAMMAR_FILE, parser="lalr", strict=True, propagate_positions=True, maybe_placeholders=True
    )


def parse(text: str) -> ast.Expr:
    """Parse one expression; raise `SyntaxProblem` with the offending offsets on bad input."""
    _check_brackets(text)
    try:
        tree = parser().parse(text)
        result = ToAst().transform(tree)
    except UnexpectedInput as error:
        raise _problem(error, text) from None
    except VisitError as error:
        if isinstance(error.orig_exc, SyntaxProblem):
            raise error.orig_exc from None
        raise
    _check_depth(result)
    return result


def _check_brackets(text: str) -> None:
    depth = 0
    for offset, char in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth > MAX_NESTING:
            raise SyntaxProblem(
                f"expression nested more than {MAX_NESTING} levels deep",
                offset,
                offset + 1,
                "split it into derived columns or metrics",
            )


def _check_depth(tree: ast.Expr) -> None:
    """Refuse absurd nesting here, so that the later stages may walk trees recursively."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise SyntaxProblem(
                f"expression nested more than {MAX_NESTING} levels deep",
                node.span.start,
                node.span.end,
                "split it into derived columns or metrics",
            )
        stack += [(child, depth + 1) for child in ast.children(node)]


# The terminals that can start an expression: when the parser wants one of them, say "an expression".
EXPRESSION_START = {"NAME", "NUMBER", "STRING"}
# Operators from other languages, and what to write instead.
FOREIGN_OPERATORS = {"&&": "and", "||": "or", "!": "not", "<>": "!=", "=>": ">=", "=<": "<=", "=": "=="}


SINGLE_EQUALS = "`=` is not a comparison: `==` compares"
LONGEST_FIX = 80  # a longer expression is not repeated whole in a hint


def single_equals_hint(text: str, position: int) -> str:
    """The hint for a single `=` at `position` of `text` where a comparison was meant: the text with `==` there."""
    fixed = text[:position] + "==" + text[position + 1 :]
    return f"write `{fixed}`" if len(fixed) <= LONGEST_FIX and "\n" not in fixed else "write `==`"


def _expected(tokens: set[str], after: str | None) -> str:
    if tokens & EXPRESSION_START:
        return "a condition" if after == "where" else "an expression"
    words = sorted({TERMINAL_WORDS.get(name, name) for name in tokens})
    if len(words) > 6:
        return "an operator"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _previous_token(text: str, position: int) -> str | None:
    """The text of the last token that ends before `position`."""
    previous = None
    try:
        for token in parser().lex(text[:position]):
            previous = str(token)
    except UnexpectedInput:
        return None
    return previous.lower() if previous else None


def _problem(error: UnexpectedInput, text: str) -> SyntaxProblem:
    at_end = isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END")
    position = len(text) if at_end or error.pos_in_stream is None else error.pos_in_stream
    foreign = next((op for op in sorted(FOREIGN_OPERATORS, key=len, reverse=True) if text.startswith(op, position)), None)
    previous = _previous_token(text, position)
    if previous and text[position : position + 1] and previous + text[position] in FOREIGN_OPERATORS:
        foreign, position = previous + text[position], position - len(previous)  # `<>`, `=>`, `=<`
    if foreign == "=" and not text.startswith("==", position):
        return SyntaxProblem(SINGLE_EQUALS, position, position + 1, single_equals_hint(text, position))
    if foreign and foreign != "=":
        return SyntaxProblem(
            f"`{foreign}` is not an operator here",
            position,
            position + len(foreign),
            f"write `{FOREIGN_OPERATORS[foreign]}`",
        )
    if isinstance(error, UnexpectedCharacters):
        char = text[position]
        if char in "\"'":
            return SyntaxProblem("unclosed string", position, len(text), f"close it with {char}")
        return SyntaxProblem(f"unexpected character `{char}`", position, position + 1)
    expected = set(getattr(error, "expected", ()))
    for opening, closing, name in (("(", ")", "RPAREN"), ("[", "]", "RBRACKET")):
        if at_end and name in expected and text.count(opening) > text.count(closing):
            return SyntaxProblem(f"unclosed `{opening}`", len(text), len(text) + 1, f"add `{closing}`")
    wanted = _expected(expected, previous)
    after = f" after `{previous}`" if previous else ""
    if at_end:
        return SyntaxProblem(f"the expression ends too early: expected {wanted}{after}", len(text), len(text) + 1)
    assert isinstance(error, UnexpectedToken)
    token = error.token
    start = token.start_pos or 0
    found = TERMINAL_WORDS.get(token.type, token.type)
    found = f"`{token}`" if found.startswith("`") else f"{found} `{token}`"
    hint = "comparisons do not chain: write `a < b and b < c`" if token.type == "COMPARE" else None
    return SyntaxProblem(f"expected {wanted}{after}, found {found}", start, token.end_pos or start + 1, hint)


def _span(meta: Meta) -> ast.Span:
    return ast.Span(meta.start_pos, meta.end_pos)


# A parse-tree node's children as the transformer receives them: tokens, finished nodes, or the
# intermediate values below (`None` for an absent optional part).
Children = list[Any]
Filtered: TypeAlias = tuple[str, "ast.Expr | None", "ast.Expr"]  # an argument with its `where` condition
Argument: TypeAlias = "ast.Expr | ast.Keyword | Filtered"
Arguments: TypeAlias = list[Argument]


@v_args(meta=True)
class ToAst(Transformer_NonRecursive[Token, ast.Expr]):
    """Turns the Lark parse tree into `metricdsl.ast` nodes with spans."""

    def number(self, meta: Meta, children: Children) -> ast.Expr:
        text = str(children[0])
        value = float(text) if re.search(r"[.eE]", text) else int(text)
        if isinstance(value, int) and value > MAX_WHOLE_NUMBER:
            raise SyntaxProblem(
                f"`{text}` is too large for a whole number", meta.start_pos, meta.end_pos, "write it as a decimal, as 1e19"
            )
        if value == float("inf"):
            raise SyntaxProblem(f"`{text}` is too large for a number", meta.start_pos, meta.end_pos)
        return ast.Number(value, _span(meta))

    def duration(self, meta: Meta, children: Children) -> ast.Expr:
        text = str(children[0])
        amount, unit = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", text).groups()  # type: ignore[union-attr]
        return ast.Duration(float(amount) * DURATION_SECONDS[unit], text, _span(meta))

    def date(self, meta: Meta, children: Children) -> ast.Expr:
        try:
            value = datetime.date.fromisoformat(str(children[0])[1:])
        except ValueError:
            raise SyntaxProblem(
                f"`{children[0]}` is not a calendar date", meta.start_pos, meta.end_pos, "write dates as @YYYY-MM-DD"
            ) from None
        return ast.Date(value, _span(meta))

    def string(self, meta: Meta, children: Children) -> ast.Expr:
        raw = str(children[0])[1:-1]
        return ast.String(re.sub(r"\\(.)", r"\1", raw), _span(meta))

    def true(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.Bool(True, _span(meta))

    def false(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.Bool(False, _span(meta))

    def null(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.Null(_span(meta))

    def name(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.Name(str(children[0]), _span(meta))

    def paren(self, meta: Meta, children: Children) -> ast.Expr:
        inner: ast.Expr = children[1]
        return inner

    def list(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.ListOf(tuple(c for c in children if c is not None and not isinstance(c, Token)), _span(meta))

    def negate(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.Unary("-", children[1], _span(meta))

    def not_op(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.Unary("not", children[1], _span(meta))

    def binary(self, meta: Meta, children: Children) -> ast.Expr:
        left, op, right = children
        return ast.Binary(str(op), left, right, _span(meta))

    compare = binary

    def and_op(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.Binary("and", children[0], children[2], _span(meta))

    def or_op(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.Binary("or", children[0], children[2], _span(meta))

    def in_op(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.In(children[0], children[2], False, _span(meta))

    def not_in_op(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.In(children[0], children[3], True, _span(meta))

    def between(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.Between(children[0], children[2], children[4], _span(meta))

    def is_null(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.IsNull(children[0], False, _span(meta))

    def is_not_null(self, meta: Meta, children: Children) -> ast.Expr:
        return ast.IsNull(children[0], True, _span(meta))

    def case(self, meta: Meta, children: Children) -> ast.Expr:
        parts = [c for c in children if c is not None and not isinstance(c, Token)]
        has_else = any(isinstance(c, Token) and c.type == "ELSE" for c in children)
        otherwise = parts.pop() if has_else else None
        whens = tuple(zip(parts[0::2], parts[1::2], strict=True))
        return ast.Case(whens, otherwise, _span(meta))

    def filtered(self, meta: Meta, children: Children) -> Filtered:
        return ("filtered", children[0], children[2])

    def filter_only(self, meta: Meta, children: Children) -> Filtered:
        return ("filtered", None, children[1])

    def keyword(self, meta: Meta, children: Children) -> ast.Keyword:
        return ast.Keyword(str(children[0]), children[2], _span(meta))

    def arguments(self, meta: Meta, children: Children) -> Arguments:
        return [c for c in children if not isinstance(c, Token)]

    def call(self, meta: Meta, children: Children) -> ast.Call:
        func, arguments = str(children[0]), children[2] or []
        args: list[ast.Expr] = []
        keywords: list[ast.Keyword] = []
        where = None
        for position, argument in enumerate(arguments):
            if isinstance(argument, ast.Keyword):
                keywords.append(argument)
                continue
            if keywords:
                raise SyntaxProblem(
                    "positional argument after a keyword argument", *_bounds(argument, meta), "put keyword arguments last"
                )
            if isinstance(argument, tuple):
                _, value, condition = argument
                if position != 0:
                    raise SyntaxProblem(
                        "`where` may only filter the first argument", condition.span.start, condition.span.end
                    )
                where = condition
                if value is None:
                    continue
                argument = value
            args.append(argument)
        return ast.Call(func.lower(), tuple(args), where, tuple(keywords), _span(meta))


def _bounds(node: Argument, meta: Meta) -> tuple[int, int]:
    span = getattr(node, "span", None)
    return (span.start, span.end) if span else (meta.start_pos, meta.end_pos)
