"""The `metricdsl` command: parse arguments, call the library, render, return an exit code."""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import os
import shutil
import sys
import textwrap
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from metricdsl.cli.outputs import (
    discard,
    echo,
    failed,
    format_of_output,
    format_option,
    output_options,
    print_data_report,
)
from metricdsl.cli.requests import (
    RequestOptions,
    allows_outside_paths,
    bad_requests,
    dashboard_options,
    datetime_option,
    diff_options,
    engine_options,
    find_spec_paths,
    inputs_of,
    load_project,
    memory_option,
    paths_argument,
    project_paths_argument,
    refuse_paths_without_specs,
    request_of,
    request_options,
    revision_and_paths,
    source_file,
    tables_of,
)
from metricdsl.codes import CODES
from metricdsl.engine.sql.dialects import DIALECTS
from metricdsl.engine.sql.engines import Engine
from metricdsl.errors import (
    DataError,
    EngineUnavailable,
    NotExactInDialect,
    OutputError,
    ReportUnavailable,
    RequestError,
    SpecError,
    has_errors,
    unknown_name,
)
from metricdsl.files import (
    is_standard_output,
    is_stream,
    lock_path,
    reason,
    refuse_overwriting,
    write_text_atomically,
)
from metricdsl.grading.findings import at_least, report
from metricdsl.grading.history import Drift, metric_drift, write_history
from metricdsl.native_stderr import native_stderr_discarded
from metricdsl.render import codes, diagnostics, findings, formatted, graph, spectests, tables, terminal
from metricdsl.render import diff as diff_render
from metricdsl.render.explain import metric_report
from metricdsl.render.history import drift_warning
from metricdsl.render.html.extra import require_extra
from metricdsl.render.junit import junit_report
from metricdsl.semantics.checker import check
from metricdsl.semantics.graph import dependency_graph, impact, resolve
from metricdsl.spec.json_schema import spec_schema
from metricdsl.spec.loader import links_outside, load_files, spec_files
from metricdsl.stopping import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, handled, raise_noted, stop, stopped_by
from metricdsl.tools.diff import DiffError, diff_specs
from metricdsl.tools.explain import explain_metric
from metricdsl.tools.fmt import format_path, write_formatted
from metricdsl.tools.revision import spec_revision
from metricdsl.tools.spectest import run_tests

if TYPE_CHECKING:
    from collections.abc import Mapping

    import polars as pl
    from typing_extensions import Unpack

    from metricdsl.render.html.model import ReportView
    from metricdsl.semantics.model import CheckedMetric

# What CI can act on: 1 is the verdict of a run that worked, 2 and up say that it could not work.
EXIT_OK = 0
EXIT_FAILED = 1  # findings at `--fail-on`, failed spec tests, invalid specs (`validate`), files `fmt --check` would change
EXIT_ERROR = 2  # a usage error (click's code), specs or data with errors, an output that cannot be written
EXIT_INTERNAL = 3  # a bug: one line, and the traceback with METRICDSL_DEBUG=1
# EXIT_INTERRUPTED, 130: Ctrl-C, 128 + SIGINT, as shells report a process that SIGINT ended
# EXIT_TERMINATED, 143: SIGTERM, 128 + SIGTERM
EXIT_CODES = {  # for `metricdsl --help` and the README
    EXIT_OK: "ok",
    EXIT_FAILED: "findings at --fail-on (check), failed spec tests (test), invalid specs (validate), "
    "files that would change (fmt --check)",
    EXIT_ERROR: "the command could not do its work: a usage error, specs or data with errors, "
    "an output file that cannot be written",
    EXIT_INTERNAL: "an internal error: a bug, please report it (METRICDSL_DEBUG=1 prints the traceback)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_TERMINATED: "terminated (SIGTERM)",
}
DEBUG_VARIABLE = "METRICDSL_DEBUG"
SQL_DIALECTS = tuple(DIALECTS)


