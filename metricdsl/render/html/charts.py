"""Trend charts as Vega-Lite specs (plain data), inline-SVG sparklines, and the page's chart JavaScript."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import markupsafe

from metricdsl.files import write_bytes_atomically, write_text_atomically

CHART_FORMATS = ("svg", "png")
WIDTH = 560


@dataclass(frozen=True)
class TrendPoint:
    period: str
    who: str
    value: float | None
    low: float | None
    high: float | None
    n: int | None
    provisional: bool


@dataclass(frozen=True)
class Threshold:
    level: Literal["target", "warn", "fail"]
    op: str
    value: float
    text: str


@dataclass(frozen=True)
class TrendChart:
    name: str
    label: str
    unit: str | None
    better: str | None
    centre: str
    dimension: str
    points: tuple[TrendPoint, ...]
    thresholds: tuple[Threshold, ...]
    description: str


def trend_spec(chart: TrendChart, *, width: int | None = None) -> dict[str, object]:
    """A Vega-Lite spec of the chart: the centre line bold, the groups' lines thin, the thresholds as rules."""
    values = [
        {"period": p.period, "who": p.who, "value": p.value, "provisional": p.provisional}
        for p in chart.points
        if p.value is not None
    ]
    percent = chart.unit == "ratio"
    y: dict[str, object] = {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": False}}
    if percent:
        y["axis"] = {"format": ".0%"}
    layers: list[dict[str, object]] = [
        {
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": {"field": "period", "type": "ordinal", "title": None},
                "y": y,
                "color": {"field": "who", "type": "nominal", "title": chart.dimension or None},
                "strokeWidth": {"condition": {"test": f"datum.who === {_js(chart.centre)}", "value": 3}, "value": 1},
            },
        }
    ]
    for threshold in chart.thresholds:
        layers.append(
            {
                "data": {"values": [{"value": threshold.value}]},
                "mark": {"type": "rule", "strokeDash": [6, 4] if threshold.level == "warn" else [2, 2]},
                "encoding": {"y": {"field": "value", "type": "quantitative"}},
            }
        )
    return {
        "description": chart.description,
        "width": width if width is not None else "container",
        "height": 180,
        "data": {"values": values},
        "layer": layers,
    }


def _js(text: str) -> str:
    import json

    return json.dumps(text)


def sparkline_svg(values: Sequence[float | None], provisional: Sequence[bool], *, label: str) -> markupsafe.Markup:
    """An inline SVG line of `values`: gaps for None, the provisional points dashed, the last point dotted."""
    width, height, pad = 120.0, 28.0, 3.0
    known = [v for v in values if v is not None]
    if not known:
        return markupsafe.Markup('<svg class="spark" role="img" aria-label="{}" width="120" height="28"></svg>').format(
            label
        )
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{pad + i * step:.1f},{height - pad - (v - low) / span * (height - 2 * pad):.1f}"

    solid: list[list[str]] = []
    dashed: list[str] = []
    current: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                solid.append(current)
            current = []
            continue
        point = xy(i, v)
        if provisional[i] if i < len(provisional) else False:
            dashed.append(point)
        else:
            current.append(point)
    if current:
        solid.append(current)
    paths = "".join(f'<polyline points="{" ".join(p)}"/>' for p in solid if len(p) > 1)
    if dashed:
        paths += f'<polyline class="provisional" points="{" ".join(dashed)}"/>'
    last = next(((i, v) for i, v in reversed(list(enumerate(values))) if v is not None), None)
    dot = f'<circle r="2" cx="{xy(*last).split(",")[0]}" cy="{xy(*last).split(",")[1]}"/>' if last else ""
    return markupsafe.Markup(
        '<svg class="spark" role="img" aria-label="{}" viewBox="0 0 120 28" width="120" height="28">'
    ).format(label) + markupsafe.Markup(paths + dot + "</svg>")


@functools.cache
def javascript_bundle() -> str:
    import vl_convert

    return str(vl_convert.javascript_bundle(None))  # type: ignore[arg-type]  # None: the default snippet


def embed_script() -> str:
    return resources.files("metricdsl.render.html").joinpath("templates/charts.js").read_text(encoding="utf-8")


def write_charts(specs: Mapping[str, dict[str, object]], directory: Path, image_format: str) -> list[Path]:
    import vl_convert

    written = []
    for name, spec in sorted(specs.items()):
        fixed = {**spec, "width": WIDTH}
        path = directory / f"{name}.{image_format}"
        if image_format == "png":
            write_bytes_atomically(path, bytes(vl_convert.vegalite_to_png(fixed, scale=2)))
        else:
            write_text_atomically(path, str(vl_convert.vegalite_to_svg(fixed)))
        written.append(path)
    return written
