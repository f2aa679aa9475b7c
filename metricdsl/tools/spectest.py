"""Run the specs' own unit tests (`tests:`): given rows per source, expected metric values.

A test's outcome lists its failures as records; `metricdsl.render.spectests` writes them.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import polars as pl

from metricdsl.engine.columns import dotted_column
from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.engine.sql.engines import Engine, sql_engine
from metricdsl.errors import DataError, EngineUnavailable, RequestError
from metricdsl.grading.findings import findings
from metricdsl.grading.grader import Graded, period_label
from metricdsl.project import Project
from metricdsl.spec.definitions import SpecTest

Row = dict[str, Any]  # one group's values, as Polars returns them and as a test's YAML gives them

# How a test fails: its data or request is wrong (`error`), an expected finding does not fire or one fires
# that is not expected, no row has the expected group, or a value differs from the expected one.
FailureKind = Literal["error", "missing_finding", "unexpected_finding", "no_group", "wrong_value"]


@dataclass(frozen=True)
class Failure:
    """One failure of a test, with what was expected and what was found."""

    kind: FailureKind
    name: str | None = None  # the finding, or the name of the value (`asa`, `asa.status`, `card.score`)
    group: dict[str, object] = field(default_factory=dict)  # the expected group: its keys and their values
    expected: object = None
    actual: object = None
    groups: tuple[dict[str, object], ...] = ()  # `no_group`: the first groups found, by the same keys
    more: int = 0  # `no_group`: how many more groups were found
    error: str | None = None  # `error`: the message of the data or request error


@dataclass(frozen=True)
class Outcome:
    """How one test went: its failures (empty when it passed)."""

    test: SpecTest
    failures: tuple[Failure, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


# The given rows of a test are all the data there is: its windows are complete, never censored at its last row.
COMPLETE = datetime.datetime(9999, 1, 1, tzinfo=datetime.timezone.utc)


def run_tests(project: Project, engine: Engine = "polars", spark_remote: str | None = None) -> list[Outcome]:
    """Run every test of the project, in file order, on `engine` (see `Project.run()`); an engine that cannot run
    here raises `EngineUnavailable` before the first test."""
    sql_engine(engine, spark_remote)
    return [run_test(project, test, engine, spark_remote) for test in project.definitions.tests]


def run_test(project: Project, test: SpecTest, engine: Engine = "polars", spark_remote: str | None = None) -> Outcome:
    keys = [*test.by, *([test.grain] if test.grain else [])]
    names = list(dict.fromkeys(name for row in test.expect for name in row if name not in keys))
    metrics = [name for name in names if "." not in name]
    graded_names = [name for name in names if "." in name]  # `nps.status`, `loyalty_driver.score`
    project = _reading_iso(project)
    try:
        data = {source: given_frame(project, source, test.given.get(source, [])) for source in project.definitions.sources}
        unknown = set(test.given) - set(project.definitions.sources)
        if unknown:
            raise RequestError(f"unknown source `{sorted(unknown)[0]}` in `given`")
        rows = (
            project.evaluate(
                data,
                metrics=metrics,
                by=test.by,
                grain=test.grain,
                apply_min_n=not test.ignore_min_n,
                as_of=COMPLETE,
                engine=engine,
                spark_remote=spark_remote,
            ).to_dicts()
            if metrics
            else []
        )
        graded = None
        if graded_names or test.findings is not None:
            graded = project.grade(
                data,
                metrics=metrics,
                by=test.by,
                grain=test.grain,
                scorecard=test.scorecard,
                as_of=COMPLETE,
                engine=engine,
                spark_remote=spark_remote,
            )
            grades = _graded_rows(graded, keys, graded_names)
            rows = _merge(rows, grades, keys) if metrics else grades
    except EngineUnavailable:
        raise
    except (DataError, RequestError) as error:
        return Outcome(test, (Failure("error", error=str(error)),))
    failures: list[Failure] = []
    if graded is not None and test.findings is not None:
        failures += _check_findings(project, test, graded)
    groups = _Groups(rows, keys)
    for expected in test.expect:
        group = {k: expected.get(k) for k in keys}
        found = groups.find(group)
        if not found:
            failures.append(Failure("no_group", group=group, groups=groups.shown(), more=groups.more()))
            continue
        failures += [
            Failure("wrong_value", name=name, group=group, expected=expected[name], actual=found[0].get(name))
            for name in names
            if name in expected and not close(found[0].get(name), expected[name], test.tolerance)
        ]
    return Outcome(test, tuple(failures))


class _Groups:
    """The rows of a result by their group's key, so that each expected group is found in constant time."""

    SHOWN = 10  # groups listed when an expected one is missing

    def __init__(self, rows: list[Row], keys: list[str]) -> None:
        self.rows = rows
        self.keys = keys
        self.by_key: dict[tuple[object, ...], list[Row]] = {}
        for row in rows:
            self.by_key.setdefault(tuple(_key_value(row[k]) for k in keys), []).append(row)

    def find(self, group: dict[str, object]) -> list[Row]:
        """The rows of `group` (values as a test's YAML gives them), in the order of the result."""
        try:
            candidates = self.by_key.get(tuple(_key_value(v) for v in group.values()), [])
        except TypeError:  # a value that cannot be a key, such as a list: compared with every row
            candidates = self.rows
        return [row for row in candidates if all(_same_key(row[k], v) for k, v in group.items())]

    def shown(self) -> tuple[dict[str, object], ...]:
        """The first groups found, by the test's keys, to list when an expected one is missing."""
        return tuple({k: row[k] for k in self.keys} for row in self.rows[: self.SHOWN])

    def more(self) -> int:
        """How many groups found are not in `shown()`."""
        return max(len(self.rows) - self.SHOWN, 0)