class _Command(click.Command):
    """A command whose `--help` is printed as the group's is: see `_help_printed`."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with _help_printed():
            return super().make_context(info_name, args, parent, **extra)


class _Commands(click.Group):
    """The commands, ended by what can go wrong in them: each problem is told in one line (or as diagnostics) on
    standard error, with its exit code; never a traceback."""

    command_class = _Command

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        """Parse the command line; `metricdsl --help` and `--version` print here."""
        with _stopped_early(), _help_printed():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> object:
        try:
            # After Ctrl-C in Polars, a second KeyboardInterrupt follows as the command leaves click's context: either
            # ends here. Polars' native code writes panic text to standard error: it is discarded.
            with handled(), _stopped_early(), contextlib.nullcontext() if _debugging() else native_stderr_discarded():
                return super().invoke(ctx)
        except SpecError as error:
            echo(diagnostics.render(error.diagnostics, "text"), err=True)
            sys.exit(EXIT_ERROR)
        except (DataError, OutputError, EngineUnavailable, NotExactInDialect, ReportUnavailable) as error:
            echo(terminal.error_line(error), err=True)
            sys.exit(EXIT_ERROR)
        except RequestError as error:
            raise click.UsageError(terminal.inline(error)) from None
        except click.UsageError as error:  # its message may quote the names of a spec
            raise click.UsageError(terminal.inline(error.format_message()), error.ctx) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            _internal_error(error)


def _exit_codes_help() -> str:
    """The epilog of `metricdsl --help`: the exit codes, wrapped here, so click must not rewrap them (`\\b`)."""
    rows = [
        textwrap.fill(meaning, 76, initial_indent=f"  {code:<5}", subsequent_indent=" " * 7)
        for code, meaning in EXIT_CODES.items()
    ]
    return "\b\nExit codes:\n" + "\n".join(rows)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]}, epilog=_exit_codes_help())
@click.version_option(package_name="metricdsl")
def main() -> None:
    """Contact-center metrics as code: validate and evaluate metric specs."""


@main.command()
@project_paths_argument
@format_option(diagnostics.FORMATS, "How to print the diagnostics.")
def validate(paths: tuple[Path, ...], output_format: str) -> None:
    """Parse and check the specs under PATHS (default: ./specs, else those under .); print every problem."""
    spec_paths = find_spec_paths(paths)
    refuse_paths_without_specs(spec_paths)
    definitions, found = load_files(spec_paths, allow_outside_paths=allows_outside_paths())
    found += check(definitions)[1]
    echo(diagnostics.render(found, output_format, len(spec_files(spec_paths))))
    _exit(has_errors(found))


@main.command(name="eval")
@request_options
@output_options(
    "Write the table to this file (`-`: standard output), as CSV, Parquet or JSON rows.",
    "its extension; needed for `-` and other names without one",
)
@click.option("--with-ci", is_flag=True, help="Add each metric's n and 95 % confidence interval (m_n, m_ci_low, m_ci_high).")
@click.option(
    "--raw",
    is_flag=True,
    help="Print the table as numbers under the columns' names, as written to files, not formatted for reading.",
)
@engine_options
@memory_option
def evaluate(
    paths: tuple[Path, ...],
    output: Path | None,
    output_file_format: str | None,
    with_ci: bool,
    raw: bool,
    engine: Engine,
    spark_remote: str | None,
    catalog: tuple[str, ...],
    memory_limit: int | None,
    **request: Unpack[RequestOptions],
) -> None:
    """Evaluate the metrics of the specs under PATHS over data; print or write the table.

    The data-quality report (invalid values made missing, empty sources) and notices go to standard error."""
    written_as = format_of_output(output, output_file_format)
    spec_paths = find_spec_paths(paths)
    project = load_project(spec_paths, data=request["data"], tables=catalog)
    with bad_requests():
        asked = request_of(project, **request)
        refuse_overwriting([output], inputs_of(project, asked, spec_paths))
        run = project.run(
            **asked,
            with_ci=with_ci,
            engine=engine,
            spark_remote=spark_remote,
            tables=tables_of(catalog),
            memory_limit=memory_limit,
        )
    table = run.table
    print_data_report(run.problems, run.notices)
    if output is None or written_as is None:
        echo(tables.as_text(table) if raw else _formatted(table, project.model.metrics))
        return
    try:
        tables.write_table(table, output, written_as)
    except BrokenPipeError:  # to standard output, whose reader has gone: nothing more to say
        discard(sys.stdout)
        return
    echo(tables.written(table.height, output), err=True)


def _formatted(table: pl.DataFrame, metrics: Mapping[str, CheckedMetric]) -> str:
    """`eval`'s table for a reader: labels as headers, values in their units, fitted to the terminal's width."""
    shown = tables.shown_columns(table.columns, {name: checked.metric for name, checked in metrics.items()})
    return tables.as_formatted_text(table, shown, shutil.get_terminal_size().columns)


@main.command(name="sql")
@request_options
@click.option(
    "--dialect",
    type=click.Choice(SQL_DIALECTS),
    default="duckdb",
    show_default=True,
    help="The SQL dialect to write.",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    metavar="SOURCE=TABLE",
    help="The table a source is read from, qualified as the warehouse names it (db.schema.contacts). Repeatable.",
)
@click.option("--output", type=click.Path(path_type=Path, allow_dash=True), help="Write the query to this file.")
@click.option("--with-ci", is_flag=True, help="Add each metric's n and 95 % confidence interval (m_n, m_ci_low, m_ci_high).")
def sql_command(
    paths: tuple[Path, ...],
    dialect: str,
    tables: tuple[str, ...],
    output: Path | None,
    with_ci: bool,
    **request: Unpack[RequestOptions],
) -> None:
    """Print the SQL query of a request, formatted, for a warehouse whose tables hold the sources' columns (the
    table contract: see the README). No data is read."""
    spec_paths = find_spec_paths(paths)
    project = load_project(spec_paths, data=request["data"])
    with bad_requests():
        asked = request_of(project, **request)
        named = tables_of(tables)
        refuse_overwriting([output], inputs_of(project, asked, spec_paths))
        text = project.sql(**asked, dialect=dialect, tables=named, with_ci=with_ci)
    if output is None or is_standard_output(output):
        echo(text.rstrip("\n"))
        return
    write_text_atomically(output, text)


@main.command(name="check")
@request_options
@format_option(findings.FORMATS, "How to print the findings.")
@click.option(
    "--fail-on",
    type=click.Choice(["warn", "fail"]),
    default="fail",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@click.option(
    "--history",
    type=click.Path(path_type=Path),
    help="Parquet file of earlier runs: read for prev(), then this run's values are recorded in it.",
)
@output_options(
    "Also write the findings and scores to this file (`-`: standard output, and the findings printed go to standard "
    "error) as JSON, or the findings as a CSV or Parquet table.",
    "its extension, else json",
)
@engine_options
@memory_option
def check_command(
    paths: tuple[Path, ...],
    output_format: str,
    fail_on: str,
    history: Path | None,
    output: Path | None,
    output_file_format: str | None,
    engine: Engine,
    spark_remote: str | None,
    catalog: tuple[str, ...],
    memory_limit: int | None,
    **request: Unpack[RequestOptions],
) -> None:
    """Evaluate and grade: target statuses, rules and scorecards; print the findings, with the data's quality
    problems as warnings of kind `data`."""
    written_as = format_of_output(output, output_file_format, default="json")
    spec_paths = find_spec_paths(paths)
    project = load_project(spec_paths, data=request["data"], tables=catalog)
    with bad_requests():
        asked = request_of(project, **request)
        locks = [] if history is None or is_stream(history) else [(lock_path(history), "the lock of the history")]
        refuse_overwriting([output, history], [*inputs_of(project, asked, spec_paths), *locks])
        run = project.run_graded(
            **asked,
            history=history,
            engine=engine,
            spark_remote=spark_remote,
            tables=tables_of(catalog),
            memory_limit=memory_limit,
        )
        graded = run.graded
        assert graded is not None
        drift = metric_drift(history, graded, project.model.metrics) if history is not None else Drift()
    print_data_report((), run.notices)  # its problems are findings
    graded_report = report(project.model, graded, spec_revision(spec_paths), run.problems)
    unwritten = False  # files first, then standard output: a closed pipe must not cost the files
    if output is not None and written_as is not None:
        unwritten |= failed(lambda: findings.write_report(graded_report, output, written_as))
    if history is not None:
        unwritten |= failed(lambda: echo(findings.history_recorded(history, write_history(history, graded)), err=True))
        if drift:
            echo(drift_warning(history, drift), err=True)
    echo(findings.render(graded_report, output_format), err=output is not None and is_standard_output(output))
    _exit(at_least(graded_report.findings, fail_on), error=unwritten)


@main.command(name="report")
@dashboard_options
@click.option(
    "--history",
    type=click.Path(path_type=Path),
    help="Parquet file of earlier runs (as `check --history` writes it), read for prev(); not written.",
)
@click.option(
    "--drill",
    multiple=True,
    metavar="COLUMN",
    help="Add a drill-down by this column (channel, queue, agent_id): a matrix and a sorted table per metric. Repeatable.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, allow_dash=True),
    help=(
        "The HTML file to write (`-`: standard output). Default: DASHBOARD.html in the current folder. With several "
        "dashboards and no --dashboard: the folder for their pages."
    ),
)
@click.option(
    "--charts",
    "charts_folder",
    type=click.Path(path_type=Path, file_okay=False),
    help=(
        "Also write each trend chart to this folder as an image (for e-mail), one file per metric; with several "
        "dashboards, in a folder per dashboard."
    ),
)
@click.option(
    "--chart-format", type=click.Choice(["svg", "png"]), default="svg", show_default=True, help="The images' format."
)
@click.option(
    "--generated-at",
    callback=datetime_option,
    metavar="DATETIME",
    help="The time the page says it was made (default: now, in UTC), for pages that must come out the same.",
)
@engine_options
@memory_option
def report_command(
    paths: tuple[Path, ...],
    history: Path | None,
    drill: tuple[str, ...],
    output: Path | None,
    charts_folder: Path | None,
    chart_format: str,
    generated_at: datetime.datetime | None,
    engine: Engine,
    spark_remote: str | None,
    catalog: tuple[str, ...],
    memory_limit: int | None,
    data: tuple[str, ...],
    dashboard: str | None,
    as_of: datetime.datetime | None,
    start: datetime.date | None,
    end: datetime.date | None,
) -> None:
    """Write a dashboard as one self-contained HTML page: verdict, tiles, team matrix, scorecard, findings, trends,
    drill-downs and notes, graded as `check` grades it; without --dashboard, a page for each dashboard of the specs.
    Opens offline; needs metricdsl[report]."""
    require_extra()
    from metricdsl.render.html.charts import start_bundle

    start_bundle()  # made while the specs are loaded and evaluated

    spec_paths = find_spec_paths(paths)
    project = load_project(spec_paths, data=data, tables=catalog)
    with _told_in_one_line():
        asked = request_of(project, data, dashboard, None, (), None, as_of, start, end)
        boards = project.definitions.dashboards
        several = asked["dashboard"] is None and len(boards) > 1
        if not several:
            names = [project.report_dashboard(asked["dashboard"]).name]
        elif output is not None and (is_standard_output(output) or (output.suffix and not output.is_dir())):
            # A file name (`-`, `board.html`) asks for one page: a folder of that name would surprise.
            raise RequestError(
                f"--output {output} writes one page: name a dashboard (--dashboard {', '.join(sorted(boards))}), or "
                "give a folder for a page of each"
            )
        else:
            names = list(boards)
        targets = {name: _page_path(name, output, several) for name in names}
        read = [(history, "the history")] if history is not None else []
        refuse_overwriting(list(targets.values()), [*inputs_of(project, asked, spec_paths), *read])
    unwritten = False
    for name, target in targets.items():
        with _told_in_one_line():
            view = project.report_view(
                asked["data"],
                dashboard=name,
                drill=drill,
                history=history,
                as_of=as_of,
                start=start,
                end=end,
                engine=engine,
                spark_remote=spark_remote,
                tables=tables_of(catalog),
                memory_limit=memory_limit,
                generated_at=generated_at,
                revision=spec_revision(spec_paths),
            )
        print_data_report((), view.notes.notices)  # the data's problems are findings on the page
        folder = charts_folder / name if several and charts_folder is not None else charts_folder
        unwritten |= _write_page(view, target, folder, chart_format)
    _exit(False, error=unwritten)


def _write_page(view: ReportView, target: Path, charts_folder: Path | None, chart_format: str) -> bool:
    """Write a report's page to `target` (`-`: standard output) and its charts' images to `charts_folder`; True when
    one of them could not be written (said on standard error)."""
    from metricdsl.render.html import page
    from metricdsl.render.html.charts import write_charts

    html = page.render_page(view)
    unwritten = False
    if charts_folder is not None:
        specs = page.chart_specs(view)
        unwritten |= failed(lambda: echo(page.charts_written(write_charts(specs, charts_folder, chart_format)), err=True))
    if is_standard_output(target):
        echo(html.rstrip("\n"))
    elif failed(lambda: write_text_atomically(target, html)):
        unwritten = True
    else:
        echo(f"wrote {terminal.inline(target)} ({len(html.encode()) / 1e6:.1f} MB)", err=True)
    return unwritten


def _page_path(dashboard: str, output: Path | None, several: bool) -> Path:
    """Where the page of `dashboard` goes: `--output`, else DASHBOARD.html; with several pages, DASHBOARD.html in the
    `--output` folder (made when missing) or in the current folder."""
    if not several:
        return output if output is not None else Path(f"{dashboard}.html")
    if output is None:
        return Path(f"{dashboard}.html")
    if output.exists() and not output.is_dir():
        raise RequestError(f"--output {output} is a file: with several dashboards it names a folder for their pages")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RequestError(f"cannot make the folder {output}: {error.strerror or error}") from None
    return output / f"{dashboard}.html"


@main.command()
@paths_argument
@click.option("--check", is_flag=True, help="Change nothing; show a diff and exit 1 when a file would change.")
def fmt(paths: tuple[Path, ...], check: bool) -> None:
    """Rewrite the expressions of the specs under PATHS in canonical form, keeping comments."""
    spec_paths = find_spec_paths(paths)
    refuse_paths_without_specs(spec_paths)
    files = spec_files(spec_paths)
    refused = links_outside(spec_paths, files)
    for path in sorted(refused):
        echo(formatted.left_alone(str(path), "it links to a file outside the project folder"), err=True)
    results = [format_path(path) for path in files if path not in refused]
    unwritten = False
    for result in results:
        if result.problem:
            echo(formatted.left_alone(result.path, result.problem), err=True)
        elif result.changed and check:
            echo(formatted.diff(result.path, result.before, result.after))
        elif result.changed:
            unwritten |= failed(functools.partial(write_formatted, result))
    changed = [r.path for r in results if r.changed]
    echo(formatted.fmt_summary(changed, len(results), check), err=True)
    _exit(check and bool(changed), error=unwritten or bool(refused) or any(r.problem for r in results))


@main.command(name="graph")
@project_paths_argument
@click.option("--impact", "changed", metavar="NAME", help="List what changes when NAME (a column, metric...) changes.")
@format_option(graph.FORMATS, "How to draw the graph.")
def graph_command(paths: tuple[Path, ...], changed: str | None, output_format: str) -> None:
    """The dependency graph of the specs under PATHS: sources, columns, metrics, dashboards."""
    edges = dependency_graph(load_project(find_spec_paths(paths)).model)
    if changed is None:
        echo(graph.render_graph(edges, output_format))
        return
    matches = resolve(edges, changed)
    if len(matches) != 1:
        raise click.UsageError(f"`{changed}` names {'nothing in the graph' if not matches else ', '.join(matches)}")
    echo(graph.impact_report(matches[0], impact(edges, matches[0])))


@main.command(name="diff")
@diff_options
@click.option("--head", metavar="REV", help="Compare with the specs at this revision, not the work tree.")
@format_option(diff_render.FORMATS, "How to print the changes (markdown: for a pull request's comment).")
@click.option("--output", type=click.Path(path_type=Path, allow_dash=True), help="Write the changes to this file.")
@engine_options
def diff_command(
    arguments: tuple[str, ...],
    head: str | None,
    output_format: str,
    output: Path | None,
    engine: Engine,
    spark_remote: str | None,
    catalog: tuple[str, ...],
    data: tuple[str, ...],
    dashboard: str | None,
    by: tuple[str, ...],
    grain: str | None,
) -> None:
    """What a change of the specs does: definitions added, removed, renamed and changed between git revision BASE
    (default: the merge base with the default branch, else HEAD) and the work tree (or --head), what each reaches,
    and with data, the values, statuses, findings and scores that move. Exits 0 whatever changed."""
    base, spec_paths = revision_and_paths(arguments)
    given = dict(source_file(item) for item in data)
    read = [*((p, "a spec path") for p in spec_paths), *((p, "a spec file") for p in spec_files(spec_paths))]
    if output is not None:
        refuse_overwriting([output], [*((path, "the data") for path in given.values()), *read])
    try:
        with bad_requests():
            found = diff_specs(
                spec_paths,
                base,
                head=head,
                data=given,
                dashboard=dashboard,
                by=by,
                grain=grain,
                engine=engine,
                spark_remote=spark_remote,
                tables=tables_of(catalog),
                allow_outside_paths=allows_outside_paths(),
            )
    except DiffError as error:
        if error.diagnostics:
            echo(f"{terminal.inline(error.side)}: the specs do not validate", err=True)
            echo(diagnostics.render(error.diagnostics, "text"), err=True)
        else:
            echo(terminal.error_line(error), err=True)
        sys.exit(EXIT_ERROR)
    data_read: list[tuple[str | Path, str]] = [
        (path, f"the data of source `{name}`") for name, path in found.data.items() if isinstance(path, (str, Path))
    ]
    refuse_overwriting([output], [*data_read, *read])
    text = diff_render.render(found, output_format)
    if output is None or is_standard_output(output):
        echo(text.rstrip("\n"))
        return
    write_text_atomically(output, text)
    echo(f"wrote {terminal.inline(output)}", err=True)


@main.command()
def schema() -> None:
    """Print the JSON Schema of spec files (for editors such as VS Code's YAML extension)."""
    echo(json.dumps(spec_schema(), indent=2))


@main.command(name="test")
@project_paths_argument
@click.option("--junit-xml", type=click.Path(path_type=Path), help="Also write the results as JUnit XML.")
@engine_options
def test_specs(
    paths: tuple[Path, ...], junit_xml: Path | None, engine: Engine, spark_remote: str | None, catalog: tuple[str, ...]
) -> None:
    """Run the `tests:` of the specs under PATHS; exit 1 when one fails."""
    spec_paths = find_spec_paths(paths)
    project = load_project(spec_paths)
    refuse_overwriting([junit_xml], inputs_of(project, None, spec_paths))
    if catalog:
        raise click.UsageError("--table has no use in `test`: a spec test reads its `given` rows")
    with bad_requests():
        outcomes = run_tests(project, engine, spark_remote)
    unwritten = junit_xml is not None and failed(lambda: write_text_atomically(junit_xml, junit_report(outcomes)))
    echo(spectests.outcomes_report(outcomes), err=junit_xml is not None and is_standard_output(junit_xml))
    _exit(any(not o.passed for o in outcomes), error=unwritten)


@main.command()
@click.argument("name")
@project_paths_argument
def explain(name: str, paths: tuple[Path, ...]) -> None:
    """Explain a diagnostic code (MD101) or a metric of the specs under PATHS."""
    code = CODES.get(name.upper())
    if code is not None:
        echo(codes.explanation(code))
        return
    project = load_project(find_spec_paths(paths))
    if name not in project.model.metrics:
        raise click.UsageError(unknown_name("metric or code", name, [*project.model.metrics, *CODES]))
    echo(metric_report(explain_metric(project, name)))


class _OneLine(click.ClickException):
    """A request the command cannot serve, told in one line (`error: ...`), exit 2: no usage to read through."""

    exit_code = EXIT_ERROR

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


@contextlib.contextmanager
def _told_in_one_line() -> Iterator[None]:
    """A bad request is told in one line; the work done inside is given up if a signal was noted meanwhile (as in
    `bad_requests`)."""
    try:
        yield
    except (EngineUnavailable, NotExactInDialect, ReportUnavailable):
        raise
    except RequestError as error:
        raise _OneLine(terminal.inline(error)) from None
    raise_noted()


@contextlib.contextmanager
def _stopped_early() -> Iterator[None]:
    """End a run that Ctrl-C stops with one line, exit 130 (SIGTERM: 143); and quietly one whose reader of standard
    output has gone.

    The commands' own printing (`echo`) copes with a reader that has gone; what reaches this is click's own, the help
    of `metricdsl --help | head -1` or `metricdsl eval --help | true`, which ends as the help does: exit 0.
    """
    try:
        yield
    except KeyboardInterrupt:
        stop(EXIT_INTERRUPTED)
    except Terminated:
        stop(EXIT_TERMINATED)
    except BrokenPipeError:
        discard(sys.stdout)
        sys.exit(EXIT_OK)
    except (Exception, SystemExit):
        # Polars' error from a callback that the signal broke; or the command's verdict after a signal whose
        # exception Polars swallowed: the run was stopped all the same.
        if (code := stopped_by()) is not None:
            stop(code)
        raise
    if (code := stopped_by()) is not None:  # as above, for a command that returns
        stop(code)


@contextlib.contextmanager
def _help_printed() -> Iterator[None]:
    """Parse a command line, where click prints `--help` and `--version`: standard output that cannot take them (a
    full disk) is one line, exit 2; a reader that has gone ends quietly, as the help does."""
    try:
        yield
    except BrokenPipeError:
        discard(sys.stdout)
        sys.exit(EXIT_OK)
    except OSError as error:
        discard(sys.stdout)
        echo(terminal.error_line(OutputError("standard output", reason(error))), err=True)
        sys.exit(EXIT_ERROR)


def _debugging() -> bool:
    """Whether METRICDSL_DEBUG is set (to anything but 0): then a bug's traceback and native code's messages show."""
    return os.environ.get(DEBUG_VARIABLE, "0") not in ("", "0")


def _internal_error(error: Exception) -> NoReturn:
    """A bug: one line to report, and the traceback only when METRICDSL_DEBUG is set (to anything but 0)."""
    if _debugging():
        echo(terminal.multiline("".join(traceback.format_exception(error)).rstrip()), err=True)
    what = terminal.inline(f"{type(error).__name__}: {error}".splitlines()[0])
    echo(f"internal error: {what}; please report it (set {DEBUG_VARIABLE}=1 for the traceback)", err=True)
    sys.exit(EXIT_INTERNAL)


def _exit(failed: bool, error: bool = False) -> NoReturn:
    """End a command with its verdict, unless it could not do all its work (an output left unwritten)."""
    sys.exit(EXIT_ERROR if error else EXIT_FAILED if failed else EXIT_OK)
