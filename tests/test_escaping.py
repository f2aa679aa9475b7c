"""Text from data and specs, crafted as an adversary would, in every output: escaped for where it goes.

A team's name, a label, a message, a test's name or a file path must not forge a GitHub workflow command, break a
Markdown table or make it link, run HTML, break an XML report, or steer the terminal it is printed on.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

import polars as pl
import pytest
from click.testing import CliRunner

from metricdsl import cli
from metricdsl.errors import Location
from metricdsl.grading.history import Drift
from metricdsl.render import github, markdown, terminal
from metricdsl.render.diagnostics import file_uri
from metricdsl.render.graph import render_graph
from metricdsl.render.history import drift_warning
from metricdsl.render.junit import junit_report
from metricdsl.render.terminal import inline, inline_expr, multiline, multiline_expr
from metricdsl.spec.definitions import SpecTest
from metricdsl.tools.spectest import Failure, Outcome

TEAMS = [
    "a\n::error::pwned",  # a line break that would start a command, or a row
    "b\x1b[2J\x1b[31mred",  # clears the screen, forges a colour
    "c | d `e` [x](javascript:alert(1)) <script>alert(1)</script> </details> *f* @octocat",
    "%0A::warning::percent",  # an escape of the command syntax, written in the data
    "e\u202egnp.exe",  # a right-to-left override
    "::error file=x.yaml,line=1::forged",  # a command at the start of a line
    "\x9b31m",  # the C1 control sequence introducer
    "f\r::error::carriage",
    "g\x00\x07\x7f\u2028h",
]
SPEC = """\
sources:
  calls:
    time: started_at
    columns: {team: str, started_at: datetime, wait_s: {type: float, unit: s}}
metrics:
  asa: {expr: mean(wait_s), label: "Average speed\\e[8m of answer", unit: s, better: lower}
targets:
  asa:
    fail: "> 60s"
rules:
  slow:
    when: asa > 30s
    severity: warn
    message: "{team} waits {asa} \\e]8;;https://example.com\\e\\\\link\\e]8;;\\e\\\\"
scorecards:
  service:
    items:
      asa: {weight: 1, floor: 60, ceiling: 0}
dashboards:
  board: {metrics: [asa], by: [team], grain: week, scorecard: service}
"""
# What may act on a terminal, or start a line of its own.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# A workflow command: `::level` and properties (none holds `,` or `:` unescaped), then the message.
COMMAND = re.compile(r"::(notice|warning|error) (?:\w+=[^,:\r\n]*)(?:,\w+=[^,:\r\n]*)*::([^\r\n]*)")


def no_command_lines(text: str) -> bool:
    """Whether no line of `text` would be run as a workflow command by GitHub's runner (it trims leading blanks)."""
    return not any(line.lstrip().startswith(("::", "##[")) for line in re.split(r"\r\n|\r|\n", text))


def write_calls(path: Path, teams: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["team", "started_at", "wait_s"])
        writer.writerows([team, "2026-01-05T09:00:00", 70] for team in teams)


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run the command line in a folder holding the spec above and one call per adversarial team."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(cli, "spec_revision", lambda paths: None)
    Path("spec.yaml").write_text(SPEC)
    write_calls(Path("calls.csv"), TEAMS)

    def invoke(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli.main, list(args))
        assert isinstance(result.exception, SystemExit | None), result.exception
        return result.exit_code, result.stdout, result.stderr

    return invoke


def check(run, output_format: str) -> str:
    code, out, err = run("check", "spec.yaml", "--data", "calls=calls.csv", "--format", output_format)
    assert (code, err) == (1, "")
    return out


@pytest.fixture
def report(run):
    return json.loads(check(run, "json"))


def test_json_keeps_every_value_as_it_is_and_escapes_control_characters(run, report):
    assert sorted(f["group"]["team"] for f in report["findings"] if f["kind"] == "rule") == sorted(TEAMS)
    assert len(report["findings"]) == 2 * len(TEAMS)
    assert not UNSAFE.search(check(run, "json"))


