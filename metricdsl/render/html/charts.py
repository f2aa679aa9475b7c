"""Trend charts as Vega-Lite specs (plain data), inline SVG sparklines, and the JavaScript that draws the charts.

A trend chart (`trend_spec`) is a layered Vega-Lite v6 spec: the centre line bold over its 95 % band (no band for a
metric without an interval), the groups' lines muted grey until one is picked in the legend, the provisional period
as its own dashed segment (a conditional dash would dash the whole line), and the target, warn and fail thresholds
as horizontal rules, each with its own dash pattern and a text label. The y axis and the tooltips are formatted by
unit as `format_value` formats values everywhere else (`9m 10s`, `64.2%`).

Colours are CSS variables with a light fallback, `var(--chart-warn, #9a6700)`: in the page, `embed_script()` puts
in the theme's value of each variable (templates/charts.css declares them for light and dark); a chart written as
a file (`write_charts`) takes the fallbacks, a fixed light palette.

The JavaScript bundle (vega, vega-lite, vega-embed) and the static export come from vl-convert-python, the
`report` extra: this module imports it only when asked for one of them, and raises `ReportUnavailable` without it.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import math
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from metricdsl.errors import OutputError, ReportUnavailable
from metricdsl.files import write_bytes_atomically
from metricdsl.language.units import TIME_UNITS
from metricdsl.render.values import format_count, format_value, settled

if TYPE_CHECKING:
    from markupsafe import Markup

__all__ = [
    "CHART_FORMATS",
    "STATIC_WIDTH",
    "Threshold",
    "TrendChart",
    "TrendPoint",
    "embed_script",
    "javascript_bundle",
    "sparkline_svg",
    "specs_json",
    "start_bundle",
    "trend_spec",
    "write_charts",
]

CHART_FORMATS = ("svg", "png")
# The most groups a trend chart draws a line for: past it, lines and legend cannot be told apart and the page's data
# grows with every group (1,000 teams made a 27 MB page), so only the centre line is drawn; the matrix lists them.
TREND_GROUP_LIMIT = 24
VEGA_LITE_VERSION = "6.4"  # the version of vl-convert's bundle the specs are written for (`$schema` below)
STATIC_WIDTH = 640  # a chart written as a file: "container" has no container there
HEIGHT = 220
PNG_SCALE = 2
_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
_INSTALL = "pip install 'metricdsl[report]'"


@dataclass(frozen=True)
class TrendPoint:
    """One value of one line: the centre's or a group's, in one period."""

    period: str  # the period's label: "2026-W05", "2026-01-05", "2026-Q1"
    who: str  # the line: the centre line's name (TrendChart.centre) or a group's label ("north")
    value: float | None  # None: a gap (no data, or below min_n)
    low: float | None  # 95 % interval, None when the metric has none
    high: float | None
    n: int | None
    provisional: bool  # the period's value may change when the data is complete (drawn dashed)


@dataclass(frozen=True)
class Threshold:
    """A target, warn or fail line across a chart."""

    level: Literal["target", "warn", "fail"]
    op: str  # "<", "<=", ">", ">="
    value: float  # in the metric's stored unit (seconds, a ratio 0..1)
    text: str  # formatted by unit: "< 60%"


@dataclass(frozen=True)
class TrendChart:
    """What one metric's trend chart shows."""

    name: str  # the metric's name; the chart's id in the page and its file name with --charts
    label: str
    unit: str | None  # "ratio", "s", "points", "contacts", ...
    better: str | None  # "higher" | "lower" | None
    centre: str  # the `who` of the bold centre line (e.g. "All teams"); the others are groups
    dimension: str  # what the groups are ("team")
    points: tuple[TrendPoint, ...]
    thresholds: tuple[Threshold, ...]
    description: str  # one sentence for screen readers: "CSAT 66.1 %, warn, down 3.5 pts, within noise"
    left_out: int = 0  # groups whose lines are not drawn, too many to tell apart (TREND_GROUP_LIMIT); none are then


