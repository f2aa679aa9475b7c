"""The escapers of the renderers: GitHub workflow commands, Markdown cells, graph labels."""

from __future__ import annotations

import click
import pytest

from metricdsl.errors import Diagnostic, Location
from metricdsl.render import github, markdown
from metricdsl.render.diagnostics import MAX_SOURCE_WIDTH, text
from metricdsl.render.graph import as_dot, as_mermaid


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain text", "plain text", "plain text"),
        ("100% sure", "100%25 sure", "100%25 sure"),
        ("two\nlines\r\n", "two%0Alines%0D%0A", "two%0Alines%0D%0A"),
        ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
        ("%0A", "%250A", "%250A"),  # an escape written by a user stays as written
    ],
)
def test_github_escaping_is_the_toolkits(text, data, prop):
    assert github.escape_data(text) == data
    assert github.escape_property(text) == prop


def test_a_github_command_is_one_line_with_its_properties_escaped():
    line = github.command("error", "first\nsecond", {"file": "C:\\specs,a.yaml", "line": 3, "col": None, "title": "T"})
    assert line == "::error file=C%3A\\specs%2Ca.yaml,line=3,title=T::first%0Asecond"
    assert github.command("notice", "m", {}) == "::notice::m"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("a | b", "a \\| b"),
        ("one\ntwo\r\nthree", "one<br>two<br>three"),
        ("<b> & co", "&lt;b&gt; &amp; co"),
        ("back\\slash", "back\\\\slash"),
        (None, ""),
        (41.5, "41.5"),
    ],
)
def test_markdown_cells_escape_pipes_line_breaks_and_html(value, cell):
    assert markdown.cell(value) == cell


def test_markdown_table_has_a_header_a_delimiter_and_a_line_per_row():
    assert markdown.table(("a", "b"), [("x|y", None)]) == ["| a | b |", "|---|---|", "| x\\|y |  |"]


def test_graph_labels_are_quoted_for_mermaid_and_dot():
    graph = {'column:calls."odd"': {"metric:m"}}
    assert '["column:calls.#quot;odd#quot;"]' in as_mermaid(graph)
    assert '"column:calls.\\"odd\\"" -> "metric:m";' in as_dot(graph)


def diagnostic_lines(source_line: str, col: int, end_col: int | None) -> tuple[str, str]:
    """The source line and the caret line of a diagnostic's text, without colours or the gutter."""
    location = Location("spec.yaml", 7, col, end_col, source_line)
    lines = click.unstyle(text(Diagnostic.make("MD001", "bad", location))).splitlines()
    return lines[3].removeprefix(" 7 | "), lines[4].removeprefix("   | ")


def test_a_short_line_is_shown_whole_with_the_caret_under_its_span():
    source, caret = diagnostic_lines("  m: mean(x) + nope", 16, 20)
    assert source == "  m: mean(x) + nope"
    assert caret == " " * 15 + "^^^^"


@pytest.mark.parametrize("col", [1, 2, 500, 9_990, 10_000, 10_001])
def test_a_long_line_is_shown_as_a_window_around_the_column(col):
    line = "".join(chr(ord("a") + i % 26) for i in range(10_000))
    source, caret = diagnostic_lines(line, col, col + 3)
    assert len(source) <= MAX_SOURCE_WIDTH + 2
    assert source.startswith("…") == (col > MAX_SOURCE_WIDTH // 2 + 1)
    assert source.endswith("…") == (col < 10_000 - MAX_SOURCE_WIDTH // 2)
    start = caret.index("^")
    assert source[start : start + len(caret) - start] == line[col - 1 : col + 2]  # under the span, past the end too


def test_the_window_counts_escapes_as_shown():
    line = "\x1b" * 5_000 + "nope" + "x" * 5_000
    source, caret = diagnostic_lines(line, 5_001, 5_005)
    assert source.startswith("…\\x1b\\x1b")
    start = caret.index("^")
    assert source[start:].startswith("nopexxx")
    assert caret[start:] == "^^^^"
