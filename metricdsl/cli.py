"""The `metricdsl` command: parse arguments, call the library, render, return an exit code."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO, TypedDict, TypeVar

import click

from metricdsl.codes import CODES
from metricdsl.errors import DataError, OutputError, RequestError, SpecError, has_errors, unknown_name
from metricdsl.files import reason, refuse_overwriting, write_text_atomically
from metricdsl.grading.findings import at_least, report
from metricdsl.grading.history import Drift, metric_drift, write_history
from metricdsl.project import Project, load
from metricdsl.render import codes, diagnostics, findings, formatted, graph, spectests, tables, terminal
from metricdsl.render.explain import metric_report
from metricdsl.render.history import drift_warning
from metricdsl.render.junit import junit_report
from metricdsl.semantics.checker import check
from metricdsl.semantics.graph import dependency_graph, impact, resolve
from metricdsl.spec.definitions import GRAINS
from metricdsl.spec.json_schema import spec_schema
from metricdsl.spec.loader import load_files, spec_files
from metricdsl.tools.explain import explain_metric
from metricdsl.tools.fmt import format_path, write_formatted
from metricdsl.tools.revision import spec_revision
from metricdsl.tools.spectest import run_tests

if TYPE_CHECKING:
    from typing_extensions import Unpack

EXIT_OK = 0
EXIT_ERRORS = 1  # errors in specs or data, findings at `--fail-on`, failed tests, files `fmt --check` would change
EXIT_USAGE = 2  # a bad command line or request: the code of click's UsageError, raised for both

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
    """The commands; an output that cannot be written ends one with `error: cannot write PATH: reason`."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OutputError as error:
            echo(terminal.error_line(error), err=True)
            sys.exit(EXIT_ERRORS)
        except click.UsageError as error:  # its message may quote the names of a spec
            raise click.UsageError(terminal.inline(error.format_message()), error.ctx) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
    """Parse and check the specs under PATHS (default: ./specs, else .); print every problem."""
    definitions, found = load_files(_spec_paths(paths), allow_outside_paths=_allows_outside_paths())
    found += check(definitions)[1]
    echo(diagnostics.render(found, output_format, len(spec_files(_spec_paths(paths)))))
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
    project = _load_or_exit(paths)
    with _user_errors():
        asked = _request(project, **request)
        refuse_overwriting([output], _inputs(project, asked, paths))
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
    project = _load_or_exit(paths)
    with _user_errors():
        asked = _request(project, **request)
        refuse_overwriting([output, history], _inputs(project, asked, paths))
        graded = project.grade(**asked, history=history)
        drift = metric_drift(history, graded, project.model.metrics) if history is not None else Drift()
    graded_report = report(project.model, graded, spec_revision(_spec_paths(paths)))
    failed = False  # files first, then standard output: a closed pipe must not cost the files
    if output is not None:
        failed |= _failed(lambda: write_text_atomically(output, findings.as_json(graded_report) + "\n"))
    if history is not None:
        failed |= _failed(lambda: echo(findings.history_recorded(history, write_history(history, graded)), err=True))
        if drift:
            echo(drift_warning(history, drift), err=True)
    echo(findings.render(graded_report, output_format))
    _exit(failed or at_least(graded_report.findings, fail_on))


@main.command()
@paths_argument
@click.option("--check", is_flag=True, help="Change nothing; show a diff and exit 1 when a file would change.")
def fmt(paths: tuple[Path, ...], check: bool) -> None:
    """Rewrite the expressions of the specs under PATHS in canonical form, keeping comments."""
    results = [format_path(path) for path in spec_files(_spec_paths(paths))]
    failed = False
    for result in results:
        if result.problem:
            echo(formatted.left_alone(result.path, result.problem), err=True)
        elif result.changed and check:
            echo(formatted.diff(result.path, result.before, result.after))
        elif result.changed:
            failed |= _failed(functools.partial(write_formatted, result))
    changed = [r.path for r in results if r.changed]
    echo(formatted.fmt_summary(changed, len(results), check), err=True)
    _exit(failed or any(r.problem for r in results) or (check and bool(changed)))


