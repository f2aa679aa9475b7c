"""The definitions of two versions of the specs compared: added, removed, renamed and changed, and what each reaches.

Definitions are compared as canonical text (`canonical_texts`): expressions printed from their checked trees
(`metricdsl.language.printer`), every other key in one order, comments and layout gone, so reformatting is no change.
An item removed and one of its kind added with the same text is a rename; references to a renamed definition (in
expressions, dashboards, scorecards, and a renamed metric's target) are then compared under the new name. What a
change reaches comes from the dependency graph (`metricdsl.semantics.graph`). Records only, no text.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast

from metricdsl.errors import Location
from metricdsl.language import ast
from metricdsl.language.printer import format_expr
from metricdsl.project import Project
from metricdsl.semantics.graph import dependency_graph, impact
from metricdsl.semantics.model import Model
from metricdsl.spec.definitions import PLACEHOLDER, ExprText, Metric

KINDS = ("calendar", "source", "column", "derived", "metric", "target", "rule", "scorecard", "dashboard")
REACHED_KINDS = ("derived", "metric", "target", "rule", "scorecard", "dashboard")
ChangeKind = Literal["added", "removed", "renamed", "changed"]
Key = tuple[str, str]  # (kind, name): ("metric", "nps"), ("column", "interactions.wait_s")


@dataclasses.dataclass(frozen=True)
class Change:
    """One definition added, removed, renamed or changed: its kind and name (the head's; the base's when removed),
    its canonical text and `file:line` on each side (None where it is absent), and what depends on it (`reach`:
    graph nodes such as `metric:loyalty_index`, nearest first)."""

    kind: str
    name: str
    change: ChangeKind
    old_name: str | None
    old_text: str | None
    new_text: str | None
    old_place: str | None
    new_place: str | None
    reach: tuple[str, ...]


def definition_changes(base: Project, head: Project) -> tuple[list[Change], dict[Key, str]]:
    """The definitions added, removed, renamed and changed from `base` to `head`, and the renames: each base item's
    key to its new name."""
    plain = canonical_texts(base.model, {})
    after = canonical_texts(head.model, {})
    renames = _renames(plain, after)
    before = {_renamed(key, renames): text for key, text in canonical_texts(base.model, renames).items()}
    places = {_renamed(key, renames): place for key, place in _places(base.model).items()}
    head_places = _places(head.model)
    old_names = {_renamed(key, renames): key[1] for key in _definitions(base.model)}
    graphs = (dependency_graph(base.model), dependency_graph(head.model))
    changes = []
    for key in sorted({*before, *after}, key=lambda k: (KINDS.index(k[0]), k[1])):
        old, new = before.get(key), after.get(key)
        base_name = old_names.get(key)
        renamed = base_name is not None and base_name != key[1] and (key[0], base_name) in renames
        renamed = renamed and not _follows(key[0], base_name or "", key[1], renames)
        if old == new and not renamed:
            continue
        change: ChangeKind = "added" if old is None else "removed" if new is None else "renamed" if renamed else "changed"
        graph = graphs[0] if new is None else graphs[1]
        node = f"{key[0]}:{key[1]}"
        if key[0] == "calendar":  # its zone and the day weeks start on: the days and weeks of every source
            graph = {**graph, node: {f"source:{name}" for name in head.definitions.sources}}
        reach = tuple(n for n in impact(graph, node) if n.partition(":")[0] in REACHED_KINDS)
        changes.append(
            Change(
                key[0],
                key[1],
                change,
                base_name if renamed else None,
                old,
                new,
                places.get(key),
                head_places.get(key),
                reach,
            )
        )
    return changes, renames


def _renames(plain: Mapping[Key, str], after: Mapping[Key, str]) -> dict[Key, str]:
    """Each base item renamed in the head, by its key: a source, then the columns and derived columns that follow it
    under its new name, then any item removed whose text is that of one added, when no other removed or added item of
    its kind has that text (two twins renamed at once are removed and added, not a guess)."""
    removed = [key for key in plain if key not in after]
    added = [key for key in after if key not in plain]
    renames: dict[Key, str] = {}
    for stage in (("source",), ("column", "derived"), tuple(KINDS)):
        for key in removed:
            if key in renames or key[0] not in stage:
                continue
            source, _, item = key[1].partition(".")
            if key[0] in ("column", "derived") and ("source", source) in renames:
                follower = (key[0], f"{renames['source', source]}.{item}")
                if follower in added:
                    renames[key] = follower[1]
                continue
            if stage == ("column", "derived"):
                continue
            twins = [k for k in added if k[0] == key[0] and after[k] == plain[key] and k[1] not in renames.values()]
            alike = [k for k in removed if k[0] == key[0] and plain[k] == plain[key] and k not in renames]
            if len(twins) == 1 and len(alike) == 1:
                renames[key] = twins[0][1]
    return renames


def _follows(kind: str, old: str, new: str, renames: Mapping[Key, str]) -> bool:
    """Whether a column or derived column renamed `old` → `new` only follows its renamed source."""
    source, _, item = old.partition(".")
    return (
        kind in ("column", "derived")
        and renames.get(("source", source)) == new.partition(".")[0]
        and item == new.partition(".")[2]
    )


def _renamed(key: Key, renames: Mapping[Key, str]) -> Key:
    """A base item's key under the head's names: a renamed item's new name; a target follows its renamed metric."""
    if key in renames:
        return key[0], renames[key]
    if key[0] == "target" and ("metric", key[1]) in renames:
        return key[0], renames["metric", key[1]]
    return key


