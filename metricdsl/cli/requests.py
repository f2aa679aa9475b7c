"""From the command line to the API: the arguments and options that say which specs to load and what to compute,
and the request they make; a bad one is a usage error."""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypedDict

import click

from metricdsl.cli.outputs import Command
from metricdsl.engine.memory import parse_size
from metricdsl.engine.sql.engines import ENGINES
from metricdsl.errors import EngineUnavailable, NotExactInDialect, ReportUnavailable, RequestError
from metricdsl.project import Project, load
from metricdsl.render.terminal import inline
from metricdsl.spec.definitions import GRAINS
from metricdsl.spec.loader import spec_files
from metricdsl.stopping import raise_noted
from metricdsl.tools.default_paths import default_spec_paths

ALLOW_OUTSIDE_PATHS = "metricdsl.allow_outside_paths"  # the key of --allow-outside-paths in click's context


class RequestOptions(TypedDict):
    """The options of `request_options`, as click passes them."""

    data: tuple[str, ...]
    dashboard: str | None
    metrics: str | None
    by: tuple[str, ...]
    grain: str | None
    as_of: datetime.datetime | None
    start: datetime.date | None
    end: datetime.date | None


class Asked(TypedDict):
    """The request of the options, as the API's arguments."""

    data: dict[str, str]
    dashboard: str | None
    metrics: list[str] | None
    by: tuple[str, ...]
    grain: str | None
    as_of: datetime.datetime | None
    start: datetime.date | None
    end: datetime.date | None


def paths_argument(command: Command) -> Command:
    return click.argument("paths", nargs=-1, type=click.Path(path_type=Path))(command)


def project_paths_argument(command: Command) -> Command:
    """PATHS of the specs to load, and `--allow-outside-paths`, kept in the context for `allows_outside_paths()`."""
    return _allow_outside_option(paths_argument(command))


def _allow_outside_option(command: Command) -> Command:
    return click.option(
        "--allow-outside-paths",
        is_flag=True,
        expose_value=False,
        callback=lambda context, _, value: context.meta.update({ALLOW_OUTSIDE_PATHS: value}),
        help="Let the specs' `path:` read files outside the project folder (only for specs you trust).",
    )(command)


def diff_options(command: Command) -> Command:
    """`diff`'s arguments `[BASE] [PATHS]...` (`revision_and_paths()` tells them apart) and the options of its
    request: data, dashboard, dimensions, grain, and `--allow-outside-paths`."""
    options = _request_options()
    for name in ("grain", "by", "dashboard", "data"):
        command = options[name](command)
    return _allow_outside_option(click.argument("arguments", nargs=-1, metavar="[BASE] [PATHS]...")(command))


def revision_and_paths(arguments: tuple[str, ...]) -> tuple[str | None, list[Path]]:
    """BASE and PATHS of `diff`: the first argument is BASE when no file or folder has its name."""
    if arguments and not os.path.lexists(arguments[0]):
        return arguments[0], find_spec_paths(tuple(map(Path, arguments[1:])))
    return None, find_spec_paths(tuple(map(Path, arguments)))


def request_options(command: Command) -> Command:
    """The options that say what to compute: data, dashboard, metrics, dimensions, grain."""
    return _with_options(command, _REQUEST_OPTIONS)


def dashboard_options(command: Command) -> Command:
    """The options of a command that shows a whole dashboard: data, dashboard, `--as-of`, `--from`, `--to` (its
    metrics, dimensions and grain are the dashboard's)."""
    return _with_options(command, ("data", "dashboard", "as_of", "start", "end"))


def _with_options(command: Command, names: tuple[str, ...]) -> Command:
    options = _request_options()
    for name in reversed(names):
        command = options[name](command)
    return project_paths_argument(command)


_REQUEST_OPTIONS = ("data", "dashboard", "metrics", "by", "grain", "as_of", "start", "end")


def _request_options() -> dict[str, Callable[[Command], Command]]:
    return {
        "data": click.option(
            "--data",
            "data",
            multiple=True,
            metavar="SOURCE=FILE",
            help="Input of a source: CSV, Parquet (globs too), NDJSON or Arrow IPC. Repeatable.",
        ),
        "dashboard": click.option("--dashboard", help="Use this dashboard's metrics, dimensions, grain (and scorecard)."),
        "metrics": click.option("--metrics", help="Comma-separated metric names (default: the dashboard's, else all)."),
        "by": click.option("--by", multiple=True, metavar="COLUMN", help="Group by this column. Repeatable."),
        "grain": click.option(
            "--grain",
            type=click.Choice(GRAINS),
            help="Time grain; weeks are ISO weeks, or from Sunday by the calendar's week_start.",
        ),
        "as_of": click.option(
            "--as-of",
            callback=_datetime_option,
            metavar="DATETIME",
            help="The data is complete until then (local time, as 2026-02-01T23:59): windows that reach past it are "
            "unknown. Default: each source's `complete_until`, else its latest time.",
        ),
        "start": click.option(
            "--from",
            "start",
            callback=_date_option,
            metavar="DATE",
            help="With a grain: the first period, holding this day.",
        ),
        "end": click.option(
            "--to", "end", callback=_date_option, metavar="DATE", help="With a grain: the last period, holding this day."
        ),
    }


