"""The Python API: `load()` a project, then `compile()`, `evaluate()` or `run()` requests over data.

`run()` gives a request's table with the data-quality report of the sources it read (`Run.problems`, the
invalid values made missing; `Run.notices`, one line each); `evaluate()` gives the table alone. `run_graded()`
and `grade()` are the same for grading, `check()` its findings, with one of kind "data" for each data-quality problem.
"""

from __future__ import annotations

import contextlib
import datetime
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

import polars as pl

from metricdsl.engine import memory
from metricdsl.engine.columns import PROVISIONAL, interval_column
from metricdsl.engine.inputs import POLARS_FAILURES, Data, Reading, check_columns, polars_problem, scan
from metricdsl.engine.plan import Request
from metricdsl.engine.polars import partition
from metricdsl.engine.polars.compiler import Compiler
from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.engine.polars.query import build_stages
from metricdsl.engine.quality import DataProblem
from metricdsl.engine.spine import check_size
from metricdsl.engine.sql.engines import CONTRACT_TYPES, Engine, SqlEngine, sql_engine
from metricdsl.engine.sql.finish import request_sql
from metricdsl.errors import DataError, Diagnostic, RequestError, SpecError, has_errors, unknown_name
from metricdsl.grading.findings import Finding, findings, report
from metricdsl.grading.grader import Graded, graded_table
from metricdsl.grading.history import check_types, read_history
from metricdsl.language import ast
from metricdsl.render.findings import message
from metricdsl.semantics.checker import check
from metricdsl.semantics.model import Model
from metricdsl.semantics.periods import grain_problem
from metricdsl.spec.definitions import GRAINS, Dashboard, Definitions, Source
from metricdsl.spec.loader import load_files

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from metricdsl.render.html.model import ReportView, SourceRange

PolarsEngine = Literal["streaming", "in-memory"]  # how Polars runs: both give the same numbers


class RequestArgs(TypedDict, total=False):
    """The keyword arguments of `Project.request()`, which `compile()` and `evaluate()` pass on."""

    metrics: Iterable[str] | None
    dashboard: str | None
    by: Iterable[str]
    grain: str | None
    apply_min_n: bool
    with_ci: bool
    keep_hidden: bool
    as_of: datetime.datetime | None
    start: datetime.date | None
    end: datetime.date | None


class ReportArgs(TypedDict, total=False):
    """The keyword arguments of `Project.report_view()`, which `report()` passes on."""

    dashboard: str | None
    drill: Iterable[str]
    history: Path | None
    as_of: datetime.datetime | None
    start: datetime.date | None
    end: datetime.date | None
    engine: Engine
    polars_engine: PolarsEngine
    spark_remote: str | None
    tables: Mapping[str, str] | None
    memory_limit: int | str | None
    generated_at: datetime.datetime | None
    revision: str | None


class GradeArgs(TypedDict, total=False):
    """The keyword arguments of `Project.grade()`, which `check()` passes on."""

    dashboard: str | None
    metrics: Iterable[str] | None
    by: Iterable[str]
    grain: str | None
    as_of: datetime.datetime | None
    start: datetime.date | None
    end: datetime.date | None
    history: Path | None
    scorecard: str | None
    engine: Engine
    polars_engine: PolarsEngine
    spark_remote: str | None
    tables: Mapping[str, str] | None
    memory_limit: int | str | None


class _Layout(TypedDict, total=False):
    """What every evaluation of a report shares: the dashboard's grain and scorecard, the range, the engine."""

    grain: str | None
    scorecard: str | None
    as_of: datetime.datetime | None
    start: datetime.date | None
    end: datetime.date | None
    engine: Engine
    polars_engine: PolarsEngine
    spark_remote: str | None
    tables: Mapping[str, str] | None
    memory_limit: int | str | None


@dataclass(frozen=True)
class Run:
    """A request computed: its table (and, from `run_graded()`, its grades), and what reading the data found.

    `problems` are the data-quality report: per source and column read, the invalid values that became missing
    (not of the declared type, outside `range`, not among `values`, NaN or infinite), and the sources without
    rows. `notices` are one-line remarks about the data, such as times with offsets read where no time zone is
    declared; a command line prints them on standard error.
    """

    table: pl.DataFrame
    problems: tuple[DataProblem, ...] = ()
    notices: tuple[str, ...] = ()
    graded: Graded | None = None