def test_github_output_is_one_command_per_finding_and_no_other(run, report):
    out = check(run, "github")
    assert "\r" not in out
    lines = out.removesuffix("\n").split("\n")
    overview, commands, summary = lines[0], lines[1:-1], lines[-1]
    teams = len(TEAMS)
    assert (
        overview == f"::notice title=metricdsl check::{2 * teams} findings in 1 period: {teams} fail, {teams} warn, 0 info"
    )
    # Each team's `slow` finding (a rule reading `asa` alone) is shown with its `asa` finding: one command each.
    targets = [f for f in report["findings"] if f["kind"] == "target"]
    assert len(commands) == len(targets) == len(TEAMS)
    assert summary == f"{len(TEAMS)} fail, {len(TEAMS)} warn, 0 info findings"
    for line, finding in zip(commands, targets, strict=True):
        match = COMMAND.fullmatch(line)
        assert match, line
        assert match.group(1) == {"fail": "error", "warn": "warning"}[finding["severity"]]
        # The target's message, and on a line of its own the rule folded into it: no other line break.
        message, also = match.group(2).split("%0Aalso: slow: ")
        assert "%0A" not in message + also
        assert "%0D" not in message + also
        decoded = message.replace("%25", "%")
        assert decoded.startswith(f"2026-W02: {terminal.inline(finding['group']['team'])}")
    assert not UNSAFE.search(check(run, "github"))


def test_github_properties_escape_a_file_path_with_commas_and_colons(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = Path("specs, v2: draft")
    folder.mkdir()
    (folder / "a,b:c #1 %.yaml").write_text("sources:\n  calls:\n    columns: {x: float}\nmetrics:\n  m: {expr: mean(y)}\n")
    result = CliRunner().invoke(cli.main, ["validate", str(folder), "--format", "github"])
    (line,) = result.stdout.splitlines()[:1]
    match = re.fullmatch(r"::error file=([^,:]*),line=5,col=\d+,endColumn=\d+,title=MD201::(.*)", line)
    assert match, line
    assert match.group(1).replace("%3A", ":").replace("%2C", ",").replace("%25", "%") == str(folder / "a,b:c #1 %.yaml")


@pytest.mark.parametrize(
    ("team", "message"),
    [
        ("a\n::error::pwned", "a%0A::error::pwned"),
        ("%0A::x", "%250A::x"),
        ("b\x1b[31m,c:d", "b\\x1b[31m,c:d"),
    ],
)
def test_a_command_holds_a_team_name_in_its_message(team, message):
    line = github.command("warning", team, {"title": f"rule {team}"})
    assert line.count("\n") == 0
    assert line.endswith(f"::{message}")
    assert COMMAND.fullmatch(line)


def test_inert_keeps_lines_from_being_workflow_commands():
    text = "::error::a\n  ::warning::b\r##[error]c\n\u3000::d\nok ::e\n"
    assert github.inert(text) == "\\x3a:error::a\n  \\x3a:warning::b\r\\x23#[error]c\n\u3000\\x3a:d\nok ::e\n"
    assert no_command_lines(github.inert(text))


def test_text_output_draws_one_row_per_finding_and_nothing_that_steers_the_terminal(run, report):
    out = check(run, "text")
    assert not UNSAFE.search(out)
    assert no_command_lines(out)
    table = out[out.index("╞") : out.index("└")].splitlines()[1:]
    # A row per `asa` finding, and a line below it for the `slow` finding folded into it (`also:`).
    assert len(table) == 2 * len(TEAMS) == len(report["findings"])
    assert sum("┆ also: slow: " in line for line in table) == len(TEAMS)
    assert "│ fail     ┆ 2026-W02 ┆ a\\n::error::pwned" in out
    assert "b\\x1b[2J\\x1b[31mred waits 1m 10s \\x1b]8;;https://example.com\\x1b\\link" in out
    assert "  \\x3a:error file=x.yaml,line=1::forged 2026-W02: 0.0  [asa 0]" in out  # a score line starts with it
    assert "Average speed\\x1b[8m of answer" in out


def test_a_rule_message_keeps_its_own_line_breaks_in_text(run):
    Path("spec.yaml").write_text(SPEC.replace('message: "{team} waits', 'message: "first line\\n{team} waits'))
    write_calls(Path("calls.csv"), ["a\nb"])
    out = check(run, "text")
    assert "┆ also: slow: first line" in out
    assert re.search(r"│ +┆ +┆ +┆ +┆ a\\nb waits 1m 10s", out)  # the second line of the message, on its own


def markdown_rows(line: str) -> list[str]:
    """The cells of one table line, as GitHub splits them: on every `|` not escaped by a backslash."""
    cells = re.findall(r"(?:\\.|[^|\\])*", line.strip().removeprefix("|").removesuffix("|"))
    return cells[::2]


def test_markdown_tables_keep_their_shape_and_render_no_html_code_or_links(run, report):
    out = check(run, "markdown")
    assert not UNSAFE.search(out)
    findings_table, scores_table = (block.splitlines() for block in out.split("\n\n")[:2])
    assert len(findings_table) == 2 + len(report["findings"])
    assert all(len(markdown_rows(line)) == 5 for line in findings_table)
    assert len(scores_table) == 2 + len(TEAMS)
    assert all(len(markdown_rows(line)) == 3 for line in scores_table)
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(out)
    assert html.count("<tr>") == 2 + len(report["findings"]) + len(TEAMS)
    for tag in ("<a ", "<script", "<details", "</details", "<code", "<em", "<br />"):
        assert tag not in html
    assert "[x](javascript:alert(1)) &lt;script&gt;alert(1)&lt;/script&gt; &lt;/details&gt; *f* @\u200boctocat" in html


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
        ("`code` *em* _em_ ~del~", "\\`code\\` \\*em\\* \\_em\\_ \\~del\\~"),
        ("</details><script>", "&lt;/details&gt;&lt;script&gt;"),
        ("&#124; @team", "&amp;#124; @&#8203;team"),
        ("esc\x1b[31m\u202e", "esc\\\\x1b\\[31m\\\\u202e"),
        ("line\u2028separator", "line\\\\u2028separator"),
    ],
)
def test_markdown_cells_show_their_text_as_written(value, cell):
    assert markdown.cell(value) == cell