def engine_options(command: Command) -> Command:
    """The options that say where to compute: `--engine`, `--spark-remote`, `--table` (see `tables_of()`)."""
    options = [
        click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="polars",
            show_default=True,
            help="Compute on Polars, DuckDB (metricdsl[duckdb]) or Spark (metricdsl[spark], Java 17).",
        ),
        click.option(
            "--spark-remote",
            metavar="sc://HOST:PORT",
            help="With --engine spark: run on this Spark Connect server, not a local Spark.",
        ),
        click.option(
            "--table",
            "catalog",
            multiple=True,
            metavar="SOURCE=DB.TABLE",
            help="With --engine spark: read a source from this table of the Spark catalog, not from files. Repeatable.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def memory_option(command: Command) -> Command:
    """`--memory-limit SIZE`: the memory a request with windows may use (`Project.run`'s `memory_limit`)."""

    def read(_: click.Context, parameter: click.Parameter, value: str | None) -> int | None:
        if value is None:
            return None
        try:
            return parse_size(value)
        except ValueError as error:
            raise click.BadParameter(str(error), param=parameter) from None

    return click.option(
        "--memory-limit",
        metavar="SIZE",
        callback=read,
        help="Memory a request with windows may use (4GB, 512MiB); beyond it, windows are computed in buckets of "
        "keys on disk. Default: half of this machine's memory.",
    )(command)


def tables_of(items: tuple[str, ...]) -> dict[str, str]:
    """The catalog tables of `--table SOURCE=DB.TABLE` options, by source."""
    tables = {}
    for item in items:
        name, sep, table = item.partition("=")
        if not sep or not name or not table:
            raise click.UsageError(f"--table takes SOURCE=DB.TABLE, not `{item}`")
        tables[name] = table
    return tables


def _iso_option(kind: type[datetime.date], example: str) -> Callable[[click.Context, click.Parameter, str | None], Any]:
    """A click callback reading an ISO 8601 `kind` (a date or a datetime), or None when the option is not given."""

    def read(_: click.Context, parameter: click.Parameter, value: str | None) -> datetime.date | None:
        if value is None:
            return None
        try:
            return kind.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"`{value}` is not a {kind.__name__} such as {example}", param=parameter) from None

    return read


_datetime_option = _iso_option(datetime.datetime, "2026-02-01T23:59:59")
_date_option = _iso_option(datetime.date, "2026-01-31")
datetime_option = _datetime_option  # for other options that take a time (`report --generated-at`)


def inputs_of(project: Project, asked: Asked | None, spec_paths: list[Path]) -> list[tuple[str | Path, str]]:
    """The files a command reads, which no output may overwrite: data files and spec files."""
    data: dict[str, str | Path] = {n: s.path for n, s in project.definitions.sources.items() if s.path is not None}
    data.update(asked["data"] if asked else {})
    return [
        *((path, f"the data of source `{name}`") for name, path in data.items()),
        *((path, "a spec file") for path in spec_files(spec_paths)),
    ]


def find_spec_paths(paths: tuple[Path, ...]) -> list[Path]:
    """The paths given, else the default (see `metricdsl.tools.default_paths`); none at all is a usage error."""
    spec_paths = list(paths) or default_spec_paths()
    if not spec_paths:
        raise click.UsageError("no PATHS given, no ./specs folder and no spec files (*.yaml, *.yml) under this one")
    return spec_paths


class NoSpecFiles(click.ClickException):
    """A path that names no spec file: a missing one, or a folder without any. A usage error, in one line."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def refuse_paths_without_specs(spec_paths: list[Path]) -> None:
    """End the command when one of `spec_paths` names no spec file (a mistyped folder must not pass CI)."""
    for path in spec_paths:
        if not os.path.lexists(path) or (path.is_dir() and not spec_files([path])):
            raise NoSpecFiles(inline(f"no spec files (*.yaml, *.yml) found in {path}"))


def allows_outside_paths() -> bool:
    return bool(click.get_current_context().meta.get(ALLOW_OUTSIDE_PATHS, False))


def load_project(spec_paths: list[Path], data: tuple[str, ...] = (), tables: tuple[str, ...] = ()) -> Project:
    """The project of the specs; one with errors ends the command (`SpecError`, see `metricdsl.cli._Commands`).

    The sources given with `--data` (`data`) or `--table` (`tables`) are read from there: their `path:` may lead
    outside the project folder.
    """
    given = {name for name, _ in map(source_file, data)} | set(tables_of(tables))
    return load(spec_paths, allow_outside_paths=allows_outside_paths(), given_sources=given)


def request_of(
    project: Project,
    data: tuple[str, ...],
    dashboard: str | None,
    metrics: str | None,
    by: tuple[str, ...],
    grain: str | None,
    as_of: datetime.datetime | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Asked:
    """The API arguments of a request; a project with one dashboard computes it by default."""
    if dashboard is None and metrics is None and len(project.definitions.dashboards) == 1:
        dashboard = next(iter(project.definitions.dashboards))
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    return Asked(
        data=dict(source_file(item) for item in data),
        dashboard=dashboard,
        metrics=names,
        by=by,
        grain=grain,
        as_of=as_of,
        start=start,
        end=end,
    )


def source_file(item: str) -> tuple[str, str]:
    name, sep, path = item.partition("=")
    if not sep or not name or not path:
        raise click.UsageError(f"--data takes SOURCE=FILE, not `{item}`")
    return name, path


@contextlib.contextmanager
def bad_requests() -> Iterator[None]:
    """A bad request is a usage error of the command, told with its usage line. The work done inside is given up
    if a signal was noted meanwhile (Polars may swallow the exception it raised and go on), before any of it is
    written."""
    try:
        yield
    except (
        EngineUnavailable,
        NotExactInDialect,
        ReportUnavailable,
    ):  # not usage errors: one line naming what to install or change
        raise
    except RequestError as error:
        raise click.UsageError(str(error)) from None
    raise_noted()
