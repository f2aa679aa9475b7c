"""An independent evaluator of checked metrics over plain Python rows: the oracle of the differential tests.

It walks the checked trees row by row and group by group, slowly and obviously, and uses no Polars:
the compiled path must give the same numbers. Its semantics are the contract of DESIGN.md §3 and §4a:

- nulls are `None`; arithmetic and comparisons with null give null, `and`/`or`/`not` are three-valued;
  division and `%` by zero give null;
- aggregates read the rows that pass their own `where` and the metric's `where`, and skip null inputs;
- groups are the distinct keys (`by` columns, then the grain of the time column) of all the unfiltered
  rows of the sources the metrics read;
- a metric whose number of observations is below its `min_n` is null;
- a metric's `where` filters the rows of its aggregates and of every metric it uses, down to their aggregates;
- `prev(m)` is m's value in the group with the same dimensions and the period just before (null when there
  is no such group); a trailing metric aggregates the rows of its group's period and of the periods before it
  that its window spans (`4w` at week grain: 4 periods), with the same dimensions;
- `value=COL` of a window is COL of the nearest row found (the first after `t`, the latest before), the least
  non-null value of the rows at that time; `count=true` the number of rows found, `sum=COL` the sum of their
  non-null values of COL (0 when none); all three are null where the boolean window is;
- `of_total(m)` is m in the group over m computed from the rows of all the groups of its period (the metric alone
  grouped by the grain only), null when that is 0 or null; `spread(m, dim)` is the largest minus the smallest value
  of m computed per group, period and value of `dim`, over the values of `dim` that are not null and have rows in the
  group's period; either is pending when a value it reads is;
- windows at the edge of the data are censored: `followed_by(S, W)` of a row at `t` is null when `t + W` is after
  S's horizon (`as_of`, else S's `complete_until`, else its latest time; none when S has no times), `preceded_by(S,
  W)` when `t - W` is before S's first time; a metric is pending in a group when one of its aggregates (or of the
  metrics it uses) reads a censored window on a row that its filters do not exclude (a null filter does not), and
  a group is provisional when one of the requested metrics is pending there (the `provisional` key is there only
  when one of them reads a window);
- with a grain, every group (distinct `by` values) has every period from the first to the last of the data (or of
  `start`, `end`: then only those periods), the empty ones with no rows; rows without a time keep their own group,
  outside a range;
- times are local to their source's zone (`zoneinfo`, not Polars): naive datetimes in the data are local
  time there, aware ones are instants; the evaluator keeps every datetime as an instant in UTC, so that
  arithmetic and windows are exact elapsed time, and turns it into local time only for days, weeks, hours
  and weekdays; a date that meets a datetime is the first moment of that local day;
- declared domains (DESIGN.md §4a) hold before anything else: a value is invalid, and becomes null, when its
  column declares a `range` (int, float, and duration in the column's time unit, seconds by default) and the
  value lies outside it (both ends included), when its
  column declares `values` and the value is not one of them, or when it is a NaN or an infinity in a float
  column. `invalid_counts()` counts the rows with an invalid value, per source and column, as the
  data-quality report does.
"""

from __future__ import annotations

import datetime
import math
import operator
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from metricdsl.language import ast
from metricdsl.language.functions import AGGREGATES, PERCENTILES, WINDOWS, window_form
from metricdsl.language.units import TIME_UNITS
from metricdsl.semantics.model import CheckedMetric, Model
from metricdsl.spec.definitions import Column

Row = dict[str, Any]
GroupKey = tuple[Any, ...]
UTC = datetime.timezone.utc


