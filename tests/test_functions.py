"""The function registry: every row is complete, translated by each backend and known to the reference evaluator."""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import pytest

import metricdsl
from conftest import ROOT
from metricdsl.engine.polars import functions as polars_functions
from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.language import ast
from metricdsl.language.functions import FUNCTIONS, PERCENTILES, Form, Function, Kind, Result, quantile_probability
from metricdsl.language.parser import parse
from metricdsl.language.units import DURATION_SECONDS, combine_units, no_unit, same_unit, squared_unit
from metricdsl.semantics.checker import check
from metricdsl.semantics.model import ExprType
from metricdsl.semantics.types import ANY, value_type
from metricdsl.spec.loader import load_text
from tests import reference

POLARS_TABLES: dict[Kind, set[str]] = {
    Kind.AGGREGATE: set(polars_functions.AGGREGATES),
    Kind.WINDOW: set(polars_functions.WINDOWS),
    Kind.SCALAR: set(polars_functions.SCALARS),
    Kind.RULE: set(polars_functions.RULE_FUNCTIONS),
    Kind.ACROSS: set(polars_functions.ACROSS),
}


def names(kind: Kind) -> set[str]:
    return {name for name, function in FUNCTIONS.items() if function.kind is kind}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_function_has_one_polars_translation_and_every_translation_a_function(kind: Kind) -> None:
    assert POLARS_TABLES[kind] == names(kind)


def test_every_aggregate_and_scalar_has_a_reference_implementation() -> None:
    assert set(reference.REDUCERS) | {"quantile"} == names(Kind.AGGREGATE)  # quantile reads its probability
    assert set(reference.SCALARS) | set(reference.LOCAL_SCALARS) == names(Kind.SCALAR)
    assert not set(reference.SCALARS) & set(reference.LOCAL_SCALARS)


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
    assert (squared_unit("s"), squared_unit("EUR/h"), squared_unit(None)) == ("s*s", "EUR/h*EUR/h", None)


def test_every_duration_suffix_of_the_grammar_has_its_length() -> None:
    grammar = (ROOT / "metricdsl" / "language" / "metricdsl.lark").read_text()
    suffixes = re.search(r"^DURATION[^:]*:.*?\(([a-z|]+)\)", grammar, re.MULTILINE)
    assert suffixes is not None
    assert set(suffixes.group(1).split("|")) == set(DURATION_SECONDS)
    for suffix, seconds in DURATION_SECONDS.items():
        tree = parse(f"3{suffix}")
        assert isinstance(tree, ast.Duration)
        assert tree.seconds == pytest.approx(3 * seconds)


# -- functions by hand: the compiled Polars path and the reference evaluator give the same, known values --------

PROJECT = """
sources:
  calls:
    time: at
    entities: {customer: customer_id}
    columns:
      customer_id: int
      at: datetime
      team: str
      answered: bool
      wait_s: {type: float, unit: s}
      queue: str
      hold: duration
metrics:
  wait_variance: {expr: variance(wait_s)}
  answered_variance: {expr: variance(answered)}
  answered_wait_variance: {expr: variance(wait_s where answered)}
  wait_p75: {expr: p75(wait_s)}
  answered_p75: {expr: p75(answered)}
  hold_p75: {expr: p75(hold)}
  support_share: {expr: 'share(ends_with(queue, "support"))'}
  with_a_queue: {expr: 'count(where ends_with(queue, ""))'}
  null_suffix: {expr: 'count(where ends_with(null, "x"))'}
  null_lower: {expr: 'count(where lower(null) == "a")'}
  null_weekday: {expr: count(where weekday(null) == 1)}
  null_hour: {expr: count(where hour(null) == 1)}
  null_days: {expr: 'count(where days_between(null, at) > 1)'}
  null_date: {expr: count(where date(null) is null)}
  null_abs: {expr: mean(abs(null))}
  null_round: {expr: mean(round(null))}
  every_row: {expr: count(where true)}
  ones: {expr: sum(1)}
  every_row_filtered: {expr: count(), where: 1 < 2}
"""
ROWS: list[reference.Row] = [
    {"team": "a", "wait_s": 1.0, "answered": True},
    {"team": "a", "wait_s": 2.0, "answered": False},
    {"team": "a", "wait_s": 3.0, "answered": True},
    {"team": "a", "wait_s": 4.0, "answered": True},
    {"team": "a", "wait_s": None, "answered": None},
    {"team": "b", "wait_s": 7.0, "answered": False},  # one wait
    {"team": "b", "wait_s": None, "answered": False},
    {"team": "c", "wait_s": None, "answered": True},  # no wait at all
]


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    path = tmp_path_factory.mktemp("functions") / "calls.yaml"
    path.write_text(PROJECT)
    return metricdsl.load([path])