# The theme's colours: CSS variables, each with its light value for where there are none (a chart written as a file).
_LIGHT = {
    "chart-bg": "#ffffff",
    "chart-fg": "#1f2328",
    "chart-muted": "#57606a",
    "chart-grid": "#d0d7de",
    "chart-line": "#8c959f",
    "chart-centre": "#1f2328",
    "chart-band": "#8c959f",
    "chart-target": "#1a7f37",
    "chart-warn": "#9a6700",
    "chart-fail": "#cf222e",
}
# The groups' colours once picked: Tol's vibrant and muted sets, each at least 3:1 on white.
_SERIES = ("#0077BB", "#CC3311", "#009988", "#EE3377", "#332288", "#999933")
_DASHES = {"target": [2, 3], "warn": [6, 4], "fail": [12, 3, 2, 3]}
_VAR = re.compile(r"^var\(--([A-Za-z0-9_-]+), (#[0-9A-Fa-f]{3,8})\)$")


def _colour(name: str) -> str:
    return f"var(--{name}, {_LIGHT[name]})"


def _series(index: int) -> str:
    return f"var(--chart-series-{index % len(_SERIES) + 1}, {_SERIES[index % len(_SERIES)]})"


def trend_spec(chart: TrendChart, *, width: int | None = None) -> dict[str, object]:
    """A Vega-Lite v6 spec as plain data (JSON-serialisable, keys in a stable order). width None: "container"."""
    periods = list(dict.fromkeys(point.period for point in chart.points))
    groups = list(dict.fromkeys(point.who for point in chart.points if point.who != chart.centre))
    rows = _rows(chart)
    has_interval = any(row.get("low") is not None and row.get("high") is not None for row in rows)
    # The layers share their scales and axes: given once, in the first layer (a line's data), not seven times.
    x: dict[str, object] = {"field": "period", "type": "ordinal"}
    y: dict[str, object] = {"field": "value", "type": "quantitative"}
    fields = [f for f in _FIELDS if has_interval or f not in ("low", "high", "ci_text")]
    flatten: dict[str, object] = {"flatten": fields}
    layers: list[dict[str, object]] = []
    if has_interval:
        layers.append(
            {
                "transform": [flatten, {"filter": "datum.role === 'centre' && isValid(datum.low) && isValid(datum.high)"}],
                "mark": {"type": "area", "opacity": 0.25, "color": _colour("chart-band")},
                "encoding": {"x": x, "y": {**y, "field": "low"}, "y2": {"field": "high"}},
            }
        )
    tooltip = _tooltip(chart, has_interval)
    if groups:
        group = _group_encoding(chart, groups, x, y, tooltip)
        layers.append(_line("group", "solid", flatten, group, params=[_PICK]))
        if any(row["tail"] and row["role"] == "group" for row in rows):
            layers.append(_line("group", "tail", flatten, group))
    centre = {"x": x, "y": y, "color": {"value": _colour("chart-centre")}, "tooltip": tooltip}
    layers.append(_line("centre", "solid", flatten, centre))
    if any(row["tail"] and row["role"] == "centre" for row in rows):
        layers.append(_line("centre", "tail", flatten, centre))
    if chart.thresholds:
        layers.extend(_threshold_layers(chart, y))
    first = layers[0]
    encoding = first["encoding"]
    assert isinstance(encoding, dict)
    first["encoding"] = {
        **encoding,
        "x": {**x, "scale": {"domain": periods}, "axis": {"title": None, "labelAngle": -45, "labelOverlap": True}},
        "y": {**encoding["y"], "scale": {"zero": False}, "axis": _y_axis(chart, rows)},
    }
    spec: dict[str, object] = {
        "$schema": _SCHEMA,
        "description": chart.description,
        # A label longer than the chart is cut with an ellipsis (the figure's caption holds it whole), not drawn past it
        "title": {"text": chart.label, "anchor": "start", "limit": {"expr": "width"}},
        "width": "container" if width is None else width,
        "height": HEIGHT,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": [{field: [row.get(field) for row in rows] for field in fields}]},
        "layer": layers,
        "config": _CONFIG,
    }
    return copy.deepcopy(spec)  # its parts shared between layers and specs become the caller's own


