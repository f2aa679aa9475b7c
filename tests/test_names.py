"""Declared names are identifiers as expressions write them, and a test's name is one line of text: the loader
reports any other name (MD012) and does not read what it names."""

from __future__ import annotations

import pytest

from metricdsl.language.parser import parser
from metricdsl.spec.loader import load_files, load_text
from metricdsl.spec.yaml_reader import NAME

SOURCES = """\
sources:
  calls:
    columns: {answered: bool, wait_s: float}
metrics:
  asa: mean(wait_s)
"""

# How each kind of name is declared, `{name}` standing for it, and where what it names would be loaded.
DECLARATIONS = {
    "source": ("sources:\n  {name}:\n    columns: {answered: bool}\n", lambda d: d.sources),
    "column": ("sources:\n  calls:\n    columns:\n      {name}: bool\n", lambda d: d.sources["calls"].columns),
    "derived column": (
        "sources:\n  calls:\n    columns: {answered: bool}\n    derive:\n      {name}: not answered\n",
        lambda d: d.sources["calls"].derive,
    ),
    "metric": (SOURCES + "  {name}: share(answered)\n", lambda d: d.metrics),
    "target": (SOURCES + "targets:\n  {name}: {warn: '> 30'}\n", lambda d: d.targets),
    "rule": (SOURCES + "rules:\n  {name}: {when: asa > 30}\n", lambda d: d.rules),
    "scorecard": (SOURCES + "scorecards:\n  {name}: {items: {asa: {floor: 60, ceiling: 10}}}\n", lambda d: d.scorecards),
    "dashboard": (SOURCES + "dashboards:\n  {name}: {metrics: [asa]}\n", lambda d: d.dashboards),
}

# Each bad name as the file writes it, and as it reads.
BAD_NAMES = {
    "escape": ('"a\\e[31m"', "a\x1b[31m"),
    "quote": ("'x\"y'", 'x"y'),
    "space": ('"two words"', "two words"),
    "line break": ('"a\\nb"', "a\nb"),
    "nul": ('"a\\0"', "a\x00"),
    "digit first": ("1st", "1st"),
    "hyphen": ("first-contact", "first-contact"),
    "letter beyond ASCII": ("café", "café"),
    "empty": ('""', ""),
}


@pytest.mark.parametrize("bad", BAD_NAMES)
@pytest.mark.parametrize("kind", DECLARATIONS)
def test_a_name_that_is_not_an_identifier_is_reported_and_not_read(kind, bad):
    template, loaded = DECLARATIONS[kind]
    written, name = BAD_NAMES[bad]
    text = template.replace("{name}", written)
    definitions, diagnostics = load_text("spec.yaml", text)
    assert [d.code for d in diagnostics] == ["MD012"], diagnostics
    (diagnostic,) = diagnostics
    assert diagnostic.message == f"{kind} name `{name}` is not an identifier"
    assert diagnostic.hint is not None
    assert "a name is letters, digits and `_`, and does not start with a digit" in diagnostic.hint
    location = diagnostic.location
    assert location is not None
    assert (location.line, location.source_line[location.col - 1 : (location.end_col or 0) - 1]) == (
        text[: text.index(written)].count("\n") + 1,
        written,
    )
    assert name not in loaded(definitions)


def test_the_hint_suggests_an_identifier():
    text = SOURCES.replace("  asa:", '  "first contact\\e[2J":')
    (diagnostic,) = load_text("spec.yaml", text)[1]
    assert (
        diagnostic.hint == "rename it `first_contact_2J`: a name is letters, digits and `_`, and does not start with a digit"
    )
    (digit,) = load_text("spec.yaml", SOURCES.replace("  asa:", "  7day:"))[1]
    assert digit.hint is not None
    assert digit.hint.startswith("rename it `_7day`: ")


def test_the_other_definitions_of_the_file_are_read():
    text = SOURCES + "  'x\"y': share(answered)\n  answer_rate: share(answered)\n"
    definitions, diagnostics = load_text("spec.yaml", text)
    assert [d.code for d in diagnostics] == ["MD012"]
    assert set(definitions.metrics) == {"asa", "answer_rate"}


def test_a_long_bad_name_is_quoted_in_part():
    name = "x y" * 300  # 900 characters: a key of YAML is at most 1,024
    (diagnostic,) = load_text("spec.yaml", SOURCES + f"  {name}: count()\n")[1]
    assert diagnostic.code == "MD012"
    assert len(diagnostic.message) < 200
    assert diagnostic.message.startswith("metric name `x yx y")


@pytest.mark.parametrize(
    "name", ["a", "_", "_asa", "Answer_Rate2", "x" * 200, "true", "count"], ids=lambda n: n if len(n) < 20 else "long"
)
def test_identifiers_are_names(name):
    definitions, diagnostics = load_text("spec.yaml", SOURCES + f"  {name}: share(answered)\n")
    assert diagnostics == []
    assert name in definitions.metrics


def test_names_are_the_names_of_the_grammar():
    assert NAME.pattern == parser().get_terminal("NAME").pattern.value


TEST = """\
tests:
  - name: {name}
    given: {calls: [{answered: true, wait_s: 1}]}
    expect: {asa: 1}
"""


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ('"esc\\e[31m red"', "esc\x1b[31m red"),
        ('"two\\nlines"', "two\nlines"),
        ("|\n      literal\n", "literal\n"),
        ('"tab\\there"', "tab\there"),
        ('"nul\\0"', "nul\x00"),
        ('"del\\x7f"', "del\x7f"),
        ('"csi\\x9b"', "csi\x9b"),
    ],
    ids=["escape", "line break", "block scalar", "tab", "nul", "del", "C1 control"],
)
def test_a_test_name_with_control_characters_is_reported_and_the_test_not_read(written, name):
    definitions, diagnostics = load_text("spec.yaml", SOURCES + TEST.replace("{name}", written))
    assert [(d.code, d.message) for d in diagnostics] == [("MD012", f"test name `{name}` holds control characters")]
    location = diagnostics[0].location
    assert location is not None
    assert location.line == SOURCES.count("\n") + 2
    assert definitions.tests == []


def test_a_test_name_is_free_text():
    name = "answered calls: \"asa\" is 1 s, not 'x' — café (ok) #1 `x` <b> & a\\b"
    written = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    definitions, diagnostics = load_text("spec.yaml", SOURCES + TEST.replace("{name}", written))
    assert diagnostics == []
    assert [test.name for test in definitions.tests] == [name]


def test_nothing_is_loaded_under_a_name_with_a_control_character():
    text = SOURCES.replace("calls:", '"calls\\e[2J":') + "  other: count()\n"
    definitions, diagnostics = load_text("spec.yaml", text)
    assert [d.code for d in diagnostics] == ["MD012"]
    assert definitions.sources == {}
    assert set(definitions.metrics) == {"asa", "other"}


def test_positions_are_the_same_with_a_byte_order_mark(tmp_path):
    """A UTF-8 byte-order mark moves no diagnostic: keys and expressions keep their line and column."""
    spec = "sources:\n  s:\n    columns: {x: int}\nmetrics:\n  m:\n    expr: count()\n    colour: red\n  n: sum(y)\n"
    plain, marked = tmp_path / "plain.yaml", tmp_path / "marked.yaml"
    plain.write_text(spec, encoding="utf-8")
    marked.write_text(spec, encoding="utf-8-sig")
    places = []
    for path in (plain, marked):
        _, diagnostics = load_files([path])
        places.append(sorted((d.code, d.location.line, d.location.col) for d in diagnostics if d.location))
    assert places[0] == places[1]
    assert ("MD004", 7, 5) in places[0]
