"""The report's charts: each trend spec compiles in Vega-Lite (through vl-convert, no browser) with every label
formatted by unit and the thresholds drawn; two specs against golden JSON (rewritten with `pytest --update-golden`);
sparklines for every awkward series; chart files written whole or not at all; the JSON block that cannot be closed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from metricdsl.errors import OutputError, ReportUnavailable
from metricdsl.render.html import charts
from metricdsl.render.html.charts import (
    CHART_FORMATS,
    STATIC_WIDTH,
    Threshold,
    TrendChart,
    embed_script,
    javascript_bundle,
    sparkline_svg,
    specs_json,
    trend_spec,
    write_charts,
)
from metricdsl.render.values import format_value
from tests.trend_charts import CENTRE, TEAMS, WEEKS, chart, realistic_charts

vl_convert = pytest.importorskip("vl_convert")

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "report"
CHARTS = realistic_charts()
SVG_NS = "{http://www.w3.org/2000/svg}"


def rows(spec: dict) -> list[dict]:
    """The points of a spec's lines: its data is one row of columns, which each layer flattens."""
    (columns,) = spec["data"]["values"]
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def static_svg(spec: dict[str, object]) -> str:
    return vl_convert.vegalite_to_svg(charts._static(spec), vl_version=charts.VEGA_LITE_VERSION)


def texts(svg: str) -> list[str]:
    """Every text the SVG shows, unescaped."""
    return ["".join(node.itertext()) for node in ET.fromstring(svg).iter(f"{SVG_NS}text")]


def axis_labels(svg: str, axis: str) -> list[str]:
    """The labels of the y or x axis, in the order drawn."""
    root = ET.fromstring(svg)
    labels = []
    for group in root.iter(f"{SVG_NS}g"):
        if (group.get("aria-label") or "").startswith(f"{axis.upper()}-axis"):
            for mark in group.iter(f"{SVG_NS}g"):
                if "role-axis-label" in (mark.get("class") or ""):
                    labels += ["".join(t.itertext()) for t in mark.iter(f"{SVG_NS}text")]
    return labels


@pytest.mark.parametrize("trend", CHARTS, ids=lambda c: c.name)
def test_each_spec_compiles_with_every_label_and_threshold_drawn(trend: TrendChart) -> None:
    spec = trend_spec(trend)
    svg = static_svg(spec)
    assert ">undefined<" not in svg
    assert "NaN" not in svg
    assert "var(" not in svg  # every colour variable took its light value
    shown = texts(svg)
    assert trend.label in shown
    assert set(TEAMS) <= set(shown)  # the legend names every team
    assert axis_labels(svg, "x") == list(WEEKS)[: len(axis_labels(svg, "x"))]
    assert axis_labels(svg, "x")
    # One rule per threshold, each labelled with its level and its formatted value.
    assert svg.count('aria-roledescription="rule mark"') == len(trend.thresholds)
    for threshold in trend.thresholds:
        assert f"{threshold.level} {threshold.text}" in shown
    dashes = {
        re.search(r'stroke-dasharray="([^"]+)"', line).group(1) for line in re.findall(r"<line[^>]*rule mark[^>]*>", svg)
    }
    assert len(dashes) == len({t.level for t in trend.thresholds})  # each level its own dash pattern


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("csat", r"^\d+(\.\d)?%$"),
        ("aht", r"^\d+m \d\ds$"),
        ("asa_min", r"^(\d+m \d\ds|\d+(\.\d)?s)$"),
        ("nps", r"^-?\d+$"),
        ("contacts", r"^\d{1,3}(,\d{3})*$"),
        ("sales_per_hour", r"^\d(\.\d{1,2})?$"),
    ],
)
def test_the_y_axis_is_labelled_by_unit(name: str, pattern: str) -> None:
    (trend,) = [c for c in CHARTS if c.name == name]
    labels = axis_labels(static_svg(trend_spec(trend)), "y")
    assert len(labels) >= 3
    assert all(re.match(pattern, label) for label in labels), labels