# The lines' data is one row of columns, a list per field, that each layer flattens into a row per point: a page of
# twenty charts holds 1,800 points, and their field names written once instead of 1,800 times make it a third as big.
# A metric without an interval has no columns for it.
_FIELDS = ("period", "who", "role", "value", "low", "high", "solid", "tail", "value_text", "n_text", "ci_text")

_PICK = {"name": "pick", "select": {"type": "point", "fields": ["who"]}, "bind": "legend"}

_CONFIG = {
    "background": _colour("chart-bg"),
    "view": {"stroke": None},
    "axis": {
        "labelColor": _colour("chart-muted"),
        "titleColor": _colour("chart-muted"),
        "gridColor": _colour("chart-grid"),
        "domainColor": _colour("chart-grid"),
        "tickColor": _colour("chart-grid"),
    },
    "legend": {"labelColor": _colour("chart-fg"), "titleColor": _colour("chart-muted")},
    "title": {"color": _colour("chart-fg"), "fontSize": 13},
    # d3-format writes a negative number with U+2212; `format_value`, as everything else the report says, with `-`.
    "locale": {"number": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", ""], "minus": "-"}},
}


def _rows(chart: TrendChart) -> list[dict[str, object]]:
    """The data of the lines: one row per point with its texts formatted by unit, and whether it is drawn in the solid
    line and in the dashed tail (the last complete value before a provisional one is in both, to join them).

    A page holds twenty charts of ninety rows, so a row holds only what is drawn or shown: numbers to six significant
    digits, and an interval's bounds only on the centre line (the band)."""
    rows: list[dict[str, object]] = []
    last_complete: dict[str, dict[str, object]] = {}
    for point in chart.points:
        value, low, high = _finite(point.value), _finite(point.low), _finite(point.high)
        centre = point.who == chart.centre
        text = format_value(value, chart.unit)
        row: dict[str, object] = {"period": point.period, "who": point.who, "role": "centre" if centre else "group"}
        row["value"] = _short(value)
        if centre:
            row["low"], row["high"] = _short(low), _short(high)
        row["solid"], row["tail"] = not point.provisional, point.provisional
        row["value_text"] = f"{text} (provisional)" if point.provisional else text
        row["n_text"] = "n/a" if point.n is None else format_count(point.n)
        bounds = None if low is None or high is None else (format_value(low, chart.unit), format_value(high, chart.unit))
        row["ci_text"] = "n/a" if bounds is None else f"{bounds[0]} – {bounds[1]}"
        if point.provisional and point.who in last_complete:
            last_complete.pop(point.who)["tail"] = True
        elif not point.provisional:
            last_complete[point.who] = row
        rows.append(row)
    return rows


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _short(value: float | None) -> float | None:
    """A value to draw: six significant digits are more than a chart shows (a count stays whole)."""
    return value if value is None or isinstance(value, int) else float(f"{settled(value):.6g}")


def _tooltip(chart: TrendChart, has_interval: bool) -> list[dict[str, object]]:
    tooltip: list[dict[str, object]] = [
        {"field": "period", "title": "Period"},
        {"field": "who", "title": chart.dimension},
        {"field": "value_text", "title": chart.label},
        {"field": "n_text", "title": "n"},
    ]
    return [*tooltip, {"field": "ci_text", "title": "95% CI"}] if has_interval else tooltip


def _group_encoding(chart: TrendChart, groups: list[str], x: object, y: object, tooltip: object) -> dict[str, object]:
    """The groups' lines: grey and thin until picked in the legend, then in their own colour."""
    colour = {
        "param": "pick",
        "empty": False,
        "field": "who",
        "type": "nominal",
        "scale": {"domain": groups, "range": [_series(i) for i in range(len(groups))]},
        "legend": {"title": chart.dimension, "orient": "bottom", "symbolType": "stroke", "columns": 4},
    }
    return {
        "x": x,
        "y": y,
        "detail": {"field": "who", "type": "nominal"},
        "color": {"condition": colour, "value": _colour("chart-line")},
        "opacity": {"condition": {"param": "pick", "value": 1}, "value": 0.3},
        "strokeWidth": {"condition": {"param": "pick", "empty": False, "value": 2.5}, "value": 1.2},
        "tooltip": tooltip,
    }


def _line(
    role: str,
    part: Literal["solid", "tail"],
    flatten: dict[str, object],
    encoding: dict[str, object],
    params: list[object] | None = None,
) -> dict[str, object]:
    centre = role == "centre"
    mark: dict[str, object] = {"type": "line", "point": {"filled": part == "solid", "size": 36 if centre else 16}}
    if centre:
        mark["strokeWidth"] = 3
    if part == "tail":
        mark["strokeDash"] = [4, 3]
    layer: dict[str, object] = {"transform": [flatten, {"filter": f"datum.role === '{role}' && datum.{part}"}], "mark": mark}
    if params:
        layer["params"] = params
    layer["encoding"] = encoding
    return layer


def _threshold_layers(chart: TrendChart, y: Mapping[str, object]) -> list[dict[str, object]]:
    """The thresholds as rules across the chart (only a y: an x would add an empty period), each labelled; a level's
    colour and dash are the marks' own, so that they stay out of the groups' colour scale and legend."""
    layers: list[dict[str, object]] = []
    for level in ("fail", "warn", "target"):
        values = [
            {"value": t.value, "label": f"{t.level} {t.text}"}
            for t in chart.thresholds
            if t.level == level and math.isfinite(t.value)
        ]
        if not values:
            continue
        colour = _colour(f"chart-{level}")
        layers.append(
            {
                "data": {"values": values},
                "mark": {"type": "rule", "color": colour, "strokeDash": _DASHES[level], "strokeWidth": 1.5},
                "encoding": {"y": y},
            }
        )
        layers.append(
            {
                "data": {"values": values},
                "mark": {
                    "type": "text",
                    "color": colour,
                    "align": "right",
                    "baseline": "bottom",
                    "dx": -2,
                    "dy": -2,
                    "fontSize": 10,
                },
                "encoding": {"x": {"value": "width"}, "y": y, "text": {"field": "label"}},
            }
        )
    return layers


def _y_axis(chart: TrendChart, rows: list[dict[str, object]]) -> dict[str, object]:
    """The y axis's labels as `format_value` writes values: `60%`, `9m 10s`, `1,204`; a ratio's ticks to a tenth of a
    percent at most (`62.5%`), so that two ticks never read the same."""
    unit = chart.unit
    if unit is not None and unit in TIME_UNITS:
        axis: dict[str, object] = {"title": None, "labelExpr": _duration_expression(TIME_UNITS[unit])}
        ticks = _duration_ticks(chart, rows, TIME_UNITS[unit])
        return {**axis, "values": ticks} if ticks else axis
    if unit == "ratio":
        return {"title": None, "format": ".1~%"}
    title = None if unit in (None, "points") else unit
    values = [float(row["value"]) for row in rows if isinstance(row["value"], float | int)]
    if not values:
        return {"title": title}
    if all(value.is_integer() for value in values):  # a count: no tick between two whole numbers
        return {"title": title, "format": ",d", "tickMinStep": 1}
    return {"title": title, "format": ",.1~f" if max(abs(value) for value in values) >= 10 else ".3~g"}


# Steps between a duration axis's ticks, in seconds: whole seconds, minutes and hours rather than 200 s.
_DURATION_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)


