"""YAML that reads otherwise than meant: a flow mapping cut at a comma inside an expression, and YAML 1.1's booleans
(`NO`, `on`) given for a text column in a spec test."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from metricdsl.cli import main
from metricdsl.semantics.checker import check
from metricdsl.spec.loader import load_text
from metricdsl.spec.yaml_traps import open_brackets, quote

SOURCES = """\
sources:
  calls:
    columns: {country: str, channel: str, answered: bool, talk_s: {type: float, unit: s}}
"""


def diagnostics(text: str) -> list[tuple[str, int, int, str, str | None]]:
    """Each diagnostic of loading and checking `text`: code, line, column, message and hint."""
    definitions, loaded = load_text("spec.yaml", text)
    found = loaded + check(definitions)[1]
    return [(d.code, d.location.line, d.location.col, d.message, d.hint) for d in found if d.location]


CUT = "YAML cut the value of {} at a comma, which ends a value in `{{...}}`"


@pytest.mark.parametrize(
    ("line", "column", "key", "hint"),
    [
        (
            "  aht: {expr: round(mean(talk_s), 0), unit: s}",
            15,
            "`expr`",
            'quote it: `aht: {expr: "round(mean(talk_s), 0)", unit: s}`',
        ),
        (
            "  p90: {unit: s, expr: quantile(talk_s, 0.9)}",
            24,
            "`expr`",
            'quote it: `p90: {unit: s, expr: "quantile(talk_s, 0.9)"}`',
        ),
        (
            "  short: {expr: mean(least(talk_s, 1m, 2m)), unit: s}",
            17,
            "`expr`",
            'quote it: `short: {expr: "mean(least(talk_s, 1m, 2m))", unit: s}`',
        ),
        (
            '  ab: {expr: count(where channel == "a, b")}',
            14,
            "`expr`",
            """quote it: `ab: {expr: 'count(where channel == "a, b")'}`""",
        ),
        (
            "  talk: {expr: mean(talk_s), description: Talk (in s, rounded)}",
            43,
            "`description`",
            'quote it: `talk: {expr: mean(talk_s), description: "Talk (in s, rounded)"}`',
        ),
    ],
)
def test_a_value_cut_at_a_comma_is_one_diagnostic_that_shows_it_quoted(line, column, key, hint):
    assert diagnostics(SOURCES + "metrics:\n" + line + "\n") == [("MD001", 5, column, CUT.format(key), hint)]


def test_the_value_put_back_together_is_checked_as_written():
    text = SOURCES + "metrics:\n  aht: {expr: round(mean(talk_z), 0), unit: s}\n"
    assert [(code, column) for code, _, column, _, _ in diagnostics(text)] == [("MD001", 15), ("MD201", 26)]
    definitions, _ = load_text("spec.yaml", SOURCES + "metrics:\n  aht: {expr: round(mean(talk_s), 0), unit: s}\n")
    assert definitions.metrics["aht"].expr.text == "round(mean(talk_s), 0)"
    assert definitions.metrics["aht"].unit == "s"


def test_a_cut_over_lines_shows_the_key_and_the_quoted_value():
    text = SOURCES + "metrics:\n  aht: {expr: round(mean(talk_s),\n         0), unit: s}\n"
    assert diagnostics(text) == [("MD001", 5, 15, CUT.format("`expr`"), 'quote it: `expr: "round(mean(talk_s), 0)"`')]


@pytest.mark.parametrize(
    "line",
    [
        "  aht: {expr: 'round(mean(talk_s), 0)', unit: s}",  # quoted: nothing was cut
        "  aht: {expr: mean(talk_s), unit: s}",  # no comma
        "  aht:\n    expr: round(mean(talk_s), 0)\n    unit: s",  # a block mapping ends values at line ends
    ],
)
def test_values_that_were_not_cut_are_left_alone(line):
    assert diagnostics(SOURCES + "metrics:\n" + line + "\n") == []


def test_keys_that_do_not_close_the_value_are_not_taken_for_its_pieces():
    found = diagnostics(SOURCES + "metrics:\n  aht: {expr: round(mean(talk_s), digits: 0)}\n")
    assert [(code, message) for code, _, _, message, _ in found] == [
        ("MD004", "unknown key `digits`"),
        ("MD101", "unclosed `(`"),
    ]


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        (
            '  two: {expr: count(where channel in ["a", "b"]), unit: calls}',
            """quote it: `two: {expr: 'count(where channel in ["a", "b"])', unit: calls}`""",
        ),
        (  # a quoted text after the comma reads as a quoted key, which YAML cannot end there
            '  two: {expr: count(where country in ("NO", "SE"))}',
            """quote it: `two: {expr: 'count(where country in ("NO", "SE"))'}`""",
        ),
    ],
)
def test_a_flow_mapping_yaml_cannot_read_for_an_expression_shows_the_line_quoted(line, hint):
    [(code, number, _, message, found)] = diagnostics(SOURCES + "metrics:\n" + line + "\n")
    assert (code, number, found) == ("MD001", 5, hint)
    assert message.endswith("while parsing a flow mapping")


@pytest.mark.parametrize(
    ("lines", "hint"),
    [
        (["    warn: > 10s"], '> quote it: `warn: "> 10s"`'),
        (["    warn: >= 10m  # minutes"], '> quote it: `warn: ">= 10m"  # minutes`'),
        (["    fail: | x > 1"], '| quote it: `fail: "| x > 1"`'),
        (['    warn: "> 10s"', "    fail: > 15s"], '> quote it: `fail: "> 15s"`'),
        (["    overrides:", "      - {when: x == 1, warn: > 5s}"], '> quote it: `- {when: x == 1, warn: "> 5s"}`'),
        (["    overrides:", "      - {warn: >= 5s, when: x == 1}"], '> quote it: `- {warn: ">= 5s", when: x == 1}`'),
    ],
)
def test_a_threshold_that_yaml_reads_as_a_block_of_text_shows_the_line_quoted(lines, hint):
    text = "targets:\n  aht:\n" + "".join(line + "\n" for line in lines)
    [(code, number, _, _, found)] = diagnostics(text)
    assert (code, number) == ("MD001", 2 + len(lines))
    first, quoted = hint.split(" ", 1)  # the character YAML took for syntax, and the line quoted
    assert found == f"YAML reads `{first}` at the start of a value as syntax of its own, not as text: {quoted}"


def test_brackets_and_quotes_are_balanced_in_order():
    assert open_brackets("round(mean(x)") is True
    assert open_brackets('x == "a') is True
    assert open_brackets('f(x, "(")') is False
    assert open_brackets("f(x]") is None
    assert (quote("a, b"), quote('a == "b"'), quote("""a == "b's\"""")) == ('"a, b"', """'a == "b"'""", """'a == "b''s"'""")


