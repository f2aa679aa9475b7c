"""Whether the report's optional packages (the `metricdsl[report]` extra) are installed, asked without importing
them: the rest of `metricdsl.render.html` imports them at its top."""

from __future__ import annotations

import importlib.util

from metricdsl.errors import ReportUnavailable

MISSING_EXTRA = "metricdsl report needs jinja2 and vl-convert-python: pip install 'metricdsl[report]'"
PACKAGES = ("jinja2", "markupsafe", "vl_convert")


def require_extra() -> None:
    """Raise `ReportUnavailable` (one line naming the extra) when a package of the report is not installed."""
    if any(importlib.util.find_spec(name) is None for name in PACKAGES):
        raise ReportUnavailable(MISSING_EXTRA)