def _definitions(model: Model) -> dict[Key, object]:
    """Every definition compared, by kind and name."""
    defs = model.definitions
    items: dict[Key, object] = {("calendar", "calendar"): defs.calendar}  # written or not: its defaults
    for name, source in defs.sources.items():
        items["source", name] = source
        items.update({("column", f"{name}.{c}"): column for c, column in source.columns.items()})
        items.update({("derived", f"{name}.{d}"): text for d, text in source.derive.items()})
    for kind, table in (
        ("metric", defs.metrics),
        ("target", defs.targets),
        ("rule", defs.rules),
        ("scorecard", defs.scorecards),
        ("dashboard", defs.dashboards),
    ):
        items.update({(kind, name): item for name, item in table.items()})
    return items


def _places(model: Model) -> dict[Key, str]:
    """Where each definition is written: `file:line`."""
    places = {}
    for key, item in _definitions(model).items():
        location: Location | None = item.location(0) if isinstance(item, ExprText) else getattr(item, "location", None)
        if location is not None:
            places[key] = f"{location.file}:{location.line}"
    return places


# The fields left out of the canonical text: names (the key), places, and what is compared as items of its own.
_LEFT_OUT = {"name", "location", "places", "columns", "derive", "file", "offsets", "raw", "style"}
# Fields that name other definitions: compared under their new names after a rename.
_NAMING = {"metrics": "metric", "metric": "metric", "scorecard": "scorecard", "source": "source"}


def canonical_texts(model: Model, renames: Mapping[Key, str]) -> dict[Key, str]:
    """The canonical text of each definition of `model`, by kind and name: one `key: value` line per key that is
    set, expressions printed from their checked trees, names of renamed items (`renames`) written as their new ones."""
    printer = _Printer(model, renames)
    return {key: printer.definition(key[0], item) for key, item in _definitions(model).items()}


