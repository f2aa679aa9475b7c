"""YAML that reads otherwise than its writer meant, recognised so that the diagnostic says what happened.

In a flow mapping (`{expr: round(mean(talk_s), 0), unit: s}`) a comma ends a value, so an expression holding one
is cut there: YAML reads `round(mean(talk_s)` as the value of `expr` and `0)` as a key of its own. `rejoin` finds
such a value (its brackets or quotes left open) and the keys that close it, and puts them back together; where
YAML cannot read a flow mapping at all (`{expr: x in ["a", "b"]}`), `quoting_hint` shows the line with the value
quoted; a value that starts with a character YAML gives a meaning of its own (`warn: > 10s`, where `>` begins a
folded block of text) is found by `indicator_value_bounds` and shown quoted too. And YAML 1.1, which PyYAML
reads, takes `yes`, `no`, `on` and `off` (in any of three cases) for booleans: `country: NO` is false;
`booleans_in_rows` finds the values of test rows written so, for the checker to compare with their columns' types.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

BOOL_TAG = "tag:yaml.org,2002:bool"
STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"
CLOSING = {"(": ")", "[": "]"}


def open_brackets(text: str) -> bool | None:
    """Whether `text` leaves a bracket or a quote open (True), closes them all (False), or closes one it did not
    open (None)."""
    stack: list[str] = []
    quote = None
    for char in text:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in CLOSING:
            stack.append(CLOSING[char])
        elif char in ")]" and (not stack or stack.pop() != char):
            return None
    return bool(stack) or quote is not None


def quote(value: str) -> str:
    """`value` as a quoted YAML scalar: in double quotes, or in single quotes where it holds a double one."""
    if '"' not in value and "\\" not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Split:
    """A value that YAML cut at commas, put back together: its key, the whole value (a node spanning the pieces) and
    the hint, which shows the line with the value quoted."""

    key: Node
    value: ScalarNode
    hint: str


def rejoin(text: str, pairs: list[tuple[Node, Node]]) -> tuple[list[tuple[Node, Node]], list[Split]]:
    """The pairs of a flow mapping with each value that YAML cut at a comma put back together (the keys that held
    its pieces left out), and what was put back together. `text` is the file's."""
    result: list[tuple[Node, Node]] = []
    splits: list[Split] = []
    index = 0
    while index < len(pairs):
        key, value = pairs[index]
        index += 1
        joined = _joined(text, value, pairs[index:])
        if joined is None:
            result.append((key, value))
            continue
        whole, pieces = joined
        index += pieces
        result.append((key, whole))
        splits.append(Split(key, whole, quoting_hint(text, whole.start_mark.index, whole.end_mark.index, key)))
    return result, splits


def _joined(text: str, value: Node, rest: list[tuple[Node, Node]]) -> tuple[ScalarNode, int] | None:
    """`value` and the pieces that follow it as one plain scalar, with how many pairs the pieces took; None when
    `value` is whole, or when no run of keys without values closes what it leaves open."""
    if not (_plain(value) and open_brackets(str(value.value))):
        return None
    for count, piece in enumerate(_pieces(rest), start=1):
        raw = text[value.start_mark.index : piece.end_mark.index]
        state = open_brackets(raw)
        if state is None:
            return None
        if not state:
            return ScalarNode(STR_TAG, raw, value.start_mark, piece.end_mark, style=None), count
    return None


def _pieces(rest: list[tuple[Node, Node]]) -> Iterator[Node]:
    """The keys without a value at the start of `rest`: what YAML made of the text after a comma in a value."""
    for key, value in rest:
        empty = isinstance(value, ScalarNode) and value.tag == NULL_TAG and value.value == ""
        if not (_plain(key) and empty):
            return
        yield key


def _plain(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style in (None, "") and node.tag == STR_TAG


def quoting_hint(text: str, start: int, end: int, key: Node | None = None) -> str:
    """`quote it: ...`: the line holding the value at `[start, end)` of `text` with the value quoted, or, for a value
    over several lines, the key and the quoted value."""
    value = " ".join(text[start:end].split())
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    if end <= line_end:
        fixed = text[line_start:start] + quote(value) + text[end:line_end]
    else:
        fixed = (f"{key.value}: " if isinstance(key, ScalarNode) else "") + quote(value)
    return f"quote it: `{fixed.strip()}`"


def flow_value_bounds(text: str, opened: int, problem: int) -> tuple[int, int] | None:
    """Where YAML could not read the flow mapping opened at `opened` because of the character at `problem`: the
    value that holds it, from after its `key: ` to the comma or brace that ends it (brackets and quotes balanced),
    when it is on one line; None otherwise."""
    line_end = text.find("\n", problem)
    line_end = len(text) if line_end < 0 else line_end
    start = text.rfind(": ", opened, problem)
    if start < 0 or "\n" in text[start:problem]:
        return None
    start += 2
    for end in range(problem, line_end + 1):
        if (end == line_end or text[end] in ",}") and open_brackets(text[start:end]) is False:
            return start, len(text[start:end].rstrip()) + start
    return None


# Characters that YAML reads as the start of something else when a plain value starts with them: a block of text
# (`>`, `|`), a tag, an anchor or an alias (`!`, `&`, `*`), a directive (`%`), or nothing at all (`@`, `` ` ``).
INDICATORS = ">|!&*%@`"


def indicator_value_bounds(text: str, problem: int) -> tuple[int, int] | None:
    """Where YAML could not read a value because it starts with one of `INDICATORS` (`warn: > 10s`), at or before
    `problem` on its line: the value from that character to the end of the line (a comment left out), or in a flow
    mapping to the comma or brace that ends it; None when the line has no such value."""
    line_start = text.rfind("\n", 0, problem) + 1
    line_end = text.find("\n", problem)
    line_end = len(text) if line_end < 0 else line_end
    start = None
    for index in range(line_start, min(problem, line_end - 1) + 1):
        before = text[line_start:index]
        if text[index] in INDICATORS and (before.endswith(": ") or before.rstrip() in ("-", "")):
            start = index
    if start is None:
        return None
    flow = text[line_start:start].count("{") > text[line_start:start].count("}")
    for end in range(start, line_end + 1):
        stop = end == line_end or (flow and text[end] in ",}") or text[end - 1 : end + 1] == " #"
        if stop and open_brackets(text[start:end]) is False:
            return start, len(text[start:end].rstrip()) + start
    return None


def booleans_in_rows(node: Node) -> Iterator[tuple[str, str, ScalarNode]]:
    """The (source, column, value node) of each plain value that YAML reads as a boolean in `given` rows (a mapping
    of source names to lists of rows)."""
    for source, rows in node.value if isinstance(node, MappingNode) else ():
        for column, value in booleans_in_row_list(rows):
            yield str(source.value), column, value


def booleans_in_row_list(node: Node) -> Iterator[tuple[str, ScalarNode]]:
    """The (key, value node) of each plain value that YAML reads as a boolean in a list of rows, or in one row."""
    for row in node.value if isinstance(node, SequenceNode) else [node]:
        for key, value in row.value if isinstance(row, MappingNode) else ():
            if isinstance(value, ScalarNode) and value.tag == BOOL_TAG and value.style in (None, ""):
                yield str(key.value), value