class Project:
    """A checked project: its definitions, checked model and the warnings found."""

    def __init__(self, definitions: Definitions, model: Model, diagnostics: list[Diagnostic]) -> None:
        self.definitions = definitions
        self.model = model
        self.diagnostics = diagnostics

    def request(
        self,
        *,
        metrics: Iterable[str] | None = None,
        dashboard: str | None = None,
        by: Iterable[str] = (),
        grain: str | None = None,
        apply_min_n: bool = True,
        with_ci: bool = False,
        keep_hidden: bool = False,
        as_of: datetime.datetime | None = None,
        start: datetime.date | None = None,
        end: datetime.date | None = None,
    ) -> Request:
        """Resolve what to compute: explicit arguments override the dashboard's.

        `apply_min_n=False` computes metrics below their `min_n` too (for small test fixtures);
        `with_ci=True` adds `m_n`, `m_ci_low` and `m_ci_high` after each metric `m`.
        `as_of` is the time until which every source's data is complete (naive: local to each source), in place of
        their `complete_until` or latest times: a `followed_by` whose window reaches past it is unknown. With a
        grain, every group has every period from the first to the last of the data, or from the one holding
        `start` to the one holding `end`.
        """
        board = None
        if dashboard is not None:
            board = self.definitions.dashboards.get(dashboard)
            if board is None:
                raise RequestError(unknown_name("dashboard", dashboard, self.definitions.dashboards))
        names = (
            tuple(dict.fromkeys(metrics)) if metrics is not None else board.metrics if board else tuple(self.model.metrics)
        )
        for name in names:
            if name not in self.model.metrics:
                raise RequestError(unknown_name("metric", name, self.model.metrics))
        dimensions = tuple(dict.fromkeys(by)) or (board.by if board else ())
        grain = grain or (board.grain if board else None)
        if grain is not None and grain not in GRAINS:
            raise RequestError(unknown_name("grain", grain, GRAINS))
        if (start is not None or end is not None) and grain is None:
            raise RequestError("a range of periods (--from, --to) needs a grain")
        if start is not None and end is not None and start > end:
            raise RequestError(f"the range of periods starts on {start}, after its end on {end}")
        request = Request(names, dimensions, grain, apply_min_n, with_ci, keep_hidden, as_of, start, end)
        self._check_request(request)
        _check_shown_columns(request)
        return request

    def _check_request(self, request: Request) -> None:
        for name in self.model.metric_order(list(request.metrics)):
            problem = self._unreadable(name, request) or _periods_problem(self.model, name, request.grain)
            if problem is not None:
                raise RequestError(problem)

    def _unreadable(self, name: str, request: Request) -> str | None:
        """Why metric `name` cannot be split by the request's dimensions and grain, if it reads a source that lacks
        them."""
        source = self.model.metrics[name].source
        if source is None:
            return None
        spec = self.definitions.sources[source]
        for column in request.by:
            if column not in spec.columns and column not in spec.derive:
                return unknown_name(
                    f"column of source `{source}` (read by metric `{name}`)", column, [*spec.columns, *spec.derive]
                )
        if request.grain and spec.time is None:
            return f"metric `{name}` reads source `{source}`, which has no `time` column for a grain"
        return None

    def compile(self, data: Mapping[str, Data] | None = None, **request: Unpack[RequestArgs]) -> pl.LazyFrame:
        """The lazy query of a request (see `request()`); `data` maps source names to inputs.

        The data-quality checks are not counted (see `run()`); a CSV file in another encoding than UTF-8 is read
        from a temporary UTF-8 copy, kept until the process ends, as the query may be collected at any time.
        """
        aggregated, finish, _, _ = self._query(data or {}, self.request(**request))
        return finish(aggregated)

    def evaluate(
        self,
        data: Mapping[str, Data] | None = None,
        *,
        engine: Engine = "polars",
        polars_engine: PolarsEngine = "streaming",
        spark_remote: str | None = None,
        tables: Mapping[str, str] | None = None,
        memory_limit: int | str | None = None,
        **request: Unpack[RequestArgs],
    ) -> pl.DataFrame:
        """Compute a request: one row per group, the dimensions, the grain, then each metric (see `run()`)."""
        return self.run(
            data,
            engine=engine,
            polars_engine=polars_engine,
            spark_remote=spark_remote,
            tables=tables,
            memory_limit=memory_limit,
            **request,
        ).table

    def run(
        self,
        data: Mapping[str, Data] | None = None,
        *,
        engine: Engine = "polars",
        polars_engine: PolarsEngine = "streaming",
        spark_remote: str | None = None,
        tables: Mapping[str, str] | None = None,
        memory_limit: int | str | None = None,
        **request: Unpack[RequestArgs],
    ) -> Run:
        """Compute a request, and report on the data read: a `Run` with the table, the data-quality problems and
        the notices.

        The table has one row per group, the dimensions, the grain, then each metric. `engine` computes the
        aggregated groups: `polars` (the default), `duckdb` or `spark` (the extras `metricdsl[duckdb]`,
        `metricdsl[spark]`); the same Polars step finishes the table from them, so every engine gives the same
        table. The inputs are read as for Polars (declared types, CSV options, data-quality counts) and handed to
        the SQL engine. On Spark, `spark_remote` (`sc://host:port`) runs on a Spark Connect server instead of a
        local session, and `tables` maps sources to catalog tables read in place of their data (`db.table`, holding
        the source's declared columns in the SQL table contract). `polars_engine` is Polars' (`streaming` or
        `in-memory`): both give the same numbers; on the 10M-contact benchmark the streaming engine was about 30 %
        faster and used 20 % less memory. `memory_limit` (bytes, or `4GB`, `512MiB`; by default half of the machine's
        memory) bounds the memory of a request with windows on Polars: when its windows would need more, they are
        computed in buckets of keys written to a temporary folder (`metricdsl.engine.polars.partition`), with the same
        results: to the bit, but for float sums and means on the streaming engine, which may differ in the last bits
        (Polars adds them in pieces that differ between the two plans). A float `memory_limit` is refused. Raises
        `DataError` for unreadable data (and for invalid values of a column with `on_invalid: error`), `RequestError`
        for a bad request and `EngineUnavailable` (a `RequestError`) for an engine that cannot run here, before any
        data is read.
        """
        inputs = dict(data or {})
        resolved = self.request(**request)
        if not resolved.metrics:
            raise RequestError("no metric to compute: name some, or a dashboard")
        limit = _memory_limit(memory_limit)
        catalog = dict(tables or {})
        for name in catalog:
            if name not in self.definitions.sources:
                raise RequestError(unknown_name("source", name, self.definitions.sources))
            if name in inputs:
                raise RequestError(f"source `{name}` is given both data and a table: give one")
        sql = sql_engine(engine, spark_remote, catalog)
        # A source read from a table: the query is built on an empty frame of its declared columns.
        inputs.update({name: _empty_frame(self.definitions.sources[name]) for name in catalog})
        aggregated, finish, readings, planned = self._query(inputs, resolved, quoted=data or {})
        read = {name: found for name, found in readings.items() if name not in catalog}
        spilled = contextlib.ExitStack()  # the temporary folder of windows computed in buckets, removed at the end
        try:
            tallies = [reading.tally(columns) for reading, columns in read.values()]
            try:
                bucketed = None
                if sql is None and limit is not None:
                    bucketed = self._in_buckets(resolved, readings, planned, limit, spilled)
                    aggregated, finish = bucketed[:2] if bucketed is not None else (aggregated, finish)
                # The aggregated groups with the counts, sharing the scan; then the table from the few groups. With
                # windows computed in buckets, not sharing it: the scan then waited for the windows read beside it
                # while the counts went on, holding what it had read for them (10M contacts in 3 buckets: 1.15 GiB
                # against 0.71 GiB when not shared, in the same time).
                if sql is None:
                    shared = pl.QueryOptFlags(comm_subplan_elim=bucketed is None)
                    groups, *counts = pl.collect_all([aggregated, *tallies], engine=polars_engine, optimizations=shared)
                else:
                    groups, counts = self._sql_groups(sql, aggregated, read, tallies, resolved, polars_engine)
                if resolved.grain:
                    week_start = self.definitions.calendar.week_start
                    check_size(groups, resolved.by, resolved.grain, resolved.start, resolved.end, week_start)
                table = finish(groups.lazy()).collect(engine=polars_engine)
            except POLARS_FAILURES as error:
                for name, (reading, _) in read.items():
                    problem = reading.explain(quote=name in (data or {}))
                    if problem:
                        raise DataError(problem) from None
                raise DataError(
                    f"cannot evaluate: {polars_problem(error, quote=read.keys() <= (data or {}).keys())}"
                ) from None
            problems: list[DataProblem] = []
            notices: list[str] = []
            for (reading, _), row in zip(read.values(), counts, strict=True):
                found, said = reading.report(row.row(0, named=True))
                problems += found
                notices += said
        finally:
            spilled.close()
            for reading, _ in readings.values():
                reading.close()
        return Run(table, tuple(problems), tuple(notices))

    # -- bounded memory ---------------------------------------------------------------------------

    def _in_buckets(
        self,
        request: Request,
        readings: dict[str, tuple[Reading, set[str]]],
        planned: Compiler,
        limit: int,
        spilled: contextlib.ExitStack,
    ) -> partition.Stages | None:
        """The stages of a request with windows computed in buckets of keys, when its windows would need more than
        `limit` bytes (estimated from the rows and columns read) and it can be partitioned; else None. `planned` is
        the compiler of the request's query in one piece: its windows and the columns it reads."""

        def scan_source(name: str) -> pl.LazyFrame:
            return readings[name][0].frame

        hosts = partition.windowed_sources(planned)
        if not hosts:
            return None
        columns = max(len(readings[name][1]) for name in hosts)
        # The rows are counted (a pass over CSV files) only when a bound from the files' sizes does not settle it.
        bounds = [bound for reading, read in readings.values() if (bound := reading.most_rows(len(read))) is not None]
        if len(bounds) == len(readings) and memory.buckets_for(sum(bounds), columns, limit) == 1:
            return None
        rows = pl.collect_all([readings[name][0].frame.select(pl.len()) for name in readings], engine="streaming")
        total = sum(int(found.item()) for found in rows)
        buckets = memory.buckets_for(total, columns, limit)
        if buckets == 1:
            return None
        folder = Path(spilled.enter_context(tempfile.TemporaryDirectory(prefix="metricdsl-windows-")))
        slices = memory.slice_rows(limit)
        return partition.partitioned_stages(self.model, request, scan_source, folder, buckets, planned, slices)

    def _sql_groups(
        self,
        sql: SqlEngine,
        aggregated: pl.LazyFrame,
        read: dict[str, tuple[Reading, set[str]]],
        tallies: list[pl.LazyFrame],
        request: Request,
        polars_engine: PolarsEngine,
    ) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
        """The aggregated groups computed by a SQL engine, in the schema of Polars' (`aggregated`), and the
        data-quality counts of the sources read: their typed frames (the columns read) are collected with the
        counts, then handed to the engine in the table contract (`metricdsl.engine.sql.frames`)."""
        from sqlglot import exp

        from metricdsl.engine.sql import dialects, frames, query

        for name, table in sql.tables.items():
            self._check_table(name, table, sql)
        schema = aggregated.collect_schema()
        selected = [reading.frame.select(_table_columns(reading, columns)) for reading, columns in read.values()]
        collected = pl.collect_all([*selected, *tallies], engine=polars_engine)
        typed = {name: frames.to_sql_frame(self.model, name, frame) for name, frame in zip(read, collected, strict=False)}
        named = {name: exp.to_table(table, dialect=sql.dialect) for name, table in sql.tables.items()}
        text = dialects.render(query.groups_query(self.model, request, named or None), sql.dialect)
        result = sql.execute(text, typed)
        return frames.from_sql_groups(result, schema, self.model, request), collected[len(read) :]

    def _check_table(self, name: str, table: str, sql: SqlEngine) -> None:
        """Raise `DataError` when catalog table `table`, read as source `name`, lacks one of its declared columns or
        holds one in a type other than the table contract's."""
        assert sql.table_columns is not None
        found = sql.table_columns(table)
        for column, declared in self.definitions.sources[name].columns.items():
            if column not in found:
                continue  # a column the request does not read may be missing; one it reads fails in the query
            if found[column].split("(")[0] not in CONTRACT_TYPES[declared.type]:
                raise DataError(
                    f"source `{name}`: column `{column}` of table {table} is {found[column]}, where a `{declared.type}` "
                    f"column must be {' or '.join(CONTRACT_TYPES[declared.type])}"
                )

    def sql(
        self,
        data: Mapping[str, Data] | None = None,
        *,
        dialect: str = "duckdb",
        tables: Mapping[str, str] | None = None,
        **request: Unpack[RequestArgs],
    ) -> str:
        """The SQL query of a request in `dialect` (duckdb, spark, snowflake, bigquery, trino or postgres), formatted,
        for a warehouse whose tables follow the table contract (README: `metricdsl sql`). `tables` maps a source to
        its table's qualified name (`db.schema.contacts`), by default the source's name; `data` is not read, but
        must name sources. `with_ci=True` adds each metric's `m_n`, `m_ci_low` and `m_ci_high`, as `evaluate` does. An
        unknown dialect or source, or a function the dialect cannot compute exactly: `RequestError`."""
        for name in data or {}:
            if name not in self.definitions.sources:
                raise RequestError(unknown_name("source", name, self.definitions.sources))
        resolved = self.request(**request)
        if not resolved.metrics:
            raise RequestError("no metric to compute: name some, or a dashboard")
        return request_sql(self.model, resolved, dialect, tables)

    def grade(self, data: Mapping[str, Data] | None = None, **request: Unpack[GradeArgs]) -> Graded:
        """Evaluate a request and grade it (see `run_graded()`)."""
        graded = self.run_graded(data, **request).graded
        assert graded is not None
        return graded

    def run_graded(
        self,
        data: Mapping[str, Data] | None = None,
        *,
        dashboard: str | None = None,
        metrics: Iterable[str] | None = None,
        by: Iterable[str] = (),
        grain: str | None = None,
        history: Path | None = None,
        scorecard: str | None = None,
        as_of: datetime.datetime | None = None,
        start: datetime.date | None = None,
        end: datetime.date | None = None,
        engine: Engine = "polars",
        polars_engine: PolarsEngine = "streaming",
        spark_remote: str | None = None,
        tables: Mapping[str, str] | None = None,
        memory_limit: int | str | None = None,
    ) -> Run:
        """Evaluate a request with every metric its targets, rules and scorecard need, and grade it: a `Run` with the
        grades (`graded`) and the data-quality report of the data read.

        With `history`, earlier runs' rows in that Parquet file feed `prev()` (the file is not written:
        see `metricdsl.grading.history.write_history`); it is read before the data, and a history needs a grain
        (`RequestError`) and must be one of these specs and layout, its columns of types this run's go with
        (`DataError`). `scorecard` names one, else the dashboard's is used. `engine` and the options after it are
        `run()`'s.
        """
        request = self.request(metrics=metrics, dashboard=dashboard, by=by, grain=grain)
        board = self.definitions.dashboards.get(dashboard) if dashboard else None
        scorecard = scorecard or (board.scorecard if board else None)
        if scorecard is not None and scorecard not in self.definitions.scorecards:
            raise RequestError(unknown_name("scorecard", scorecard, self.definitions.scorecards))
        card = self.definitions.scorecards[scorecard] if scorecard else None
        wanted = [
            *request.metrics,
            *self.model.targets,
            *((i.metric for i in card.items) if card else ()),
            *(
                r.name
                for c in self.model.rules.values()
                for n in ast.walk(c.when)
                if (r := self.model.refs.get(id(n))) and r.kind == "metric"
            ),
        ]
        computable = self._computable(list(dict.fromkeys(wanted)), request)
        week_start = self.definitions.calendar.week_start
        past = read_history(history, request.by, request.grain, self.model.metrics, week_start) if history else None
        run = self.run(
            data,
            metrics=computable,
            by=request.by,
            grain=request.grain,
            keep_hidden=True,
            as_of=as_of,
            start=start,
            end=end,
            engine=engine,
            polars_engine=polars_engine,
            spark_remote=spark_remote,
            tables=tables,
            memory_limit=memory_limit,
        )
        if history is not None and past is not None:
            check_types(history, past, run.table)
        graded = graded_table(self.model, run.table, request.by, request.grain, card, past, start)
        return replace(run, graded=graded)

    def check(self, data: Mapping[str, Data] | None = None, **request: Unpack[GradeArgs]) -> list[Finding]:
        """Grade a request (see `run_graded()`) and return its findings, most severe first, each with its message.

        Beside the targets missed and rules fired, each problem of the data-quality report is a finding of kind
        "data", severity "warn", without group or period: its `problem` is the `DataProblem` (source, column, rows,
        reason, first place, value), and its `file` and `line` those of the column's declaration. The notices of the
        run are not findings: `run_graded()` gives them.
        """
        run = self.run_graded(data, **request)
        assert run.graded is not None
        return [replace(f, message=message(f)) for f in findings(self.model, run.graded, problems=run.problems)]

    def report(self, data: Mapping[str, Data] | None = None, **request: Unpack[ReportArgs]) -> str:
        """A dashboard as one self-contained HTML page (see `report_view()`, whose arguments it takes); needs the
        `metricdsl[report]` extra (`ReportUnavailable` without it)."""
        from metricdsl.render.html.charts import start_bundle
        from metricdsl.render.html.page import render_page

        start_bundle()  # made while the dashboard is evaluated
        view = self.report_view(data, **request)
        return render_page(view)

    def report_view(
        self,
        data: Mapping[str, Data] | None = None,
        *,
        dashboard: str | None = None,
        drill: Iterable[str] = (),
        history: Path | None = None,
        as_of: datetime.datetime | None = None,
        start: datetime.date | None = None,
        end: datetime.date | None = None,
        engine: Engine = "polars",
        polars_engine: PolarsEngine = "streaming",
        spark_remote: str | None = None,
        tables: Mapping[str, str] | None = None,
        memory_limit: int | str | None = None,
        generated_at: datetime.datetime | None = None,
        revision: str | None = None,
    ) -> ReportView:
        """What the report of a dashboard shows (`metricdsl.render.html.model`), graded as `check()` grades it: the
        dashboard's layout (with `history` for `prev()`), its totals without `by`, and one layout by each `drill`
        column; `dashboard` may be left out when the specs have one. `generated_at` (default: now, in UTC) is the
        time the page says it was made, `revision` the specs' git revision it names."""
        from metricdsl.render.html.extra import require_extra

        require_extra()
        from metricdsl.render.html.model import report_view

        board = self.report_dashboard(dashboard)
        if history is not None and not history.exists():
            # `check` begins a history there; the report only reads one, so a path that names none is a mistake
            raise DataError(f"cannot read the history {history}: no such file")
        common: _Layout = {
            "grain": board.grain,
            "scorecard": board.scorecard,
            "as_of": as_of,
            "start": start,
            "end": end,
            "engine": engine,
            "polars_engine": polars_engine,
            "spark_remote": spark_remote,
            "tables": tables,
            "memory_limit": memory_limit,
        }
        run = self.run_graded(data, dashboard=board.name, history=history, **common)
        centre = self.run_graded(data, metrics=board.metrics, **common).graded
        drills = {c: self._drill(data, board, c, common) for c in dict.fromkeys(drill)}
        assert run.graded is not None
        assert centre is not None
        found = report(self.model, run.graded, revision, run.problems)
        return report_view(
            self.model,
            board,
            run.graded,
            centre,
            replace(found, findings=[replace(f, message=message(f)) for f in found.findings]),
            drills={c: g for c, g in drills.items() if g is not None},
            sources=self._data_ranges(data or {}, set(self.definitions.sources) - set(tables or {})),
            notices=run.notices,
            generated_at=generated_at or datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
            revision=revision,
        )

    def _drill(self, data: Mapping[str, Data] | None, board: Dashboard, column: str, common: _Layout) -> Graded | None:
        """The dashboard's metrics graded by `column` alone, for a drill-down."""
        try:
            return self.run_graded(data, metrics=board.metrics, by=[column], **common).graded
        except RequestError as error:
            raise RequestError(f"drill-down by `{column}`: {error}") from None

    def report_dashboard(self, name: str | None) -> Dashboard:
        """The dashboard named, else the only one; `RequestError` when there is none, or several and no name."""
        boards = self.definitions.dashboards
        if name is not None:
            if name not in boards:
                raise RequestError(unknown_name("dashboard", name, boards))
            return boards[name]
        if len(boards) != 1:
            if not boards:
                raise RequestError("the specs define no dashboard: a report shows one (`dashboards:`)")
            raise RequestError(
                f"the specs define {len(boards)} dashboards: name one (--dashboard {', '.join(sorted(boards))})"
            )
        return next(iter(boards.values()))

    def _data_ranges(self, data: Mapping[str, Data], sources: Collection[str]) -> list[SourceRange]:
        """Each of `sources`' first and last time (local) and number of rows, read from its input."""
        from metricdsl.render.html.model import SourceRange

        inputs = self._inputs(data)
        ranges = []
        for name in sorted(s for s in sources if s in inputs):
            source = self.definitions.sources[name]
            try:
                reading = scan(source, inputs[name], zone=self._zone(name), quote=name in data)
            except DataError:
                continue  # a source the dashboard does not read may have no data: it is left out of the notes
            try:
                times = (
                    [pl.col(source.time).min().alias("first"), pl.col(source.time).max().alias("last")]
                    if source.time
                    else []
                )
                row = reading.frame.select(pl.len().alias("rows"), *times).collect().row(0, named=True)
            except POLARS_FAILURES:
                continue  # the evaluation read it: a source it cannot summarise is left out of the notes
            finally:
                reading.close()
            ranges.append(SourceRange(name, _moment(row.get("first")), _moment(row.get("last")), int(row["rows"])))
        return ranges

    def _computable(self, metrics: list[str], request: Request) -> list[str]:
        """The `metrics` that can be split by the request's dimensions and grain, as can every metric they are
        computed from (one pass over them all, dependencies first)."""
        possible: dict[str, bool] = {}
        for name in self.model.metric_order(metrics):
            own = self._unreadable(name, request) is None
            possible[name] = own and all(possible[m] for m in self.model.uses(name))
        return [m for m in metrics if possible[m]]

    def _inputs(self, data: Mapping[str, Data]) -> dict[str, Data]:
        """The input of each source: the data given for it, else its spec's `path:` (which messages never quote)."""
        inputs: dict[str, Data] = {}
        for name, source in self.definitions.sources.items():
            if name in data:
                inputs[name] = data[name]
            elif source.path is not None:
                inputs[name] = source.path
        return inputs

    def _query(
        self, data: Mapping[str, Data], request: Request, *, quoted: Mapping[str, Data] | None = None
    ) -> tuple[pl.LazyFrame, Callable[[pl.LazyFrame], pl.LazyFrame], dict[str, tuple[Reading, set[str]]], Compiler]:
        """The query of `request` in its two stages (`build_stages`: the aggregated groups, and how to finish the
        table from them), the reading of each source it reads with the columns it reads there, and the compiler that
        built it. Messages quote the inputs of the sources of `quoted` (default: `data`), given by the user."""
        quoted = data if quoted is None else quoted
        for name in data:
            if name not in self.definitions.sources:
                raise RequestError(unknown_name("source", name, self.definitions.sources))
        inputs = self._inputs(data)
        readings: dict[str, Reading] = {}

        def scan_source(name: str) -> pl.LazyFrame:
            if name not in readings:
                if name not in inputs:
                    raise DataError(f"no data for source `{name}`: give it (--data {name}=FILE) or set its `path`")
                source = self.definitions.sources[name]
                readings[name] = scan(source, inputs[name], zone=self._zone(name), quote=name in quoted)
            return readings[name].frame

        try:
            aggregated, finish, compiler = build_stages(self.model, request, scan_source)
            for name, reading in readings.items():
                source, read = self.definitions.sources[name], compiler.columns_read.get(name, set())
                check_columns(source, reading.frame, inputs[name], read, quote=name in quoted)
        except BaseException:
            for reading in readings.values():
                reading.close()
            raise
        return (
            aggregated,
            finish,
            {name: (reading, compiler.columns_read.get(name, set())) for name, reading in readings.items()},
            compiler,
        )

    def _zone(self, source: str) -> str | None:
        """The time zone a source's times are local to, None when neither it nor the calendar declares one."""
        declared = self.definitions.sources[source].timezone or self.definitions.calendar.timezone
        return self.definitions.zone(source) if declared else None