def test_error_lines_quoting_data_are_one_line_and_inert(run):
    Path("calls.csv").write_text('team,started_at,wait_s\nx,"7\x1b[2J\n::error::bad",7\n')
    code, out, err = run("check", "spec.yaml", "--data", "calls=calls.csv")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert "`7\\x1b[2J\\n::error::bad` is not an ISO 8601 datetime" in err


def test_usage_errors_quoting_spec_names_are_one_line(run):
    Path("spec.yaml").write_text(SPEC.replace("board:", '"board\\e[2J\\n::error::x":'))
    code, _, err = run("check", "spec.yaml", "--data", "calls=calls.csv", "--dashboard", "bored")
    assert code == 2
    assert not UNSAFE.search(err)
    assert "board\\x1b[2J\\n::error::x" in err
    assert no_command_lines(err)


def test_eval_table_draws_one_row_per_team(run):
    code, out, _ = run("eval", "spec.yaml", "--data", "calls=calls.csv", "--by", "team", "--metrics", "asa")
    assert code == 0
    assert not UNSAFE.search(out)
    assert len(out[out.index("╞") : out.index("└")].splitlines()[1:]) == len(TEAMS)
    assert "│ a\\n::error::pwned " in out


def test_diagnostics_write_a_spec_line_visibly_with_the_caret_under_its_span(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    Path("spec.yaml").write_text(
        'sources:\n  calls:\n    columns: {x: float}\nmetrics:\n  m: {expr: mean(x), label: "\u202e\t"}\n'
        '  n: {expr: "mean(x) + mean(\u2066y)", description: "a\\e[2J\\n::error::b"}\n',
        encoding="utf-8",
    )
    for output_format in ("text", "github", "json", "sarif"):
        out = CliRunner().invoke(cli.main, ["validate", "spec.yaml", "--format", output_format]).stdout
        assert not UNSAFE.search(out), output_format
        assert no_command_lines(out if output_format != "github" else out.split("\n", 1)[1])
    out = CliRunner().invoke(cli.main, ["validate", "spec.yaml"]).stdout
    source, caret = (line for line in out.splitlines() if line.startswith(("   |  ", " 6 |")))
    assert source.endswith('"mean(x) + mean(\\u2066y)", description: "a\\e[2J\\n::error::b"}')
    start = source.index("\\u2066")  # the parser stops at the isolate: the caret marks it, written out
    assert caret.index("^") == start
    assert caret.rstrip().endswith("^" * len("\\u2066"))


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("specs/a b#1 %.yaml", "specs/a%20b%231%20%25.yaml"),
        ("specs/x:y,z?.yaml", "specs/x%3Ay%2Cz%3F.yaml"),
        ("/abs/my specs/é.yaml", "file:///abs/my%20specs/%C3%A9.yaml"),
    ],
)
def test_sarif_uris_are_percent_encoded(path, uri):
    assert file_uri(path) == uri
    assert unquote(uri.removeprefix("file://")) == path


