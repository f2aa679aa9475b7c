"""What can go wrong, as values: a `Diagnostic` (code, position, hint) for a spec, and the exceptions of the API.

Every code lives in `metricdsl.codes`; nothing else invents codes. `SpecError` carries every diagnostic of a
project, `DataError` names the file, column and line of bad input, `RequestError` an unknown name in a request, and
`OutputError` an output file that cannot be written, and why.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from metricdsl.codes import CODES, Severity

__all__ = [
    "DataError",
    "Diagnostic",
    "Location",
    "OutputError",
    "ReportUnavailable",
    "RequestError",
    "Severity",
    "SpecError",
    "did_you_mean",
    "has_errors",
    "unknown_name",
]


@dataclass(frozen=True)
class Location:
    """A 1-based line and column in a file, and the column where the span ends (exclusive)."""

    file: str
    line: int
    col: int
    end_col: int | None = None
    source_line: str = ""


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a project."""

    code: str
    message: str
    location: Location | None = None
    hint: str | None = None
    severity: Severity = Severity.ERROR

    @classmethod
    def make(cls, code: str, message: str, location: Location | None, hint: str | None = None) -> Diagnostic:
        """A diagnostic with the severity registered for `code`; without a hint, the code's fix."""
        return cls(code, message, location, hint or CODES[code].fix, CODES[code].severity)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A `did you mean` hint for a misspelt name, or None when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """`unknown metric `asx`; did you mean `asa`?`, or the known names when none is close."""
    known = list(known)
    hint = did_you_mean(name, known)
    return f"unknown {kind} `{name}`" + (f"; {hint}" if hint else f" (known: {', '.join(known)})")


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """Whether any of `diagnostics` is an error (not only warnings)."""
    return any(d.severity is Severity.ERROR for d in diagnostics)


class SpecError(Exception):
    """Raised by the API when a project has errors; carries every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__(
            "\n".join(
                f"{d.code}: {d.message}" + (f" ({d.location.file}:{d.location.line}:{d.location.col})" if d.location else "")
                for d in diagnostics
            )
        )


class DataError(Exception):
    """Bad input data: an unreadable file, a missing column, a value that is not of its type."""


class RequestError(ValueError):
    """A request names an unknown metric, dashboard, dimension or grain."""


class NotExactInDialect(RequestError):
    """A request uses what its SQL dialect cannot compute exactly (an exact quantile on BigQuery or Trino): one line
    naming the metric, the function and the dialect. Not a mistake in the command line, so told without its usage."""


class EngineUnavailable(RequestError):
    """The engine asked for cannot run here: its extra is not installed, Java is missing, Spark cannot be reached.
    One line that names what to install or check."""


class ReportUnavailable(RequestError):
    """The HTML report or its chart files cannot be made here: the `report` extra (Jinja2, vl-convert-python) is not
    installed. One line that names what to install."""


class OutputError(Exception):
    """An output that cannot be written: `cannot write PATH: reason`, in one line (see `metricdsl.files`)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot write {path}: {reason}")