def evaluate(
    project: metricdsl.Project, metric: str, rows: list[reference.Row], by: list[str]
) -> dict[tuple[Any, ...], Any]:
    """The metric by group of the `by` columns, computed by Polars, after checking that the reference agrees."""
    columns = project.model.definitions.sources["calls"].columns
    frame = pl.DataFrame(rows, schema={name: DTYPES[column.type] for name, column in columns.items()})
    compiled = project.evaluate({"calls": frame}, metrics=[metric], by=by).to_dicts()
    expected = reference.evaluate_reference(project.model, {"calls": rows}, [metric], by=by)
    values = {tuple(row[key] for key in by): row[metric] for row in compiled}
    assert len(values) == len(expected)
    for row in expected:
        truth = row[metric]
        assert values[tuple(row[key] for key in by)] == (truth if truth is None else pytest.approx(truth)), row
    return values


def by_team(project: metricdsl.Project, metric: str, rows: list[reference.Row] = ROWS) -> dict[str, Any]:
    """The metric per team."""
    return {team: value for (team,), value in evaluate(project, metric, rows, ["team"]).items()}


def overall(project: metricdsl.Project, metric: str, rows: list[reference.Row]) -> Any:
    """The metric over all the rows."""
    return evaluate(project, metric, rows, [])[()]


def diagnostics(project: metricdsl.Project, expr: str) -> list[tuple[str, str]]:
    """The codes and messages of the checker for one more metric of the project."""
    definitions, loaded = load_text("calls.yaml", PROJECT + f"  extra: {{expr: '{expr}'}}\n")
    return [(d.code, d.message) for d in loaded + check(definitions)[1]]


def test_variance_is_the_sample_variance_null_for_fewer_than_two_values(calls: metricdsl.Project) -> None:
    # a: 1 2 3 4, mean 2.5, squares 2.25 + 0.25 + 0.25 + 2.25 = 5 over n - 1 = 3; b: one wait; c: none.
    assert by_team(calls, "wait_variance") == {"a": pytest.approx(5 / 3), "b": None, "c": None}
    # a: 1 0 1 1 (the null skipped), mean 0.75, squares 3 * 0.0625 + 0.5625 = 0.75 over 3; b: 0 0, a real 0.
    assert by_team(calls, "answered_variance") == {"a": pytest.approx(0.25), "b": 0.0, "c": None}
    # a: 1 3 4, mean 8/3, squares (25 + 1 + 16) / 9 over 2; b: nothing answered; c: answered without a wait.
    assert by_team(calls, "answered_wait_variance") == {"a": pytest.approx(7 / 3), "b": None, "c": None}
    assert overall(calls, "wait_variance", []) is None
    assert overall(calls, "wait_variance", ROWS[:2]) == pytest.approx(0.5)


