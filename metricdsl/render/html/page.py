"""The report as one self-contained HTML page: the view-models rendered by Jinja2, with the CSS, the chart specs and
the JavaScript inlined; nothing is fetched when it is opened.

Every text from specs and data goes through Jinja2's escaping (`autoescape`); the chart specs are one JSON block in
which `<`, `>` and `&` are written as `\\u003c`, `\\u003e`, `\\u0026`, so no value can end the script element.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from metricdsl.render.html import charts
from metricdsl.render.html.extra import require_extra
from metricdsl.render.html.model import ReportView
from metricdsl.render.terminal import inline
from metricdsl.render.values import counted

if TYPE_CHECKING:
    import jinja2


def chart_specs(view: ReportView) -> dict[str, dict[str, object]]:
    """The Vega-Lite spec of each trend chart, by metric; without `$schema`, as the page makes no reference out."""
    specs = {chart.name: charts.trend_spec(chart) for chart in view.trends}
    return {name: {k: v for k, v in spec.items() if k != "$schema"} for name, spec in specs.items()}


def render_page(view: ReportView) -> str:
    require_extra()
    from markupsafe import Markup

    template = _environment().get_template("report.html.j2")
    templates = resources.files("metricdsl.render.html").joinpath("templates")
    # The page's CSS, then the charts' own (their colours as CSS variables), when there is one.
    sheets = [templates.joinpath(name) for name in ("report.css", "charts.css")]
    css = "\n".join(sheet.read_text(encoding="utf-8") for sheet in sheets if sheet.is_file())
    return template.render(
        view=view,
        css=Markup(css.replace("</", "<\\/")),
        charts_json=Markup(charts.specs_json(chart_specs(view))),
        bundle=Markup(charts.javascript_bundle()) if view.trends else "",
        embed=Markup(charts.embed_script()) if view.trends else "",
        sparkline=charts.sparkline_svg,
    )


def charts_written(paths: Sequence[Path]) -> str:
    """What `report --charts` says it wrote: `charts: 20 files in out/ (svg)`."""
    if not paths:
        return "charts: none to write (the dashboard has no grain)"
    kinds = sorted({p.suffix.lstrip(".") for p in paths})
    return f"charts: {counted(len(paths), 'file')} in {inline(paths[0].parent)} ({', '.join(kinds)})"


def _environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("metricdsl.render.html", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["first_upper"] = _first_upper
    return environment


def _first_upper(text: str) -> str:
    """The text with its first letter in upper case and the rest as written (`capitalize` lowers `2026-W05`)."""
    return text[:1].upper() + text[1:]
