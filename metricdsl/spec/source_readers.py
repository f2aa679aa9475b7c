"""Readers of a spec file's `sources`: each source's columns, time column, entities, derived columns and data path.

What a source's files hold (time zone, CSV dialect, `on_invalid`) and a column's domain are read by `data_keys`.

Each reader receives the file's `YamlReader`, as the loader's other readers do.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

from yaml.nodes import Node, ScalarNode, SequenceNode

from metricdsl.errors import DataError
from metricdsl.spec.data_keys import (
    Domain,
    fit_domain,
    read_csv,
    read_format,
    read_on_invalid,
    read_values,
    read_zone,
    value_nodes,
)
from metricdsl.spec.data_paths import leads_outside
from metricdsl.spec.definitions import COLUMN_KEYS, COLUMN_TYPES, SOURCE_KEYS, Column, CsvDialect, ExprText, Source
from metricdsl.spec.yaml_reader import YamlReader


class _SourceFields(TypedDict, total=False):
    description: str | None
    time: str | None
    path: Path | None
    timezone: str | None
    complete_until: datetime.datetime | None
    csv: CsvDialect
    on_invalid: str | None
    entities: dict[str, str]
    columns: dict[str, Column]
    derive: dict[str, ExprText]


def _entities(reader: YamlReader, node: Node) -> dict[str, str]:
    """Entity names and the column that identifies each (`customer: customer_id`)."""
    entities: dict[str, str] = {}
    for entity, key_node, value in reader.mapping(node):
        column = reader.text(value)
        if column is None:
            reader.report("MD005", f"entity `{entity}` names no column", key_node, f"write `{entity}: <column>`")
        else:
            entities[entity] = column
    return entities


def read_source(
    reader: YamlReader, name: str, name_node: Node, node: Node, project: Path | None = None, *, given: bool = False
) -> Source:
    """A source: its columns (required), time column, entities, derived columns and default path (inside
    `project` when given; one outside is left out when the source's data is `given` elsewhere)."""
    readers: dict[str, Callable[[Node], _SourceFields]] = {
        "description": lambda n: {"description": reader.text(n)},
        "time": lambda n: {"time": reader.text(n)},
        "path": lambda n: {"path": _data_path(reader, name, n, project, given)},
        "timezone": lambda n: {"timezone": read_zone(reader, n)},
        "complete_until": lambda n: {"complete_until": _complete_until(reader, n)},
        "csv": lambda n: {"csv": read_csv(reader, n)},
        "on_invalid": lambda n: {"on_invalid": read_on_invalid(reader, n)},
        "entities": lambda n: {"entities": _entities(reader, n)},
        "columns": lambda n: {"columns": _columns(reader, n)},
        "derive": lambda n: {"derive": _derived(reader, n)},
    }
    values: _SourceFields = {}
    for value in reader.fields(node, SOURCE_KEYS, readers):
        values.update(value)
    if "columns" not in values:
        reader.report("MD005", f"source `{name}` has no `columns`", name_node, "list its columns with their types")
    return Source(
        name=name,
        columns=values.get("columns", {}),
        time=values.get("time"),
        entities=values.get("entities", {}),
        derive=values.get("derive", {}),
        path=values.get("path"),
        timezone=values.get("timezone"),
        complete_until=values.get("complete_until"),
        csv=values.get("csv") or CsvDialect(),
        on_invalid=values.get("on_invalid") or "null",
        description=values.get("description"),
        location=reader.at(name_node),
    )


def _complete_until(reader: YamlReader, node: Node) -> datetime.datetime | None:
    """A source's `complete_until:`, a datetime: without an offset, local time in the source's zone."""
    value = reader.scalar(node, "a datetime")
    if isinstance(value, str):  # quoted, or with a `T` and an offset that YAML leaves as text
        with contextlib.suppress(ValueError):
            value = datetime.datetime.fromisoformat(value)
    if isinstance(value, datetime.datetime):
        return value
    if value is not None:
        hint = "write a datetime such as 2026-02-01T23:59:59 (local time in the source's `timezone:`)"
        reader.report("MD006", f"`complete_until: {value}` is not a datetime", node, hint)
    return None


def _data_path(reader: YamlReader, name: str, node: Node, project: Path | None, given: bool) -> Path | None:
    """A source's `path:`, relative to the spec file; None when it leads outside `project`: reported, unless the
    source's data is `given` in its place (then the path is never read, and left out so that nothing reads it)."""
    path = reader.path(node)
    try:
        reached = None if path is None or project is None else leads_outside(path, project)
    except DataError as error:  # a glob of too many files
        reader.report("MD006", f"the `path:` of source `{name}`: {error}", node)
        return None
    if path is None or reached is None:
        return path
    if given:
        return None
    written = reader.text(node)
    where = "leads" if reached == os.path.expanduser(path) else f"matches {reached}, which leads"
    hint = (
        "the project folder is the git work tree that holds the specs (outside one: the current folder, else the "
        f"specs' folder); move the data into it, give it with `--data {name}=FILE`, or pass --allow-outside-paths"
    )
    reader.report("MD009", f"the `path:` of source `{name}`, `{written}`, {where} outside the project folder", node, hint)
    return None


def _columns(reader: YamlReader, node: Node) -> dict[str, Column]:
    """The columns that could be read, by name."""
    columns = {name: _column(reader, name, name_node, value) for name, name_node, value in reader.mapping(node)}
    return {name: column for name, column in columns.items() if column is not None}


def _derived(reader: YamlReader, node: Node) -> dict[str, ExprText]:
    """The derived columns' expressions that could be read, by name."""
    derived: dict[str, ExprText | None] = {}
    for name, name_node, value in reader.mapping(node):
        if reader.check_name("derived column", name, name_node):
            derived[name] = reader.expr(value)
    return {name: expr for name, expr in derived.items() if expr is not None}


class _ColumnFields(Domain, total=False):
    type: str | None
    unit: str | None
    on_invalid: str | None
    description: str | None


def _column(reader: YamlReader, name: str, name_node: Node, node: Node) -> Column | None:
    """A column: its type alone (`int`), or a mapping with its `type`, unit, text format, valid values and range,
    `on_invalid` and description."""
    if not reader.check_name("column", name, name_node):
        return None
    if isinstance(node, ScalarNode):
        kind = reader.choice(node, COLUMN_TYPES)
        return Column(name, kind, location=reader.at(node)) if kind else None
    readers: dict[str, Callable[[Node], _ColumnFields]] = {
        "type": lambda n: {"type": reader.choice(n, COLUMN_TYPES)},
        "unit": lambda n: {"unit": reader.text(n)},
        "description": lambda n: {"description": reader.text(n)},
        "format": lambda n: {"format": read_format(reader, n)},
        "values": lambda n: {"values": read_values(reader, n)},
        "range": lambda n: {"range": _range(reader, n)},
        "on_invalid": lambda n: {"on_invalid": read_on_invalid(reader, n)},
    }
    values: _ColumnFields = {}
    for value in reader.fields(node, COLUMN_KEYS, readers):
        values.update(value)
    kind = values.get("type")
    if not kind:
        if "type" not in values:
            reader.report("MD005", f"column `{name}` has no `type`", node, f"one of: {', '.join(COLUMN_TYPES)}")
        return None
    domain = fit_domain(reader, name, kind, values, value_nodes(node))
    return Column(
        name=name,
        type=kind,
        unit=values.get("unit"),
        values=domain.get("values"),
        range=domain.get("range"),
        format=domain.get("format"),
        on_invalid=values.get("on_invalid"),
        description=values.get("description"),
        location=reader.at(node),
    )


def _bound(value: float | None) -> float | None:
    """A range bound as the engine can compare it: a whole number beyond 64 bits as the float nearest it."""
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        try:
            return float(value)
        except OverflowError:  # beyond every float: that end is open
            return math.copysign(math.inf, value)
    return value


def _range(reader: YamlReader, node: Node) -> tuple[float, float] | None:
    """`[low, high]`, inclusive: `[10, 0]` and a NaN bound are reported; an infinite bound (`.inf`, `-.inf`)
    leaves that end open."""
    hint = "write `range: [low, high]`: two numbers in the column's unit, both ends included, as `[0, 10]`"
    if not isinstance(node, SequenceNode) or len(node.value) != 2:
        reader.report("MD003", "expected a range `[low, high]`", node, hint)
        return None
    low, high = (_bound(reader.number(item, hint)) for item in node.value)
    for item, bound in zip(node.value, (low, high), strict=True):
        if bound is not None and math.isnan(bound):
            hint = "give a number; `.inf` or `-.inf` leaves that end open"
            reader.report("MD006", "a range bound is NaN: no value would be inside", item, hint)
            low = high = None
    if low is None or high is None:
        return None
    if low > high:
        reader.report(
            "MD006", f"range `[{low}, {high}]` has its low end above its high end", node, f"write `[{high}, {low}]`"
        )
        return None
    return low, high
