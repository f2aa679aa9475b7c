"""Load spec files: YAML (safely) → `Definitions`, every node with its file, line and column."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from metricdsl.errors import Diagnostic, did_you_mean
from metricdsl.spec.definitions import (
    COLUMN_TYPES,
    DIRECTIONS,
    GRAINS,
    Column,
    Dashboard,
    Definitions,
    ExprText,
    FileText,
    Metric,
    Source,
)
from metricdsl.spec.grading_readers import GradingReaders, describe_node

TOP_KEYS = ("sources", "metrics", "dashboards", "targets", "rules", "scorecards", "tests")
SOURCE_KEYS = ("description", "path", "time", "entities", "columns", "derive")
COLUMN_KEYS = ("type", "unit", "values", "range", "description")
METRIC_KEYS = ("expr", "label", "description", "unit", "better", "where", "min_n", "source")
DASHBOARD_KEYS = ("metrics", "title", "description", "by", "grain", "scorecard")
SPEC_SUFFIXES = (".yaml", ".yml")
# libyaml's safe loader when PyYAML was built with it (several times faster); same nodes and marks.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def spec_files(paths: list[str | Path]) -> list[Path]:
    """The YAML files named by `paths`: files as given, folders searched recursively, in order."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def load_files(paths: list[str | Path]) -> tuple[Definitions, list[Diagnostic]]:
    """Read every spec file under `paths`; return what loaded and every problem found."""
    loader = _Loader()
    files = spec_files(paths)
    if not files:
        loader.report("MD002", f"no spec files (*.yaml, *.yml) found in {', '.join(map(str, paths))}", None)
    for path in files:
        loader.load_file(path)
    return loader.definitions, loader.diagnostics


def load_text(path: str, text: str) -> tuple[Definitions, list[Diagnostic]]:
    """Load one spec file's `text` as if read from `path`."""
    loader = _Loader()
    loader.load_text(path, text)
    return loader.definitions, loader.diagnostics


def expressions(definitions: Definitions) -> list[ExprText]:
    """Every expression string of the definitions, in the order they were loaded."""
    found = [text for source in definitions.sources.values() for text in source.derive.values()]
    for metric in definitions.metrics.values():
        found += [metric.expr] + ([metric.where] if metric.where else [])
    return found


