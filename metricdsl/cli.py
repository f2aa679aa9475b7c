"""The `metricdsl` command: parse arguments, call the library, render, return an exit code."""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import click
import polars as pl

from metricdsl.codes import CODES
from metricdsl.errors import DataError, RequestError, SpecError, has_errors, unknown_name
from metricdsl.files import replace_atomically
from metricdsl.grading.findings import at_least, report
from metricdsl.grading.history import write_history
from metricdsl.project import Project, load
from metricdsl.render import findings
from metricdsl.render.diagnostics import FORMATS, render
from metricdsl.semantics.checker import check
from metricdsl.semantics.graph import dependency_graph, impact, render_graph, resolve
from metricdsl.spec.definitions import GRAINS
from metricdsl.spec.json_schema import spec_schema
from metricdsl.spec.loader import load_files, spec_files
from metricdsl.tools.explain import explain_metric
from metricdsl.tools.fmt import format_file
from metricdsl.tools.spectest import Outcome, run_tests

# Exit codes: 0 ok, 1 errors in specs or data, findings or failed tests; click exits 2 on usage errors.
EXIT_OK, EXIT_ERRORS = 0, 1
OUTPUT_FORMATS = (".csv", ".parquet", ".json")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="metricdsl")
def main() -> None:
    """Contact-center metrics as code: validate and evaluate metric specs."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="How to print the diagnostics.",
)
def validate(paths: tuple[Path, ...], output_format: str) -> None:
    """Parse and check the specs under PATHS (default: ./specs, else .); print every problem."""
    definitions, diagnostics = load_files(_spec_paths(paths))
    diagnostics += check(definitions)[1]
    echo(render(diagnostics, output_format, len(spec_files(_spec_paths(paths)))))
    sys.exit(EXIT_ERRORS if has_errors(diagnostics) else EXIT_OK)


def request_options(command):
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
    return click.argument("paths", nargs=-1, type=click.Path(path_type=Path))(command)


def _request(
    project: Project,
    data: tuple[str, ...],
    dashboard: str | None,
    metrics: str | None,
    by: tuple[str, ...],
    grain: str | None,
) -> dict:
    """The API arguments of a request; a project with one dashboard computes it by default."""
    if dashboard is None and metrics is None and len(project.definitions.dashboards) == 1:
        dashboard = next(iter(project.definitions.dashboards))
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    return {
        "data": dict(_source_file(item) for item in data),
        "dashboard": dashboard,
        "metrics": names,
        "by": by,
        "grain": grain,
    }


@contextlib.contextmanager
def _user_errors():
    """A bad request is a usage error (exit 2); bad data an error (exit 1): never a traceback."""
    try:
        yield
    except RequestError as error:
        raise click.UsageError(str(error)) from None
    except DataError as error:
        echo(f"error: {error}", err=True)
        sys.exit(EXIT_ERRORS)


@main.command(name="eval")
@request_options
@click.option("--output", type=click.Path(path_type=Path), help="Write the table to .csv, .parquet or .json.")
@click.option("--with-ci", is_flag=True, help="Add each metric's n and 95 % confidence interval (m_n, m_ci_low, m_ci_high).")
def evaluate(paths: tuple[Path, ...], output: Path | None, with_ci: bool, **request) -> None:
    """Evaluate the metrics of the specs under PATHS over data; print or write the table."""
    if output is not None and output.suffix.lower() not in OUTPUT_FORMATS:
        raise click.UsageError(f"--output must end in {', '.join(OUTPUT_FORMATS)}, not `{output.suffix}`")
    project = _load_or_exit(paths)
    with _user_errors():
        table = project.evaluate(**_request(project, **request), with_ci=with_ci)
    if output is None:
        _print_table(table)
    else:
        write_atomically(table, output)
        click.echo(f"wrote {table.height} rows to {output}", err=True)


@main.command(name="check")
@request_options
@click.option("--format", "output_format", type=click.Choice(findings.FORMATS), default="text", show_default=True)
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
    paths: tuple[Path, ...], output_format: str, fail_on: str, history: Path | None, output: Path | None, **request
) -> None:
    """Evaluate and grade: target statuses, rules and scorecards; print the findings."""
    project = _load_or_exit(paths)
    with _user_errors():
        graded = project.grade(**_request(project, **request), history=history)
    graded_report = report(project.model, graded, spec_revision(_spec_paths(paths)))
    echo(findings.render(graded_report, output_format))
    if output is not None:
        write_text_atomically(findings.as_json(graded_report) + "\n", output)
    if history is not None:
        rows = write_history(history, graded)
        echo(f"history: {history} holds {rows} rows", err=True)
    sys.exit(EXIT_ERRORS if at_least(graded_report.findings, fail_on) else EXIT_OK)


def spec_revision(paths: list[Path]) -> str | None:
    """The git revision of the specs, when they are in a repository (`-dirty` with local changes)."""
    folder = paths[0] if paths[0].is_dir() else paths[0].parent
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; show a diff and exit 1 when a file would change.")
def fmt(paths: tuple[Path, ...], check: bool) -> None:
    """Rewrite the expressions of the specs under PATHS in canonical form, keeping comments."""
    results = [format_file(str(path), path.read_text(encoding="utf-8")) for path in spec_files(_spec_paths(paths))]
    for result in results:
        if result.problem:
            echo(f"{result.path}: left as it is: {result.problem}", err=True)
        elif result.changed and check:
            echo(
                "".join(
                    difflib.unified_diff(
                        result.before.splitlines(keepends=True),
                        result.after.splitlines(keepends=True),
                        f"{result.path} (now)",
                        f"{result.path} (formatted)",
                    )
                )
            )
        elif result.changed:
            write_text_atomically(result.after, Path(result.path))
    changed = [r.path for r in results if r.changed]
    verb = "would reformat" if check else "reformatted"
    echo(f"{verb} {len(changed)} of {len(results)} files" + "".join(f"\n  {p}" for p in changed), err=True)
    failed = any(r.problem for r in results) or (check and changed)
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--impact", "changed", metavar="NAME", help="List what changes when NAME (a column, metric...) changes.")
@click.option("--format", "output_format", type=click.Choice(["text", "mermaid", "dot"]), default="text", show_default=True)
def graph(paths: tuple[Path, ...], changed: str | None, output_format: str) -> None:
    """The dependency graph of the specs under PATHS: sources, columns, metrics, dashboards."""
    edges = dependency_graph(_load_or_exit(paths).model)
    if changed is None:
        echo(render_graph(edges, output_format))
        return
    matches = resolve(edges, changed)
    if len(matches) != 1:
        raise click.UsageError(f"`{changed}` names {'nothing in the graph' if not matches else ', '.join(matches)}")
    affected = impact(edges, matches[0])
    echo(f"{matches[0]} affects {len(affected)}:" + "".join(f"\n  {node}" for node in affected))


@main.command()
def schema() -> None:
    """Print the JSON Schema of spec files (for editors such as VS Code's YAML extension)."""
    echo(json.dumps(spec_schema(), indent=2))


@main.command(name="test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--junit-xml", type=click.Path(path_type=Path), help="Also write the results as JUnit XML.")
def test_specs(paths: tuple[Path, ...], junit_xml: Path | None) -> None:
    """Run the `tests:` of the specs under PATHS; exit 1 when one fails."""
    project = _load_or_exit(paths)
    outcomes = run_tests(project)
    for outcome in outcomes:
        test = outcome.test
        where = f"{test.location.file}:{test.location.line}" if test.location else "?"
        if outcome.passed:
            echo(f"{where}: {test.name} {click.style('PASSED', fg='green')}")
            continue
        echo(f"{where}: {test.name} {click.style('FAILED', fg='red', bold=True)}")
        for failure in outcome.failures:
            echo(f"    {failure}")
        if test.expect_location:
            echo(f"    --> {test.expect_location.file}:{test.expect_location.line}")
    failed = sum(not o.passed for o in outcomes)
    echo(f"{len(outcomes) - failed} passed, {failed} failed")
    if junit_xml is not None:
        write_text_atomically(junit_report(outcomes), junit_xml)
    sys.exit(EXIT_ERRORS if failed else EXIT_OK)


@main.command()
@click.argument("name")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def explain(name: str, paths: tuple[Path, ...]) -> None:
    """Explain a diagnostic code (MD101) or a metric of the specs under PATHS."""
    code = CODES.get(name.upper())
    if code is not None:
        click.echo(code.explain())
        return
    project = _load_or_exit(paths)
    if name not in project.model.metrics:
        raise click.UsageError(unknown_name("metric or code", name, [*project.model.metrics, *CODES]))
    click.echo(explain_metric(project, name))


def echo(message: str, err: bool = False) -> None:
    """Print, in colour only on a terminal and when NO_COLOR is not set."""
    click.echo(message, err=err, color=False if os.environ.get("NO_COLOR") else None)


def _spec_paths(paths: tuple[Path, ...]) -> list[Path]:
    """The paths given, or by default `specs/` when the current folder has one, else the folder."""
    return list(paths) or [Path("specs") if Path("specs").is_dir() else Path(".")]


def _load_or_exit(paths: tuple[Path, ...]) -> Project:
    try:
        return load(_spec_paths(paths))
    except SpecError as error:
        echo(render(error.diagnostics, "text"), err=True)
        sys.exit(EXIT_ERRORS)


def _source_file(item: str) -> tuple[str, str]:
    name, sep, path = item.partition("=")
    if not sep or not name or not path:
        raise click.UsageError(f"--data takes SOURCE=FILE, not `{item}`")
    return name, path


def _print_table(table: pl.DataFrame) -> None:
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=30_000,
        float_precision=3,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        fmt_str_lengths=60,
    ):
        click.echo(str(table))


def write_atomically(table: pl.DataFrame, path: Path) -> None:
    """Write `table` by the file's extension to a temporary file, then rename it into place."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        replace_atomically(path, table.write_csv)
    elif suffix == ".parquet":
        replace_atomically(path, table.write_parquet)
    else:
        write_text_atomically(json.dumps(table.to_dicts(), default=str, indent=1) + "\n", path)


def write_text_atomically(text: str, path: Path) -> None:
    replace_atomically(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def junit_report(outcomes: list[Outcome]) -> str:
    """The outcomes as a JUnit XML report, one test case per spec test."""
    suite = ElementTree.Element(
        "testsuite", name="metricdsl", tests=str(len(outcomes)), failures=str(sum(not o.passed for o in outcomes))
    )
    for outcome in outcomes:
        location = outcome.test.location
        case = ElementTree.SubElement(
            suite,
            "testcase",
            name=outcome.test.name,
            classname=location.file if location else "specs",
            file=location.file if location else "",
            line=str(location.line if location else 0),
        )
        if not outcome.passed:
            failure = ElementTree.SubElement(case, "failure", message=outcome.failures[0])
            failure.text = "\n".join(outcome.failures)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
