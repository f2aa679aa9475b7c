"""The definitions a designer writes, as loaded from YAML (before expressions are checked)."""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass, field
from pathlib import Path

from metricdsl.errors import Location

COLUMN_TYPES = ("int", "float", "bool", "str", "datetime", "date", "duration")
GRAINS = ("day", "week", "month", "quarter", "year")
SEVERITIES = ("info", "warn", "fail")
DIRECTIONS = ("higher", "lower")


@dataclass(frozen=True)
class FileText:
    """A spec file's text, to turn offsets into lines and columns."""

    path: str
    text: str
    line_starts: tuple[int, ...]

    @classmethod
    def of(cls, path: str, text: str) -> FileText:
        starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
        return cls(path, text, tuple(starts))

    def location(self, index: int, end_index: int | None = None) -> Location:
        """The location of character `index` (and of the span up to `end_index` on the same line)."""
        line = bisect.bisect_right(self.line_starts, index) - 1
        start = self.line_starts[line]
        stop = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.text)
        end_col = None
        if end_index is not None and end_index > index:
            end_col = min(end_index, stop) - start + 1
        return Location(self.path, line + 1, index - start + 1, end_col, self.text[start:stop].rstrip("\r"))


@dataclass(frozen=True)
class ExprText:
    """An expression string from a spec, with the file offset of each of its characters."""

    text: str
    file: FileText | None = field(default=None, repr=False, compare=False)
    offsets: tuple[int, ...] = field(default=(), repr=False, compare=False)
    # Where the YAML scalar stands in the file, quotes included, and its style ("", "'", '"', "|", ">").
    raw: tuple[int, int] = field(default=(0, 0), repr=False, compare=False)
    style: str = field(default="", repr=False, compare=False)

    def location(self, start: int, end: int | None = None) -> Location | None:
        """The file location of the characters `[start, end)` of the expression."""
        if self.file is None:
            return None
        last = len(self.offsets) - 1
        index = self.offsets[min(start, last)]
        end_index = self.offsets[min(end, last)] if end is not None else None
        return self.file.location(index, end_index)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    unit: str | None = None
    values: tuple[str, ...] | None = None
    range: tuple[float, float] | None = None
    description: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class Source:
    name: str
    columns: dict[str, Column]
    time: str | None = None
    entities: dict[str, str] = field(default_factory=dict)
    derive: dict[str, ExprText] = field(default_factory=dict)
    path: Path | None = None
    description: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class Metric:
    name: str
    expr: ExprText
    label: str | None = None
    description: str | None = None
    unit: str | None = None
    better: str | None = None
    where: ExprText | None = None
    min_n: int | None = None
    source: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class Dashboard:
    name: str
    metrics: tuple[str, ...]
    by: tuple[str, ...] = ()
    grain: str | None = None
    title: str | None = None
    scorecard: str | None = None
    location: Location | None = None
    # Where each listed metric and dimension is written, for diagnostics.
    places: dict[str, Location] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Thresholds:
    """A metric's thresholds (`target`, `warn`, `fail` as comparisons with the metric on the left),
    for the groups matching `when` and the periods between `start` and `until`."""

    target: ExprText | None = None
    warn: ExprText | None = None
    fail: ExprText | None = None
    when: ExprText | None = None
    start: datetime.date | None = None
    until: datetime.date | None = None
    location: Location | None = None


@dataclass(frozen=True)
class Target:
    """The thresholds of one metric: overrides first (the first that applies wins), then the base."""

    metric: str
    base: Thresholds
    overrides: tuple[Thresholds, ...] = ()
    location: Location | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    when: ExprText
    severity: str = "warn"
    message: ExprText | None = None
    periods: int = 1  # fires only after this many consecutive periods
    description: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class ScorecardItem:
    metric: str
    weight: float = 1.0
    floor: float = 0.0
    ceiling: float = 100.0
    critical: bool = False
    location: Location | None = None


@dataclass(frozen=True)
class Scorecard:
    name: str
    items: tuple[ScorecardItem, ...]
    cap: float = 50.0  # the most a group scores while a critical item fails
    title: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class SpecTest:
    """A unit test of the specs: rows `given` per source, and the metric values to `expect`."""

    name: str
    given: dict[str, list[dict]]
    expect: tuple[dict, ...]  # one row per group: dimension and grain values, then metric values
    by: tuple[str, ...] = ()
    grain: str | None = None
    tolerance: float = 1e-6
    ignore_min_n: bool = False
    findings: tuple[str, ...] | None = None  # the targets and rules expected to fire, when given
    scorecard: str | None = None  # whose `<scorecard>.score` the expectations may name
    location: Location | None = None
    expect_location: Location | None = None


@dataclass
class Definitions:
    """Everything loaded from a project's files, by kind and name."""

    sources: dict[str, Source] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    dashboards: dict[str, Dashboard] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    scorecards: dict[str, Scorecard] = field(default_factory=dict)
    tests: list[SpecTest] = field(default_factory=list)

    def shared_entity(self, source: str, other: str) -> str | None:
        """The first entity of `source` (in declared order) that `other` also has: a window's default key."""
        return next((e for e in self.sources[source].entities if e in self.sources[other].entities), None)
