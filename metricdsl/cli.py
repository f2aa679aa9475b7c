"""The `metricdsl` command: parse arguments, call the library, render, return an exit code."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO, TypedDict, TypeVar

import click

from metricdsl.codes import CODES
from metricdsl.errors import DataError, OutputError, RequestError, SpecError, has_errors, unknown_name
from metricdsl.files import reason, refuse_overwriting, write_text_atomically
from metricdsl.grading.findings import at_least, report
from metricdsl.grading.history import Drift, metric_drift, write_history
from metricdsl.native_stderr import native_stderr_discarded
from metricdsl.project import Project, load
from metricdsl.render import codes, diagnostics, findings, formatted, graph, spectests, tables, terminal
from metricdsl.render.explain import metric_report
from metricdsl.render.history import drift_warning
from metricdsl.render.junit import junit_report
from metricdsl.semantics.checker import check
from metricdsl.semantics.graph import dependency_graph, impact, resolve
from metricdsl.spec.definitions import GRAINS
from metricdsl.spec.json_schema import spec_schema
from metricdsl.spec.loader import links_outside, load_files, spec_files
from metricdsl.tools.default_paths import default_spec_paths
from metricdsl.tools.explain import explain_metric
from metricdsl.tools.fmt import format_path, write_formatted
from metricdsl.tools.revision import spec_revision
from metricdsl.tools.spectest import run_tests

if TYPE_CHECKING:
    from typing_extensions import Unpack

# What CI can act on: 1 is the verdict of a run that worked, 2 and up say that it could not work.
EXIT_OK = 0
EXIT_FAILED = 1  # findings at `--fail-on`, failed spec tests, invalid specs (`validate`), files `fmt --check` would change
EXIT_ERROR = 2  # a usage error (click's code), specs or data with errors, an output that cannot be written
EXIT_INTERNAL = 3  # a bug: one line, and the traceback with METRICDSL_DEBUG=1
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report a process that SIGINT ended
EXIT_CODES = {  # for `metricdsl --help` and the README
    EXIT_OK: "ok",
    EXIT_FAILED: "findings at --fail-on (check), failed spec tests (test), invalid specs (validate), "
    "files that would change (fmt --check)",
    EXIT_ERROR: "the command could not do its work: a usage error, specs or data with errors, "
    "an output file that cannot be written",
    EXIT_INTERNAL: "an internal error: a bug, please report it (METRICDSL_DEBUG=1 prints the traceback)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}
DEBUG_VARIABLE = "METRICDSL_DEBUG"

Command = TypeVar("Command", bound=Callable[..., None])
ALLOW_OUTSIDE_PATHS = "metricdsl.allow_outside_paths"  # the key of --allow-outside-paths in click's context


class RequestOptions(TypedDict):
    """The options of `request_options`, as click passes them."""

    data: tuple[str, ...]
    dashboard: str | None
    metrics: str | None
    by: tuple[str, ...]
    grain: str | None


class Asked(TypedDict):
    """The request of the options, as the API's arguments."""

    data: dict[str, str]
    dashboard: str | None
    metrics: list[str] | None
    by: tuple[str, ...]
    grain: str | None