@main.command(name="graph")
@project_paths_argument
@click.option("--impact", "changed", metavar="NAME", help="List what changes when NAME (a column, metric...) changes.")
@format_option(graph.FORMATS, "How to draw the graph.")
def graph_command(paths: tuple[Path, ...], changed: str | None, output_format: str) -> None:
    """The dependency graph of the specs under PATHS: sources, columns, metrics, dashboards."""
    edges = dependency_graph(_load_or_exit(paths).model)
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
    project = _load_or_exit(paths)
    refuse_overwriting([junit_xml], _inputs(project, None, paths))
    outcomes = run_tests(project)
    failed = junit_xml is not None and _failed(lambda: write_text_atomically(junit_xml, junit_report(outcomes)))
    echo(spectests.outcomes_report(outcomes))
    _exit(failed or any(not o.passed for o in outcomes))


@main.command()
@click.argument("name")
@project_paths_argument
def explain(name: str, paths: tuple[Path, ...]) -> None:
    """Explain a diagnostic code (MD101) or a metric of the specs under PATHS."""
    code = CODES.get(name.upper())
    if code is not None:
        echo(codes.explanation(code))
        return
    project = _load_or_exit(paths)
    if name not in project.model.metrics:
        raise click.UsageError(unknown_name("metric or code", name, [*project.model.metrics, *CODES]))
    echo(metric_report(explain_metric(project, name)))


def echo(message: str, err: bool = False) -> None:
    """Print, in colour only on a terminal and when NO_COLOR is not set.

    Standard output that cannot be written (a closed pipe, a full disk) raises `OutputError`; standard error
    that cannot be written leaves nowhere to say so, and the message is dropped.
    """
    try:
        click.echo(message, err=err, color=False if os.environ.get("NO_COLOR") else None)
    except OSError as error:
        _discard(sys.stderr if err else sys.stdout)
        if not err:
            raise OutputError("standard output", reason(error)) from None


def _discard(stream: TextIO) -> None:
    """Send the rest of a stream that failed to the null device, so that flushing it at exit fails no more."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)


def _failed(write: Callable[[], object]) -> bool:
    """Write one output; on failure print `error: cannot write PATH: reason` and return True, so the others are still
    attempted."""
    try:
        write()
    except (OutputError, DataError) as error:
        echo(terminal.error_line(error), err=True)
        return True
    return False


def _inputs(project: Project, asked: Asked | None, paths: tuple[Path, ...]) -> list[tuple[str | Path, str]]:
    """The files a command reads, which no output may overwrite: data files and spec files."""
    data: dict[str, str | Path] = {n: s.path for n, s in project.definitions.sources.items() if s.path is not None}
    data.update(asked["data"] if asked else {})
    return [
        *((path, f"the data of source `{name}`") for name, path in data.items()),
        *((path, "a spec file") for path in spec_files(_spec_paths(paths))),
    ]


def _exit(failed: bool) -> NoReturn:
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)


def _spec_paths(paths: tuple[Path, ...]) -> list[str | Path]:
    """The paths given, or by default `specs/` when the current folder has one, else the folder."""
    return list(paths) or [Path("specs") if Path("specs").is_dir() else Path(".")]


def _allows_outside_paths() -> bool:
    return bool(click.get_current_context().meta.get(ALLOW_OUTSIDE_PATHS, False))


def _load_or_exit(paths: tuple[Path, ...]) -> Project:
    try:
        return load(_spec_paths(paths), allow_outside_paths=_allows_outside_paths())
    except SpecError as error:
        echo(diagnostics.render(error.diagnostics, "text"), err=True)
        sys.exit(EXIT_ERRORS)


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
def _user_errors() -> Iterator[None]:
    """A bad request is a usage error (exit 2); bad data an error (exit 1): never a traceback."""
    try:
        yield
    except RequestError as error:
        raise click.UsageError(str(error)) from None
    except DataError as error:
        echo(terminal.error_line(error), err=True)
        sys.exit(EXIT_ERRORS)