class _Printer:
    def __init__(self, model: Model, renames: Mapping[Key, str]) -> None:
        self.model = model
        self.renames = renames
        self.trees: dict[int, ast.Expr] = {}
        self.messages: dict[int, dict[str, ast.Expr]] = {}
        for checked in model.metrics.values():
            self.trees[id(checked.metric.expr)] = checked.tree
            if checked.metric.where is not None and checked.where is not None:
                self.trees[id(checked.metric.where)] = checked.where
        for source in model.sources.values():
            self.trees.update({id(source.source.derive[d]): tree for d, tree in source.derived.items()})
        for target in model.targets.values():
            for levels in (target.base, *target.overrides):
                for level in ("target", "warn", "fail", "when"):
                    text, tree = getattr(levels.thresholds, level), getattr(levels, level)
                    if text is not None and tree is not None:
                        self.trees[id(text)] = tree
        for rule in model.rules.values():
            self.trees[id(rule.rule.when)] = rule.when
            if rule.rule.message is not None:
                self.messages[id(rule.rule.message)] = dict(rule.placeholders)

    def definition(self, kind: str, item: object) -> str:
        if isinstance(item, ExprText):
            return self.expr(item)
        if isinstance(item, Metric) and item.name in self.model.metrics:  # its source as read, written or implied
            item = dataclasses.replace(item, source=self.model.metrics[item.name].source)
        lines = []
        for name, value in self.fields(item):
            if kind == "target" and name == "metric":
                continue
            lines.append(f"{name}: {self.value(value, _NAMING.get(name))}")
        return "\n".join(lines)

    def fields(self, item: object) -> list[tuple[str, object]]:
        assert dataclasses.is_dataclass(item)
        found = []
        for field in dataclasses.fields(item):
            value = getattr(item, field.name)
            if field.name in _LEFT_OUT or value is None or value == () or value == {}:
                continue
            if field.default is not dataclasses.MISSING and value == field.default:
                continue  # a default written or not is the same definition
            found.append((field.name, value))
        return found

    def value(self, value: object, names: str | None = None) -> str:
        if isinstance(value, ExprText):
            return self.expr(value)
        if isinstance(value, str):
            return self.renames.get((names, value), value) if names else _scalar(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (datetime.date, Path)):
            return str(value)
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, (tuple, list)):
            return "[" + ", ".join(self.value(v, names) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{_scalar(str(k))}: {self.value(v)}" for k, v in value.items()) + "}"
        if dataclasses.is_dataclass(value):
            return "{" + ", ".join(f"{k}: {self.value(v, _NAMING.get(k))}" for k, v in self.fields(value)) + "}"
        return _scalar(str(value))

    def expr(self, text: ExprText) -> str:
        if id(text) in self.messages:
            trees = self.messages[id(text)]
            return _scalar(
                PLACEHOLDER.sub(lambda m: "{" + (self.tree(trees[m[1]]) if m[1] in trees else m[1]) + "}", text.text.strip())
            )
        tree = self.trees.get(id(text))
        return " ".join(text.text.split()) if tree is None else self.tree(tree)

    def tree(self, tree: ast.Expr) -> str:
        return " ".join(format_expr(_substituted(tree, self.model, self.renames)).split())


def _substituted(node: ast.Expr, model: Model, renames: Mapping[Key, str]) -> ast.Expr:
    """`node` with the names of renamed definitions written as their new ones."""

    def rebuild(value: Any) -> Any:
        if isinstance(value, ast.Name):
            ref = model.refs.get(id(value))
            key = None if ref is None else (ref.kind, f"{ref.source}.{ref.name}" if ref.source else ref.name)
            return ast.Name(renames[key].rpartition(".")[2]) if key is not None and key in renames else value
        if isinstance(value, tuple):
            return tuple(rebuild(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changed = {f.name: rebuild(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "span"}
            return dataclasses.replace(value, **changed)
        return value

    return cast(ast.Expr, rebuild(node)) if renames else node


def _scalar(text: str) -> str:
    """A text as a YAML scalar: plain when it reads back as itself, else double-quoted."""
    plain = text and text.strip() == text and not any(c in text for c in ":#{}[],\"'\n&*!|>%@`") and text[0] not in "-?"
    return text if plain else json.dumps(text, ensure_ascii=False)
