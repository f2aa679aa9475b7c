"""Never a traceback: whatever the text, validation ends with diagnostics."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SPECS
from metricdsl.errors import Diagnostic
from metricdsl.semantics.checker import check
from metricdsl.spec.loader import expressions, load_files, load_text

SPEC_TEXTS = [path.read_text() for path in sorted(SPECS.glob("*.yaml"))]
EXPRESSIONS = [e.text for e in expressions(load_files([SPECS])[0])]
SOURCES = (SPECS / "sources.yaml").read_text()
PIECES = st.sampled_from(
    [
        *list("()[]{}<>=!&|+-*/%,.:;'\"#@ \n\tabcdefnpqrstuvwxyz0123456789_"),
        " and ",
        " or ",
        " not ",
        " where ",
        " in ",
        " between ",
        " is null",
        "case when ",
        " then ",
        " end",
        "share(",
        "mean(",
        "count(",
        "followed_by(",
        "7d",
        "20s",
        "@2026-01-01",
        "nps_score",
        "interactions",
        "null",
        "true",
        "- ",
        ": ",
        "\n  ",
        "\n    expr: ",
        "metrics:",
        "sources:",
    ]
)


def pieces(max_size: int) -> st.SearchStrategy[str]:
    """Text made of characters and tokens of the language and of YAML."""
    return st.lists(PIECES, max_size=max_size).map("".join)


def validate_text(text: str) -> list[Diagnostic]:
    """The in-process equivalent of `metricdsl validate` on one file."""
    definitions, diagnostics = load_text("fuzz.yaml", text)
    return diagnostics + check(definitions)[1]


@st.composite
def mutated(draw, texts: list[str]) -> str:
    """One of `texts` with a few random insertions, deletions and replacements."""
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 5))
        text = text[:position] + draw(pieces(3)) + text[position + cut :]
    return text


def as_metric(expression: str) -> str:
    quoted = expression.replace("'", "''")
    return SOURCES + f"metrics:\n  fuzzed:\n    source: interactions\n    expr: '{quoted}'\n"


documents = st.one_of(
    pieces(120),
    st.text(max_size=200),
    pieces(40).map(as_metric),
    mutated(EXPRESSIONS).map(as_metric),
    mutated(SPEC_TEXTS),
)


def assert_diagnoses(text: str) -> None:
    diagnostics = validate_text(text)
    assert all(isinstance(d, Diagnostic) and d.code and d.message for d in diagnostics)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_validation_never_raises(text):
    assert_diagnoses(text)


@pytest.mark.slow
@settings(max_examples=12_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_validation_never_raises_long_run(text):
    assert_diagnoses(text)


@pytest.mark.parametrize(
    "text",
    [
        as_metric("(" * 10_000 + "1" + ")" * 10_000),
        as_metric("-" * 10_000 + "1"),
        as_metric("not " * 5_000 + "true"),
        as_metric(" + ".join(["1"] * 5_000)),
        "metrics: " + "[" * 10_000 + "]" * 10_000,
        "metrics:\n" + "".join("  " * i + f"k{i}:\n" for i in range(2_000)),
    ],
)
def test_deep_nesting_gives_a_diagnostic_not_a_recursion_error(text):
    diagnostics = validate_text(text)
    assert diagnostics
    assert diagnostics[0].code in ("MD001", "MD003", "MD011", "MD101", "MD204")


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("{started_at: 2026-0-06T10:00:00}", "2026-0-06T10:00:00"),  # in a spec test's rows: built deep
        ("{started_at: 2026-02-30}", "2026-02-30"),
        ("{started_at: [1, {at: 2026-13-01}]}", "2026-13-01"),
    ],
)
def test_a_timestamp_of_no_date_is_a_diagnostic_at_it(value, where):
    """YAML reads `2026-0-06T10:00:00` as a timestamp, and Python's date refuses it with a ValueError (no YAMLError)."""
    text = SOURCES + "tests:\n  - name: t\n    given:\n      interactions:\n        - " + value + "\n    expect: {}\n"
    diagnostics = validate_text(text)
    bad = [d for d in diagnostics if d.code == "MD003"]
    assert bad, diagnostics
    line = text.splitlines().index("        - " + value) + 1
    assert (bad[0].location.line, bad[0].location.col) == (line, len("        - ") + value.index(where) + 1)
    assert f"`{where}` is no date or time" in bad[0].message