SPEC_TEST = """\
  - name: "]]> <b> & \\uffff \\u202e::error::test"
    by: [team]
    given:
      calls:
        - {team: "t\\0\\e[2J]]><&", started_at: 2026-01-05T09:00:00, wait_s: 10}
    expect:
      - {team: "u\\x01<&]]>\\e", asa: 10}
"""


def test_junit_report_parses_with_control_characters_in_names_and_failures(run):
    Path("::warning::tests.yaml").write_text(SPEC + "tests:\n" + SPEC_TEST)
    code, out, _ = run("test", "::warning::tests.yaml", "--junit-xml", "report.xml")
    assert code == 1
    assert not UNSAFE.search(out)
    assert no_command_lines(out)
    assert out.startswith("\\x3a:warning::tests.yaml:")
    suite = ElementTree.fromstring(Path("report.xml").read_text(encoding="utf-8"))
    (case,) = suite.iter("testcase")
    assert case.get("name") == "]]> <b> & \\uffff \\u202e::error::test"
    failure = case.find("failure")
    assert failure is not None
    assert "team=u\\x01<&]]>\\x1b" in failure.get("message", "")
    assert "team=t\\x00\\x1b[2J]]><&" in (failure.text or "")


CONTROLS = "".join(map(chr, range(0x20)))


def test_junit_report_holds_every_control_character_and_keeps_line_breaks_in_failures():
    test = SpecTest(name=f"name{CONTROLS}end", given={}, expect=(), location=Location(f"f{CONTROLS}.yaml", 3, 1))
    failures = (Failure("error", error=f"first{CONTROLS}\nsecond line\r\nthird"), Failure("error", error="last"))
    report = junit_report([Outcome(test, failures)])
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", report)  # no character XML 1.0 forbids
    (case,) = ElementTree.fromstring(report).iter("testcase")
    failure = case.find("failure")
    assert failure is not None
    attributes = [case.get("name", ""), case.get("classname", ""), case.get("file", ""), failure.get("message", "")]
    assert not any(re.search(r"[\x00-\x1f]", value) for value in attributes)  # attributes stay one line
    assert case.get("name") == "name" + inline(CONTROLS) + "end"
    assert failure.get("message") == "first" + inline(CONTROLS) + "\\nsecond line\\r\\nthird"
    # Line breaks in a failure's text are kept, as text (XML reads CR LF as LF); the other controls are visible.
    before, after = inline(CONTROLS[: ord("\n")]), inline(CONTROLS[ord("\n") + 1 :])
    assert failure.text == f"first{before}\n{after}\nsecond line\nthird\nlast"


def test_graph_labels_hold_names_with_quotes_line_breaks_and_escapes(run):
    # A spec cannot declare such a column (MD012); the graph's renderers hold any name all the same.
    Path("spec.yaml").write_text(SPEC.replace("{team: str,", '{team: str, "te\\"am\\n\\e[31m#quot;<b>`": str,'))
    code, out, err = run("graph", "spec.yaml")
    assert code == 2
    assert "MD012" in out + err
    graph = {'column:calls.te"am\n\x1b[31m#quot;<b>`': {"metric:asa"}, "column:calls.wait_s": {"metric:asa"}}
    outputs = {f: render_graph(graph, f) for f in ("text", "mermaid", "dot")}
    for out in outputs.values():
        assert not UNSAFE.search(out)
    dot_lines = outputs["dot"].splitlines()
    assert all(re.fullmatch(r'  "(?:[^"\\]|\\.)*" -> "(?:[^"\\]|\\.)*";', line) for line in dot_lines[2:-1])
    assert '"column:calls.te\\"am\\\\n\\\\x1b[31m#quot;<b>`"' in outputs["dot"]
    mermaid_nodes = [line for line in outputs["mermaid"].splitlines() if "[" in line and "-->" not in line]
    assert all(re.fullmatch(r'  n\d+\["[^"<>`&]*"\]', line) for line in mermaid_nodes)
    assert "column:calls.te#quot;am\\n\\x1b[31m#35;quot;#lt;b#gt;#96;" in outputs["mermaid"]
    assert 'column:calls.te"am\\n\\x1b[31m#quot;<b>`' in outputs["text"]
    text_graph = render_graph({"metric:a\nmetric:b": {"x"}}, "text")
    assert text_graph == "metric:a\\nmetric:b -> x"