def evaluate_reference(
    model: Model,
    data: dict[str, list[Row]],
    metrics: list[str],
    by: list[str] | tuple[str, ...] = (),
    grain: str | None = None,
    as_of: datetime.datetime | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> list[Row]:
    """The metrics of every group: one dict per group with the `by` columns, the grain, then the metrics, and
    `provisional` when one of them reads a window."""
    valid = {source: _within_domains(model, source, rows) for source, rows in data.items()}
    tables = _Tables(model, {source: _instants(model, source, rows) for source, rows in valid.items()}, as_of=as_of)
    order = model.metric_order(list(metrics))
    sources = sorted({s for name in order if (s := model.metrics[name].source) is not None})
    labels = [*by, grain] if grain else list(by)
    groups = _groups(tables, sources, list(by), grain)
    if grain:
        groups = _complete_periods(tables, sources, groups, grain, start, end, len(by))
    windowed = any(reads_window(model, name) for name in metrics)
    evaluation = _Evaluation(tables, groups, grain, tuple(by), (start, end), set(_groups(tables, sources, list(by), grain)))
    result = []
    for key in groups:
        if grain and not _in_range(key[-1], grain, start, end, tables.model.definitions.calendar.week_start):
            continue
        row = {**dict(zip(labels, key, strict=True)), **{name: evaluation.metric(name, key)[0] for name in metrics}}
        if windowed:
            row["provisional"] = any(evaluation.pending(name, key) for name in metrics)
        result.append(row)
    return result


def _in_range(label: Any, grain: str, start: datetime.date | None, end: datetime.date | None, week_start: str) -> bool:
    """Whether the period labelled `label` lies from the period of `start` to that of `end` (open ends when not
    given); a row without a period does only when neither is given."""
    if start is None and end is None:
        return True
    if label is None:
        return False
    low = grain_key(period_start(start, grain, week_start), grain, week_start=week_start) if start else None
    high = grain_key(period_start(end, grain, week_start), grain, week_start=week_start) if end else None
    # Labels of one grain sort as their periods do (zero-padded texts, dates or years).
    return (low is None or label >= low) and (high is None or label <= high)


# -- declared domains -----------------------------------------------------------------------------


def invalid(column: Column, value: Any) -> bool:
    """Whether `value` lies outside `column`'s declared domain; null never does."""
    if value is None:
        return False
    if column.type == "float" and not math.isfinite(value):
        return True
    if column.range is not None and column.type in ("int", "float", "duration"):
        low, high = column.range
        number = value.total_seconds() / TIME_UNITS.get(column.unit or "s", 1.0) if column.type == "duration" else value
        if not low <= number <= high:
            return True
    return column.values is not None and value not in column.values


def _within_domains(model: Model, source: str, rows: list[Row]) -> list[Row]:
    """`rows` with every invalid value of a declared column made null."""
    if source not in model.definitions.sources:
        return rows
    columns = model.definitions.sources[source].columns
    return [
        {name: None if name in columns and invalid(columns[name], value) else value for name, value in row.items()}
        for row in rows
    ]


def invalid_counts(model: Model, data: dict[str, list[Row]]) -> dict[tuple[str, str], int]:
    """The number of rows with an invalid value, per (source, column) that has any."""
    counts: dict[tuple[str, str], int] = {}
    for source, rows in data.items():
        columns = model.definitions.sources[source].columns if source in model.definitions.sources else {}
        for row in rows:
            for name, value in row.items():
                if name in columns and invalid(columns[name], value):
                    counts[(source, name)] = counts.get((source, name), 0) + 1
    return counts


# -- time zones -----------------------------------------------------------------------------------


def _instants(model: Model, source: str, rows: list[Row]) -> list[Row]:
    """`rows` with their datetimes as instants in UTC: a naive one is local time in the source's zone."""
    if source not in model.definitions.sources:
        return rows
    zone = model.definitions.zone(source)
    columns = [name for name, column in model.definitions.sources[source].columns.items() if column.type == "datetime"]
    return [{**row, **{name: instant(row[name], zone) for name in columns if name in row}} for row in rows]


def instant(value: datetime.datetime | None, zone: str) -> datetime.datetime | None:
    """A datetime as an instant in UTC; a naive one is local time in `zone` (the earlier of two, at a DST change)."""
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(zone))
    return aware.astimezone(UTC)


