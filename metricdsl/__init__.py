"""metricdsl: contact-center metrics as code — YAML specs, a checked expression language, Polars."""

from metricdsl.errors import DataError, Diagnostic, RequestError, SpecError
from metricdsl.project import Project, load

__all__ = ["DataError", "Diagnostic", "Project", "RequestError", "SpecError", "load"]
__version__ = "0.1.0"
