"""`metricdsl report` and `Project.report`: the page is one self-contained, escaped, deterministic HTML file; its
view-model for the bundled example matches its golden file (rewritten with `pytest --update-golden`); provisional
and thin values say so; dashboards without scorecard, grain, `by`, targets or data still build; bad requests are one
line and exit 2. No browser is needed here."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import time
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import metricdsl
from metricdsl.cli import EXIT_ERROR, EXIT_OK, main
from metricdsl.render.html import extra

pytest.importorskip("jinja2", reason="the report extra (metricdsl[report]) is not installed")
pytest.importorskip("vl_convert", reason="the report extra (metricdsl[report]) is not installed")

# After the skips: these import markupsafe, of the extra.
from metricdsl.render.html.charts import specs_json
from metricdsl.render.html.model import ReportView
from metricdsl.render.html.page import render_page

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).parent / "golden" / "report" / "service_2_0.json"
WHEN = datetime.datetime(2026, 2, 2, 8, 0, tzinfo=datetime.timezone.utc)
HOSTILE_TEAM = "<script>alert(1)</script>"
QUOTED_TEAM = '"it\'s" & </script><script>alert(2)</script>'
HOSTILE_LABEL = "<img src=x onerror=alert(3)>"


class Elements(HTMLParser):
    """Every element of a page with its attributes, and the text of each `<script>` and `<style>`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._open = tag if tag in self.texts else None

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.texts[self._open].append(data)