def local(value: Any, zone: str) -> Any:
    """A datetime as local time in `zone` (a naive one is local already); anything else unchanged."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(ZoneInfo(zone))
    return value


def midnight(day: datetime.date, zone: str) -> datetime.datetime:
    """The first moment of the local date `day` in `zone`, as an instant in UTC (a skipped midnight: when the
    clocks jump; a repeated one: the first)."""
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=ZoneInfo(zone))
    return start.astimezone(UTC)


# -- groups ---------------------------------------------------------------------------------------


def grain_key(
    value: datetime.date | datetime.datetime | None, grain: str, zone: str = "UTC", week_start: str = "monday"
) -> Any:
    """The label of the period of `grain` holding `value` in `zone`: a date, "2026-W01" (for weeks from Sunday, the
    week's Sunday: "2026-01-04"), "2026-01", "2026-Q1" or a year."""
    if value is None:
        return None
    day = local(value, zone).date() if isinstance(value, datetime.datetime) else value
    if grain == "day":
        return day
    if grain == "week" and week_start == "sunday":  # the Sunday on or before the local date
        return (day - datetime.timedelta(days=day.isoweekday() % 7)).isoformat()
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    if grain == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if grain == "year":
        return day.year
    raise ValueError(f"unknown grain {grain!r}")


def _groups(tables: _Tables, sources: list[str], by: list[str], grain: str | None) -> dict[GroupKey, dict[str, list[int]]]:
    """Each group's key → the indexes of its rows in each source, over all the rows (unfiltered)."""
    groups: dict[GroupKey, dict[str, list[int]]] = {} if by or grain else {(): {}}
    for source in sources:
        time = tables.model.definitions.sources[source].time
        zone = tables.model.definitions.zone(source)
        week_start = tables.model.definitions.calendar.week_start
        for index in range(len(tables.data.get(source, []))):
            key = tuple(tables.column(source, index, column) for column in by)
            if grain:
                key += (grain_key(tables.column(source, index, time), grain, zone, week_start),)
            groups.setdefault(key, {}).setdefault(source, []).append(index)
    return groups


def period_start(day: datetime.date, grain: str, week_start: str = "monday") -> datetime.date:
    """The first day of the period of `grain` that holds `day`."""
    if grain == "day":
        return day
    if grain == "week" and week_start == "sunday":
        return day - datetime.timedelta(days=day.isoweekday() % 7)
    if grain == "week":
        return day - datetime.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def next_period(start: datetime.date, grain: str) -> datetime.date:
    """The first day of the period after the one starting on `start`."""
    if grain == "day":
        return start + datetime.timedelta(days=1)
    if grain == "week":
        return start + datetime.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    month = start.month - 1 + months
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def _complete_periods(
    tables: _Tables,
    sources: list[str],
    groups: dict[GroupKey, dict[str, list[int]]],
    grain: str,
    start: datetime.date | None,
    end: datetime.date | None,
    dimensions: int,
) -> dict[GroupKey, dict[str, list[int]]]:
    """`groups` (keys of `dimensions` values and a period) with every group (`by` values) in every period from the
    first to the last of the data and of `start` to `end` (which `evaluate_reference` then keeps alone; rows without
    a time are kept only without them)."""
    days = []
    for source in sources:
        time = tables.model.definitions.sources[source].time
        zone = tables.model.definitions.zone(source)
        for index in range(len(tables.data.get(source, []))):
            value = tables.column(source, index, time or "")
            if value is not None:
                days.append(local(value, zone).date() if isinstance(value, datetime.datetime) else value)
    week_start = tables.model.definitions.calendar.week_start
    starts = [period_start(d, grain, week_start) for d in days]
    # The data's periods too, so that `prev` and trailing windows in the range's first periods see those before it.
    first = min([*starts, *([period_start(start, grain, week_start)] if start is not None else [])], default=None)
    last = max([*starts, *([period_start(end, grain, week_start)] if end is not None else [])], default=None)
    labels = []
    current = first
    while current is not None and last is not None and current <= last:
        labels.append(grain_key(current, grain, week_start=week_start))
        current = next_period(current, grain)
    complete: dict[GroupKey, dict[str, list[int]]] = {}
    # Without dimensions the whole data is one group, with rows or not.
    for values in dict.fromkeys(key[:-1] for key in groups) if dimensions else [()]:
        for label in labels:
            complete[(*values, label)] = groups.get((*values, label), {})
    if start is None and end is None:
        complete.update({key: members for key, members in groups.items() if key[-1] is None})
    return complete


# -- metrics --------------------------------------------------------------------------------------


@dataclass
class _Evaluation:
    """Metric values per group, each computed when first asked for, under the filters of the metrics of metrics
    that use it (named by their metrics, outermost last), and memoized."""

    tables: _Tables
    groups: dict[GroupKey, dict[str, list[int]]]
    grain: str | None
    by: tuple[str, ...] = ()
    span: tuple[datetime.date | None, datetime.date | None] = (None, None)
    present: set[GroupKey] = field(default_factory=set)  # the groups with rows (not only of the complete periods)
    memo: dict[tuple[str, GroupKey, tuple[str, ...]], tuple[Any, float]] = field(default_factory=dict)
    others: dict[tuple[str, tuple[str, ...]], _Evaluation] = field(default_factory=dict)

    def metric(self, name: str, key: GroupKey, filters: tuple[str, ...] = ()) -> tuple[Any, float]:
        """A metric's value in the group `key` and its number of observations (`inf` when it has none to count);
        null for a group that does not exist."""
        if key not in self.groups:
            return None, math.inf
        memo = (name, key, filters)
        if memo not in self.memo:
            self.memo[memo] = self._compute(self.tables.model.metrics[name], key, filters)
        return self.memo[memo]

    def _compute(self, metric: CheckedMetric, key: GroupKey, filters: tuple[str, ...]) -> tuple[Any, float]:
        tables = self.tables
        # The metrics it uses are computed under its `where` too.
        inner = filters + ((metric.metric.name,) if metric.where is not None else ())
        rows = self.groups[key].get(metric.source or "", [])
        if metric.metric.trailing is not None:
            rows = self._trailing_rows(metric, key)
            if rows is None:  # rows without a time have no trailing window
                return None, math.inf
        aggregates = {id(node): _aggregate(tables, metric, node, rows, filters) for node in _aggregate_calls(metric.tree)}
        used = {name: self.metric(name, key, inner) for name in metric.metrics}
        n = min([count for _, count in aggregates.values()] + [count for _, count in used.values()], default=math.inf)
        zone = tables.zone(metric.source) if metric.source else tables.model.definitions.calendar.timezone or "UTC"
        previous = self._previous(key, inner)
        across = {id(c): self._across(c, key, inner)[0] for c in _across_calls(metric.tree)}
        value = evaluate(metric.tree, _GroupScope(tables.model, zone, aggregates, used, previous, across))
        if metric.metric.min_n is not None and n < metric.metric.min_n:
            value = None
        if isinstance(value, float) and not math.isfinite(value):  # an overflow or NaN is missing, as x / 0 is
            value = None
        return value, n

    def pending(self, name: str, key: GroupKey, filters: tuple[str, ...] = ()) -> bool:
        """Whether a metric's value in the group `key` may change when the data is complete: one of its aggregates
        reads a censored window on a row (of its trailing window too) that its filters, and those of the metrics
        of metrics above it, do not exclude (false excludes, null does not), or a metric it uses is pending."""
        if key not in self.groups:
            return False
        metric = self.tables.model.metrics[name]
        inner = filters + ((name,) if metric.where is not None else ())
        if any(self.pending(used, key, inner) for used in metric.metrics):
            return True
        if any(self._across(c, key, inner)[1] for c in _across_calls(metric.tree)):
            return True
        source = metric.source
        if source is None:
            return False
        rows = self.groups[key].get(source, [])
        if metric.metric.trailing is not None:
            rows = self._trailing_rows(metric, key) or []
        added = [self.tables.model.metrics[f].filters[source] for f in filters]
        for call in _aggregate_calls(metric.tree):
            conditions = [*_filters(metric, call), *(c for c in added if c is not None)]
            windows = _windows_read(self.tables.model, source, [*call.args[:1], *conditions])
            for index in rows if windows else []:
                kept = all(self.tables.value(source, index, c) is not False for c in conditions)
                if kept and any(self.tables.censored(source, index, w) for w in windows):
                    return True
        return False

    # -- functions across groups ------------------------------------------------------------------------------

    def _other(self, metric: str, by: tuple[str, ...]) -> _Evaluation:
        """The evaluation of metric `metric` grouped by `by` (and the same grain and range): its groups come from the
        rows of the sources it is computed from, as a request of that metric alone."""
        if (metric, by) not in self.others:
            model = self.tables.model
            sources = sorted({s for m in model.metric_order([metric]) if (s := model.metrics[m].source) is not None})
            groups = _groups(self.tables, sources, list(by), self.grain)
            present = set(groups)
            if self.grain:
                groups = _complete_periods(self.tables, sources, groups, self.grain, *self.span, len(by))
            self.others[(metric, by)] = _Evaluation(self.tables, groups, self.grain, by, self.span, present)
        return self.others[(metric, by)]

    def _across(self, call: ast.Call, key: GroupKey, filters: tuple[str, ...]) -> tuple[Any, bool]:
        """The value of `of_total(m)` or `spread(m, dim)` in the group `key`, and whether it is pending.

        `of_total`: m in the group over m computed from the rows of all groups of the period (null when that is 0 or
        null). `spread`: m computed per group, period and value of `dim`; the largest minus the smallest of those
        values (not null) over the values of `dim` (not null) that have rows in the group's period."""
        metric = call.args[0]
        assert isinstance(metric, ast.Name)
        name = metric.name
        period = key[-1:] if self.grain else ()
        if call.func == "of_total":
            other = self._other(name, ())
            total, _ = other.metric(name, period, filters)
            value = self.metric(name, key, filters)[0]
            shared = None if value is None or total is None or total == 0 else value / total
            return shared, other.pending(name, period, filters)
        dimension = call.args[1]
        assert isinstance(dimension, ast.Name)
        by = self.by if dimension.name in self.by else (*self.by, dimension.name)
        other = self._other(name, by)
        place = by.index(dimension.name)
        mine = key[: len(self.by)]
        members = [
            k
            for k in other.groups
            if k in other.present
            and k[place] is not None
            and tuple(k[by.index(b)] for b in self.by) == mine
            and k[len(by) :] == period
        ]
        values = [v for k in members if (v := other.metric(name, k, filters)[0]) is not None]
        spread = max(values) - min(values) if values else None
        return spread, any(other.pending(name, k, filters) for k in members)

    def _previous(self, key: GroupKey, filters: tuple[str, ...]) -> Callable[[str], Any]:
        """A metric's value in the period before the group's, for the same dimensions (null without one)."""

        def value(name: str) -> Any:
            if self.grain is None or key[-1] is None:
                return None
            return self.metric(name, (*key[:-1], previous_label(key[-1], self.grain)), filters)[0]

        return value

    def _trailing_rows(self, metric: CheckedMetric, key: GroupKey) -> list[int] | None:
        """The rows of the metric's source in the periods of its trailing window ending with the group's period,
        for the same dimensions."""
        trailing = metric.metric.trailing
        assert trailing is not None
        assert self.grain is not None
        label = key[-1]
        if label is None:
            return None
        if trailing.periods is not None:
            periods = trailing.periods
        else:
            periods = (trailing.seconds or 0) // (86_400 if self.grain == "day" else 7 * 86_400)
        rows = []
        for _ in range(periods):
            rows += self.groups.get((*key[:-1], label), {}).get(metric.source or "", [])
            label = previous_label(label, self.grain)
        return rows


def previous_label(label: Any, grain: str) -> Any:
    """The label of the period before the one labelled `label` (as `grain_key` labels them)."""
    if grain == "day":
        return label - datetime.timedelta(days=1)
    if grain == "week" and "-W" not in label:  # a week from Sunday, labelled by its Sunday
        return (datetime.date.fromisoformat(label) - datetime.timedelta(days=7)).isoformat()
    if grain == "week":
        year, week = (int(part) for part in label.split("-W"))
        return grain_key(datetime.date.fromisocalendar(year, week, 1) - datetime.timedelta(days=7), "week")
    if grain == "month":
        year, month = (int(part) for part in label.split("-"))
        return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"
    if grain == "quarter":
        year, quarter = (int(part) for part in label.split("-Q"))
        return f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"
    return label - 1


def reads_window(model: Model, name: str) -> bool:
    """Whether metric `name`, or a metric it uses, has an aggregate that reads a window."""
    return any(
        _windows_read(model, metric.source, [*call.args[:1], *_filters(metric, call)])
        for metric in (model.metrics[m] for m in model.metric_order([name]))
        if metric.source is not None
        for call in _aggregate_calls(metric.tree)
    )


def _across_calls(node: ast.Expr) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call) and n.func in ("of_total", "spread")]