# -- YAML 1.1 booleans in the rows of spec tests

TESTED = (
    SOURCES
    + """\
metrics:
  norway: {source: calls, expr: 'count(where country == "NO")'}
  on_phone: {source: calls, expr: 'count(where channel == "on")'}
  answered: {source: calls, expr: 'count(where answered)'}
tests:
  - name: Norway and calls on the phone
    given:
      calls:
        - {country: ROW_COUNTRY, channel: ROW_CHANNEL, answered: yes}
        - {country: "NO", channel: "on", answered: true}
    expect: {norway: 2, on_phone: 2, answered: 2}
"""
)


def test_a_boolean_word_in_a_text_column_is_reported_with_the_quoted_value():
    text = TESTED.replace("ROW_COUNTRY", "NO").replace("ROW_CHANNEL", "On")
    assert diagnostics(text) == [
        ("MD003", 12, 21, "YAML reads `NO` as false, not as a text for str column `country`", 'quote it: `country: "NO"`'),
        ("MD003", 12, 34, "YAML reads `On` as true, not as a text for str column `channel`", 'quote it: `channel: "On"`'),
    ]


def test_the_spec_test_does_not_run_on_a_boolean_read_for_a_text(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TESTED.replace("ROW_COUNTRY", "NO").replace("ROW_CHANNEL", '"on"'))
    result = CliRunner().invoke(main, ["test", str(spec)])
    assert result.exit_code == 2
    assert 'quote it: `country: "NO"`' in result.stderr + result.stdout


def test_quoted_texts_and_words_yaml_keeps_as_text_pass(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(TESTED.replace("ROW_COUNTRY", '"NO"').replace("ROW_CHANNEL", "'on'"))
    assert diagnostics(spec.read_text()) == []
    result = CliRunner().invoke(main, ["test", str(spec)])
    assert result.exit_code == 0, result.output
    # `y` and `n` are texts to the YAML reader (it reads YAML 1.1's booleans but these two): no diagnostic, the text.
    text = TESTED.replace("ROW_COUNTRY", "n").replace("ROW_CHANNEL", "y").replace("norway: 2", "norway: 1")
    spec.write_text(text.replace("on_phone: 2", "on_phone: 1"))
    assert diagnostics(spec.read_text()) == []
    result = CliRunner().invoke(main, ["test", str(spec)])
    assert result.exit_code == 0, result.output


def test_a_boolean_word_for_a_text_dimension_of_an_expect_row_is_reported():
    text = TESTED.replace("ROW_COUNTRY", '"NO"').replace("ROW_CHANNEL", '"on"')
    text = text.replace(
        "    expect: {norway: 2, on_phone: 2, answered: 2}", "    by: [country]\n    expect: {country: NO, norway: 2}"
    )
    assert diagnostics(text) == [
        ("MD003", 15, 23, "YAML reads `NO` as false, not as a text for str column `country`", 'quote it: `country: "NO"`'),
    ]
    # a metric's value written as a boolean is compared as the value it is: no diagnostic
    assert diagnostics(text.replace("norway: 2", "answered: yes")) == diagnostics(text)
