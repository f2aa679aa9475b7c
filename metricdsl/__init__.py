"""metricdsl: contact-center metrics as code — YAML specs, a checked expression language, Polars.

The public API is `load()`, `Project` and its `Run`, the records `Diagnostic`, `Finding` and `DataProblem`, and the
exceptions.
The code follows its pipeline; each package imports only those above it in this list:

- `language`: the expression language alone (grammar, parser, printer, function registry)
- `spec`: YAML files → definitions, with positions
- `semantics`: definitions → a checked model, with every diagnostic
- `engine`: the model and data → a table (`engine.polars` compiles to Polars)
- `grading`: a table → statuses, scores and findings, as records
- `render`: every user-visible text (diagnostics, findings, tables, graph, JUnit, GitHub commands)
- `project`: `load()` and `Project`, the front door; `tools`: fmt, explain, spec tests, revision, diff
- `cli`: the `metricdsl` command

`errors` and `codes` (the diagnostic registry) serve them all; `files` writes output files atomically, through
links, keeping modes, and never over an input.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from metricdsl.engine.quality import DataProblem
    from metricdsl.errors import DataError, Diagnostic, EngineUnavailable, OutputError, RequestError, SpecError
    from metricdsl.grading.findings import Finding
    from metricdsl.project import Project, Run, load

__all__ = [
    "DataError",
    "DataProblem",
    "Diagnostic",
    "EngineUnavailable",
    "Finding",
    "OutputError",
    "Project",
    "RequestError",
    "Run",
    "SpecError",
    "load",
]
__version__ = "0.1.0"

# The module of each public name. They are imported when first used, so that importing the package (as the
# `metricdsl` command does first) loads neither Polars nor YAML, and Ctrl-C while they load ends in one line.
_MODULES = {
    "DataProblem": "metricdsl.engine.quality",
    "DataError": "metricdsl.errors",
    "Diagnostic": "metricdsl.errors",
    "EngineUnavailable": "metricdsl.errors",
    "OutputError": "metricdsl.errors",
    "RequestError": "metricdsl.errors",
    "SpecError": "metricdsl.errors",
    "Finding": "metricdsl.grading.findings",
    "Project": "metricdsl.project",
    "Run": "metricdsl.project",
    "load": "metricdsl.project",
}


def __getattr__(name: str) -> object:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