def _filters(metric: CheckedMetric, call: ast.Call) -> list[ast.Expr]:
    return [c for c in (call.where, metric.where) if c is not None]


def _windows_read(model: Model, source: str, trees: list[ast.Expr]) -> list[ast.Call]:
    """The window calls evaluated on `source`'s rows by `trees`, through its derived columns (not inside another
    window's filter, which is evaluated on the other source's rows)."""
    found: list[ast.Call] = []
    pending = list(trees)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Call) and node.func in WINDOWS:
            found.append(node)
            continue
        if isinstance(node, ast.Name) and node.name in model.sources[source].derived:
            ref = model.refs.get(id(node))
            if ref is not None and ref.kind == "derived" and ref.source == source:
                pending.append(model.sources[source].derived[node.name])
        pending.extend(ast.children(node))
    return found


def _aggregate_calls(node: ast.Expr) -> Iterator[ast.Call]:
    if isinstance(node, ast.Call) and node.func in AGGREGATES:
        yield node
        return
    for child in ast.children(node):
        yield from _aggregate_calls(child)


def _aggregate(
    tables: _Tables, metric: CheckedMetric, call: ast.Call, rows: list[int], filters: tuple[str, ...] = ()
) -> tuple[Any, int]:
    """An aggregate over a group's rows of the metric's source: its value and number of observations. The rows
    pass its filter, the metric's `where`, and the `where` of each metric of metrics in `filters`."""
    source = metric.source or ""
    conditions = [call.where, metric.where, *(tables.model.metrics[name].filters[source] for name in filters)]
    passing = [i for i in rows if all(tables.holds(source, i, condition) for condition in conditions)]
    if call.func == "count" and not call.args:
        return len(passing), len(passing)
    inputs = [v for i in passing if (v := tables.value(source, i, call.args[0])) is not None]
    inputs = [int(v) if isinstance(v, bool) else v for v in inputs]
    if call.func == "quantile":
        q = call.args[1].value  # type: ignore[union-attr]  # the checker lets only a number through
        return (_quantile(inputs, q) if inputs else None), len(inputs)
    return REDUCERS[call.func](inputs), len(inputs)