@pytest.mark.parametrize("unit", ["s", "min", "ms"])
def test_duration_labels_are_written_as_format_value_writes_them(unit: str) -> None:
    factor = {"s": 1, "min": 1 / 60, "ms": 1000}[unit]
    # Not a half at the first decimal (42.25): Python rounds it to even, JavaScript up.
    seconds = [0.4, 5, 42.26, 59.4, 60, 61, 550, 599.6, 3599, 3600, 3725, 7199, 86399]
    values = [s * factor for s in seconds]
    spec = {
        "data": {"values": [{"value": v} for v in values]},
        "mark": "point",
        "height": 600,
        "encoding": {
            "y": {
                "field": "value",
                "type": "quantitative",
                "scale": {"domain": [0, max(values)], "nice": False},
                "axis": {"values": values, "labelExpr": charts._duration_expression(1 / factor), "labelOverlap": False},
            }
        },
    }
    labels = axis_labels(vl_convert.vegalite_to_svg(spec, vl_version=charts.VEGA_LITE_VERSION), "y")
    assert sorted(labels) == sorted(format_value(v, unit) for v in values)


def test_the_duration_axis_ticks_at_whole_minutes() -> None:
    (aht,) = [c for c in CHARTS if c.name == "aht"]
    axis = trend_spec(aht)["layer"][0]["encoding"]["y"]["axis"]
    steps = {b - a for a, b in zip(axis["values"], axis["values"][1:], strict=False)}
    assert steps == {120.0}  # 2 minutes: 470 s to 900 s in at most six steps
    drawn = [p.value for p in aht.points if p.value is not None] + [p.low for p in aht.points if p.who == CENTRE]
    assert axis["values"][0] <= min(drawn)
    assert axis["values"][-1] >= 900  # the fail threshold is inside


def test_the_band_is_the_centre_lines_interval_and_absent_without_one() -> None:
    csat, contacts = trend_spec(CHARTS[0]), trend_spec(next(c for c in CHARTS if c.name == "contacts"))
    band = csat["layer"][0]
    assert band["mark"]["type"] == "area"
    assert band["encoding"]["y"]["field"] == "low"
    assert band["encoding"]["y2"] == {"field": "high"}
    assert all(layer["mark"]["type"] != "area" for layer in contacts["layer"])
    points = rows(csat)
    assert all((row["low"] is not None) == (row["who"] == CENTRE) for row in points if row["value"] is not None)
    assert all(row["ci_text"] != "n/a" for row in points if row["value"] is not None)
    assert set(rows(contacts)[0]) == {"period", "who", "role", "value", "solid", "tail", "value_text", "n_text"}
    assert not any(t["field"] == "ci_text" for layer in contacts["layer"] for t in layer["encoding"].get("tooltip", []))


def test_the_provisional_week_is_its_own_dashed_segment_from_the_last_complete_week() -> None:
    trend = chart("csat", "CSAT", "ratio", 0.66, 0.08, interval=0.05, gaps=frozenset({("west", 11)}))
    spec = trend_spec(trend)
    points = rows(spec)
    tails = {(row["who"], row["period"]) for row in points if row["tail"]}
    solids = {(row["who"], row["period"]) for row in points if row["solid"]}
    for who in (CENTRE, *TEAMS):
        assert (who, "2026-W05") in tails
        assert (who, "2026-W05") not in solids
        assert (who, "2026-W04") in tails
        assert (who, "2026-W04") in solids
        assert (who, "2026-W03") not in tails
    west_w04 = next(row for row in points if row["who"] == "west" and row["period"] == "2026-W04")
    assert west_w04["value"] is None  # a gap before the provisional week: the dashed segment starts at a gap
    dashed = [layer for layer in spec["layer"] if "strokeDash" in layer["mark"] and layer["mark"]["type"] == "line"]
    assert [layer["transform"][1]["filter"] for layer in dashed] == [
        "datum.role === 'group' && datum.tail",
        "datum.role === 'centre' && datum.tail",
    ]
    solid = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line" and "strokeDash" not in layer["mark"]]
    assert all(layer["transform"][1]["filter"].endswith("datum.solid") for layer in solid)
    provisional = next(row for row in points if row["who"] == CENTRE and row["period"] == "2026-W05")
    assert provisional["value_text"].endswith(" (provisional)")


