"""Canonical formatting: `parse(format(tree)) == tree`, idempotence, and `fmt` on files."""

from __future__ import annotations

import datetime
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SPECS
from metricdsl.language import ast
from metricdsl.language.parser import parse
from metricdsl.language.printer import format_expr
from metricdsl.tools.fmt import format_file

# Hypothesis warns when it prints a large generated tree; that is no failure of ours.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

KEYWORDS = {
    "or",
    "and",
    "not",
    "in",
    "is",
    "null",
    "true",
    "false",
    "between",
    "case",
    "when",
    "then",
    "else",
    "end",
    "where",
}
names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n not in KEYWORDS)
durations = st.builds(
    lambda n, unit: ast.Duration(n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit], f"{n}{unit}"),
    st.integers(0, 999),
    st.sampled_from(["ms", "s", "m", "h", "d"]),
)
leaves = st.one_of(
    st.builds(ast.Number, st.integers(0, 10**6)),
    st.builds(ast.Number, st.floats(0, 1e6, allow_nan=False, allow_infinity=False)),
    st.builds(ast.String, st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)),
    st.builds(ast.Bool, st.booleans()),
    st.builds(ast.Null),
    durations,
    st.builds(ast.Date, st.dates(datetime.date(1990, 1, 1), datetime.date(2100, 1, 1))),
    st.builds(ast.Name, names),
)
OPERATORS = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"]


def trees(children):
    return st.one_of(
        st.builds(ast.Binary, st.sampled_from(OPERATORS), children, children),
        st.builds(ast.Unary, st.sampled_from(["-", "not"]), children),
        st.builds(ast.In, children, st.builds(ast.ListOf, st.lists(children, max_size=2).map(tuple)), st.booleans()),
        st.builds(ast.Between, children, children, children),
        st.builds(ast.IsNull, children, st.booleans()),
        st.builds(
            ast.Case, st.lists(st.tuples(children, children), min_size=1, max_size=2).map(tuple), st.none() | children
        ),
        st.builds(
            ast.Call,
            names,
            st.lists(children, max_size=2).map(tuple),
            st.none() | children,
            st.lists(st.builds(ast.Keyword, names, children), max_size=1).map(tuple),
        ).filter(lambda call: call.where is None or call.args or not call.keywords),
    )


expressions = st.recursive(leaves, trees, max_leaves=6)


@settings(max_examples=400, deadline=None)
@given(expressions, st.integers(20, 120))
def test_parse_of_format_gives_the_tree_back(tree, width):
    text = format_expr(tree, width)
    assert parse(text) == tree
    assert format_expr(parse(text), width) == text


def test_the_standard_library_is_formatted():
    for path in sorted(SPECS.glob("*.yaml")):
        result = format_file(str(path), path.read_text())
        assert result.problem is None, path
        assert not result.changed, path


MESSY = """\
# A messy file: every comment must survive.
sources:
  calls:   # the calls
    time: started_at
    columns: {started_at: datetime, answered: bool, channel: str, wait_s: {type: float, unit: s}}
    derive:
      live: channel IN ['phone','chat']     # live channels
metrics:
  a:
    expr: "mean( wait_s  WHERE answered )"   # quoted
  b:
    expr: |
      share(  wait_s<=20s
        where live )
  c: {expr: count( where live ), source: calls}
  d:
    expr: share(answered) + share(live) + share(wait_s < 1m) + share(wait_s < 2m) + share(wait_s < 3m)
"""

FORMATTED = """\
# A messy file: every comment must survive.
sources:
  calls:   # the calls
    time: started_at
    columns: {started_at: datetime, answered: bool, channel: str, wait_s: {type: float, unit: s}}
    derive:
      live: channel in ["phone", "chat"]     # live channels
metrics:
  a:
    expr: "mean(wait_s where answered)"   # quoted
  b:
    expr: |
      share(wait_s <= 20s where live)
  c: {expr: count(where live), source: calls}
  d:
    expr: share(answered)
        + share(live)
        + share(wait_s < 1m)
        + share(wait_s < 2m)
        + share(wait_s < 3m)
"""


def test_fmt_rewrites_expressions_only_and_keeps_comments_and_quoting():
    result = format_file("messy.yaml", MESSY)
    assert result.problem is None
    assert result.after == FORMATTED
    assert format_file("messy.yaml", FORMATTED).changed is False


def test_fmt_check_exits_1_with_a_diff_and_fmt_writes(tmp_path):
    from click.testing import CliRunner

    from metricdsl.cli import main

    path = tmp_path / "messy.yaml"
    path.write_text(MESSY)
    checked = CliRunner().invoke(main, ["fmt", "--check", str(path)])
    assert checked.exit_code == 1
    assert '+      live: channel in ["phone", "chat"]' in checked.stdout
    assert path.read_text() == MESSY
    assert CliRunner().invoke(main, ["fmt", str(path)]).exit_code == 0
    assert path.read_text() == FORMATTED
    copy = tmp_path / "specs"
    shutil.copytree(SPECS, copy)
    assert CliRunner().invoke(main, ["fmt", "--check", str(copy)]).exit_code == 0