def _duration_ticks(chart: TrendChart, rows: list[dict[str, object]], seconds_per_unit: float) -> list[float]:
    """Ticks at whole steps of time (every minute, every 5 minutes) over what the chart shows, in the metric's unit."""
    shown = [v for row in rows for v in (row["value"], row.get("low"), row.get("high")) if isinstance(v, float | int)]
    shown += [t.value for t in chart.thresholds if math.isfinite(t.value)]
    if not shown:
        return []
    low, high = min(shown) * seconds_per_unit, max(shown) * seconds_per_unit
    step = next((s for s in _DURATION_STEPS if (high - low) / s <= 6), _DURATION_STEPS[-1])
    first, last = math.floor(low / step), math.ceil(high / step)
    return [k * step / seconds_per_unit for k in range(first, last + 1)]


def _duration_expression(seconds_per_unit: float) -> str:
    """A Vega expression writing `datum.value` (in a time unit) as `format_value` does: `1h 05m`, `9m 10s`, `42s`."""
    seconds = f"(datum.value * {seconds_per_unit!r})"
    rounded = f"round({seconds})"
    minutes = f"floor({rounded} / 60)"
    rest = f"({rounded} - 60 * {minutes})"
    hours = f"floor({minutes} / 60)"
    minutes_left = f"({minutes} - 60 * {hours})"

    def two_digits(number: str) -> str:
        return f"({number} < 10 ? '0' : '') + {number}"

    return (
        f"{hours} != 0 ? {hours} + 'h ' + {two_digits(minutes_left)} + 'm' : "
        f"{minutes} != 0 ? {minutes} + 'm ' + {two_digits(rest)} + 's' : replace(format({seconds}, '.1f'), '.0', '') + 's'"
    )