def test_without_a_provisional_week_there_is_no_dashed_layer() -> None:
    complete = TrendChart(**{**vars(CHARTS[0]), "points": tuple(p for p in CHARTS[0].points if not p.provisional)})
    spec = trend_spec(complete)
    assert not any("strokeDash" in layer["mark"] and layer["mark"]["type"] == "line" for layer in spec["layer"])
    assert not any(row["tail"] for row in rows(spec))


def test_groups_are_muted_until_picked_in_the_legend() -> None:
    spec = trend_spec(CHARTS[0])
    (picking,) = [layer for layer in spec["layer"] if "params" in layer]
    assert picking["params"] == [{"name": "pick", "select": {"type": "point", "fields": ["who"]}, "bind": "legend"}]
    colour = picking["encoding"]["color"]
    assert colour["condition"]["param"] == "pick"
    assert colour["condition"]["empty"] is False
    assert colour["condition"]["scale"]["domain"] == list(TEAMS)
    assert colour["value"].startswith("var(--chart-line, #")


def test_x_is_in_every_data_layer_and_the_rules_have_only_y() -> None:
    spec = trend_spec(CHARTS[0])
    assert "encoding" not in spec
    for layer in spec["layer"]:
        if "data" in layer:  # the thresholds' layers
            assert "x" not in layer["encoding"] or layer["encoding"]["x"] == {"value": "width"}
        else:
            assert layer["encoding"]["x"]["field"] == "period"
    # The shared scale's domain once, in the first layer: every week, in order, even one without a value.
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"] == list(WEEKS)


def test_tooltips_format_by_unit_as_format_value_does() -> None:
    (aht,) = [c for c in CHARTS if c.name == "aht"]
    points = rows(trend_spec(aht))
    point = next(p for p in aht.points if p.who == "north" and p.period == "2025-W50")
    row = next(r for r in points if r["who"] == "north" and r["period"] == "2025-W50")
    assert row["value_text"] == format_value(point.value, "s")
    assert re.fullmatch(r"\d+m \d\ds", row["value_text"])
    assert row["ci_text"] == f"{format_value(point.low, 's')} – {format_value(point.high, 's')}"
    assert row["n_text"] == f"{point.n:,}"
    gap = next(r for r in points if r["who"] == "east" and r["period"] == WEEKS[3])
    assert (gap["value"], gap["value_text"], gap["n_text"], gap["ci_text"]) == (None, "n/a", "n/a", "n/a")


def test_width_is_the_container_in_the_page_and_fixed_for_a_file() -> None:
    assert trend_spec(CHARTS[0])["width"] == "container"
    assert trend_spec(CHARTS[0], width=500)["width"] == 500
    assert charts._static(trend_spec(CHARTS[0]))["width"] == STATIC_WIDTH
    assert trend_spec(CHARTS[0])["description"] == CHARTS[0].description


def test_a_spec_is_plain_json_without_nan_and_the_same_every_time() -> None:
    trend = CHARTS[1]
    hostile = TrendChart(
        **{**vars(trend), "points": (trend.points[0].__class__("2025-W45", "north", float("nan"), None, None, 3, False),)}
    )
    spec = trend_spec(hostile)
    json.dumps(spec, allow_nan=False)
    assert rows(spec)[0]["value"] is None
    assert json.dumps(trend_spec(trend)) == json.dumps(trend_spec(realistic_charts()[1]))


