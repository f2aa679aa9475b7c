"""Render diagnostics: text like rustc and ruff, JSON, GitHub annotations, SARIF 2.1.0."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import PurePath
from typing import TypedDict
from urllib.parse import quote

import click

from metricdsl.codes import CODES, Severity
from metricdsl.errors import Diagnostic
from metricdsl.render.github import command
from metricdsl.render.terminal import inline
from metricdsl.render.values import counted

FORMATS = ("text", "json", "github", "sarif")
JSON_SCHEMA_ID = "metricdsl-diagnostics/1"
# The characters of a source line quoted under a diagnostic at most: a longer line is shown around the column.
MAX_SOURCE_WIDTH = 160


def render(diagnostics: list[Diagnostic], output_format: str, files: int | None = None) -> str:
    """All `diagnostics`, sorted by position, in `output_format` (one of `FORMATS`)."""
    ordered = sorted(diagnostics, key=_position)
    return RENDERERS[output_format](ordered, files)


def _position(d: Diagnostic) -> tuple[str, int, int]:
    return (d.location.file, d.location.line, d.location.col) if d.location else ("", 0, 0)


def text(diagnostic: Diagnostic) -> str:
    """One diagnostic: code and message, `--> file:line:col`, the line, a caret, and `help:`.

    What comes from a spec (the message, the file, the line quoted, the hint) is written on one line each, with
    control characters visible (`terminal.inline`); the caret stays under the span it marks.
    """
    colour = "red" if diagnostic.severity is Severity.ERROR else "yellow"
    lines = [
        click.style(f"{diagnostic.severity.value}[{diagnostic.code}]", fg=colour, bold=True)
        + click.style(f": {inline(diagnostic.message)}", bold=True)
    ]
    loc = diagnostic.location
    if loc is not None:
        gutter = " " * len(str(loc.line))
        lines.append(f"{gutter}{click.style('-->', fg='blue')} {inline(loc.file)}:{loc.line}:{loc.col}")
        if loc.source_line:
            shown, indent, width = excerpt(loc.source_line, loc.col, loc.end_col or loc.col + 1)
            bar = click.style("|", fg="blue")
            lines += [
                f" {gutter} {bar}",
                f" {click.style(str(loc.line), fg='blue')} {bar} {shown}",
                f" {gutter} {bar} {' ' * indent}{click.style('^' * width, fg=colour, bold=True)}",
            ]
    if diagnostic.hint:
        lines.append(
            f" {' ' * len(str(loc.line)) if loc else ''} = {click.style('help', bold=True)}: {inline(diagnostic.hint)}"
        )
    return "\n".join(lines)


def excerpt(source: str, col: int, end: int) -> tuple[str, int, int]:
    """The source line as shown under a diagnostic, and the indent and width of the caret under columns `col` to
    `end` (exclusive). A line longer than `MAX_SOURCE_WIDTH` is shown as a window of that many characters around
    `col`, each cut side marked `…`, so that a file of one long line is never quoted whole.

    Columns count characters of the line as written; the caret counts them as shown, escapes included, and one
    column for each column past the end of the line.
    """
    start = (
        0
        if len(source) <= MAX_SOURCE_WIDTH
        else max(0, min(col - 1 - MAX_SOURCE_WIDTH // 2, len(source) - MAX_SOURCE_WIDTH))
    )
    stop = start + MAX_SOURCE_WIDTH
    lead, tail = "…" if start > 0 else "", "…" if stop < len(source) else ""
    before, span = source[start : col - 1], source[col - 1 : min(end - 1, stop)]
    indent = len(lead) + len(inline(before)) + max(0, col - 1 - len(source))
    past_the_end = 0 if tail else max(0, end - col - len(span))
    width = max(1, len(inline(span)) + past_the_end)
    return lead + inline(source[start:stop]) + tail, indent, width


def _text(diagnostics: list[Diagnostic], files: int | None) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    checked = f" in {counted(files, 'file')}" if files is not None else ""
    summary = f"{counted(errors, 'error')}, {counted(warnings, 'warning')}{checked}"
    return "\n".join([text(d) + "\n" for d in diagnostics] + [summary])


class DiagnosticJson(TypedDict):
    code: str
    severity: str
    title: str
    message: str
    hint: str | None
    file: str | None
    line: int | None
    column: int | None
    end_column: int | None


class DiagnosticsJson(TypedDict):
    schema: str
    files: int | None
    errors: int
    warnings: int
    diagnostics: list[DiagnosticJson]


def as_dict(d: Diagnostic) -> DiagnosticJson:
    """The stable JSON form of one diagnostic (see the README)."""
    loc = d.location
    return {
        "code": d.code,
        "severity": d.severity.value,
        "title": CODES[d.code].title,
        "message": d.message,
        "hint": d.hint,
        "file": loc.file if loc else None,
        "line": loc.line if loc else None,
        "column": loc.col if loc else None,
        "end_column": loc.end_col if loc else None,
    }


def _json(diagnostics: list[Diagnostic], files: int | None) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    document: DiagnosticsJson = {
        "schema": JSON_SCHEMA_ID,
        "files": files,
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        "diagnostics": [as_dict(d) for d in diagnostics],
    }
    return json.dumps(document, indent=2)


def _github(diagnostics: list[Diagnostic], files: int | None) -> str:
    """GitHub workflow commands: `::error file=F,line=L,col=C,title=CODE::message`."""
    return "\n".join(
        command(
            "error" if d.severity is Severity.ERROR else "warning",
            d.message + (f" (help: {d.hint})" if d.hint else ""),
            {
                "file": d.location.file if d.location else None,
                "line": d.location.line if d.location else None,
                "col": d.location.col if d.location else None,
                "endColumn": d.location.end_col if d.location else None,
                "title": d.code,
            },
        )
        for d in diagnostics
    )


def _sarif(diagnostics: list[Diagnostic], files: int | None) -> str:
    """A SARIF 2.1.0 log with one run, for code scanning."""
    used = sorted({d.code for d in diagnostics})
    rules = [
        {
            "id": code,
            "name": CODES[code].title,
            "shortDescription": {"text": CODES[code].title},
            "fullDescription": {"text": CODES[code].what},
            "help": {"text": CODES[code].fix},
            "defaultConfiguration": {"level": "error" if CODES[code].severity is Severity.ERROR else "warning"},
        }
        for code in used
    ]
    results = []
    for d in diagnostics:
        result: dict[str, object] = {
            "ruleId": d.code,
            "ruleIndex": used.index(d.code),
            "level": "error" if d.severity is Severity.ERROR else "warning",
            "message": {"text": d.message + (f" (help: {d.hint})" if d.hint else "")},
        }
        if d.location:
            region = {"startLine": d.location.line, "startColumn": d.location.col}
            if d.location.end_col:
                region["endColumn"] = d.location.end_col
            result["locations"] = [
                {"physicalLocation": {"artifactLocation": {"uri": file_uri(d.location.file)}, "region": region}}
            ]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "metricdsl", "version": _version(), "rules": rules}}, "results": results}],
    }
    return json.dumps(log, indent=2)


def file_uri(path: str) -> str:
    """A file's SARIF `uri`: a relative reference for a relative path (as code scanning wants), percent-encoded, so
    that a space, `#`, `%` or `?` in a name stays part of the path; `file:` for an absolute one."""
    file = PurePath(path)
    return file.as_uri() if file.is_absolute() else quote(os.fsencode(file.as_posix()))


def _version() -> str:
    try:
        return version("metricdsl")
    except PackageNotFoundError:
        return "0"


RENDERERS: dict[str, Callable[[list[Diagnostic], int | None], str]] = {
    "text": _text,
    "json": _json,
    "github": _github,
    "sarif": _sarif,
}