def _moment(value: object) -> str | None:
    """A data range's time as the notes show it: `2026-02-01 20:24`, local to its source."""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return None if value is None else str(value)


def _memory_limit(given: int | str | None) -> int | None:
    """A memory limit in bytes: the one given (`RequestError` when it is no size), else half of the machine's."""
    if given is None:
        return memory.default_limit()
    try:
        return memory.parse_size(given)
    except ValueError as error:
        raise RequestError(f"memory_limit: {error}") from None


def _empty_frame(source: Source) -> pl.DataFrame:
    """A frame without rows holding `source`'s declared columns in their types: what a source read from a table
    gives the query's plan (its data is read by the engine)."""
    return pl.DataFrame(schema={name: DTYPES[column.type] for name, column in source.columns.items()})


def _table_columns(reading: Reading, columns: set[str]) -> list[str]:
    """The columns of a source's frame handed to a SQL engine: those read, else one declared column, as a table
    needs a column to hold its rows."""
    present = [c for c in reading.frame.collect_schema() if c in reading.source.columns]
    return sorted(columns) or present[:1]


def _periods_problem(model: Model, name: str, grain: str | None) -> str | None:
    """Why metric `name`, which compares periods or is trailing, cannot be evaluated at `grain`, if it cannot."""
    problem = grain_problem(model.metrics[name], name, grain)
    return None if problem is None else f"{problem[0]}: {problem[1]}"


