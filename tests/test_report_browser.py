"""The report's charts in a real browser (marked `browser`: `pytest -m browser`; each test skips, saying why, where
Chromium or Playwright is missing): a page of three charts under the report's Content-Security-Policy draws every
chart with no error and no network request, in light and dark, and prints to A4 landscape; then the same checks on
the bundled example's report, once `metricdsl report` builds one."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

from tests import browser
from tests.trend_charts import chart, realistic_charts

pytest.importorskip("vl_convert")

from metricdsl.render.html.charts import embed_script, javascript_bundle, specs_json, trend_spec

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
HOSTILE = '<img src=x onerror="window.pwned=1"></script><script>window.pwned=2</script>'
# Writes a blocked request into the page, so that --dump-dom shows it too.
WATCH = (
    "document.addEventListener('securitypolicyviolation', function (e) {"
    " var p = document.createElement('p'); p.className = 'csp-violation'; p.textContent = e.blockedURI;"
    " document.body.appendChild(p); });"
)


def chart_page(directory: Path) -> Path:
    """A page as the report writes its charts: the CSP, the charts' CSS, one JSON block, the bundle and the script;
    three charts (a ratio with thresholds, a duration with a hostile label and team, a count without an interval)."""
    csat, _, _, _, contacts, *_ = realistic_charts()
    hostile = chart(
        "hostile", HOSTILE, "s", 560, 60, interval=25, thresholds=(("warn", ">", 660),), teams=("north", HOSTILE)
    )
    specs = {c.name: trend_spec(c) for c in (csat, hostile, contacts)}
    css = (resources.files("metricdsl.render.html") / "templates" / "charts.css").read_text(encoding="utf-8")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>Charts</title>
<style>{css} body {{ background: var(--chart-bg); color: var(--chart-fg); font-family: sans-serif; }}
.chart {{ max-width: 900px; margin: 1em 0; }}</style>
<script>{WATCH}</script>
</head><body>
<h1>Trends</h1>
<details><summary>Notes</summary><p>Shown when printed.</p></details>
<div class="chart" data-chart="csat"></div>
<div class="chart" data-chart="hostile"></div>
<div class="chart" data-chart="contacts"></div>
<script type="application/json" id="metricdsl-charts">{specs_json(specs)}</script>
<script>{javascript_bundle()}</script>
<script>{embed_script()}</script>
</body></html>
"""
    path = directory / "charts.html"
    path.write_text(page, encoding="utf-8")
    return path


def count_charts(html: str) -> int:
    return len(re.findall(r'<div class="chart" data-chart="', html))


@browser.needs_chromium
def test_dump_dom_shows_every_chart_drawn_and_nothing_blocked(tmp_path: Path) -> None:
    page = chart_page(tmp_path)
    dom = browser.dump_dom(page)
    source = page.read_text(encoding="utf-8")
    assert dom.count('class="marks"') == 3
    assert dom.count("chart failed") == source.count("chart failed")  # in the script only
    assert "csp-violation" not in dom.replace(WATCH, "")
    assert dom.count("<script") == source.count("<script") == 4  # the page's own: the hostile name added none
    assert dom.count("<img") == source.count("<img")
    assert "&lt;img src=x" in dom  # drawn as text


@browser.needs_playwright
@pytest.mark.parametrize(("scheme", "background"), [("light", "rgb(255, 255, 255)"), ("dark", "rgb(22, 27, 34)")])
def test_every_chart_is_drawn_offline_in_light_and_dark(tmp_path: Path, scheme: str, background: str) -> None:
    shot = tmp_path / f"charts-{scheme}.png"
    seen = browser.visit(chart_page(tmp_path), charts=3, color_scheme=scheme, screenshot=shot, evaluate="window.pwned")
    assert seen.charts_drawn == 3
    assert seen.evaluated is None  # the hostile label ran nothing
    assert seen.failed == []
    assert seen.page_errors == []
    assert seen.console_errors == []
    assert seen.requests == []
    assert seen.chart_backgrounds == [background] * 3  # the theme's colours, put in at drawing time
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@browser.needs_playwright
def test_the_charts_are_drawn_again_in_the_new_colours_when_the_scheme_changes(tmp_path: Path) -> None:
    seen = browser.visit(chart_page(tmp_path), charts=3, color_scheme="light", then_scheme="dark")
    assert seen.chart_backgrounds == ["rgb(22, 27, 34)"] * 3
    assert seen.charts_drawn == 3
    assert seen.page_errors == []
    assert seen.console_errors == []


