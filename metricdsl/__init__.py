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
- `project`: `load()` and `Project`, the front door; `tools`: fmt, explain, spec tests, revision
- `cli`: the `metricdsl` command

`errors` and `codes` (the diagnostic registry) serve them all; `files` writes output files atomically, through
links, keeping modes, and never over an input.
"""

from metricdsl.engine.quality import DataProblem
from metricdsl.errors import DataError, Diagnostic, OutputError, RequestError, SpecError
from metricdsl.grading.findings import Finding
from metricdsl.project import Project, Run, load

__all__ = [
    "DataError",
    "DataProblem",
    "Diagnostic",
    "Finding",
    "OutputError",
    "Project",
    "RequestError",
    "Run",
    "SpecError",
    "load",
]
__version__ = "0.1.0"
