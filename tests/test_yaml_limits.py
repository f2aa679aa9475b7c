"""Spec files cannot make the tools expand aliases without end, nest values without end, or map positions slowly."""

from __future__ import annotations

import time
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from metricdsl.cli import main
from metricdsl.render.diagnostics import MAX_SOURCE_WIDTH, render
from metricdsl.semantics.checker import check
from metricdsl.spec import loader
from metricdsl.spec.loader import YAML_LOADER, load_text
from metricdsl.spec.positions import scalar_offsets
from metricdsl.spec.yaml_limits import MAX_ALIAS_EXPANSION, MAX_DEPTH, excess

SPEC = """\
sources:
  calls:
    columns: {answered: bool, channel: str}
metrics:
  answered_share: share(answered)
tests:
  - name: t
    given:
      calls:
        - {answered: true, channel: %s}
    expect: {answered_share: 1}
"""


def laughs(levels: int) -> str:
    """A spec test whose `given` row holds 9 ** levels values in `levels` lines of aliases."""
    lists = ["&l0 [x, x, x, x, x, x, x, x, x]"]
    lists += [f"&l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return SPEC % ("[" + ", ".join(lists) + "]")


def codes(text: str) -> list[str]:
    return [d.code for d in load_text("spec.yaml", text)[1]]


def test_an_alias_bomb_is_refused_before_anything_is_read(tmp_path):
    text = laughs(9)  # a billion-odd values in about 400 bytes
    definitions, diagnostics = load_text("spec.yaml", text)
    assert [(d.code, d.location.line if d.location else None) for d in diagnostics] == [("MD010", 10)]
    assert "100,000" in diagnostics[0].message
    assert not definitions.tests
    assert not definitions.metrics
    (tmp_path / "spec.yaml").write_text(text)
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 2  # specs with errors: the tests could not run
    assert "MD010" in result.output


def test_the_alias_bomb_points_at_the_first_value_that_repeats_too_much():
    (diagnostic,) = load_text("spec.yaml", laughs(9))[1]
    assert diagnostic.location is not None
    assert diagnostic.location.source_line[diagnostic.location.col - 1 :].startswith("&l5 [*l4")  # about 600,000 values


def test_aliases_may_repeat_up_to_the_limit_and_no_more():
    values = "&x [" + ", ".join(["1"] * 999) + "]"  # the list and its 999 items: 1,000 nodes

    def repeated(times: int) -> yaml.Node:
        return yaml.compose(f"x: {values}\ny: [{', '.join(['*x'] * times)}]\n", Loader=YAML_LOADER)

    assert MAX_ALIAS_EXPANSION == 100_000
    assert excess(repeated(100)) is None
    refused = excess(repeated(101))
    assert refused is not None
    assert refused.code == "MD010"


def test_shared_defaults_by_alias_are_fine():
    text = SPEC % "phone" + "  - name: u\n    given: {calls: [&row {answered: true, channel: chat}, *row, *row]}\n"
    text += "    expect: {answered_share: 1}\n"
    definitions, diagnostics = load_text("spec.yaml", text)
    assert diagnostics == []
    assert len(definitions.tests[1].given["calls"]) == 3


def test_an_alias_inside_its_own_value_is_refused():
    definitions, diagnostics = load_text("spec.yaml", SPEC % "&a [1, *a]")
    assert [d.code for d in diagnostics] == ["MD010"]
    assert "endless" in diagnostics[0].message
    assert not definitions.tests


def test_values_nest_up_to_the_limit_and_no_more():
    def nested(lists: int) -> yaml.Node:  # the mapping, `lists` lists, and the scalar inside them
        return yaml.compose("a: " + "[" * lists + "1" + "]" * lists, Loader=YAML_LOADER)

    assert MAX_DEPTH == 64
    assert excess(nested(62)) is None
    refused = excess(nested(63))
    assert refused is not None
    assert refused.code == "MD011"
    assert refused.start == 3 + 63  # the 65th level: the value inside the innermost list


def test_a_deep_list_in_given_is_a_diagnostic_not_a_recursion_error(tmp_path):
    text = SPEC % ("[" * 250 + "]" * 250)
    assert codes(text) == ["MD011"]
    (tmp_path / "spec.yaml").write_text(text)
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 2  # specs with errors: the tests could not run
    assert "MD011" in result.output
    assert not isinstance(result.exception, RecursionError)


# Values nested far beyond what the YAML libraries read (libyaml stops at 1,000 levels, PyYAML's composer at the
# depth of the stack), each with the line and column of its first value at level 65.
DEEP = {
    "flow lists": ("tests: " + "[" * 10_000 + "]" * 10_000 + "\n", 1, len("tests: ") + 64),
    "spaced flow lists": ("tests: " + "[ " * 100_000 + "]" * 100_000 + "\n", 1, len("tests: ") + 2 * 63 + 1),
    # in `{a: {a: ...}}` the key of the mapping at level 64 is the first value at level 65
    "flow mappings": ("tests: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", 1, len("tests: ") + 4 * 62 + 2),
    "block mappings": ("tests:\n" + "".join("  " * i + "a:\n" for i in range(1, 1_200)), 64, 2 * 63 + 1),
    "lists in a given row": (SPEC % ("[" * 5_000 + "]" * 5_000), 10, len("        - {answered: true, channel: ") + 59),
}


@pytest.mark.parametrize("case", DEEP)
def test_values_nested_beyond_the_yaml_library_are_too_deep_where_they_pass_the_limit(case):
    text, line, column = DEEP[case]
    start = time.perf_counter()
    definitions, diagnostics = load_text("spec.yaml", text)
    assert time.perf_counter() - start < 5
    assert [(d.code, d.message) for d in diagnostics] == [("MD011", f"YAML values nested more than {MAX_DEPTH} levels deep")]
    location = diagnostics[0].location
    assert location is not None
    assert (location.line, location.col) == (line, column)
    assert not definitions.tests


@pytest.mark.parametrize("case", ["flow lists", "flow mappings", "block mappings"])
def test_without_libyaml_values_too_deep_for_the_stack_are_too_deep_too(case, monkeypatch):
    monkeypatch.setattr(loader, "YAML_LOADER", yaml.SafeLoader)  # its composer recurses: 1,000 levels is too many
    text, line, column = DEEP[case]
    text = text.replace("[" * 10_000, "[" * 1_000).replace("]" * 10_000, "]" * 1_000)
    (diagnostic,) = load_text("spec.yaml", text)[1]
    assert diagnostic.code == "MD011"
    assert diagnostic.location is not None
    assert (diagnostic.location.line, diagnostic.location.col) == (line, column)


def test_a_file_of_one_deep_line_is_quoted_in_part():
    text = "tests: " + "[" * 100_000 + "]" * 100_000 + "\n"
    rendered = click.unstyle(render(load_text("spec.yaml", text)[1], "text"))
    assert "MD011" in rendered
    assert max(len(line) for line in rendered.splitlines()) < MAX_SOURCE_WIDTH + 20
    lines = rendered.splitlines()
    source, caret = lines[3], lines[4]
    assert source.startswith(" 1 | tests: [[[")
    assert source.endswith("…")
    assert caret.index("^") == len(" 1 | ") + len("tests: ") + 64 - 1


def test_a_syntax_error_after_shallow_values_is_still_one():
    text = "tests: [[1, 2], [3\nmetrics: {a: b}\n"
    assert codes(text) == ["MD001"]
    assert codes("tests: " + "[" * 10 + "}") == ["MD001"]


def test_a_syntax_error_in_a_long_line_is_quoted_in_part():
    text = "metrics: {a: " + "x, " * 5_000 + "]\n"  # libyaml's own error, at the end of a line 15,000 long
    diagnostics = load_text("spec.yaml", text)[1]
    assert [d.code for d in diagnostics] == ["MD001"]
    rendered = click.unstyle(render(diagnostics, "text"))
    assert len(rendered) < 1_000
    assert "…" in rendered


def offsets_of(text: str) -> tuple[str, tuple[int, ...]]:
    node = yaml.compose(text, Loader=YAML_LOADER).value[0][1]
    return node.value, scalar_offsets(text, node)


def test_each_character_of_a_double_quoted_scalar_is_at_its_escape():
    text = 'm: "\\x41 + \\u00e9\\t\\\\x\\"y"'
    value, offsets = offsets_of(text)
    assert value == 'A + é\t\\x"y'
    assert [text[o : o + 2] for o in offsets[:-1]] == ["\\x", " +", "+ ", " \\", "\\u", "\\t", "\\\\", "x\\", '\\"', 'y"']
    assert offsets[-1] == len(text) - 1


def test_a_line_continuation_stands_for_nothing():
    text = 'm: "count() +\\\n    1"\n'
    value, offsets = offsets_of(text)
    assert value == "count() +1"
    assert text[offsets[value.index("1")]] == "1"


def test_positions_after_escapes_point_at_the_right_name():
    text = "sources:\n  calls:\n    columns: {channel: str}\nmetrics:\n"
    text += '  m: "count(where channel == \\"ph\\u006Fne\\") + nope"\n'
    (diagnostic,) = check(load_text("spec.yaml", text)[0])[1]
    assert diagnostic.code == "MD201"
    assert diagnostic.location is not None
    line, col, end = diagnostic.location.source_line, diagnostic.location.col, diagnostic.location.end_col
    assert end is not None
    assert line[col - 1 : end - 1] == "nope"


def test_positions_of_a_scalar_full_of_escapes_take_linear_time():
    # 64,000 escapes: about 0.02 s; aligning them by searching the rest of the text for each took minutes.
    text = "m: \"count() + len('" + "\\x41" * 64_000 + "')\"\n"
    node = yaml.compose(text, Loader=YAML_LOADER).value[0][1]
    start = time.perf_counter()
    offsets = scalar_offsets(text, node)
    assert time.perf_counter() - start < 2
    assert offsets[len("count() + len('") + 1] - offsets[len("count() + len('")] == 4


@pytest.mark.parametrize("style", ["plain", "single", "double", "literal", "folded"])
def test_every_character_of_plain_text_is_where_the_file_has_it(style):
    expression = "share(wait_s <= 20s where answered)"
    written = {
        "plain": expression,
        "single": f"'{expression}'",
        "double": f'"{expression}"',
        "literal": f"|\n  {expression}\n",
        "folded": f">\n  {expression}\n",
    }[style]
    text = f"m: {written}"
    value, offsets = offsets_of(text)
    assert value.strip() == expression
    assert "".join(text[o] for o in offsets[: len(expression)]) == expression


def test_the_documented_limits_are_the_enforced_ones():
    from metricdsl.codes import CODES

    assert f"more than {MAX_ALIAS_EXPANSION:,} values" in CODES["MD010"].what
    assert f"more than {MAX_DEPTH} levels" in CODES["MD011"].what
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    assert f"aliases repeat at most {MAX_ALIAS_EXPANSION:,} values" in readme
    assert f"nest at most {MAX_DEPTH} levels" in readme
