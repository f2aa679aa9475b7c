r"""Text from data or specs made safe to print: no character of it can steer the terminal it is shown on.

A value from a data file or a spec (a team's name, a label, a file path, a line of a spec) must not move the
cursor, clear the screen, forge colours, reorder or hide text (bidirectional overrides), or start a line of its
own. Such characters are written visibly, as Python writes them in a string literal: ESC as `\x1b`, a line break
as `\n`, U+202E as `\u202e`. These are the C0 controls and DEL, the C1 controls, the bidirectional formatting
characters (embeddings, overrides, isolates and marks), the Unicode line and paragraph separators, lone surrogates
(which cannot be encoded) and the noncharacters U+FFFE and U+FFFF (which XML cannot hold).

`inline` is for a value inside a line; `multiline` keeps the line breaks (LF, and CR LF) of a text where a line
break is meant, such as a rule's message. Our own colours are added (`click.style`) around text already made
visible, so they are kept. A backslash is left as it is: what is escaped is what could act, not what reads alike.
"""

from __future__ import annotations

import re

import polars as pl

# Beside the C0 controls: DEL and the C1 controls, the Arabic letter mark, the left-to-right and right-to-left marks,
# the line and paragraph separators, the embeddings and overrides, the isolates, surrogates and two noncharacters.
_OTHERS = r"\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
_INLINE = re.compile(rf"[\x00-\x1f{_OTHERS}]")
_MULTILINE = re.compile(rf"\r(?!\n)|[\x00-\x09\x0b\x0c\x0e-\x1f{_OTHERS}]")  # not LF, nor the CR of CR LF
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def inline(value: object) -> str:
    """`value` as text on one line, with every character that could act on a terminal written visibly."""
    return _INLINE.sub(_visible, str(value))


def multiline(value: object) -> str:
    """`value` as text whose line breaks (LF, CR LF) are kept; every other such character is written visibly."""
    return _MULTILINE.sub(_visible, str(value))


def inline_expr(text: pl.Expr) -> pl.Expr:
    """`inline` of every value of a text column, in Polars."""
    return text.str.replace_many(*_ESCAPES)


def multiline_expr(text: pl.Expr) -> pl.Expr:
    """`multiline` of every value of a text column, in Polars (a CR LF is drawn as the line break it is)."""
    patterns, escapes = _ESCAPES
    kept = [i for i, pattern in enumerate(patterns) if pattern != "\n"]
    return text.str.replace_all("\r\n", "\n", literal=True).str.replace_many(
        [patterns[i] for i in kept], [escapes[i] for i in kept]
    )


def error_line(error: BaseException) -> str:
    """`error: ...`, one line, as the command line reports a problem (its text may quote data)."""
    return f"error: {inline(error)}"


def _visible(match: re.Match[str]) -> str:
    return _escape(match.group(0))


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


# Every character `inline` writes visibly that a Polars (UTF-8) string can hold, and how it is written.
_VISIBLE = [
    chr(code)
    for code in (
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        0x2028,
        0x2029,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0xFFFE,
        0xFFFF,
    )
]
_ESCAPES = (_VISIBLE, [_escape(char) for char in _VISIBLE])
