"""`metricdsl fmt`: rewrite every expression of a spec file in canonical form, in place.

Only the expression scalars change: each is replaced at its exact position in the file, so
comments, key order, blank lines and quoting stay as written (a plain scalar is quoted only when
its new text needs it). The result is loaded again and must give the same trees, or nothing is
written.

A file is read as bytes and written back the same way: UTF-8, with its byte order mark if it had one and its
line ends (CRLF or LF). Writing goes through `metricdsl.files`: a symbolic link stays a link to the rewritten
file, and the file keeps its mode.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from metricdsl.files import reason, write_bytes_atomically
from metricdsl.language import ast
from metricdsl.language.parser import SyntaxProblem, parse
from metricdsl.language.printer import format_expr
from metricdsl.spec.definitions import ExprText
from metricdsl.spec.loader import expressions, load_text

LINE_WIDTH = 100
KEY_LINE = re.compile(r"^(\s*)(- )?[\w-]+:\s*$")


@dataclass(frozen=True)
class Encoding:
    """How a spec file's text is stored: a UTF-8 byte order mark or not, and its line end."""

    bom: bool = False
    newline: str = "\n"

    @classmethod
    def of(cls, data: bytes) -> Encoding:
        """The encoding of `data`; its line end is CRLF only when every line ends so."""
        crlf = data.count(b"\r\n")
        return cls(data.startswith(codecs.BOM_UTF8), "\r\n" if crlf and crlf == data.count(b"\n") else "\n")

    def decode(self, data: bytes) -> str:
        """The text of `data`, its line ends as `\\n`. Raises `UnicodeDecodeError` when it is not UTF-8."""
        text = data.decode("utf-8-sig" if self.bom else "utf-8")
        return text.replace("\r\n", "\n") if self.newline == "\r\n" else text

    def encode(self, text: str) -> bytes:
        """`text` (line ends as `\\n`) stored as this encoding says."""
        data = text.replace("\n", self.newline).encode("utf-8")
        return codecs.BOM_UTF8 + data if self.bom else data


@dataclass(frozen=True)
class Formatted:
    """A file's text before and after formatting; `problem` says why it was left alone."""

    path: str
    before: str
    after: str
    problem: str | None = None
    encoding: Encoding = field(default_factory=Encoding)

    @property
    def changed(self) -> bool:
        return self.before != self.after


def format_path(path: Path) -> Formatted:
    """The formatted text of the spec file at `path`, read as bytes (see `Encoding`)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return Formatted(str(path), "", "", f"cannot read it: {reason(error)}")
    encoding = Encoding.of(data)
    try:
        text = encoding.decode(data)
    except UnicodeDecodeError:
        return Formatted(str(path), "", "", "it is not UTF-8 text")
    return replace(format_file(str(path), text), encoding=encoding)


def write_formatted(formatted: Formatted) -> None:
    """Write the formatted text back to its file, stored as it was; raises `OutputError` when it cannot be written."""
    write_bytes_atomically(formatted.path, formatted.encoding.encode(formatted.after))


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
    except (yaml.YAMLError, ValueError, OverflowError):  # ValueError: what reads as a timestamp of no date
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
