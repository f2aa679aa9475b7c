"""metricdsl: contact-center metrics as code — YAML specs, a checked expression language, Polars."""

from metricdsl.data import DataError
from metricdsl.diagnostics import Diagnostic, SpecError
from metricdsl.project import Project, RequestError, load

__all__ = ["DataError", "Diagnostic", "Project", "RequestError", "SpecError", "load"]
__version__ = "0.1.0"