def sparkline_svg(values: Sequence[float | None], provisional: Sequence[bool], *, label: str) -> Markup:
    """An inline <svg role="img" aria-label=...>: gaps for None, the provisional tail dashed, last point dotted.

    Only numbers and the escaped label go into it. Its strokes are `currentColor`, for the page's CSS to colour."""
    from markupsafe import Markup, escape

    if len(values) != len(provisional):
        raise ValueError(f"{len(values)} values but {len(provisional)} provisional flags")
    width, height, pad = 120.0, 28.0, 3.0
    finite = {i: v for i, v in enumerate(values) if v is not None and math.isfinite(v)}
    low, high = min(finite.values(), default=0.0), max(finite.values(), default=0.0)
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def point(i: int) -> tuple[str, str]:
        # Halves, so that the span of two huge values of opposite signs (±1e308) is still a finite number.
        share = (high / 2 - finite[i] / 2) / (high / 2 - low / 2) if high != low else 0.5
        y = pad + share * (height - 2 * pad)
        return f"{pad + i * step:.2f}", f"{y:.2f}"

    # A segment joins two neighbouring values (a None breaks the line); it is dashed when it ends in a provisional one.
    lines: list[tuple[bool, list[int]]] = []
    for i in range(1, len(values)):
        if i - 1 in finite and i in finite:
            dashed = provisional[i]
            if lines and lines[-1][0] == dashed and lines[-1][1][-1] == i - 1:
                lines[-1][1].append(i)
            else:
                lines.append((dashed, [i - 1, i]))
    parts = [
        f'<polyline class="{"spark-tail" if dashed else "spark-line"}"'
        + (' stroke-dasharray="3 2"' if dashed else "")
        + f' points="{" ".join(",".join(point(i)) for i in indices)}"/>'
        for dashed, indices in lines
    ]
    joined = {i for _, indices in lines for i in indices}
    last = max(finite, default=None)
    for i in finite:
        if i not in joined and i != last:  # an isolated value has no line to show it
            parts.append('<circle class="spark-dot" cx="{}" cy="{}" r="1.2" fill="currentColor"/>'.format(*point(i)))
    if last is not None:
        parts.append('<circle class="spark-last" cx="{}" cy="{}" r="2.2" fill="currentColor"/>'.format(*point(last)))
    else:
        parts.append(f'<line class="spark-none" x1="{pad:g}" y1="{height / 2:g}" x2="{width - pad:g}" y2="{height / 2:g}"/>')
    return Markup(
        f'<svg class="sparkline" role="img" aria-label="{escape(label)}" viewBox="0 0 {width:g} {height:g}" '
        f'width="{width:g}" height="{height:g}" fill="none" stroke="currentColor" stroke-width="1.5" '
        f'xmlns="http://www.w3.org/2000/svg">' + "".join(parts) + "</svg>"
    )