@pytest.mark.parametrize("trend", [CHARTS[0], next(c for c in CHARTS if c.name == "contacts")], ids=lambda c: c.name)
def test_golden_specs(trend: TrendChart, request: pytest.FixtureRequest) -> None:
    small = chart(
        trend.name,
        trend.label,
        trend.unit,
        0.66 if trend.unit == "ratio" else 1200,
        0.08 if trend.unit == "ratio" else 300,
        interval=0.05 if trend.unit == "ratio" else None,
        thresholds=tuple((t.level, t.op, t.value) for t in trend.thresholds),
        whole=trend.unit != "ratio",
        gaps=frozenset({("south", 1)}),
        teams=("north", "south"),
        weeks=("2026-W02", "2026-W03", "2026-W04", "2026-W05"),
    )
    content = json.dumps(trend_spec(small), indent=1, ensure_ascii=False) + "\n"
    golden = GOLDEN / f"{trend.name}.json"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(content, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == content, f"{golden} differs; run pytest --update-golden if intended"
    static_svg(json.loads(content))  # and it compiles


# Sparklines: valid SVG for every awkward series, and only numbers and the escaped label in it.


def parse_sparkline(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("role") == "img"
    return root


def shapes(root: ET.Element, kind: str) -> list[ET.Element]:
    return list(root.iter(f"{SVG_NS}{kind}"))


def polyline_points(element: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in element.get("points").split()]


def test_a_sparkline_draws_its_values_solid_and_its_provisional_tail_dashed() -> None:
    root = parse_sparkline(sparkline_svg([1.0, 2.0, 3.0, 4.0, 5.0], [False, False, False, False, True], label="CSAT"))
    solid, tail = shapes(root, "polyline")
    assert solid.get("class") == "spark-line"
    assert len(polyline_points(solid)) == 4
    assert tail.get("class") == "spark-tail"
    assert tail.get("stroke-dasharray")
    assert polyline_points(tail)[0] == polyline_points(solid)[-1]  # joined at the last complete value
    (last,) = [c for c in shapes(root, "circle") if c.get("class") == "spark-last"]
    assert (float(last.get("cx")), float(last.get("cy"))) == polyline_points(tail)[-1]
    ys = [y for _, y in polyline_points(solid) + polyline_points(tail)[1:]]
    assert ys == sorted(ys, reverse=True)  # higher values higher up


@pytest.mark.parametrize(
    ("values", "provisional", "lines", "dots"),
    [
        ([None, None, None], [False, False, True], 0, 0),
        ([], [], 0, 0),
        ([0.5], [False], 0, 1),
        ([1.0, None, 3.0, 4.0, None, 6.0], [False] * 6, 1, 2),
        ([-5.0, -20.0, 10.0, -1.0], [False] * 4, 1, 1),
        ([7.0, 7.0, 7.0, 7.0], [False, False, True, True], 2, 1),
        ([1.0, 2.0, None, 4.0], [False, False, True, True], 1, 1),
        ([float("nan"), 2.0, float("inf"), 3.0], [False] * 4, 0, 2),
        ([-1e308, 1e308, 0.0], [False] * 3, 1, 1),
    ],
    ids=["all-none", "empty", "one", "gaps", "negative", "constant-with-tail", "gap-before-tail", "non-finite", "huge"],
)
def test_sparkline_edge_cases_give_valid_svg(values: list, provisional: list, lines: int, dots: int) -> None:
    svg = str(sparkline_svg(values, provisional, label="AHT"))
    root = parse_sparkline(svg)
    assert len(shapes(root, "polyline")) == lines
    assert len(shapes(root, "circle")) == dots
    assert "nan" not in svg.lower()
    assert "inf" not in svg.lower()
    width, height = float(root.get("width")), float(root.get("height"))
    for polyline in shapes(root, "polyline"):
        assert all(0 <= x <= width and 0 <= y <= height for x, y in polyline_points(polyline))
    if not any(v is not None and v == v and abs(v) != float("inf") for v in values):
        assert shapes(root, "line")  # an empty baseline, not nothing


def test_a_constant_series_is_drawn_across_the_middle() -> None:
    root = parse_sparkline(sparkline_svg([7.0, 7.0, 7.0], [False] * 3, label="x"))
    (line,) = shapes(root, "polyline")
    assert {y for _, y in polyline_points(line)} == {float(root.get("height")) / 2}


def test_a_hostile_sparkline_label_is_text() -> None:
    label = "\"><script>alert(1)</script><svg onload='x'>&amp;"
    svg = str(sparkline_svg([1.0, 2.0], [False, False], label=label))
    root = parse_sparkline(svg)
    assert root.get("aria-label") == label
    assert "<script" not in svg
    assert "onload='" not in svg
    assert {element.tag.removeprefix(SVG_NS) for element in root.iter()} <= {"svg", "polyline", "circle", "line"}


def test_a_sparkline_needs_a_flag_per_value() -> None:
    with pytest.raises(ValueError, match="3 values but 2"):
        sparkline_svg([1.0, 2.0, 3.0], [False, False], label="x")


# Chart files.


def test_write_charts_writes_svg_and_png_files(tmp_path: Path) -> None:
    specs = {c.name: trend_spec(c) for c in CHARTS[:2]}
    svgs = write_charts(specs, tmp_path / "out", "svg")
    assert svgs == [tmp_path / "out" / "csat.svg", tmp_path / "out" / "aht.svg"]
    for path in svgs:
        root = ET.fromstring(path.read_text(encoding="utf-8"))
        assert float(root.get("width")) >= STATIC_WIDTH
    pngs = write_charts(specs, tmp_path / "out", "png")
    assert [p.name for p in pngs] == ["csat.png", "aht.png"]
    for path in pngs:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") >= 2 * STATIC_WIDTH  # scale 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["aht.png", "aht.svg", "csat.png", "csat.svg"]
    assert CHART_FORMATS == ("svg", "png")


@pytest.mark.parametrize("name", ["../evil", "a/b", "a\\b", "..", ".hidden", "", "x\x00y", "con sole"])
def test_write_charts_refuses_a_name_that_is_not_a_plain_file_name(tmp_path: Path, name: str) -> None:
    specs = {"csat": trend_spec(CHARTS[0]), name: trend_spec(CHARTS[1])}
    with pytest.raises(OutputError, match="plain file name"):
        write_charts(specs, tmp_path / "out", "svg")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_chart_that_fails_leaves_no_file_behind(tmp_path: Path) -> None:
    broken = {"mark": "line", "encoding": {"x": {"field": "a", "type": "no-such-type"}}}
    with pytest.raises(ValueError):  # noqa: PT011 - vl-convert's own message
        write_charts({"csat": trend_spec(CHARTS[0]), "broken": broken}, tmp_path, "png")
    assert list(tmp_path.iterdir()) == []


def test_write_charts_takes_svg_or_png_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="svg or png, not pdf"):
        write_charts({"csat": trend_spec(CHARTS[0])}, tmp_path, "pdf")


# The script and its data in the page.


class Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.inside = tag == "script"
        if self.inside:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.scripts[-1] += data


def test_a_script_in_a_label_cannot_close_the_json_block() -> None:
    label = "</script><script>alert(1)</script><!-- & -->"
    hostile = TrendChart(**{**vars(CHARTS[0]), "label": label, "description": label})
    specs = {"csat": trend_spec(hostile)}
    block = specs_json(specs)
    assert "<" not in block
    assert ">" not in block
    assert "&" not in block
    parser = Scripts()
    parser.feed(f'<script type="application/json" id="metricdsl-charts">{block}</script><p>after</p>')
    assert parser.scripts == [block]
    assert json.loads(parser.scripts[0]) == specs


def test_the_scripts_cannot_close_their_element() -> None:
    charts.start_bundle()  # `report` starts it before the specs are evaluated
    bundle = javascript_bundle()
    charts.start_bundle()
    assert javascript_bundle() is bundle  # made once
    assert len(bundle) > 500_000
    assert "vegaEmbed" in bundle
    for script in (bundle, embed_script()):
        assert "</script" not in script.lower()
        assert "<!--" not in script
    assert charts._script_safe('x = "</SCRIPT>"; // <!-- y') == 'x = "<\\/SCRIPT>"; // <\\!-- y'
    assert "chart failed: " in embed_script()
    assert "textContent" in embed_script()
    assert "innerHTML" not in embed_script()


def test_without_vl_convert_the_module_imports_and_says_what_to_install(tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['vl_convert'] = None\n"
        "from metricdsl.errors import ReportUnavailable\n"
        "from metricdsl.render.html import charts\n"
        "from tests.trend_charts import realistic_charts\n"
        "spec = charts.trend_spec(realistic_charts()[0])\n"
        "charts.start_bundle()  # the thread's error is raised where the bundle is asked for\n"
        "for call in (charts.javascript_bundle, lambda: charts.write_charts({'x': spec}, sys.argv[1], 'svg')):\n"
        "    try:\n"
        "        call()\n"
        "    except ReportUnavailable as error:\n"
        "        print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.splitlines() == ["the report's charts need vl-convert-python: pip install 'metricdsl[report]'"] * 2
    assert list(tmp_path.iterdir()) == []
    assert issubclass(ReportUnavailable, Exception)
    assert Threshold("warn", "<", 0.6, "< 60%").text == "< 60%"
