"""The dependency graph as text (one line per node and its dependents), Mermaid or Graphviz DOT."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set

from metricdsl.render.terminal import inline
from metricdsl.semantics.graph import Node

Graph = Mapping[Node, Set[Node]]
FORMATS = ("text", "mermaid", "dot")


def render_graph(graph: Graph, output_format: str) -> str:
    """The graph in `output_format` (one of `FORMATS`), nodes and edges sorted."""
    return RENDERERS[output_format](graph)


def as_text(graph: Graph) -> str:
    """One line per node: `node -> dependent, dependent`, names written on one line (`terminal.inline`)."""
    return "\n".join(f"{inline(node)} -> {', '.join(inline(n) for n in sorted(graph[node]))}" for node in sorted(graph))


def as_mermaid(graph: Graph) -> str:
    """A Mermaid flowchart: each node an id and its quoted label, escaped (`_mermaid_label`)."""
    edges = _edges(graph)
    ids = {n: f"n{i}" for i, n in enumerate(sorted({n for edge in edges for n in edge}))}
    lines = ["flowchart LR", *(f"  {ids[n]}[{_mermaid_label(n)}]" for n in ids)]
    return "\n".join(lines + [f"  {ids[a]} --> {ids[b]}" for a, b in edges])


def as_dot(graph: Graph) -> str:
    """A Graphviz digraph, left to right, with quoted node ids."""
    lines = ["digraph metricdsl {", "  rankdir=LR;"]
    return "\n".join(lines + [f"  {_dot_id(a)} -> {_dot_id(b)};" for a, b in _edges(graph)] + ["}"])


def impact_report(changed: Node, affected: list[Node]) -> str:
    """What changes when `changed` does: `metric:nps affects 3:` and one node a line."""
    return f"{inline(changed)} affects {len(affected)}:" + "".join(f"\n  {inline(node)}" for node in affected)


def _edges(graph: Graph) -> list[tuple[Node, Node]]:
    return sorted((node, dependent) for node, dependents in graph.items() for dependent in dependents)


def _mermaid_label(node: Node) -> str:
    """A quoted label shown as written: Mermaid's entity codes for `#` (first, as each code starts with one), `"`,
    `<`, `>`, `&` (HTML in a label) and a backtick (which starts a Markdown string), on one line."""
    label = inline(node).replace("#", "#35;")
    for char, code in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("&", "#amp;"), ("`", "#96;")):
        label = label.replace(char, code)
    return f'"{label}"'


def _dot_id(node: Node) -> str:
    """A quoted DOT id, on one line: `\\` and `"` backslash-escaped (a backslash also starts an escape in a label)."""
    return '"' + inline(node).replace("\\", "\\\\").replace('"', '\\"') + '"'


RENDERERS: dict[str, Callable[[Graph], str]] = {"text": as_text, "mermaid": as_mermaid, "dot": as_dot}
