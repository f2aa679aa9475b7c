"""The escapers of the renderers: GitHub workflow commands, Markdown cells, graph labels."""

from __future__ import annotations

import pytest

from metricdsl.render import github, markdown
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
