"""The one error type a user sees: a `Diagnostic` with a code, a position and a hint.

Every code lives in `CODES` with its title and documentation; nothing else invents codes.
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass
from typing import Iterable


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Code:
    """A documented diagnostic code."""

    code: str
    title: str
    doc: str
    severity: Severity = Severity.ERROR


CODES: dict[str, Code] = {c.code: c for c in [
    Code("MD001", "YAML syntax error", "The file is not valid YAML. Fix the indentation or quoting at the position shown."),
    Code("MD002", "unreadable file", "A spec file could not be read (missing, a directory, not UTF-8)."),
    Code("MD003", "wrong kind of value", "A key holds the wrong kind of YAML value, such as a list where a mapping is expected."),
    Code("MD004", "unknown key", "A key that the spec format does not define. Unknown keys are errors so that a typo never goes unnoticed."),
    Code("MD005", "missing key", "A required key is absent, such as `expr` of a metric."),
    Code("MD006", "invalid value", "A value outside its allowed set, such as `better: up` instead of `higher` or `lower`."),
    Code("MD007", "duplicate name", "Two definitions of one kind share a name; names are unique per kind across the project."),
    Code("MD101", "expression syntax error", "The expression does not follow the grammar of the language."),
    Code("MD201", "unknown name", "A name that is no column, derived column, metric or source in scope."),
    Code("MD202", "unknown function", "A call to a function the language does not define."),
    Code("MD203", "wrong arguments", "A function called with the wrong number or kind of arguments."),
    Code("MD204", "type mismatch", "An operand of the wrong type, such as `share()` of a number or `+` on strings."),
    Code("MD205", "unit mismatch", "Two quantities in different units added, subtracted or compared, such as seconds and points."),
    Code("MD206", "number without unit", "A bare number compared with or added to a time quantity: write `5s`, not `5`.", Severity.WARNING),
    Code("MD207", "aggregate of an aggregate", "An aggregate (or a metric) inside another aggregate. Compute the inner one as its own metric."),
    Code("MD208", "row value where an aggregate is needed", "A metric must aggregate its rows: wrap the column in `mean()`, `sum()`, `share()`..."),
    Code("MD209", "aggregate where a row value is needed", "A derived column or a filter is computed per row and cannot use aggregates or metrics."),
    Code("MD210", "circular definition", "Metrics or derived columns that depend on themselves."),
    Code("MD211", "source not known", "The source of a metric cannot be inferred from its expression; give `source:`."),
    Code("MD212", "unknown dimension or grain", "A dashboard or `--by` names a column its metrics' sources lack, or an unknown grain."),
]}


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
        """A diagnostic with the severity registered for `code`."""
        return cls(code, message, location, hint, CODES[code].severity)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A `did you mean` hint for a misspelt name, or None when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


class SpecError(Exception):
    """Raised by the API when a project has errors; carries every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(render_text(d) for d in diagnostics))


def render_text(diagnostic: Diagnostic) -> str:
    """Render one diagnostic in the style of rustc and ruff, with a caret under the span."""
    lines = [f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"]
    loc = diagnostic.location
    if loc is not None:
        lines.append(f"  --> {loc.file}:{loc.line}:{loc.col}")
        if loc.source_line:
            width = max(1, (loc.end_col or loc.col + 1) - loc.col)
            gutter = " " * len(str(loc.line))
            lines += [f" {gutter} |", f" {loc.line} | {loc.source_line}",
                      f" {gutter} | {' ' * (loc.col - 1)}{'^' * width}"]
    if diagnostic.hint:
        lines.append(f"  = help: {diagnostic.hint}")
    return "\n".join(lines)


def codes_table() -> str:
    """The Markdown table of every diagnostic code, as the README shows it."""
    rows = [f"| `{c.code}` | {c.severity.value} | {c.title} | {c.doc} |" for c in CODES.values()]
    return "\n".join(["| code | severity | title | meaning |", "|---|---|---|---|", *rows])
