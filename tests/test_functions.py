"""The function registry: every row is complete, translated by each backend and known to the reference evaluator."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from metricdsl.engine.polars import functions as polars_functions
from metricdsl.language import ast
from metricdsl.language.functions import FUNCTIONS, PERCENTILES, Form, Function, Kind, Result, quantile_probability
from metricdsl.language.parser import parse
from metricdsl.language.units import DURATION_SECONDS, combine_units, no_unit, same_unit
from metricdsl.semantics.model import ExprType
from metricdsl.semantics.types import ANY, value_type
from tests import reference

POLARS_TABLES: dict[Kind, set[str]] = {
    Kind.AGGREGATE: set(polars_functions.AGGREGATES),
    Kind.WINDOW: set(polars_functions.WINDOWS),
    Kind.SCALAR: set(polars_functions.SCALARS),
    Kind.RULE: set(polars_functions.RULE_FUNCTIONS),
}


def names(kind: Kind) -> set[str]:
    return {name for name, function in FUNCTIONS.items() if function.kind is kind}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_function_has_one_polars_translation_and_every_translation_a_function(kind: Kind) -> None:
    assert POLARS_TABLES[kind] == names(kind)


def test_every_aggregate_and_scalar_has_a_reference_implementation() -> None:
    assert set(reference.REDUCERS) | {"quantile"} == names(Kind.AGGREGATE)  # quantile reads its probability
    assert set(reference.SCALARS) == names(Kind.SCALAR)


@pytest.mark.parametrize("function", FUNCTIONS.values(), ids=list(FUNCTIONS))
def test_a_row_is_complete_and_consistent(function: Function) -> None:
    assert function.usage.startswith(f"{function.name}(")
    assert function.parameters, "every function declares its parameters"
    assert 0 <= function.min_args <= len(function.parameters)
    assert isinstance(function.returns, Result) or function.returns in {"int", "float", "bool", "str", "date"}
    if function.kind is Kind.SCALAR:  # a scalar's keywords name its optional parameters
        assert set(function.keywords) <= {parameter.name for parameter in function.parameters}
    assert not function.counts or function.kind is Kind.AGGREGATE


def test_the_percentiles_are_one_table_of_aggregates() -> None:
    for name, probability in PERCENTILES.items():
        function = FUNCTIONS[name]
        assert (function.kind, function.returns, function.unit) == (Kind.AGGREGATE, Result.STATISTIC, same_unit)
        assert quantile_probability(ast.Call(name, (ast.Name("x"),))) == probability
    assert quantile_probability(ast.Call("quantile", (ast.Name("x"), ast.Number(0.25)))) == 0.25
    assert FUNCTIONS["quantile"].parameters[1].form is Form.PROBABILITY


def test_keywords_bind_to_the_parameters_they_name() -> None:
    round_ = FUNCTIONS["round"]
    assert round_.bind(["x"], {"digits": "2"}) == ["x", "2"]
    assert round_.bind(["x", "1"], {}) == ["x", "1"]
    assert round_.bind(["x"], {}) == ["x"]
    assert (round_.min_args, round_.max_args) == (1, 2)
    least = FUNCTIONS["least"]
    assert (least.min_args, least.max_args) == (2, None)
    assert least.parameter(5) is least.parameters[-1]


@pytest.mark.parametrize(
    ("name", "base", "expected"),
    [
        ("sum", ExprType("int", "points"), ExprType("int", "points")),
        ("sum", ExprType("bool"), ExprType("int")),
        ("sum", ExprType("float", "s"), ExprType("float", "s")),
        ("sum", ExprType("duration"), ExprType("duration")),
        ("mean", ExprType("int", "points"), ExprType("float", "points")),
        ("median", ExprType("duration"), ExprType("duration")),
        ("min", ExprType("date"), ExprType("date")),
        ("count", ExprType("str"), ExprType("int")),
        ("share", ExprType("bool"), ExprType("float")),
        ("abs", ExprType("float", "EUR"), ExprType("float", "EUR")),
        ("lower", ExprType("str"), ExprType("str")),
        ("pct_change", ExprType("float", "s"), ExprType("float")),
        ("prev", ExprType("float", "s"), ExprType("float", "s")),
        ("max", ANY, ANY),
    ],
)
def test_the_type_of_a_value_follows_its_row(name: str, base: ExprType, expected: ExprType) -> None:
    assert value_type(FUNCTIONS[name], base) == expected


def test_units_combine_as_products_and_quotients() -> None:
    assert combine_units("*", "EUR", "h") == "EUR*h"
    assert combine_units("*", None, "s") == "s"
    assert combine_units("/", "EUR", "s") == "EUR/s"
    assert combine_units("/", None, "s") == "1/s"
    assert combine_units("/", "s", "s") is None
    assert combine_units("%", "s", None) == "s"
    assert (same_unit("s"), no_unit("s")) == ("s", None)


def test_every_duration_suffix_of_the_grammar_has_its_length() -> None:
    grammar = (ROOT / "metricdsl" / "language" / "metricdsl.lark").read_text()
    suffixes = re.search(r"^DURATION[^:]*:.*?\(([a-z|]+)\)", grammar, re.MULTILINE)
    assert suffixes is not None
    assert set(suffixes.group(1).split("|")) == set(DURATION_SECONDS)
    for suffix, seconds in DURATION_SECONDS.items():
        tree = parse(f"3{suffix}")
        assert isinstance(tree, ast.Duration)
        assert tree.seconds == pytest.approx(3 * seconds)
