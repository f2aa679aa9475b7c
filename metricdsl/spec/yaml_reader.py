"""Reading the YAML nodes of one spec file into values, with every problem reported at its position.

A `YamlReader` holds what reading needs: the file (to turn nodes into locations) and the list that
collects diagnostics. The readers of each kind of definition receive it as their first argument.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from metricdsl.errors import Diagnostic, Location, did_you_mean
from metricdsl.spec.definitions import RESERVED, ExprText
from metricdsl.spec.positions import FileText, scalar_offsets
from metricdsl.spec.yaml_traps import rejoin

T = TypeVar("T")
# A name as expressions write it: the `NAME` of the grammar (`language/metricdsl.lark`).
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What no name holds, not even a test's: the C0 controls (line breaks and tabs included), DEL and the C1 controls.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The characters of a value from the file quoted in a message at most; a longer value is cut, marked `…`.
MAX_QUOTED = 80


class YamlReader:
    """Reads the nodes of one spec file; appends every problem found to `diagnostics`."""

    def __init__(self, file: FileText, diagnostics: list[Diagnostic]) -> None:
        self.file = file
        self.diagnostics = diagnostics

    def report(self, code: str, message: str, node: Node | None, hint: str | None = None) -> None:
        """Add a diagnostic at `node` (at no position when `node` is None)."""
        self.diagnostics.append(Diagnostic.make(code, message, None if node is None else self.at(node), hint))

    def at(self, node: Node) -> Location:
        """Where `node` stands in the file."""
        return self.file.location(node.start_mark.index, node.end_mark.index)

    def check_name(self, kind: str, name: str, node: Node) -> bool:
        """Whether a name the spec declares (a `kind` such as `metric`) can be read: a name that is not an
        identifier as expressions write it is reported (MD012) and its definition is not read; an identifier that
        contains the reserved `__` is reported (MD008) and read all the same."""
        if not NAME.fullmatch(name):
            hint = "a name is letters, digits and `_`, and does not start with a digit"
            renamed = _identifier(name)
            hint = f"rename it {quoted(renamed)}: {hint}" if renamed else hint
            self.report("MD012", f"{kind} name {quoted(name)} is not an identifier", node, hint)
            return False
        if RESERVED in name:
            message = f"{kind} name {quoted(name)} contains `{RESERVED}`, which is reserved for the columns metricdsl adds"
            self.report("MD008", message, node, f"rename it {quoted(re.sub('_{2,}', '_', name))}")
        return True

    def check_label(self, kind: str, label: str, node: Node) -> bool:
        """Whether a name written for people (a `kind` such as `test`) can be read: free text on one line, without
        control characters; one with them is reported (MD012)."""
        if CONTROL.search(label):
            hint = "write it on one line, without escapes such as `\\e` or `\\0`"
            self.report("MD012", f"{kind} name {quoted(label)} holds control characters", node, hint)
            return False
        return True

    # -- YAML shapes ------------------------------------------------------------------------------

    def mapping(self, node: Node, allowed: tuple[str, ...] | None = None) -> Iterator[tuple[str, Node, Node]]:
        """The (key, key node, value node) items of a mapping; unknown or repeated keys reported."""
        if not isinstance(node, MappingNode):
            self.report("MD003", f"expected a mapping, found {describe_node(node)}", node)
            return
        seen: set[str] = set()
        pairs: list[tuple[Node, Node]] = node.value
        if node.flow_style:
            pairs, splits = rejoin(self.file.text, pairs)
            for split in splits:
                message = f"YAML cut the value of {quoted(split.key.value)} at a comma, which ends a value in `{{...}}`"
                self.report("MD001", message, split.value, split.hint)
        for key_node, value in pairs:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else ""
            if allowed is not None and key not in allowed:
                hint = did_you_mean(key, allowed) or f"known keys: {', '.join(allowed)}"
                self.report("MD004", f"unknown key {quoted(key)}", key_node, hint)
                continue
            if key in seen:
                self.report("MD007", f"key {quoted(key)} appears twice in one mapping", key_node)
                continue
            seen.add(key)
            yield key, key_node, value

    def items(self, node: Node, allowed: tuple[str, ...]) -> dict[str, tuple[Node, Node]]:
        """A mapping's (key node, value node) by key; a scalar stands for `{}` when nothing is allowed."""
        if isinstance(node, ScalarNode) and node.value == "":
            return {}
        return {key: (key_node, value) for key, key_node, value in self.mapping(node, allowed)}

    def fields(self, node: Node, allowed: tuple[str, ...], readers: Mapping[str, Callable[[Node], T]]) -> Iterator[T]:
        """Each key of a mapping read by its reader, in the order of the file (so are its diagnostics)."""
        for key, _, value in self.mapping(node, allowed):
            yield readers[key](value)

    def construct(self, node: Node, deep: bool = False) -> object:
        """A YAML value as Python data, built by the safe constructor; None (reported) if it cannot be."""
        try:
            value: object = yaml.SafeLoader("").construct_object(node, deep=deep)
        except yaml.YAMLError as error:  # an unknown tag such as `!foo`...
            problem = getattr(error, "problem", None) or str(error)
            self.report("MD003", f"unsupported YAML value: {problem}", node)
            return None
        except (ValueError, OverflowError) as error:  # a timestamp of no date (`2026-0-06`): Python's date refuses it
            bad = _unconstructable(node) or node
            said = f"`{bad.value}` is no date or time" if isinstance(bad, ScalarNode) else "a value is no date or time"
            self.report("MD003", f"{said}: {error}", bad, "write a real date, as `2026-01-06` or `2026-01-06T10:00:00`")
            return None
        return value

    def scalar_tree(self, node: Node) -> object:
        """A YAML value as plain Python data (mappings, lists, scalars); None if it cannot be."""
        return self.construct(node, deep=True)

    def scalar(self, node: Node, what: str = "a single value") -> object:
        """A single value (not a mapping or a list), as Python data; `what` names it in the diagnostic."""
        if not isinstance(node, ScalarNode):
            self.report("MD003", f"expected {what}, found {describe_node(node)}", node)
            return None
        return self.construct(node)

    # -- values -----------------------------------------------------------------------------------

    def text(self, node: Node) -> str | None:
        """A single value as text."""
        value = self.scalar(node, "text")
        return None if value is None else str(value)

    def texts(self, node: Node) -> tuple[str, ...]:
        """A list of texts; a single text stands for a list of one."""
        if isinstance(node, ScalarNode):
            one = self.text(node)
            return (one,) if one else ()
        if not isinstance(node, SequenceNode):
            self.report("MD003", f"expected a list, found {describe_node(node)}", node)
            return ()
        items: list[Node] = node.value
        return tuple(t for t in (self.text(item) for item in items) if t is not None)

    def number(self, node: Node, hint: str | None = None) -> float | None:
        """A number (a whole number stays an `int`); not a boolean. `hint` says what number to write."""
        value = self.scalar(node, "a number")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if value is not None:
            self.report("MD006", f"expected a number, found {quoted(value)}", node, hint)
        return None

    def whole_number(self, node: Node, hint: str = "write a whole number, as `2`") -> int | None:
        """A whole number; not a boolean. `hint` says what number to write."""
        value = self.scalar(node, "a number")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if value is not None:
            self.report("MD006", f"expected a whole number, found {quoted(value)}", node, hint)
        return None

    def choice(self, node: Node, allowed: tuple[str, ...]) -> str | None:
        """One of the texts `allowed`."""
        value = self.text(node)
        if value is not None and value not in allowed:
            hint = did_you_mean(value, allowed) or f"one of: {', '.join(allowed)}"
            self.report("MD006", f"{quoted(value)} is not one of {', '.join(allowed)}", node, hint)
            return None
        return value

    def path(self, node: Node) -> Path | None:
        """A file path, relative to the folder of the spec file."""
        value = self.text(node)
        if value is None:
            return None
        return Path(os.path.normpath(Path(self.file.path).parent / value))

    def expr(self, node: Node) -> ExprText | None:
        """An expression's text, with the file offset of each of its characters (parsed later, by the checker)."""
        if not isinstance(node, ScalarNode):
            self.report("MD003", f"expected an expression, found {describe_node(node)}", node)
            return None
        return ExprText(
            node.value,
            self.file,
            scalar_offsets(self.file.text, node),
            (node.start_mark.index, node.end_mark.index),
            node.style or "",
        )


def describe_node(node: Node | None) -> str:
    """What a node is, for a message: `a mapping`, `a list`, the scalar's text, or `nothing`."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return quoted(node.value) if isinstance(node, ScalarNode) and node.value else "nothing"


def quoted(value: object) -> str:
    """A value from the file as a message quotes it, in backticks: cut after `MAX_QUOTED` characters."""
    text = str(value)
    return f"`{text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + '…'}`"


def _identifier(name: str) -> str | None:
    """An identifier close to `name`, to suggest: each run of other characters an `_`; None if nothing is left."""
    renamed = re.sub("_{2,}", "_", re.sub(r"[^A-Za-z0-9_]+", "_", name)).strip("_")
    if not renamed:
        return None
    return f"_{renamed}" if renamed[0].isdigit() else renamed


def _unconstructable(node: Node) -> ScalarNode | None:
    """The first scalar under `node` that the safe constructor cannot build (a timestamp of no date), if any."""
    if isinstance(node, ScalarNode):
        try:
            yaml.SafeLoader("").construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError):
            return node
        return None
    children: list[Node] = [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else node.value
    return next((found for child in children if (found := _unconstructable(child)) is not None), None)
