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


def error_line(error: BaseException) -> str:
    """`error: ...`, one line, as the command line reports a problem (its text may quote data)."""
    return f"error: {inline(error)}"


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