def _check_shown_columns(request: Request) -> None:
    """Raise `RequestError` when two columns of the request's table would have one name: a metric named as a
    dimension or as the grain, or as another metric's `--with-ci` column (`x_n` beside `x`)."""
    roles: dict[str, str] = {}
    shown = [
        *((d, "a dimension") for d in request.by),
        *(((request.grain, "the grain"),) if request.grain else ()),
        *((m, "a metric") for m in request.metrics),
        (PROVISIONAL, "the flag of provisional groups (when a metric reads a window)"),
    ]
    if request.with_ci:
        shown += [
            (interval_column(m, part), f"the {part} of `{m}`")
            for m in request.metrics
            for part in ("n", "ci_low", "ci_high")
        ]
    for name, role in shown:
        if name in roles:
            raise RequestError(f"`{name}` would be both {roles[name]} and {role} in one table: rename one of them")
        roles[name] = role


def load(
    paths: str | Path | Iterable[str | Path], *, allow_outside_paths: bool = False, given_sources: Collection[str] = ()
) -> Project:
    """Load and check the spec files under `paths`; raise `SpecError` with every error found.

    A source's `path:` must lead inside the project folder (the git work tree that holds `paths`; outside
    one, the current folder when it holds them, else their folder; links followed): one that leads
    outside is an error (MD009) unless `allow_outside_paths=True`, for specs you trust. The data given to
    `evaluate()`, `check()` and the others is yours and is read wherever it is: name in `given_sources` the
    sources you will always give data for (as `--data` does), and their `path:` is not read, so one that leads
    outside is left out instead of reported.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    definitions, diagnostics = load_files(list(paths), allow_outside_paths=allow_outside_paths, given_sources=given_sources)
    model, found = check(definitions)
    diagnostics += found
    if has_errors(diagnostics):
        raise SpecError(diagnostics)
    return Project(definitions, model, diagnostics)