@browser.needs_playwright
def test_a_team_picked_in_the_legend_takes_its_colour(tmp_path: Path) -> None:
    page = chart_page(tmp_path)
    before = browser.visit(page, charts=3)
    after = browser.visit(page, charts=3, legend_click="south")
    grey, south = "#8c959f", "#cc3311"  # --chart-line and --chart-series-2 in the light theme
    assert south not in before.line_strokes
    assert grey in before.line_strokes
    assert after.line_strokes.count(south) >= 1
    assert after.page_errors == []


@browser.needs_playwright
def test_the_page_prints_to_a4_landscape(tmp_path: Path) -> None:
    pdf = tmp_path / "charts.pdf"
    opened = "(() => { window.dispatchEvent(new Event('beforeprint')); return document.querySelector('details').open; })()"
    seen = browser.visit(chart_page(tmp_path), charts=3, pdf=pdf, evaluate=opened)
    assert seen.charts_drawn == 3
    assert seen.evaluated is True  # the notes are printed open
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = {tuple(float(n) for n in box.split()) for box in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", data)}
    assert boxes
    for _, _, width, height in boxes:  # A4 landscape is 841.9 × 595.3 points; Chromium rounds the pixels up
        assert width == pytest.approx(842, abs=2)
        assert height == pytest.approx(595, abs=2)


# The example's report, through the command line: runs once `metricdsl report` exists.


class Charts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.charts: list[str] = []
        self.block = False
        self.specs = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "div" and "chart" in (attributes.get("class") or "").split():
            self.charts.append(attributes.get("data-chart") or "")
        self.block = tag == "script" and attributes.get("id") == "metricdsl-charts"

    def handle_data(self, data: str) -> None:
        if self.block:
            self.specs += data

    def handle_endtag(self, tag: str) -> None:
        self.block = False


@pytest.fixture(scope="module")
def example_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    if importlib.util.find_spec("metricdsl.render.html.page") is None:
        pytest.skip("metricdsl report is not built yet (no metricdsl.render.html.page)")
    output = tmp_path_factory.mktemp("report") / "r.html"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "metricdsl",
            "report",
            "specs/",
            "--dashboard",
            "service_2_0",
            "--output",
            str(output),
            "--generated-at",
            "2026-02-02T08:00:00",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
    )
    parser = Charts()
    parser.feed(output.read_text(encoding="utf-8"))
    assert parser.charts, "the report has no chart"
    assert sorted(json.loads(parser.specs)) == sorted(parser.charts)
    return output, len(parser.charts)


@browser.needs_chromium
def test_the_example_report_draws_every_chart_in_dump_dom(example_report: tuple[Path, int]) -> None:
    report, charts = example_report
    dom = browser.dump_dom(report, budget_ms=10_000)
    assert dom.count('class="marks"') == charts
    assert dom.count("chart failed") == report.read_text(encoding="utf-8").count("chart failed")  # in the script only


@browser.needs_playwright
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_example_report_offline_in_light_and_dark(example_report: tuple[Path, int], scheme: str, tmp_path: Path) -> None:
    report, charts = example_report
    shot, pdf = tmp_path / f"report-{scheme}.png", tmp_path / f"report-{scheme}.pdf"
    seen = browser.visit(report, charts=charts, color_scheme=scheme, screenshot=shot, pdf=pdf)
    assert seen.charts_drawn == charts
    assert seen.failed == []
    assert seen.page_errors == []
    assert seen.console_errors == []
    assert seen.requests == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes().startswith(b"%PDF-")


@browser.needs_playwright
def test_a_long_unbroken_label_and_team_name_do_not_widen_the_page(tmp_path: Path) -> None:
    """A name is one word of 150 letters: the tile, the matrix, the chart's title and the notes wrap or cut it, so
    that the page is no wider than the window (it was 1,873 px in a 1,400 px window)."""
    from metricdsl.project import load
    from metricdsl.render.html.page import render_page
    from tests.test_report import WHEN, small_project

    long = "Averagehandletime" * 9
    specs = small_project(tmp_path, label=long + " " + HOSTILE, teams=("north", "A" * 150, HOSTILE))
    page = tmp_path / "long.html"
    view = load(specs).report_view(generated_at=WHEN)
    page.write_text(render_page(view), encoding="utf-8")
    charts = len(view.trends)
    seen = browser.visit(
        page,
        charts=charts,
        evaluate="[document.documentElement.scrollWidth, document.documentElement.clientWidth, window.pwned || null]",
    )
    assert seen.page_errors == []
    assert seen.console_errors == []
    assert seen.requests == []
    width, window, pwned = seen.evaluated  # type: ignore[misc]
    assert width <= window
    assert pwned is None