class _Loader(GradingReaders):
    def __init__(self) -> None:
        self.definitions = Definitions()
        self.diagnostics: list[Diagnostic] = []
        self.file: FileText | None = None

    def report(self, code: str, message: str, node: Node | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic.make(code, message, self.at(node), hint))

    def at(self, node: Node | None):
        if node is None or self.file is None:
            return None
        return self.file.location(node.start_mark.index, node.end_mark.index)

    def load_file(self, path: Path) -> None:
        self.file = None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.report("MD002", f"cannot read {path}: {getattr(error, 'strerror', None) or error}", None)
            return
        self.load_text(str(path), text)

    def load_text(self, path: str, text: str) -> None:
        self.file = FileText.of(path, text)
        try:
            root = yaml.compose(text, Loader=YAML_LOADER)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            index = mark.index if mark else 0
            self.diagnostics.append(
                Diagnostic.make(
                    "MD001",
                    f"{error.problem or 'invalid YAML'} {error.context or ''}".strip(),
                    self.file.location(min(index, max(len(text) - 1, 0))),
                )
            )
            return
        except yaml.YAMLError as error:
            self.report("MD001", str(error), None)
            return
        except RecursionError:
            self.diagnostics.append(Diagnostic.make("MD001", "the YAML is nested too deeply to read", self.file.location(0)))
            return
        if root is None:
            return
        for key, key_node, value in self.mapping(root, TOP_KEYS):
            if key == "tests":
                self.tests(value)
                continue
            load_one = {
                "sources": self.source,
                "metrics": self.metric,
                "dashboards": self.dashboard,
                "targets": self.target,
                "rules": self.rule,
                "scorecards": self.scorecard,
            }[key]
            for name, name_node, body in self.mapping(value):
                self.define(key, name, name_node, load_one(name, name_node, body))

    def scalar_tree(self, node: Node):
        """A YAML value as plain Python data (mappings, lists, scalars); None if it cannot be."""
        return self.construct(node, deep=True)

    def construct(self, node: Node, deep: bool = False):
        try:
            return yaml.SafeLoader("").construct_object(node, deep=deep)
        except yaml.YAMLError as error:  # an unknown tag such as `!foo`, a bad timestamp...
            problem = getattr(error, "problem", None) or str(error)
            self.report("MD003", f"unsupported YAML value: {problem}", node)
            return None

    def define(self, kind: str, name: str, node: Node, definition) -> None:
        if definition is None:
            return
        table = getattr(self.definitions, kind)
        if name in table:
            earlier = table[name].location
            where = f" (first defined at {earlier.file}:{earlier.line})" if earlier else ""
            self.report("MD007", f"{kind[:-1]} `{name}` is defined twice{where}", node)
            return
        table[name] = definition

    # -- YAML shapes ------------------------------------------------------------------------------

    def mapping(self, node: Node, allowed: tuple[str, ...] | None = None) -> Iterator[tuple[str, Node, Node]]:
        """The (key, key node, value node) items of a mapping; unknown or repeated keys reported."""
        if not isinstance(node, MappingNode):
            self.report("MD003", f"expected a mapping, found {describe_node(node)}", node)
            return
        seen: set[str] = set()
        for key_node, value in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else ""
            if allowed is not None and key not in allowed:
                hint = did_you_mean(key, allowed) or f"known keys: {', '.join(allowed)}"
                self.report("MD004", f"unknown key `{key}`", key_node, hint)
                continue
            if key in seen:
                self.report("MD007", f"key `{key}` appears twice in one mapping", key_node)
                continue
            seen.add(key)
            yield key, key_node, value

    def scalar(self, node: Node, what: str = "a single value"):
        if not isinstance(node, ScalarNode):
            self.report("MD003", f"expected {what}, found {describe_node(node)}", node)
            return None
        return self.construct(node)

    def text(self, node: Node) -> str | None:
        value = self.scalar(node, "text")
        return None if value is None else str(value)

    def number(self, node: Node, kind: type = float) -> float | None:
        value = self.scalar(node, "a number")
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int))
        ):
            self.report("MD006", f"expected {'a whole number' if kind is int else 'a number'}, found `{value}`", node)
            return None
        return value

    def texts(self, node: Node) -> tuple[str, ...]:
        if isinstance(node, ScalarNode):
            one = self.text(node)
            return (one,) if one else ()
        if not isinstance(node, SequenceNode):
            self.report("MD003", f"expected a list, found {describe_node(node)}", node)
            return ()
        return tuple(t for t in (self.text(item) for item in node.value) if t is not None)

    def choice(self, node: Node, allowed: tuple[str, ...]) -> str | None:
        value = self.text(node)
        if value is not None and value not in allowed:
            hint = did_you_mean(value, allowed) or f"one of: {', '.join(allowed)}"
            self.report("MD006", f"`{value}` is not one of {', '.join(allowed)}", node, hint)
            return None
        return value

    def expr(self, node: Node) -> ExprText | None:
        if not isinstance(node, ScalarNode):
            self.report("MD003", f"expected an expression, found {describe_node(node)}", node)
            return None
        assert self.file is not None
        return ExprText(
            node.value,
            self.file,
            _scalar_offsets(self.file.text, node),
            (node.start_mark.index, node.end_mark.index),
            node.style or "",
        )

    def fields(self, node: Node, allowed: tuple[str, ...], readers: dict[str, Callable[[Node], object]]) -> dict:
        return {key: readers[key](value) for key, _, value in self.mapping(node, allowed)}

    # -- definitions ------------------------------------------------------------------------------

    def source(self, name: str, name_node: Node, node: Node) -> Source | None:
        readers: dict[str, Callable[[Node], object]] = {
            "description": self.text,
            "time": self.text,
            "path": self.path,
            "entities": lambda n: {k: self.text(v) for k, _, v in self.mapping(n)},
            "columns": lambda n: {k: self.column(k, v) for k, _, v in self.mapping(n)},
            "derive": lambda n: {k: self.expr(v) for k, _, v in self.mapping(n)},
        }
        values = self.fields(node, SOURCE_KEYS, readers)
        if "columns" not in values:
            self.report("MD005", f"source `{name}` has no `columns`", name_node, "list its columns with their types")
        values["columns"] = {k: c for k, c in values.get("columns", {}).items() if c is not None}
        values["derive"] = {k: e for k, e in values.get("derive", {}).items() if e is not None}
        return Source(name=name, location=self.at(name_node), **values)

    def path(self, node: Node) -> Path | None:
        value = self.text(node)
        if value is None or self.file is None:
            return None
        return Path(os.path.normpath(Path(self.file.path).parent / value))

    def column(self, name: str, node: Node) -> Column | None:
        if isinstance(node, ScalarNode):
            kind = self.choice(node, COLUMN_TYPES)
            return Column(name, kind, location=self.at(node)) if kind else None
        readers: dict[str, Callable[[Node], object]] = {
            "type": lambda n: self.choice(n, COLUMN_TYPES),
            "unit": self.text,
            "description": self.text,
            "values": self.texts,
            "range": self.range,
        }
        values = self.fields(node, COLUMN_KEYS, readers)
        if not values.get("type"):
            if "type" not in values:
                self.report("MD005", f"column `{name}` has no `type`", node, f"one of: {', '.join(COLUMN_TYPES)}")
            return None
        return Column(name=name, location=self.at(node), **values)

    def range(self, node: Node) -> tuple[float, float] | None:
        if not isinstance(node, SequenceNode) or len(node.value) != 2:
            self.report("MD003", "expected a range `[low, high]`", node)
            return None
        low, high = (self.number(item) for item in node.value)
        return None if low is None or high is None else (low, high)

    def metric(self, name: str, name_node: Node, node: Node) -> Metric | None:
        if isinstance(node, ScalarNode):  # shorthand: `name: expression`
            expr = self.expr(node)
            return Metric(name, expr, location=self.at(name_node)) if expr else None
        readers: dict[str, Callable[[Node], object]] = {
            "expr": self.expr,
            "where": self.expr,
            "label": self.text,
            "description": self.text,
            "unit": self.text,
            "source": self.text,
            "better": lambda n: self.choice(n, DIRECTIONS),
            "min_n": lambda n: self.number(n, int),
        }
        values = self.fields(node, METRIC_KEYS, readers)
        if values.get("expr") is None:
            if "expr" not in values:
                self.report("MD005", f"metric `{name}` has no `expr`", name_node, "add `expr: <expression>`")
            return None
        return Metric(name=name, location=self.at(name_node), **values)

    def dashboard(self, name: str, name_node: Node, node: Node) -> Dashboard | None:
        readers: dict[str, Callable[[Node], object]] = {
            "metrics": self.texts,
            "by": self.texts,
            "title": self.text,
            "description": self.text,
            "grain": lambda n: self.choice(n, GRAINS),
            "scorecard": self.text,
        }
        values = self.fields(node, DASHBOARD_KEYS, readers)
        values.pop("description", None)
        if "metrics" not in values:
            self.report("MD005", f"dashboard `{name}` has no `metrics`", name_node)
            return None
        places = {}
        for key_node, listed in node.value if isinstance(node, MappingNode) else ():
            items = listed.value if isinstance(listed, SequenceNode) else [listed]
            if key_node.value in ("metrics", "by", "scorecard"):
                places.update(
                    {f"{key_node.value}:{item.value}": self.at(item) for item in items if isinstance(item, ScalarNode)}
                )
        return Dashboard(name=name, location=self.at(name_node), places=places, **values)


def _scalar_offsets(text: str, node: ScalarNode) -> tuple[int, ...]:
    """The file offset of every character of a scalar's value, and of its end.

    Quoting, escapes, folding and block indentation make the value differ from the raw text, so
    the value is aligned with the raw text character by character.
    """
    start, end = node.start_mark.index, node.end_mark.index
    raw = text[start:end]
    cursor = 0
    if node.style in ("|", ">"):
        cursor = raw.find("\n") + 1
    elif node.style in ('"', "'"):
        cursor = 1
    offsets = []
    for char in node.value:
        probe = cursor
        while probe < len(raw) and raw[probe] != char and not (char.isspace() and raw[probe].isspace()):
            probe += 1
        if probe >= len(raw):
            probe = min(cursor, len(raw) - 1) if raw else 0
        offsets.append(start + probe)
        cursor = probe + 1
    offsets.append(start + min(cursor, len(raw)))
    return tuple(offsets)