def test_variance_is_in_the_square_of_the_unit_and_of_numbers_only(calls: metricdsl.Project) -> None:
    assert calls.model.metrics["wait_variance"].type == ExprType("float", "s*s")
    assert calls.model.metrics["answered_variance"].type == ExprType("float")
    assert diagnostics(calls, "variance(hold)") == [("MD204", "`variance` cannot aggregate a duration")]
    assert diagnostics(calls, "variance(queue)") == [("MD204", "`variance` cannot aggregate a str")]
    assert diagnostics(calls, "variance(wait_s) > 5s") == [("MD205", "cannot compare a duration and a number in s*s")]


def test_p75_interpolates_linearly_between_the_closest_ranks(calls: metricdsl.Project) -> None:
    # a: 1 2 3 4, rank 0.75 * 3 = 2.25: 3 + 0.25 * (4 - 3); b: its one wait; c: no wait.
    assert by_team(calls, "wait_p75") == {"a": pytest.approx(3.25), "b": 7.0, "c": None}
    # a: 0 1 1 1 (the null skipped), rank 2.25 between two 1s; b: 0 0; c: 1.
    assert by_team(calls, "answered_p75") == {"a": 1.0, "b": 0.0, "c": 1.0}
    assert overall(calls, "wait_p75", ROWS[:2]) == pytest.approx(1.75)  # 1 2: rank 0.75
    assert overall(calls, "wait_p75", []) is None


def test_p75_is_in_the_unit_of_its_values(calls: metricdsl.Project) -> None:
    assert calls.model.metrics["wait_p75"].type == ExprType("float", "s")
    assert calls.model.metrics["hold_p75"].type == ExprType("duration")
    assert diagnostics(calls, "p75(wait_s) == quantile(wait_s, 0.75)") == []
    assert diagnostics(calls, "p75(wait_s, 0.5)") == [("MD203", "`p75` takes 1 argument, got 2")]


QUEUES: list[reference.Row] = [
    {"team": "a", "queue": "tech_support"},
    {"team": "a", "queue": "Support"},  # the case matters
    {"team": "a", "queue": "support"},  # the whole text
    {"team": "a", "queue": None},  # unknown: left out of the share
    {"team": "b", "queue": ""},
    {"team": "b", "queue": "support desk"},  # not at the end
    {"team": "c", "queue": None},
]


def test_ends_with_tests_the_end_of_a_text_and_is_null_for_null(calls: metricdsl.Project) -> None:
    assert by_team(calls, "support_share", QUEUES) == {"a": pytest.approx(2 / 3), "b": 0.0, "c": None}
    assert by_team(calls, "with_a_queue", QUEUES) == {"a": 3, "b": 2, "c": 0}  # every text ends with ""
    assert overall(calls, "support_share", []) is None


def test_ends_with_takes_two_texts_and_is_a_condition(calls: metricdsl.Project) -> None:
    assert calls.model.metrics["support_share"].type == ExprType("float")
    assert diagnostics(calls, "count(where ends_with(queue, 1))") == [
        ("MD204", "`ends_with` cannot take an int"),
    ]
    assert diagnostics(calls, 'share(ends_with(wait_s, "s") and answered)') == [
        ("MD204", "`ends_with` cannot take a float in s"),  # and still a condition: no second error
    ]
    assert diagnostics(calls, "share(ends_with(queue))") == [("MD203", "`ends_with` takes 2 arguments, got 1")]


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("null_suffix", 0),
        ("null_lower", 0),
        ("null_weekday", 0),
        ("null_hour", 0),
        ("null_days", 0),
        ("null_date", 8),
        ("null_abs", None),
        ("null_round", None),
    ],
)
def test_a_null_argument_makes_the_call_null(calls: metricdsl.Project, metric: str, expected: Any) -> None:
    assert overall(calls, metric, ROWS) == expected


@pytest.mark.parametrize("metric", ["every_row", "ones", "every_row_filtered"])
def test_constants_alone_count_every_row(calls: metricdsl.Project, metric: str) -> None:
    assert by_team(calls, metric) == {"a": 5, "b": 2, "c": 1}