def _vl_convert() -> ModuleType:
    try:
        return importlib.import_module("vl_convert")
    except ImportError:
        raise ReportUnavailable(f"the report's charts need vl-convert-python: {_INSTALL}") from None


def javascript_bundle() -> str:
    """vega + vega-lite + vega-embed from vl_convert.javascript_bundle(), made once; safe inside an inline <script>."""
    return _bundling().result()


def start_bundle() -> None:
    """Start making the bundle in a thread, to be ready when the page is written: vl-convert bundles in Rust, without
    the GIL, for about a second, which the specs' loading and evaluation then take side by side."""
    _bundling()


@functools.cache
def _bundling() -> Future[str]:
    future: Future[str] = Future()

    def run() -> None:
        try:
            future.set_result(_script_safe(_vl_convert().javascript_bundle(vl_version=VEGA_LITE_VERSION)))
        except BaseException as error:  # raised by `javascript_bundle()`, in the thread that waits for it
            future.set_exception(error)

    # A daemon: a command that fails before it writes its page does not wait for a bundle it will not use.
    threading.Thread(target=run, name="vl-convert bundle", daemon=True).start()
    return future


@functools.cache
def embed_script() -> str:
    """The page's own JS (templates/charts.js): draws each `<div class="chart" data-chart=NAME>` from the JSON block."""
    return _script_safe((resources.files("metricdsl.render.html") / "templates" / "charts.js").read_text(encoding="utf-8"))


def _script_safe(script: str) -> str:
    # `</script` would end the element early and `<!--` changes how the rest is parsed; `<\/` and `<\!--` mean the
    # same in a JavaScript string, regular expression or comment, the only places they can be.
    return re.sub(r"(?i)</(script)", r"<\\/\1", script).replace("<!--", "<\\!--")


def specs_json(specs: Mapping[str, object]) -> str:
    """The JSON of `<script type="application/json" id="metricdsl-charts">`: `<`, `>` and `&` escaped, so that no
    text in it can close the script; keys sorted, so that the same specs are the same bytes."""
    text = json.dumps(specs, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def write_charts(specs: Mapping[str, dict[str, object]], directory: Path, image_format: str) -> list[Path]:
    """Write each chart as `<name>.<format>` in `directory`, "svg" or "png", at a fixed width in the light palette.

    Every image is made before the first is written, and each is written atomically: a chart that fails leaves no
    file behind. Raises `OutputError` for a name that is not a plain file name or a file that cannot be written,
    `ReportUnavailable` without vl-convert-python, and `ValueError` for another format."""
    if image_format not in CHART_FORMATS:
        raise ValueError(f"a chart is written as {' or '.join(CHART_FORMATS)}, not {image_format}")
    paths = [Path(directory) / f"{_file_name(name, directory)}.{image_format}" for name in specs]
    converter = _vl_convert()
    images: list[bytes] = []
    for spec in specs.values():
        static = _static(spec)
        if image_format == "svg":
            images.append(converter.vegalite_to_svg(static, vl_version=VEGA_LITE_VERSION).encode("utf-8"))
        else:
            images.append(converter.vegalite_to_png(static, vl_version=VEGA_LITE_VERSION, scale=PNG_SCALE))
    for path, image in zip(paths, images, strict=True):
        write_bytes_atomically(path, image)
    return paths


def _file_name(name: str, directory: Path) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name) or ".." in name:
        raise OutputError(str(Path(directory) / name), "a chart's name must be a plain file name")
    return name


def _static(spec: dict[str, object]) -> dict[str, object]:
    """The spec for a file: a fixed width, and each colour variable's light fallback."""

    def fallback(node: object) -> object:
        if isinstance(node, str):
            match = _VAR.match(node)
            return match.group(2) if match else node
        if isinstance(node, list):
            return [fallback(item) for item in node]
        if isinstance(node, dict):
            return {key: fallback(item) for key, item in node.items()}
        return node

    static = fallback(spec)
    assert isinstance(static, dict)
    if static.get("width") == "container":
        static["width"] = STATIC_WIDTH
    return static
