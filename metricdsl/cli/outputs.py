"""Where the commands' output goes: the options that choose it, printing that copes with a reader that has gone,
and writing an output file whose failure is told in one line while the other outputs are still written."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO, TypeVar

import click

from metricdsl.engine.quality import DataProblem
from metricdsl.errors import DataError, OutputError
from metricdsl.files import is_terminal, output_name, reason
from metricdsl.render import quality, tables, terminal

Command = TypeVar("Command", bound=Callable[..., None])


def format_option(formats: tuple[str, ...], what: str) -> Callable[[Command], Command]:
    """`--format`: how the command prints its report (`text` by default)."""
    return click.option(
        "--format", "output_format", type=click.Choice(formats), default="text", show_default=True, help=what
    )


def output_options(what: str, default: str) -> Callable[[Command], Command]:
    """`--output FILE` (`-` for standard output) and `--output-format`, which `format_of_output` reads together."""

    def add(command: Command) -> Command:
        command = click.option(
            "--output-format",
            "output_file_format",
            type=click.Choice(tables.OUTPUT_FORMATS),
            help=f"The format of --output (default: {default}).",
        )(command)
        return click.option("--output", type=click.Path(path_type=Path, allow_dash=True), help=what)(command)

    return add


def format_of_output(output: Path | None, given: str | None, default: str | None = None) -> str | None:
    """The format to write `--output` in: `--output-format` (`given`), else the one its extension names, else the
    command's `default`; None without `--output`. Without any, it is a usage error; Parquet to a terminal is refused."""
    if output is None:
        if given is not None:
            raise click.UsageError("--output-format needs --output (`-` for standard output)")
        return None
    chosen = given or tables.format_of(output) or default
    if chosen is None:
        name = "- (standard output)" if str(output) == "-" else f"`{terminal.inline(output)}`"
        formats = f"{', '.join(tables.OUTPUT_FORMATS[:-1])} or {tables.OUTPUT_FORMATS[-1]}"
        raise click.UsageError(
            f"cannot tell the format of --output {name} from its extension: give --output-format {formats}"
        )
    if chosen == "parquet" and is_terminal(output):
        raise OutputError(output_name(output), "it is a terminal, which cannot show Parquet: redirect it to a file")
    return chosen


def echo(message: str, err: bool = False) -> None:
    """Print, in colour only on a terminal and when NO_COLOR is not set.

    A reader that has gone (`metricdsl check … | head -1`) ends the printing quietly: the rest goes to the null
    device and the command ends as it would have. Standard output that cannot be written for another reason (a
    full disk) raises `OutputError`; standard error that cannot be written leaves nowhere to say so.
    """
    try:
        click.echo(message, err=err, color=False if os.environ.get("NO_COLOR") else None)
    except OSError as error:
        discard(sys.stderr if err else sys.stdout)
        if not err and not isinstance(error, BrokenPipeError):
            raise OutputError("standard output", reason(error)) from None


def print_data_report(problems: Iterable[DataProblem], notices: Iterable[str]) -> None:
    """The data-quality report and the notices of a run, on standard error: `warning: data: ...`, `notice: ...`."""
    for line in quality.report_lines(problems, notices):
        echo(line, err=True)


def failed(write: Callable[[], object]) -> bool:
    """Write one output; on failure print `error: cannot write PATH: reason` and return True, so the others are still
    attempted. Standard output whose reader has gone is no failure: the rest of it goes nowhere, quietly (`echo`)."""
    try:
        write()
    except (OutputError, DataError) as error:
        echo(terminal.error_line(error), err=True)
        return True
    except BrokenPipeError:
        discard(sys.stdout)
    return False


def discard(stream: TextIO) -> None:
    """Send the rest of a stream that failed to the null device, so that flushing it at exit fails no more."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