def _key_value(value: object) -> object:
    """A group key's value as the index holds it: dates as their ISO text, which a test's YAML may give instead."""
    return value.isoformat() if isinstance(value, datetime.date) else value


def _graded_rows(graded: Graded, keys: list[str], names: list[str]) -> list[Row]:
    """Per group: `metric.status` from the target statuses and `scorecard.score` from the scores."""
    table = graded.table.with_columns(period_label(graded).alias(graded.grain)) if graded.grain else graded.table
    columns = {name: dotted_column(name) for name in names}
    missing = [name for name, column in columns.items() if column not in table.columns]
    if missing:
        raise RequestError(
            f"`{missing[0]}`: expect `<metric>.status` of a metric with a target, or "
            "`<scorecard>.score` with the test's `scorecard:`"
        )
    return table.select(*keys, *(pl.col(column).alias(name) for name, column in columns.items())).to_dicts()


def _merge(rows: list[Row], graded: list[Row], keys: list[str]) -> list[Row]:
    by_key = {tuple(row[k] for k in keys): row for row in graded}
    return [{**row, **by_key.get(tuple(row[k] for k in keys), {})} for row in rows]


def _check_findings(project: Project, test: SpecTest, graded: Graded) -> list[Failure]:
    """The targets (by metric name) and rules that fire must be exactly those listed."""
    fired = {f.name for f in findings(project.model, graded)}
    expected = set(test.findings or ())
    missing = [Failure("missing_finding", name=name) for name in sorted(expected - fired)]
    return missing + [Failure("unexpected_finding", name=name) for name in sorted(fired - expected)]


def close(actual: object, expected: object, tolerance: float) -> bool:
    """Equal within `tolerance` (absolute, or relative for large values); null equals only null."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=tolerance, abs_tol=tolerance)
    return actual == expected


def _same_key(actual: object, expected: object) -> bool:
    """A day (a date) or a week from Sunday (its date as text) is found by its date, written either way."""
    return _key_value(actual) == _key_value(expected)


def _reading_iso(project: Project) -> Project:
    """The project reading its datetime and date columns as ISO 8601: `given` rows write them as YAML does,
    whatever `format:` the source's files are in."""
    sources = {
        name: replace(source, columns={c: replace(column, format=None) for c, column in source.columns.items()})
        for name, source in project.definitions.sources.items()
        if any(column.type == "datetime" and column.format for column in source.columns.values())
    }
    if not sources:
        return project
    definitions = replace(project.definitions, sources={**project.definitions.sources, **sources})
    return Project(definitions, project.model, project.diagnostics)


def given_frame(project: Project, source: str, rows: list[Row]) -> pl.DataFrame:
    """The rows of a test as a frame with every declared column of `source`, typed; datetimes as ISO text, which
    the source's reader takes as it takes a file's (local time in the source's zone, unless an offset is given)."""
    columns = project.definitions.sources[source].columns
    unknown = sorted({name for row in rows for name in row} - set(columns))
    if unknown:
        raise DataError(f"`given` rows of `{source}` have unknown column `{unknown[0]}`")
    series = []
    for name, column in columns.items():
        values = [row.get(name) for row in rows]
        try:
            typed = [_normalise(value, column.type) for value in values]
            dtype = pl.String() if column.type == "datetime" else DTYPES[column.type]
            series.append(pl.Series(name, typed, dtype=dtype, strict=True))
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            raise DataError(_not_of_type(source, name, column.type, values)) from None
    return pl.DataFrame(series)


def _not_of_type(source: str, name: str, kind: str, values: list[object]) -> str:
    """The first of a column's `given` values that is not of its type, as a message naming its row."""
    dtype = pl.String() if kind == "datetime" else DTYPES[kind]
    for row, value in enumerate(values):
        try:
            pl.Series(name, [_normalise(value, kind)], dtype=dtype, strict=True)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            written = value.isoformat() if isinstance(value, datetime.date) else value
            iso = {"datetime": " (ISO 8601, as 2026-01-05T09:00:00)", "date": " (as 2026-01-05)"}.get(kind, "")
            return f"`given` rows of `{source}`, row {row}: column `{name}` takes {kind} values{iso}, not `{written}`"
    return f"`given` rows of `{source}`: column `{name}` takes {kind} values"  # values that only together fail


def _normalise(value: object, kind: str) -> object:
    """A YAML value as the Python value of a column of type `kind` (ISO text for a datetime)."""
    if kind == "datetime" and isinstance(value, str):
        datetime.datetime.fromisoformat(value.removesuffix("Z") + ("+00:00" if value.endswith("Z") else ""))
        return value
    if kind == "datetime" and isinstance(value, datetime.date):
        moment = value if isinstance(value, datetime.datetime) else datetime.datetime.combine(value, datetime.time())
        return moment.isoformat()
    if kind == "date" and isinstance(value, str):
        return datetime.date.fromisoformat(value)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "duration" and isinstance(value, (int, float)):
        return datetime.timedelta(seconds=value)
    return value