def _quantile(values: list[Any], q: float) -> Any:
    """Linear interpolation between the closest ranks (numpy's default, DuckDB's `quantile_cont`)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _fsum(values: list[Any]) -> float:
    """The exact sum of floats; past the float range, the plain sum's `inf` (`math.fsum` raises there)."""
    try:
        return math.fsum(values)
    except OverflowError:
        return float(sum(values))


def _none_if_empty(reduce: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    return lambda values: reduce(values) if values else None


REDUCERS: dict[str, Callable[[list[Any]], Any]] = {
    "count": len,
    "count_distinct": lambda values: len(set(values)),
    "sum": _none_if_empty(lambda values: _fsum(values) if any(isinstance(v, float) for v in values) else sum(values)),
    "mean": _none_if_empty(lambda values: _fsum(values) / len(values)),
    "min": _none_if_empty(min),
    "max": _none_if_empty(max),
    "stddev": lambda values: statistics.stdev(values) if len(values) >= 2 else None,
    "variance": lambda values: statistics.variance(values) if len(values) >= 2 else None,
    "share": _none_if_empty(lambda values: _fsum(values) / len(values)),
    **{name: _none_if_empty(lambda values, q=q: _quantile(values, q)) for name, q in PERCENTILES.items()},
}


# -- rows -----------------------------------------------------------------------------------------


@dataclass
class _Tables:
    """The rows of every source, with derived columns and windows computed on demand and memoized."""

    model: Model
    data: dict[str, list[Row]]
    as_of: datetime.datetime | None = None
    derived: dict[tuple[str, int, str], Any] = field(default_factory=dict)
    times: dict[str, list[datetime.datetime]] = field(default_factory=dict)  # each source's times, for its bounds
    windows: dict[tuple[int, str], dict[GroupKey, list[tuple[datetime.datetime, int]]]] = field(default_factory=dict)

    def column(self, source: str, index: int, name: str) -> Any:
        """A base or derived column of one row."""
        tree = self.model.sources[source].derived.get(name)
        if tree is None:
            return self.data[source][index].get(name)
        key = (source, index, name)
        if key not in self.derived:
            self.derived[key] = self.value(source, index, tree)
        return self.derived[key]

    def value(self, source: str, index: int, node: ast.Expr) -> Any:
        """A row-level expression for one row."""
        return evaluate(node, _RowScope(self, source, index))

    def zone(self, source: str) -> str:
        return self.model.definitions.zone(source)

    def time(self, source: str, index: int) -> datetime.datetime | None:
        """A row's time as an instant: a date is the first moment of that local day."""
        value = self.column(source, index, self.model.definitions.sources[source].time or "")
        if type(value) is datetime.date:
            return midnight(value, self.zone(source))
        return value

    def holds(self, source: str, index: int, condition: ast.Expr | None) -> bool:
        """Whether a row passes a filter: no filter, or a condition that is true (null is not)."""
        return condition is None or self.value(source, index, condition) is True

    def window(self, source: str, index: int, call: ast.Call) -> Any:
        """`followed_by` / `preceded_by` for one row of `source`: whether a row of the other source is in the window;
        with `value=COL`, COL of the nearest such row (the least non-null value of those at the nearest time); with
        `count=true`, how many there are; with `sum=COL`, the sum of their non-null values of COL."""
        target = call.args[0]
        assert isinstance(target, ast.Name)
        pairs = _window_keys(self.model, source, target.name, call)
        time = self.time(source, index)
        key = tuple(self.column(source, index, mine) for mine, _ in pairs)
        if time is None or None in key or self.censored(source, index, call):
            return None
        width = datetime.timedelta(seconds=call.args[1].seconds)  # type: ignore[union-attr]
        candidates = self._candidates(source, target.name, call, pairs).get(key, [])
        if call.func == "followed_by":
            inside = [(other, row) for other, row in candidates if time < other <= time + width]
        else:
            inside = [(other, row) for other, row in candidates if time - width <= other < time]
        form = window_form(call)
        if form is None:
            return len(inside) > 0
        if form[0] == "count":
            return len(inside)
        assert isinstance(form[1], ast.Name)
        column = form[1].name
        if form[0] == "sum":
            found = [v for _, row in inside if (v := self.column(target.name, row, column)) is not None]
            return _fsum(found) if any(isinstance(v, float) for v in found) else sum(found)
        if not inside:
            return None
        nearest = min(other for other, _ in inside) if call.func == "followed_by" else max(other for other, _ in inside)
        tied = [self.column(target.name, row, column) for other, row in inside if other == nearest]
        known = [v for v in tied if v is not None]
        return min(known) if known else None

    def censored(self, source: str, index: int, call: ast.Call) -> bool:
        """Whether a row's window reaches past its other source's horizon (`followed_by`) or before its first time
        (`preceded_by`); a row whose window is null anyway (no time, or no key) is not censored."""
        target = call.args[0]
        assert isinstance(target, ast.Name)
        time = self.time(source, index)
        key = [self.column(source, index, mine) for mine, _ in _window_keys(self.model, source, target.name, call)]
        if time is None or None in key:
            return False
        width = datetime.timedelta(seconds=call.args[1].seconds)  # type: ignore[union-attr]
        if target.name not in self.times:
            rows = range(len(self.data.get(target.name, [])))
            self.times[target.name] = [t for i in rows if (t := self.time(target.name, i)) is not None]
        times = self.times[target.name]
        if call.func == "followed_by":
            given = self.as_of or self.model.definitions.sources[target.name].complete_until
            horizon = instant(given, self.zone(target.name)) if given is not None else max(times, default=None)
            return horizon is None or time + width > horizon
        first = min(times, default=None)
        return first is None or time - width < first

    def _candidates(
        self, source: str, target: str, call: ast.Call, pairs: list[tuple[str, str]]
    ) -> dict[GroupKey, list[tuple[datetime.datetime, int]]]:
        """The times and numbers of the rows of `target` that pass the window's filter, by key."""
        memo = (id(call), source)
        if memo not in self.windows:
            by_key: dict[GroupKey, list[tuple[datetime.datetime, int]]] = {}
            for other in range(len(self.data.get(target, []))):
                time = self.time(target, other)
                key = tuple(self.column(target, other, theirs) for _, theirs in pairs)
                if time is not None and None not in key and self.holds(target, other, call.where):
                    by_key.setdefault(key, []).append((time, other))
            self.windows[memo] = by_key
        return self.windows[memo]


def _window_keys(model: Model, source: str, target: str, call: ast.Call) -> list[tuple[str, str]]:
    """The (this row's column, the other source's column) pairs that must be equal."""
    on = call.keyword("on")
    if on is None:
        theirs = model.definitions.sources[target].entities
        entity = next(e for e in model.definitions.sources[source].entities if e in theirs)
        return [(model.definitions.sources[source].entities[entity], theirs[entity])]
    pairs = []
    for item in on.items if isinstance(on, ast.ListOf) else (on,):
        if isinstance(item, ast.Binary):
            pairs.append((item.left.name, item.right.name))  # type: ignore[union-attr]
        else:
            pairs.append((item.name, item.name))  # type: ignore[union-attr]
    return pairs


# -- expressions ----------------------------------------------------------------------------------


@dataclass
class _RowScope:
    """Names are columns of one row; calls are windows."""

    tables: _Tables
    source: str
    index: int

    @property
    def model(self) -> Model:
        return self.tables.model

    @property
    def zone(self) -> str:
        return self.tables.zone(self.source)

    def name(self, node: ast.Name) -> Any:
        return self.tables.column(self.source, self.index, node.name)

    def call(self, node: ast.Call) -> Any:
        assert node.func in WINDOWS, node.func
        return self.tables.window(self.source, self.index, node)


@dataclass
class _GroupScope:
    """Names are metrics of the group; calls are its aggregates, computed beforehand, or the value of a metric in
    the previous period (`prev`, `change`, `pct_change`)."""

    model: Model
    zone: str  # that of the metric's source
    aggregates: dict[int, tuple[Any, int]]
    metrics: dict[str, tuple[Any, float]]
    previous: Callable[[str], Any] = lambda _: None
    across: dict[int, Any] = field(default_factory=dict)  # the values of `of_total` and `spread`, by call

    def name(self, node: ast.Name) -> Any:
        return self.metrics[self.model.refs[id(node)].name][0]

    def call(self, node: ast.Call) -> Any:
        if node.func in ("of_total", "spread"):
            return self.across[id(node)]
        if node.func in ("prev", "change", "pct_change"):
            argument = node.args[0]
            assert isinstance(argument, ast.Name)
            now, before = self.metrics[argument.name][0], self.previous(argument.name)
            if node.func == "prev":
                return before
            if now is None or before is None:
                return None
            if node.func == "change":
                return now - before
            return None if before == 0 else (now - before) / abs(before)
        return self.aggregates[id(node)][0]


Scope = _RowScope | _GroupScope


def evaluate(node: ast.Expr, scope: Scope) -> Any:
    """The value of an expression in a scope (one row, or one group of aggregated values)."""
    match node:
        case ast.Number(value=value) | ast.String(value=value) | ast.Bool(value=value) | ast.Date(value=value):
            return value
        case ast.Null():
            return None
        case ast.Duration(seconds=seconds):
            unit = scope.model.duration_units.get(id(node))
            return datetime.timedelta(seconds=seconds) if unit is None else seconds / unit
        case ast.Name():
            return scope.name(node)
        case ast.Unary(op="not", operand=operand):
            value = evaluate(operand, scope)
            return None if value is None else not value
        case ast.Unary(operand=operand):
            value = evaluate(operand, scope)
            return None if value is None else -value
        case ast.Binary(op="and" | "or"):
            return _logic(node.op, evaluate(node.left, scope), evaluate(node.right, scope))
        case ast.Binary(op=op, left=left, right=right):
            return _binary(op, evaluate(left, scope), evaluate(right, scope), scope.zone)
        case ast.In(operand=operand, items=items, negated=negated):
            value = evaluate(operand, scope)
            if value is None:
                return None
            found = any(
                item is not None and _binary("==", value, item, scope.zone)
                for item in (evaluate(i, scope) for i in items.items)
            )
            return found != negated
        case ast.Between(operand=operand, low=low, high=high):
            value, bottom, top = (evaluate(part, scope) for part in (operand, low, high))
            if None in (value, bottom, top):
                return None
            return _binary(">=", value, bottom, scope.zone) and _binary("<=", value, top, scope.zone)
        case ast.IsNull(operand=operand, negated=negated):
            return (evaluate(operand, scope) is None) != negated
        case ast.Case(whens=whens, otherwise=otherwise):
            for condition, value in whens:
                if evaluate(condition, scope) is True:
                    return _as(node, evaluate(value, scope), scope)
            return None if otherwise is None else _as(node, evaluate(otherwise, scope), scope)
        case ast.Call(func=func) if func in LOCAL_SCALARS:
            return LOCAL_SCALARS[func](scope.zone, *(evaluate(arg, scope) for arg in node.args))
        case ast.Call(func=func) if func in SCALARS:
            args = [_as(node, evaluate(arg, scope), scope) for arg in node.args]
            args += [evaluate(keyword.value, scope) for keyword in node.keywords]
            return SCALARS[func](*args)
        case ast.Call():
            return scope.call(node)
    raise AssertionError(f"unhandled node {node!r}")


def _logic(op: str, left: bool | None, right: bool | None) -> bool | None:
    """SQL's three-valued `and` / `or`."""
    decisive = op == "or"  # the value that decides the result alone: true for `or`, false for `and`
    if left is decisive or right is decisive:
        return decisive
    if left is None or right is None:
        return None
    return not decisive


def _divide(left: Any, right: Any) -> Any:
    return None if right == 0 else left / right


def _modulo(left: Any, right: Any) -> Any:
    return None if right == 0 else left % right


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "%": _modulo,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _binary(op: str, left: Any, right: Any, zone: str) -> Any:
    if left is None or right is None:
        return None
    return _OPERATORS[op](_midnight(left, right, zone), _midnight(right, left, zone))


def _midnight(value: Any, other: Any, zone: str) -> Any:
    """A date met by a datetime stands for the first moment of that local day, so that the two compare and
    subtract."""
    if isinstance(other, datetime.datetime) and type(value) is datetime.date:
        return midnight(value, zone) if other.tzinfo is not None else datetime.datetime.combine(value, datetime.time())
    return value


def _as(node: ast.Expr, value: Any, scope: Scope) -> Any:
    """A value of an expression typed datetime (a `case` or `coalesce` of dates and datetimes): a date is the first
    moment of that local day."""
    if type(value) is datetime.date and scope.model.type_of(node).kind == "datetime":
        return midnight(value, scope.zone)
    return value


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, giving null when any argument is null."""
    return lambda *args: None if any(arg is None for arg in args) else function(*args)


def _ignoring_nulls(function: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    """`function` of the arguments that are not null; null when all are."""

    def apply(*args: Any) -> Any:
        present = [arg for arg in args if arg is not None]
        return function(present) if present else None

    return apply


def _date(zone: str, value: datetime.date) -> datetime.date:
    """The local date of a datetime in `zone`; a date itself."""
    return local(value, zone).date() if isinstance(value, datetime.datetime) else value


SCALARS: dict[str, Callable[..., Any]] = {
    "coalesce": _ignoring_nulls(lambda present: present[0]),
    "least": _ignoring_nulls(min),
    "greatest": _ignoring_nulls(max),
    "abs": _strict(abs),
    # Ties to even on x * 10**digits, as Polars does: round(0.35, 1) is 0.4.
    "round": _strict(lambda value, digits=0: round(value * 10**digits) / 10**digits if digits else round(value)),
    "lower": _strict(str.lower),
    "upper": _strict(str.upper),
    "contains": _strict(lambda text, part: part in text),
    "starts_with": _strict(str.startswith),
    "ends_with": _strict(str.endswith),
}
# The functions of local time: called with the zone of the expression's source first.
LOCAL_SCALARS: dict[str, Callable[..., Any]] = {
    "hour": _strict(lambda zone, time: local(time, zone).hour),
    "weekday": _strict(lambda zone, time: local(time, zone).isoweekday()),
    "date": _strict(_date),
    "days_between": _strict(lambda zone, start, end: (_date(zone, end) - _date(zone, start)).days),
}