def test_explain_writes_spec_text_visibly_and_indents_a_description(run):
    described = 'description: "first\\e[2J\\n::error::explain\\u202e"}'
    Path("spec.yaml").write_text(SPEC.replace("better: lower}", f"better: lower, {described}"))
    code, out, _ = run("explain", "asa", "spec.yaml")
    assert code == 0
    assert not UNSAFE.search(out)
    assert no_command_lines(out)
    assert "metric asa — Average speed\\x1b[8m of answer\n" in out
    assert "  first\\x1b[2J\n  \\x3a:error::explain\\u202e\n" in out


def test_fmt_diff_shows_the_files_lines_visibly_and_inert(run):
    Path("spec.yaml").write_text(
        "sources:\n  calls:\n    columns: {wait_s: float}\nmetrics:\n  asa:\n    expr: mean( wait_s )\n"
        "    description: |\n      ::error::fmt \u202eforged\n",
        encoding="utf-8",
    )
    code, out, err = run("fmt", "--check", "spec.yaml")
    assert code == 1
    assert "+    expr: mean(wait_s)" in out
    assert not UNSAFE.search(out + err)
    assert no_command_lines(out + err)
    assert "       \\x3a:error::fmt \\u202eforged" in out


def test_history_warning_names_metrics_of_the_file_on_one_line():
    warning = drift_warning(Path("runs\n.parquet"), Drift(gone=("old\x1b[2J", "::error::x\nnew")))
    assert "\n" not in warning
    assert not UNSAFE.search(warning)
    assert "history runs\\n.parquet: it records `old\\x1b[2J` and `::error::x\\nnew`" in warning


@pytest.mark.parametrize(
    ("text", "one_line", "lines"),
    [
        ("plain é 日本 \\ ", "plain é 日本 \\ ", "plain é 日本 \\ "),
        ("a\nb\r\nc\rd", "a\\nb\\r\\nc\\rd", "a\nb\r\nc\\rd"),
        ("\x1b[31m\x9b1m\x07\x00\x7f\t", "\\x1b[31m\\x9b1m\\x07\\x00\\x7f\\t", "\\x1b[31m\\x9b1m\\x07\\x00\\x7f\\t"),
        ("\u202a\u202e\u2066\u2069\u200f\u061c", "\\u202a\\u202e\\u2066\\u2069\\u200f\\u061c", None),
        ("\u2028\u2029\x85\x0b\x0c\x1c", "\\u2028\\u2029\\x85\\x0b\\x0c\\x1c", None),
        ("\udcff\ufffe\uffff", "\\udcff\\ufffe\\uffff", None),
    ],
)
def test_terminal_writes_what_could_act_visibly(text, one_line, lines):
    assert terminal.inline(text) == one_line
    assert terminal.multiline(text) == (one_line if lines is None else lines)
    assert terminal.inline(one_line) == one_line  # written once is written for good


def test_diagnostics_keep_their_own_colours_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    Path("spec.yaml").write_text('sources:\n  calls:\n    columns: {x: float}\nmetrics:\n  m: {expr: "mean(\\e[32my)"}\n')
    out = CliRunner().invoke(cli.main, ["validate", "spec.yaml"], color=True).stdout
    assert "\x1b[31m" in out  # the error's own red
    assert "\x1b[32m" not in out  # but not the green of the spec
    assert "unexpected character `\\x1b`" in out


def test_the_polars_escapes_are_those_of_inline_and_multiline():
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    values = [every, "a\r\nb\rc\nd", "plain", None]
    frame = pl.DataFrame({"text": values}).select(
        inline=inline_expr(pl.col("text")), multiline=multiline_expr(pl.col("text"))
    )
    assert frame["inline"].to_list() == [None if v is None else inline(v) for v in values]
    expected = [None if v is None else multiline(v).replace("\r\n", "\n") for v in values]
    assert frame["multiline"].to_list() == expected