def parsed(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def tags(html: str, name: str) -> list[dict[str, str | None]]:
    return [attributes for tag, attributes in parsed(html).elements if tag == name]


@pytest.fixture(scope="module")
def example() -> tuple[ReportView, str, float]:
    """The bundled example's view and page, and how long the page took to build."""
    here = Path.cwd()
    os.chdir(ROOT)  # the specs loaded as `specs`, so the page names their files as the repository does
    try:
        project = metricdsl.load("specs")
        started = time.perf_counter()
        view = project.report_view(generated_at=WHEN, dashboard="service_2_0")
        html = render_page(view)
    finally:
        os.chdir(here)
    return view, html, time.perf_counter() - started


def test_the_page_refers_to_nothing_outside_itself(example: tuple[ReportView, str, float]) -> None:
    _, html, _ = example
    page = parsed(html)
    for tag, attributes in page.elements:
        assert not (tag in ("script", "img", "iframe", "audio", "video", "source") and attributes.get("src")), tag
        assert not (tag == "link" and attributes.get("href")), tag
        href = attributes.get("href")
        assert href is None or href.startswith("#"), href  # in-page links only
    css = "".join(page.texts["style"])
    assert "@import" not in css
    assert "url(" not in css
    data = html.split('id="metricdsl-charts">')[1].split("</script>")[0]
    assert "$schema" not in data  # the specs' schema URL is left out: the page names no address
    assert "http" not in data


def test_the_content_security_policy_comes_first_in_the_head(example: tuple[ReportView, str, float]) -> None:
    _, html, _ = example
    elements = parsed(html).elements
    head = [tag for tag, _ in elements].index("head")
    tag, attributes = elements[head + 1]
    assert tag == "meta"
    assert attributes["http-equiv"] == "Content-Security-Policy"
    assert attributes["content"] is not None
    assert attributes["content"].startswith("default-src 'none';")
    assert "'unsafe-eval'" in attributes["content"]  # Vega compiles its expressions with Function
    assert {"name": "color-scheme", "content": "light dark"} in tags(html, "meta")


def test_the_example_page_is_small_and_quick(example: tuple[ReportView, str, float]) -> None:
    view, html, seconds = example
    size = len(html.encode())
    print(f"report of the example: {size / 1e6:.2f} MB, built in {seconds:.2f} s")
    assert size < 1_500_000
    assert len(view.trends) == 20
    charts = tags(html, "div")
    assert sum(1 for d in charts if d.get("data-chart")) == 20


def test_the_pages_structure_is_accessible(example: tuple[ReportView, str, float]) -> None:
    _, html, _ = example
    page = parsed(html)
    tables = [a for t, a in page.elements if t == "table"]
    assert len(tables) == html.count("<caption")  # every table has a caption
    headers = [a for t, a in page.elements if t == "th"]
    assert headers
    assert all(a.get("scope") in ("col", "row") for a in headers)
    tiles = [a for t, a in page.elements if t == "article" and "tile" in (a.get("class") or "")]
    assert len(tiles) == 20
    assert all(a.get("aria-label") for a in tiles)
    assert "Customer satisfaction (top-2-box): 66.1%, warn" in {a["aria-label"] for a in tiles}
    assert 'id="metricdsl-charts"' in html


def test_the_verdict_counts_the_latest_periods_statuses(example: tuple[ReportView, str, float]) -> None:
    view, _, _ = example
    assert view.header.period == "2026-W05"
    assert view.header.periods == 13
    assert view.header.groups == 6
    counts = {c.status: c.count for c in view.verdict}
    # 6 teams × 10 targets; fcr and repeat_rate are provisional for every team in 2026-W05.
    assert sum(counts.values()) == 60
    assert counts["pending"] == 12
    assert counts["fail"] == 1  # east's CSAT, as `check` finds it
    assert counts["no_data"] == 6  # retention's and west's survey targets, each below min_n 30


def test_window_metrics_of_the_last_week_are_provisional(example: tuple[ReportView, str, float]) -> None:
    view, html, _ = example
    tiles = {t.name: t for s in view.sections for t in s.tiles}
    for name in ("fcr", "repeat_rate"):
        tile = tiles[name]
        assert tile.period is not None
        assert tile.period < "2026-W04"
        assert "provisional in 2026-W04 – 2026-W05" in tile.note
        assert tile.spark_provisional[-2:] == (True, True)
    assert tiles["aht"].period == "2026-W05"
    assert tiles["aht"].note == ""
    assert view.matrix is not None
    # Provisional in every team in 2026-W05 (and in two in 2026-W04): the matrix shows 2026-W04, and says so.
    column = [c.name for c in view.matrix.columns].index("fcr")
    assert view.matrix.columns[column].period == "2026-W04"
    assert sum(row.cells[column].word == "provisional" for row in view.matrix.rows) == 2
    assert view.matrix.columns[[c.name for c in view.matrix.columns].index("aht")].period is None
    assert "provisional in 2026-W04 – 2026-W05" in html
    assert any("First contact resolution (no repeat in 7 days)" in line for line in view.notes.provisional)


def test_values_below_min_n_say_so(example: tuple[ReportView, str, float]) -> None:
    view, html, _ = example
    assert view.matrix is not None
    rows = {row.group: row for row in view.matrix.rows}
    column = [c.name for c in view.matrix.columns].index("nps")
    cell = rows["retention"].cells[column]
    assert (cell.status, cell.text, cell.hatched) == ("no_data", "n=24", True)
    assert "too few answers (n=24 < 30)" in cell.title
    assert 'class="s-no_data hatched"' in html


def test_tiles_compare_with_the_previous_period(example: tuple[ReportView, str, float]) -> None:
    view, _, _ = example
    tiles = {t.name: t for s in view.sections for t in s.tiles}
    csat = tiles["csat"]
    assert (csat.value, csat.status, csat.icon, csat.word) == ("66.1%", "warn", "!", "warn")
    assert csat.change is not None
    assert (csat.change.direction, csat.change.tone, csat.change.against) == ("down", "worse", "2026-W04")
    assert csat.change.significance == "within noise"
    buy_again = tiles["buy_again_30d"].change
    assert buy_again is not None
    assert buy_again.significance == "significant"
    assert tiles["contacts"].value.startswith("1,557")
    assert tiles["contacts"].status is None
    assert tiles["contacts"].word == "no target"
    assert tiles["csat"].n == "n=298"


def test_the_matrix_is_sorted_by_score_and_the_scorecard_explains_each_score(
    example: tuple[ReportView, str, float],
) -> None:
    view, _, _ = example
    assert view.matrix is not None
    assert view.scorecard is not None
    scores = [int(row.score) for row in view.matrix.rows]
    assert scores == sorted(scores, reverse=True)
    assert view.matrix.rows[0].group == "north"
    for group in view.scorecard.contributions:
        shares = [item.share for item in group.items if item.share is not None]
        if not group.capped:
            assert round(sum(shares)) == int(group.score)  # the contributions add up to the score
        # fcr is provisional in the latest week: no points, its weight renormalised away
        fcr = next(item for item in group.items if item.metric == "fcr")
        assert (fcr.points, fcr.share, fcr.text) == ("n/a", None, "n/a")
    capped = [cell for row in view.scorecard.rows for cell in row.cells if cell.capped]
    assert capped
    assert all("critical item fcr fails" in cell.title for cell in capped)


def test_findings_of_the_latest_period_are_grouped_with_their_place(example: tuple[ReportView, str, float]) -> None:
    view, _, _ = example
    severities = [group.severity for group in view.findings]
    assert severities == sorted(severities, key=["fail", "warn", "info"].index)
    assert sum(len(group.findings) for group in view.findings) == 16
    first = view.findings[0]
    assert (first.severity, first.name, first.heading) == ("fail", "csat", "Customer satisfaction (top-2-box) (target)")
    finding = first.findings[0]
    assert finding.group == "east"
    assert finding.message.startswith("east: Customer satisfaction (top-2-box) is 57.6%")
    assert finding.place == "specs/grading.yaml:5"


def test_the_view_of_the_example_matches_its_golden_file(
    example: tuple[ReportView, str, float], request: pytest.FixtureRequest
) -> None:
    view, _, _ = example
    document = dataclasses.asdict(view)
    # The charts' points are the charts' own golden files; here their count and thresholds.
    document["trends"] = [
        {"name": t["name"], "points": len(t["points"]), "thresholds": t["thresholds"], "description": t["description"]}
        for t in document["trends"]
    ]
    content = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if request.config.getoption("--update-golden"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(content, encoding="utf-8")
    assert GOLDEN.read_text(encoding="utf-8") == content, f"{GOLDEN} differs; run pytest --update-golden if intended"


WHEN_TEXT = "2026-02-02T08:00:00+00:00"


def test_the_same_inputs_give_the_same_bytes(
    example: tuple[ReportView, str, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, html, _ = example
    monkeypatch.chdir(ROOT)
    again = metricdsl.load("specs").report(generated_at=WHEN, dashboard="service_2_0")
    assert again == html
    outputs = [tmp_path / "a.html", tmp_path / "b.html"]
    for output in outputs:
        result = CliRunner().invoke(
            main,
            ["report", str(SPECS), "--dashboard", "service_2_0", "--output", str(output), "--generated-at", WHEN_TEXT],
        )
        assert result.exit_code == EXIT_OK, result.output
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    assert '<time datetime="2026-02-02T08:00:00+00:00">' in outputs[0].read_text()


def test_duckdb_gives_the_page_polars_gives_byte_for_byte(
    example: tuple[ReportView, str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its sums end in other last bits; the page's numbers are settled (twelve digits) before anything is written."""
    pytest.importorskip("duckdb")
    _, html, _ = example
    monkeypatch.chdir(ROOT)
    assert metricdsl.load("specs").report(generated_at=WHEN, dashboard="service_2_0", engine="duckdb") == html


def test_windows_in_buckets_give_the_same_page(
    example: tuple[ReportView, str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a memory limit the example's windows are computed in buckets of customers: the page does not change."""
    from metricdsl.engine.polars import partition

    _, html, _ = example
    monkeypatch.chdir(ROOT)
    buckets: list[int] = []
    split = partition.partitioned_stages
    monkeypatch.setattr(partition, "partitioned_stages", lambda *a, **k: buckets.append(a[4]) or split(*a, **k))
    assert metricdsl.load("specs").report(generated_at=WHEN, dashboard="service_2_0", memory_limit="1MB") == html
    assert len(buckets) == 2  # the dashboard's layout and its totals
    assert min(buckets) > 1


def test_script_json_cannot_end_its_element() -> None:
    text = specs_json({"who": "</script><script>alert(1)</script>", "b": "<!-- & -->"})
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert json.loads(text) == {"who": "</script><script>alert(1)</script>", "b": "<!-- & -->"}


# A small project whose names are hostile: the page must show them as text.
SMALL_SPECS = """
sources:
  calls:
    path: calls.csv
    time: started_at
    columns:
      team: str
      channel: str
      started_at: datetime
      answered: bool
      score: int
metrics:
  answered_share:
    label: "LABEL"
    description: "DESCRIPTION"
    source: calls
    expr: share(answered)
    unit: ratio
    better: higher
  mean_score:
    label: Mean score
    source: calls
    expr: mean(score)
    unit: points
    better: higher
    min_n: 3
TARGETS
rules:
  low_answers:
    description: "RULE DESCRIPTION"
    when: answered_share < 0.9
    severity: warn
    message: "MESSAGE {answered_share}"
SCORECARDS
dashboards:
  board:
    title: "TITLE"
    metrics: [answered_share, mean_score]
LAYOUT
"""
TARGETS = """targets:
  answered_share: {target: ">= 0.8", warn: "< 0.7", fail: "< 0.5"}
  mean_score: {warn: "< 5"}"""
SCORECARDS = """scorecards:
  card:
    items:
      answered_share: {weight: 1, floor: 0, ceiling: 1}
      mean_score: {weight: 1, floor: 0, ceiling: 10, critical: true}"""


def small_project(
    tmp_path: Path,
    *,
    label: str = "Answered",
    title: str = "Board",
    rule_text: str = "low",
    by: str = "[team]",
    grain: str | None = "week",
    targets: bool = True,
    scorecard: bool = True,
    teams: tuple[str, ...] = ("north", "south"),
    rows: bool = True,
) -> Path:
    layout = f"    by: {by}\n" + (f"    grain: {grain}\n" if grain else "") + ("    scorecard: card\n" if scorecard else "")
    specs = (
        SMALL_SPECS.replace("LABEL", _yaml(label))
        .replace("DESCRIPTION", _yaml(label))
        .replace("RULE DESCRIPTION", _yaml(rule_text))
        .replace("MESSAGE", _yaml(rule_text))
        .replace("TITLE", _yaml(title))
        .replace("TARGETS", TARGETS if targets else "")
        .replace("SCORECARDS", SCORECARDS if scorecard else "")
        .replace("LAYOUT\n", layout)
    )
    (tmp_path / "specs.yaml").write_text(specs, encoding="utf-8")
    start = datetime.datetime(2026, 1, 5, 9, 0)
    data = [
        {
            "team": team,
            "channel": ["phone", "chat"][i % 2],
            "started_at": start + datetime.timedelta(days=i),
            "answered": i % 3 != 0,
            "score": (i * 7 + t) % 11,
        }
        for t, team in enumerate(teams)
        for i in range(12 if rows else 0)
    ]
    schema = {"team": pl.String, "channel": pl.String, "started_at": pl.Datetime, "answered": pl.Boolean, "score": pl.Int64}
    pl.DataFrame(data, schema=schema).write_csv(tmp_path / "calls.csv")
    return tmp_path / "specs.yaml"


def _yaml(text: str) -> str:
    """`text` inside a double-quoted YAML scalar."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def test_hostile_names_and_texts_render_as_text(tmp_path: Path) -> None:
    specs = small_project(
        tmp_path,
        label=HOSTILE_LABEL,
        title="<b>Board</b>",
        rule_text="</script><script>alert(4)</script>",
        teams=(HOSTILE_TEAM, QUOTED_TEAM),
    )
    view = metricdsl.load(specs).report_view(generated_at=WHEN, drill=["channel"])
    html = render_page(view)
    page = parsed(html)
    # The three scripts of the page (its chart data, Vega, the embedding) and nothing more; no image, no bold title.
    scripts = [a for t, a in page.elements if t == "script"]
    assert len(scripts) == 3
    assert scripts[0] == {"type": "application/json", "id": "metricdsl-charts"}
    assert not [t for t, _ in page.elements if t in ("img", "b")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(3)&gt;" in html
    assert "&lt;/script&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in html  # the rule's description and message
    assert "&lt;b&gt;Board&lt;/b&gt;" in html
    assert "&#34;it&#39;s&#34; &amp; &lt;/script&gt;" in html
    data = "".join(page.texts["script"][:1])
    assert "\\u003c/script\\u003e" in data
    assert json.loads(data)  # the chart data is whole: no value ended its element
    assert "alert(1)</script>" not in html.split('id="metricdsl-charts">')[1].split("</script>")[0]


@pytest.mark.parametrize(
    ("case", "options", "present", "absent"),
    [
        ("no scorecard", {"scorecard": False}, ["matrix", "trends"], ["scorecard"]),
        ("no grain", {"grain": None}, ["matrix", "scorecard"], ["trends"]),
        ("no by", {"by": "[]"}, ["scorecard", "trends"], ["matrix"]),
        ("no targets", {"targets": False, "scorecard": False}, ["matrix", "trends"], ["scorecard"]),
        ("no rows", {"rows": False}, [], ["trends", "matrix", "scorecard"]),
    ],
)
def test_a_dashboard_without_a_part_still_builds(
    tmp_path: Path, case: str, options: dict[str, object], present: list[str], absent: list[str]
) -> None:
    specs = small_project(tmp_path, **options)  # type: ignore[arg-type]
    view = metricdsl.load(specs).report_view(generated_at=WHEN)
    html = render_page(view)
    parsed(html)
    ids = {a.get("id") for _, a in parsed(html).elements}
    for part in present:
        assert part in ids, (case, part)
    for part in absent:
        assert part not in ids, (case, part)
    assert "findings" in ids
    assert "notes" in ids
    if "trends" in absent:
        assert "<script" not in html  # no chart: no JavaScript at all


def test_past_the_limit_of_groups_a_trend_draws_only_its_centre_line(tmp_path: Path) -> None:
    """1,000 teams drew 1,000 lines and legend entries per chart, in a 27 MB page; the matrix lists them instead."""
    from metricdsl.render.html.charts import TREND_GROUP_LIMIT

    many = tuple(f"team {i:02d}" for i in range(TREND_GROUP_LIMIT + 1))
    view = metricdsl.load(small_project(tmp_path, teams=many)).report_view(generated_at=WHEN)
    assert view.matrix is not None
    assert len(view.matrix.rows) == len(many)
    for chart in view.trends:
        assert {p.who for p in chart.points} == {chart.centre}
        assert chart.left_out == len(many)
        assert chart.description.endswith(f"only the centre line drawn, of {len(many)} team groups")
    text = " ".join(render_page(view).split())
    assert f"The {len(many)} team lines are not drawn, too many to tell apart: the matrix shows each." in text
    assert "click a name in a legend" not in text

    few = many[:TREND_GROUP_LIMIT]
    view = metricdsl.load(small_project(tmp_path, teams=few)).report_view(generated_at=WHEN)
    for chart in view.trends:
        assert {p.who for p in chart.points} == {chart.centre, *few}
        assert chart.left_out == 0


def test_a_drill_down_has_a_matrix_and_sorted_tables(tmp_path: Path) -> None:
    specs = small_project(tmp_path)
    view = metricdsl.load(specs).report_view(generated_at=WHEN, drill=["channel"])
    (drill,) = view.drills
    assert drill.column == "channel"
    assert drill.matrix is not None
    assert {row.group for row in drill.matrix.rows} == {"phone", "chat"}
    table = next(t for t in drill.tables if t.metric == "answered_share")
    values = [float(row.text.rstrip("%")) for row in table.rows]
    assert values == sorted(values, reverse=True)  # higher is better: best first


def test_a_history_that_is_not_there_is_an_error_not_an_empty_history(tmp_path: Path) -> None:
    """`check --history` begins the file; `report` only reads it, so a mistyped path said nothing and graded without."""
    specs = small_project(tmp_path)
    result = CliRunner().invoke(
        main, ["report", str(specs), "--history", str(tmp_path / "histroy.parquet"), "--output", str(tmp_path / "r.html")]
    )
    assert result.exit_code == EXIT_ERROR, result.output
    assert result.output.strip() == f"error: cannot read the history {tmp_path / 'histroy.parquet'}: no such file"
    assert not (tmp_path / "r.html").exists()
    written = tmp_path / "history.parquet"
    assert CliRunner().invoke(main, ["check", str(specs), "--history", str(written)]).exit_code in (0, 1)
    result = CliRunner().invoke(
        main, ["report", str(specs), "--history", str(written), "--output", str(tmp_path / "r.html")]
    )
    assert result.exit_code == EXIT_OK, result.output


def test_command_line_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    specs = small_project(tmp_path)
    output = str(tmp_path / "r.html")
    cases = {
        "unknown dashboard": (["report", str(specs), "--dashboard", "nope", "--output", output], "unknown dashboard `nope`"),
        "bad drill column": (["report", str(specs), "--drill", "nope", "--output", output], "drill-down by `nope`"),
        "overwrites its data": (["report", str(specs), "--output", str(tmp_path / "calls.csv")], "calls.csv"),
    }
    for case, (arguments, said) in cases.items():
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == EXIT_ERROR, (case, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (case, result.stderr)
        assert said in lines[0], (case, result.stderr)
    no_board = tmp_path / "plain"
    no_board.mkdir()
    (no_board / "specs.yaml").write_text((tmp_path / "specs.yaml").read_text().split("dashboards:")[0])
    (no_board / "calls.csv").write_text((tmp_path / "calls.csv").read_text())
    result = CliRunner().invoke(main, ["report", str(no_board / "specs.yaml"), "--output", output])
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.strip() == "error: the specs define no dashboard: a report shows one (`dashboards:`)"


def test_without_the_extra_the_command_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = small_project(tmp_path)
    real = extra.importlib.util.find_spec
    monkeypatch.setattr(extra.importlib.util, "find_spec", lambda name: None if name == "vl_convert" else real(name))
    result = CliRunner().invoke(main, ["report", str(specs), "--output", str(tmp_path / "r.html")])
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.strip() == "error: " + extra.MISSING_EXTRA
    assert not (tmp_path / "r.html").exists()


def test_the_command_writes_the_page_and_chart_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = small_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["report", str(specs), "--charts", "charts", "--generated-at", "2026-02-02T08:00"])
    assert result.exit_code == EXIT_OK, result.output
    assert (tmp_path / "board.html").read_text().startswith("<!DOCTYPE html>")  # the default: DASHBOARD.html
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["answered_share.svg", "mean_score.svg"]
    assert "charts: 2 files" in result.stderr
    printed = CliRunner().invoke(main, ["report", str(specs), "--output", "-", "--generated-at", "2026-02-02T08:00"])
    assert printed.exit_code == EXIT_OK
    assert printed.stdout.rstrip("\n") == (tmp_path / "board.html").read_text().rstrip("\n")


def test_without_a_dashboard_named_the_command_writes_a_page_for_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = small_project(tmp_path)
    text = specs.read_text(encoding="utf-8")
    (tmp_path / "more.yaml").write_text(
        "dashboards:\n  by_channel:\n    title: By channel\n    metrics: [mean_score]\n    by: [channel]\n    grain: week\n"
        "    sections:\n      What they say: [mean_score]\n",
        encoding="utf-8",
    )
    assert "by_channel" not in text
    monkeypatch.chdir(tmp_path)
    arguments = ["report", str(tmp_path), "--generated-at", "2026-02-02T08:00"]
    result = CliRunner().invoke(main, [*arguments, "--output", "pages", "--charts", "charts"])
    assert result.exit_code == EXIT_OK, result.output
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == ["board.html", "by_channel.html"]
    assert sorted(p.name for p in (tmp_path / "charts" / "by_channel").iterdir()) == ["mean_score.svg"]
    page = (tmp_path / "pages" / "by_channel.html").read_text(encoding="utf-8")
    assert "By channel" in page
    assert "What they say" in page
    alone = CliRunner().invoke(main, [*arguments, "--dashboard", "board", "--output", "-"])
    assert alone.exit_code == EXIT_OK
    assert alone.stdout.rstrip("\n") == (tmp_path / "pages" / "board.html").read_text(encoding="utf-8").rstrip("\n")
    assert CliRunner().invoke(main, arguments).exit_code == EXIT_OK  # in the current folder
    assert (tmp_path / "by_channel.html").read_text(encoding="utf-8") == page
    (tmp_path / "notes").write_text("", encoding="utf-8")
    for output, said in [("-", "--output - writes one page"), ("one.html", "writes one page"), ("notes", "is a file")]:
        refused = CliRunner().invoke(main, [*arguments, "--output", output])
        assert refused.exit_code == EXIT_ERROR, refused.output
        (line,) = refused.stderr.strip().splitlines()
        assert said in line, line
    assert not (tmp_path / "one.html").exists()


def test_the_voice_of_customer_page_groups_its_metrics_by_contact_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    view = metricdsl.load("specs").report_view(generated_at=WHEN, dashboard="voice_of_customer")
    assert [s.title for s in view.sections] == [
        "What customers contact us about",
        "What they say",
        "What they do next",
    ]
    html = render_page(view)
    assert "Voice of the customer" in html
    for label in ("Share of contacts by reason", "ACSI-style satisfaction index", "Churn after contact (90 days)"):
        assert label in html, label
    assert "invoice_question" in html  # the groups are the contact reasons
    assert "contract_renewal" in html
