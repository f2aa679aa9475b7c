"""`metricdsl fmt`: rewrite every expression of a spec file in canonical form, in place.

Only the expression scalars change: each is replaced at its exact position in the file, so
comments, key order, blank lines and quoting stay as written (a plain scalar is quoted only when
its new text needs it). The result is loaded again and must give the same trees, or nothing is
written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from metricdsl.language import ast
from metricdsl.language.parser import SyntaxProblem, parse
from metricdsl.language.printer import format_expr
from metricdsl.spec.definitions import ExprText
from metricdsl.spec.loader import expressions, load_text

LINE_WIDTH = 100
KEY_LINE = re.compile(r"^(\s*)(- )?[\w-]+:\s*$")


@dataclass(frozen=True)
class Formatted:
    """A file's text before and after formatting; `problem` says why it was left alone."""

    path: str
    before: str
    after: str
    problem: str | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def format_file(path: str, text: str) -> Formatted:
    """The formatted text of one spec file."""
    definitions, diagnostics = load_text(path, text)
    if diagnostics:
        return Formatted(path, text, text, "it does not load: run `metricdsl validate`")
    try:
        originals = [(e, parse(e.text)) for e in expressions(definitions)]
    except SyntaxProblem:
        return Formatted(path, text, text, "an expression has a syntax error: run `metricdsl validate`")
    after = text
    for expr, tree in sorted(originals, key=lambda pair: pair[0].raw[0], reverse=True):
        start, end = expr.raw
        after = after[:start] + _scalar(text, expr, tree) + after[end:]
    new_definitions, problems = load_text(path, after)
    if problems or [parse(e.text) for e in expressions(new_definitions)] != [tree for _, tree in originals]:
        return Formatted(path, text, text, "formatting would change its meaning (a bug: please report it)")
    return Formatted(path, text, after)


def _scalar(text: str, expr: ExprText, tree: ast.Expr) -> str:
    """The new YAML scalar for `expr`, in its original style where that style can hold it."""
    start, end = expr.raw
    line_start = text.rfind("\n", 0, start) + 1
    column = start - line_start
    if expr.style in ("|", ">"):
        return _block(text[start:end], format_expr(tree, LINE_WIDTH - column))
    if expr.style == "'":
        return "'" + format_expr(tree, 10**9).replace("'", "''") + "'"
    if expr.style == '"':
        return '"' + format_expr(tree, 10**9).replace("\\", "\\\\").replace('"', '\\"') + '"'
    key_line = KEY_LINE.match(text[line_start:start])
    indent = " " * (len(key_line.group(1)) + 4) if key_line else ""
    formatted = format_expr(tree, LINE_WIDTH - column if key_line else 10**9, indent)
    if _plain_ok(formatted):
        return formatted
    one_line = format_expr(tree, 10**9)
    return one_line if _plain_ok(one_line) else '"' + one_line.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _plain_ok(candidate: str) -> bool:
    """Whether `candidate` reads back as the same text when written as a plain YAML scalar."""
    try:
        loaded = yaml.safe_load(f"key: {candidate}")
    except yaml.YAMLError:
        return False
    folded = " ".join(part.strip() for part in candidate.split("\n"))
    return isinstance(loaded, dict) and loaded.get("key") == folded


def _block(raw: str, formatted: str) -> str:
    """A block scalar (`|`, `>` and their modifiers) with new content at its old indentation."""
    header, _, body = raw.partition("\n")
    content = body.rstrip("\n")
    indent = content[: len(content) - len(content.lstrip())] if content else "  "
    trailing = body[len(content) :]
    lines = [indent + line.strip() for line in formatted.split("\n")]
    return header + "\n" + "\n".join(lines) + trailing
