"""The definitions a designer writes, as loaded from YAML (before expressions are checked)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from metricdsl.errors import Location
from metricdsl.spec.positions import FileText

COLUMN_TYPES = ("int", "float", "bool", "str", "datetime", "date", "duration")
GRAINS = ("day", "week", "month", "quarter", "year")
SEVERITIES = ("info", "warn", "fail")
DIRECTIONS = ("higher", "lower")
ON_INVALID = ("null", "error")  # what an invalid value becomes: missing (and reported), or a data error
# The encodings a CSV file may declare; without `encoding:`, UTF-8 with or without a byte-order mark.
CSV_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252")
DEFAULT_ZONE = "UTC"  # the time zone of a source whose spec names none, nor the project's `calendar:`

# The keys of a spec file and of each kind of definition: the loader reads these, `json_schema` describes them.
TOP_KEYS = ("sources", "metrics", "dashboards", "targets", "rules", "scorecards", "tests", "calendar")
SOURCE_KEYS = (
    "description",
    "path",
    "time",
    "timezone",
    "complete_until",
    "csv",
    "on_invalid",
    "entities",
    "columns",
    "derive",
)
COLUMN_KEYS = ("type", "unit", "format", "values", "range", "on_invalid", "description")
CSV_KEYS = (
    "separator",
    "decimal_comma",
    "encoding",
    "null_values",
    "true_values",
    "false_values",
    "skip_rows",
    "comment_prefix",
)
CALENDAR_KEYS = ("timezone", "week_start")
WEEK_STARTS = ("monday", "sunday")  # monday: ISO weeks, labelled 2026-W01; sunday: labelled by their first day
METRIC_KEYS = ("expr", "label", "short", "description", "unit", "better", "where", "min_n", "source", "trailing")
DASHBOARD_KEYS = ("metrics", "title", "description", "by", "grain", "scorecard", "sections")
THRESHOLD_KEYS = ("target", "warn", "fail")
TARGET_KEYS = (*THRESHOLD_KEYS, "when", "from", "until", "overrides")
OVERRIDE_KEYS = (*THRESHOLD_KEYS, "when", "from", "until")
RULE_KEYS = ("when", "severity", "message", "for", "description")
SCORECARD_KEYS = ("items", "cap", "title", "description")
ITEM_KEYS = ("weight", "floor", "ceiling", "critical")
TEST_KEYS = ("name", "given", "expect", "by", "grain", "tolerance", "ignore_min_n", "findings", "scorecard")

# Names containing this are reserved: the engine's hidden columns start with it (`__agg0`) and graded columns
# are named with it (`asa__status`, `<scorecard>__<metric>__points`), so a spec name containing it could
# collide with them.
RESERVED = "__"

Row: TypeAlias = dict[str, object]
"""A row of a spec test as written in YAML: column (or metric) names and their values."""


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


Value: TypeAlias = str | int | float | bool
"""A value a spec writes for a column: one of its `values:`."""


@dataclass(frozen=True)
class Column:
    """A declared column of a source: its type, and optionally its unit, text format, valid values and range.

    `type`, `values` and `range` define the valid values (`range` is inclusive, in the column's own unit);
    `on_invalid` says what an invalid value becomes: missing and reported ("null"), or a data error ("error");
    None defers to the source's `on_invalid`, whose default is "null". `format` is a strftime format for
    `datetime` and `date` columns read from text; None reads ISO 8601 only.
    """

    name: str
    type: str
    unit: str | None = None
    values: tuple[Value, ...] | None = None
    range: tuple[float, float] | None = None
    format: str | None = None
    on_invalid: str | None = None
    description: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class CsvDialect:
    """How a source's CSV files are written. Booleans match `true_values`/`false_values` in any case."""

    separator: str = ","
    decimal_comma: bool = False
    encoding: str | None = None  # one of CSV_ENCODINGS; None: UTF-8, with or without a byte-order mark
    null_values: tuple[str, ...] = ("",)
    true_values: tuple[str, ...] = ("true", "1", "yes", "y")
    false_values: tuple[str, ...] = ("false", "0", "no", "n")
    skip_rows: int = 0  # lines before the header
    comment_prefix: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class Source:
    """A source of rows: its columns, time column, entities and derived columns."""

    name: str
    columns: dict[str, Column]
    time: str | None = None
    entities: dict[str, str] = field(default_factory=dict)  # entity name → the column that identifies it
    derive: dict[str, ExprText] = field(default_factory=dict)
    path: Path | None = None
    timezone: str | None = None  # an IANA name; None: the project's `calendar:` zone, else DEFAULT_ZONE
    # The time up to which the data is complete, naive (local to the source's zone) or aware; None: its latest time.
    complete_until: datetime.datetime | None = None
    csv: CsvDialect = field(default_factory=CsvDialect)
    on_invalid: str = "null"  # the default of its columns' `on_invalid`
    description: str | None = None
    location: Location | None = None

    def on_invalid_of(self, column: str) -> str:
        """What an invalid value of `column` becomes: "null" (missing, and reported) or "error"."""
        return self.columns[column].on_invalid or self.on_invalid


@dataclass(frozen=True)
class Calendar:
    """Project-wide defaults for time: the zone that days, weeks, `hour()` and `date()` are local to, and the day
    weeks start on (`WEEK_STARTS`)."""

    timezone: str | None = None
    week_start: str = "monday"
    location: Location | None = None


# `trailing:` of a metric: a duration (`28d`, `4w`) or a number of periods (`4 periods`).
TRAILING = re.compile(r"^\s*(?P<amount>[1-9][0-9]{0,5})\s*(?P<unit>[smhdw]|periods?)\s*$")
DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Trailing:
    """The trailing window of a metric: `periods` periods ending with each period, or a duration in `seconds`
    ending at each period's end (a whole number of periods of the grain it is evaluated at)."""

    text: str
    periods: int | None = None
    seconds: int | None = None
    location: Location | None = None

    @classmethod
    def parse(cls, text: str, location: Location | None = None) -> Trailing | None:
        """`4w`, `28d` or `4 periods` (`1 period`); None for any other text."""
        found = TRAILING.match(text)
        if found is None:
            return None
        amount, unit = int(found["amount"]), found["unit"]
        if unit.startswith("period"):
            return cls(text.strip(), periods=amount, location=location)
        return cls(text.strip(), seconds=amount * DURATION_SECONDS[unit], location=location)


@dataclass(frozen=True)
class Metric:
    """A metric: an aggregate expression over the rows of a source (or of other metrics)."""

    name: str
    expr: ExprText
    label: str | None = None
    description: str | None = None
    unit: str | None = None
    better: str | None = None
    short: str | None = None  # a short label for table headers; the label stands for it when absent
    where: ExprText | None = None
    min_n: int | None = None
    source: str | None = None
    trailing: Trailing | None = None
    location: Location | None = None


@dataclass(frozen=True)
class DashboardSection:
    """A titled group of a dashboard's metrics, shown together in its report (`sections:`)."""

    title: str
    metrics: tuple[str, ...]
    location: Location | None = None
    places: dict[str, Location] = field(default_factory=dict, compare=False, repr=False)  # each metric's, by name


@dataclass(frozen=True)
class Dashboard:
    """A set of metrics to compute together, grouped by dimensions and a grain."""

    name: str
    metrics: tuple[str, ...]
    by: tuple[str, ...] = ()
    grain: str | None = None
    title: str | None = None
    scorecard: str | None = None
    sections: tuple[DashboardSection, ...] = ()  # in order; the metrics in none of them come after, untitled
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


# A `{expression}` in a rule's message: the expression is checked, its value formatted in the message.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Rule:
    """A finding raised for the groups where `when` holds, with its severity and message."""

    name: str
    when: ExprText
    severity: str = "warn"
    message: ExprText | None = None
    periods: int = 1  # fires only after this many consecutive periods
    description: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class ScorecardItem:
    """One metric of a scorecard: its weight, and the values that score 0 (`floor`) and 100 (`ceiling`)."""

    metric: str
    weight: float = 1.0
    floor: float = 0.0
    ceiling: float = 100.0
    critical: bool = False
    location: Location | None = None


@dataclass(frozen=True)
class Scorecard:
    """A weighted score out of 100 over several metrics, capped while a critical item fails."""

    name: str
    items: tuple[ScorecardItem, ...]
    cap: float = 50.0  # the most a group scores while a critical item fails
    title: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class WrittenBoolean:
    """A value of a `given` row (or of an `expect` row: `source` None) that YAML reads as a boolean (`NO`, `yes`,
    `on`, `true`), as written: where its column is no bool column, the writer meant the text (`country: NO`)."""

    source: str | None
    column: str
    text: str
    location: Location | None = None


@dataclass(frozen=True)
class SpecTest:
    """A unit test of the specs: rows `given` per source, and the metric values to `expect`."""

    name: str
    given: dict[str, list[Row]]
    expect: tuple[Row, ...]  # one row per group: dimension and grain values, then metric values
    by: tuple[str, ...] = ()
    grain: str | None = None
    tolerance: float = 1e-6
    ignore_min_n: bool = False
    findings: tuple[str, ...] | None = None  # the targets and rules expected to fire, when given
    scorecard: str | None = None  # whose `<scorecard>.score` the expectations may name
    location: Location | None = None
    expect_location: Location | None = None
    booleans: tuple[WrittenBoolean, ...] = ()  # the values of `given` rows that YAML read as booleans


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
    calendar: Calendar = field(default_factory=Calendar)

    def zone(self, source: str) -> str:
        """The IANA time zone that `source`'s times are local to."""
        return self.sources[source].timezone or self.calendar.timezone or DEFAULT_ZONE

    def shared_entity(self, source: str, other: str) -> str | None:
        """The first entity of `source` (in declared order) that `other` also has: a window's default key."""
        return next((e for e in self.sources[source].entities if e in self.sources[other].entities), None)
