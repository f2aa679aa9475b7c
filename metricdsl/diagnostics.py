"""The one error type a user sees: a `Diagnostic` with a code, a position and a hint.

Every code lives in `CODES` with its title and documentation; nothing else invents codes.
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass
from importlib import resources
from typing import Iterable

import yaml


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Code:
    """A documented diagnostic code: what it means, why it matters, an example, how to fix it."""

    code: str
    title: str
    what: str
    why: str
    example: str
    fix: str
    severity: Severity = Severity.ERROR

    def explain(self) -> str:
        """The documentation of the code, as `metricdsl explain CODE` prints it."""
        example = "\n".join(f"    {line}" for line in self.example.splitlines())
        return (f"{self.code}: {self.title} ({self.severity.value})\n\n{self.what}\n\nWhy: {self.why}\n\n"
                f"Example:\n\n{example}\n\nHow to fix: {self.fix}\n")


def _load_codes() -> dict[str, Code]:
    entries = yaml.safe_load((resources.files("metricdsl") / "codes.yaml").read_text(encoding="utf-8"))
    return {code: Code(code=code, **{**entry, "severity": Severity(entry.get("severity", "error"))})
            for code, entry in entries.items()}


CODES: dict[str, Code] = _load_codes()


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
    return any(d.severity is Severity.ERROR for d in diagnostics)


class SpecError(Exception):
    """Raised by the API when a project has errors; carries every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(f"{d.code}: {d.message}" + (f" ({d.location.file}:{d.location.line}:"
                                    f"{d.location.col})" if d.location else "") for d in diagnostics))


def codes_table() -> str:
    """The Markdown table of every diagnostic code, as the README shows it."""
    rows = [f"| `{c.code}` | {c.severity.value} | {c.title} | {c.what} |" for c in CODES.values()]
    return "\n".join(["| code | severity | title | meaning |", "|---|---|---|---|", *rows])
