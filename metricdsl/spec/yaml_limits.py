"""Bounds on the shape of a spec file's YAML, checked on its nodes before anything is read from them.

Aliases (`*name`) repeat a node without copying it, so a kilobyte of YAML can stand for billions of
values ("billion laughs"), or for a value that contains itself; nesting can be deep enough to
exhaust the stack of whatever walks it. Spec files come from pull requests, so both are measured
here, in time linear in the number of nodes written, and a file beyond them is refused.

Nesting is measured twice: on the nodes of a file that composes (`excess`, aliases expanded), and on the parser's
events of one that does not (`written_too_deep`). libyaml refuses 1,000 levels and PyYAML's composer recurses a
few hundred levels deep, so a file nested deeper than either cannot be composed at all; its events still arrive
one by one, up to the first value too deep.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import yaml
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, Event, ScalarEvent
from yaml.nodes import MappingNode, Node, SequenceNode

# How many values aliases may add to a file: a value repeated by an alias counts once more for each
# repetition, with everything inside it.
MAX_ALIAS_EXPANSION = 100_000
# How deeply values may nest (the top-level mapping is level 1; a spec test's `given` row is level 6).
MAX_DEPTH = 64
TOO_DEEP = f"YAML values nested more than {MAX_DEPTH} levels deep"
LIMIT_HINTS = {
    "MD010": "write the values out, or use aliases for a few repeated values only",
    "MD011": "flatten the values: spec files never need this depth",
}


@dataclass(frozen=True)
class Excess:
    """Why a file is refused: its diagnostic code and message, and the offsets of the value where the excess starts."""

    code: str
    message: str
    start: int
    end: int

    @classmethod
    def at(cls, code: str, message: str, node: Node) -> Excess:
        """The excess that starts at `node`."""
        return cls(code, message, node.start_mark.index, node.end_mark.index)


def excess(root: Node) -> Excess | None:
    """What makes the document `root` endless, too large or too deep once its aliases are expanded, if anything."""
    order, endless = _post_order(root)
    if endless is not None:
        return Excess.at("MD010", "a YAML alias repeats a value inside itself, which makes it endless", endless)
    # Each node's values counted with their repetitions, up to a bound past which the file is refused.
    bound = len(order) + MAX_ALIAS_EXPANSION + 1
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}  # the levels of a node and of the deepest value inside it
    for node in order:
        children = _children(node)
        sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in children), bound)
        heights[id(node)] = 1 + max((heights[id(child)] for child in children), default=0)
    if sizes[id(root)] - len(order) > MAX_ALIAS_EXPANSION:
        node = next(n for n in order if sizes[id(n)] > MAX_ALIAS_EXPANSION)
        message = f"YAML aliases repeat more than {MAX_ALIAS_EXPANSION:,} values in this file"
        return Excess.at("MD010", message, node)
    if heights[id(root)] > MAX_DEPTH:
        node = root
        for _ in range(MAX_DEPTH):  # down the deepest branch, to the first level too many
            node = max(_children(node), key=lambda child: heights[id(child)])
        return Excess.at("MD011", TOO_DEEP, node)
    return None


def written_too_deep(events: Iterable[Event]) -> Excess | None:
    """The first value of the parser's `events` nested more than `MAX_DEPTH` levels deep, if there is one before
    the events end or stop with a YAML error. Only the events up to that value are read, one at a time."""
    depth = 0  # the lists and mappings open around the next event
    try:
        for event in events:
            if isinstance(event, (ScalarEvent, AliasEvent, CollectionStartEvent)) and depth >= MAX_DEPTH:
                start, end = event.start_mark, event.end_mark
                return Excess("MD011", TOO_DEEP, start.index if start else 0, end.index if end else 0)
            if isinstance(event, CollectionStartEvent):
                depth += 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _children(node: Node) -> list[Node]:
    """The nodes directly inside `node`: a list's items, a mapping's keys and values."""
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _post_order(root: Node) -> tuple[list[Node], Node | None]:
    """Each distinct node once, in the order of the file with children before their parent; and a node
    that contains itself through an alias, if there is one (then the order is incomplete)."""
    order: list[Node] = []
    done: set[int] = set()
    open_nodes: set[int] = set()  # entered and not finished: the path from the root to the current node
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            done.add(key)
            order.append(node)
        elif key in open_nodes:
            return order, node
        elif key not in done:
            open_nodes.add(key)
            stack.append((node, True))
            stack += [(child, False) for child in reversed(_children(node))]
    return order, None