class _Commands(click.Group):
    """The commands, ended by what can go wrong in them: each problem is told in one line (or as diagnostics) on
    standard error, with its exit code; never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            with contextlib.nullcontext() if _debugging() else native_stderr_discarded():  # no Rust panic text
                return super().invoke(ctx)
        except KeyboardInterrupt:  # in Polars, a second one follows as the command leaves click's context: either ends here
            echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except SpecError as error:
            echo(diagnostics.render(error.diagnostics, "text"), err=True)
            sys.exit(EXIT_ERROR)
        except (DataError, OutputError) as error:
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


def paths_argument(command: Command) -> Command:
    return click.argument("paths", nargs=-1, type=click.Path(path_type=Path))(command)


def project_paths_argument(command: Command) -> Command:
    """PATHS of the specs to load, and `--allow-outside-paths`, kept in the context for `_allows_outside_paths()`."""
    return click.option(
        "--allow-outside-paths",
        is_flag=True,
        expose_value=False,
        callback=lambda context, _, value: context.meta.update({ALLOW_OUTSIDE_PATHS: value}),
        help="Let the specs' `path:` read files outside the project folder (only for specs you trust).",
    )(paths_argument(command))


def format_option(formats: tuple[str, ...], what: str) -> Callable[[Command], Command]:
    return click.option(
        "--format", "output_format", type=click.Choice(formats), default="text", show_default=True, help=what
    )


@main.command()
@project_paths_argument
@format_option(diagnostics.FORMATS, "How to print the diagnostics.")
def validate(paths: tuple[Path, ...], output_format: str) -> None:
    """Parse and check the specs under PATHS (default: ./specs, else those under .); print every problem."""
    spec_paths = _spec_paths(paths)
    definitions, found = load_files(spec_paths, allow_outside_paths=_allows_outside_paths())
    found += check(definitions)[1]
    echo(diagnostics.render(found, output_format, len(spec_files(spec_paths))))
    _exit(has_errors(found))


def request_options(command: Command) -> Command:
    """The options that say what to compute: data, dashboard, metrics, dimensions, grain."""
    options = [
        click.option(
            "--data",
            "data",
            multiple=True,
            metavar="SOURCE=FILE",
            help="Input of a source: CSV, Parquet (globs too), NDJSON or Arrow IPC. Repeatable.",
        ),
        click.option("--dashboard", help="Use this dashboard's metrics, dimensions, grain (and scorecard)."),
        click.option("--metrics", help="Comma-separated metric names (default: the dashboard's, else all)."),
        click.option("--by", multiple=True, metavar="COLUMN", help="Group by this column. Repeatable."),
        click.option("--grain", type=click.Choice(GRAINS), help="Time grain; weeks are ISO weeks."),
    ]
    for option in reversed(options):
        command = option(command)
    return project_paths_argument(command)


@main.command(name="eval")
@request_options
@click.option("--output", type=click.Path(path_type=Path), help="Write the table to .csv, .parquet or .json.")
@click.option("--with-ci", is_flag=True, help="Add each metric's n and 95 % confidence interval (m_n, m_ci_low, m_ci_high).")
def evaluate(paths: tuple[Path, ...], output: Path | None, with_ci: bool, **request: Unpack[RequestOptions]) -> None:
    """Evaluate the metrics of the specs under PATHS over data; print or write the table."""
    if output is not None and output.suffix.lower() not in tables.OUTPUT_SUFFIXES:
        raise click.UsageError(f"--output must end in {', '.join(tables.OUTPUT_SUFFIXES)}, not `{output.suffix}`")
    spec_paths = _spec_paths(paths)
    project = _load(spec_paths)
    with _bad_requests():
        asked = _request(project, **request)
        refuse_overwriting([output], _inputs(project, asked, spec_paths))
        table = project.evaluate(**asked, with_ci=with_ci)
    if output is None:
        echo(tables.as_text(table))
    else:
        tables.write_table(table, output)
        echo(tables.written(table.height, output), err=True)


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
@click.option("--output", type=click.Path(path_type=Path), help="Also write the findings and scores as JSON.")
def check_command(
    paths: tuple[Path, ...],
    output_format: str,
    fail_on: str,
    history: Path | None,
    output: Path | None,
    **request: Unpack[RequestOptions],
) -> None:
    """Evaluate and grade: target statuses, rules and scorecards; print the findings."""
    spec_paths = _spec_paths(paths)
    project = _load(spec_paths)
    with _bad_requests():
        asked = _request(project, **request)
        refuse_overwriting([output, history], _inputs(project, asked, spec_paths))
        graded = project.grade(**asked, history=history)
        drift = metric_drift(history, graded, project.model.metrics) if history is not None else Drift()
    graded_report = report(project.model, graded, spec_revision(spec_paths))
    unwritten = False  # files first, then standard output: a closed pipe must not cost the files
    if output is not None:
        unwritten |= _failed(lambda: write_text_atomically(output, findings.as_json(graded_report) + "\n"))
    if history is not None:
        unwritten |= _failed(lambda: echo(findings.history_recorded(history, write_history(history, graded)), err=True))
        if drift:
            echo(drift_warning(history, drift), err=True)
    echo(findings.render(graded_report, output_format))
    _exit(at_least(graded_report.findings, fail_on), error=unwritten)


@main.command()
@paths_argument
@click.option("--check", is_flag=True, help="Change nothing; show a diff and exit 1 when a file would change.")
def fmt(paths: tuple[Path, ...], check: bool) -> None:
    """Rewrite the expressions of the specs under PATHS in canonical form, keeping comments."""
    spec_paths = _spec_paths(paths)
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
            unwritten |= _failed(functools.partial(write_formatted, result))
    changed = [r.path for r in results if r.changed]
    echo(formatted.fmt_summary(changed, len(results), check), err=True)
    _exit(check and bool(changed), error=unwritten or bool(refused) or any(r.problem for r in results))


@main.command(name="graph")
@project_paths_argument
@click.option("--impact", "changed", metavar="NAME", help="List what changes when NAME (a column, metric...) changes.")
@format_option(graph.FORMATS, "How to draw the graph.")
def graph_command(paths: tuple[Path, ...], changed: str | None, output_format: str) -> None:
    """The dependency graph of the specs under PATHS: sources, columns, metrics, dashboards."""
    edges = dependency_graph(_load(_spec_paths(paths)).model)
    if changed is None:
        echo(graph.render_graph(edges, output_format))
        return
    matches = resolve(edges, changed)
    if len(matches) != 1:
        raise click.UsageError(f"`{changed}` names {'nothing in the graph' if not matches else ', '.join(matches)}")
    echo(graph.impact_report(matches[0], impact(edges, matches[0])))


@main.command()
def schema() -> None:
    """Print the JSON Schema of spec files (for editors such as VS Code's YAML extension)."""
    echo(json.dumps(spec_schema(), indent=2))


@main.command(name="test")
@project_paths_argument
@click.option("--junit-xml", type=click.Path(path_type=Path), help="Also write the results as JUnit XML.")
def test_specs(paths: tuple[Path, ...], junit_xml: Path | None) -> None:
    """Run the `tests:` of the specs under PATHS; exit 1 when one fails."""
    spec_paths = _spec_paths(paths)
    project = _load(spec_paths)
    refuse_overwriting([junit_xml], _inputs(project, None, spec_paths))
    outcomes = run_tests(project)
    unwritten = junit_xml is not None and _failed(lambda: write_text_atomically(junit_xml, junit_report(outcomes)))
    echo(spectests.outcomes_report(outcomes))
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
    project = _load(_spec_paths(paths))
    if name not in project.model.metrics:
        raise click.UsageError(unknown_name("metric or code", name, [*project.model.metrics, *CODES]))
    echo(metric_report(explain_metric(project, name)))


def echo(message: str, err: bool = False) -> None:
    """Print, in colour only on a terminal and when NO_COLOR is not set.

    A reader that has gone (`metricdsl check … | head -1`) ends the printing quietly: the rest goes to the null
    device and the command ends as it would have. Standard output that cannot be written for another reason (a
    full disk) raises `OutputError`; standard error that cannot be written leaves nowhere to say so.
    """
    try:
        click.echo(message, err=err, color=False if os.environ.get("NO_COLOR") else None)
    except OSError as error:
        _discard(sys.stderr if err else sys.stdout)
        if not err and not isinstance(error, BrokenPipeError):
            raise OutputError("standard output", reason(error)) from None


def _discard(stream: TextIO) -> None:
    """Send the rest of a stream that failed to the null device, so that flushing it at exit fails no more."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)


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


def _failed(write: Callable[[], object]) -> bool:
    """Write one output; on failure print `error: cannot write PATH: reason` and return True, so the others are still
    attempted."""
    try:
        write()
    except (OutputError, DataError) as error:
        echo(terminal.error_line(error), err=True)
        return True
    return False


def _inputs(project: Project, asked: Asked | None, spec_paths: list[Path]) -> list[tuple[str | Path, str]]:
    """The files a command reads, which no output may overwrite: data files and spec files."""
    data: dict[str, str | Path] = {n: s.path for n, s in project.definitions.sources.items() if s.path is not None}
    data.update(asked["data"] if asked else {})
    return [
        *((path, f"the data of source `{name}`") for name, path in data.items()),
        *((path, "a spec file") for path in spec_files(spec_paths)),
    ]


def _exit(failed: bool, error: bool = False) -> NoReturn:
    """End a command with its verdict, unless it could not do all its work (an output left unwritten)."""
    sys.exit(EXIT_ERROR if error else EXIT_FAILED if failed else EXIT_OK)


def _spec_paths(paths: tuple[Path, ...]) -> list[Path]:
    """The paths given, else the default (see `metricdsl.tools.default_paths`); none at all is a usage error."""
    spec_paths = list(paths) or default_spec_paths()
    if not spec_paths:
        raise click.UsageError("no PATHS given, no ./specs folder and no spec files (*.yaml, *.yml) under this one")
    return spec_paths


def _allows_outside_paths() -> bool:
    return bool(click.get_current_context().meta.get(ALLOW_OUTSIDE_PATHS, False))


def _load(spec_paths: list[Path]) -> Project:
    """The project of the specs; one with errors ends the command (`SpecError`, see `_Commands`)."""
    return load(spec_paths, allow_outside_paths=_allows_outside_paths())


def _request(
    project: Project,
    data: tuple[str, ...],
    dashboard: str | None,
    metrics: str | None,
    by: tuple[str, ...],
    grain: str | None,
) -> Asked:
    """The API arguments of a request; a project with one dashboard computes it by default."""
    if dashboard is None and metrics is None and len(project.definitions.dashboards) == 1:
        dashboard = next(iter(project.definitions.dashboards))
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    return Asked(data=dict(_source_file(item) for item in data), dashboard=dashboard, metrics=names, by=by, grain=grain)


def _source_file(item: str) -> tuple[str, str]:
    name, sep, path = item.partition("=")
    if not sep or not name or not path:
        raise click.UsageError(f"--data takes SOURCE=FILE, not `{item}`")
    return name, path


@contextlib.contextmanager
def _bad_requests() -> Iterator[None]:
    """A bad request is a usage error of the command, told with its usage line."""
    try:
        yield
    except RequestError as error:
        raise click.UsageError(str(error)) from None
