"""Units where values meet inside functions: `coalesce`, `least`, `greatest`, `case` branches, `between`, `in`
and window keys unify as the operands of `+` do, and a duration literal among seconds is a number of seconds."""

from __future__ import annotations

import datetime

import polars as pl
import pytest

import metricdsl
from metricdsl.codes import CODES
from metricdsl.engine.polars.dtypes import DTYPES
from metricdsl.semantics.checker import check
from metricdsl.semantics.model import ExprType
from metricdsl.spec.loader import load_text
from tests import reference

PROJECT = """\
sources:
  calls:
    time: at
    entities: {customer: customer_id}
    columns:
      customer_id: int
      at: datetime
      answered: bool
      talk_s: {type: float, unit: s}
      hold_s: {type: float, unit: s}
      wrap_s: {type: float, unit: s}
      wait_min: {type: float, unit: min}
      amount: {type: float, unit: EUR}
      nps_score: {type: int, range: [0, 10]}
      hold: duration
  orders:
    time: ordered_at
    entities: {customer: customer_id}
    columns: {customer_id: int, ordered_at: datetime, total_s: {type: int, unit: s}}
metrics:
"""


def found(expr: str) -> list[tuple[str, str, str, str | None]]:
    """Each diagnostic of a metric `expr`: its code, message, the text under its caret, and its hint (None: the
    code's general advice)."""
    definitions, loaded = load_text("calls.yaml", PROJECT + f"  m: {{source: calls, expr: '{expr}'}}\n")
    result = []
    for d in loaded + check(definitions)[1]:
        line = d.location.source_line
        caret = line[d.location.col - 1 : (d.location.end_col or d.location.col + 1) - 1]
        result.append((d.code, d.message, caret, None if d.hint == CODES[d.code].fix else d.hint))
    return result


def type_of(expr: str) -> ExprType:
    definitions, _ = load_text("calls.yaml", PROJECT + f"  m: {{source: calls, expr: '{expr}'}}\n")
    model, diagnostics = check(definitions)
    assert diagnostics == []
    return model.metrics["m"].type


@pytest.mark.parametrize(
    "expr",
    [
        "mean(coalesce(hold_s, 0s))",
        "mean(coalesce(0s, hold_s))",
        "mean(coalesce(hold_s, 0s, 2m, wrap_s))",
        "mean(coalesce(hold_s, 0))",  # zero needs no unit
        "mean(talk_s + 30s)",
        "mean(least(hold_s, 30s)) + mean(greatest(1m, talk_s, wrap_s))",
        "mean(case when answered then hold_s else 0s end)",
        "mean(case when answered then 1m when hold_s > 0s then hold_s end)",
        "share(hold_s between 0s and 1m)",
        "share(hold_s in [0s, 30s])",
        "mean(coalesce(hold, 0s)) > 1m",
        "mean(coalesce(nps_score, 0))",
    ],
)
def test_a_time_and_a_duration_literal_unify_like_operands_of_plus(expr: str) -> None:
    assert found(expr) == []


def test_a_duration_literal_among_seconds_makes_the_value_seconds() -> None:
    assert type_of("mean(coalesce(hold_s, 0s))") == ExprType("float", "s")
    assert type_of("mean(least(0s, 1m, hold_s))") == ExprType("float", "s")
    assert type_of("mean(coalesce(hold, 0s))") == ExprType("duration")
    assert type_of("mean(coalesce(nps_score, 0.5))") == ExprType("float")


def test_a_time_over_a_duration_literal_is_a_plain_number() -> None:
    """The literal is a number of the other operand's unit: seconds over seconds, minutes over minutes."""
    assert type_of("mean(talk_s) / 1s") == ExprType("float")
    assert type_of("mean(wait_min) / 1h") == ExprType("float")
    assert type_of("mean(talk_s / 1m)") == ExprType("float")
    assert type_of("mean(talk_s) * 2") == ExprType("float", "s")
    assert type_of("mean(talk_s) * 1m") == ExprType("float", "s*s")
    assert type_of("mean(talk_s) % 1m") == ExprType("float", "s")
    assert type_of("1h / mean(talk_s)") == ExprType("float")
    # So a ratio of a time to a duration does not mix with seconds.
    assert [code for code, *_ in found("mean(talk_s) / 1m + mean(hold_s)")] == ["MD205"]


HINT = "if `nps_score` holds s, declare it with `unit: s`; otherwise it does not mix with times"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "mean(coalesce(hold_s, nps_score))",
            ("MD205", "cannot combine s and a number without a unit", "hold_s, nps_score", HINT),
        ),
        (
            "mean(coalesce(nps_score, hold_s))",
            ("MD205", "cannot combine a number without a unit and s", "nps_score, hold_s", HINT),
        ),
        (
            "mean(least(hold_s, nps_score, 0s))",
            ("MD205", "cannot combine s and a number without a unit", "hold_s, nps_score", HINT),
        ),
        (
            "mean(greatest(talk_s, wait_min))",
            ("MD205", "cannot combine s and min", "talk_s, wait_min", None),
        ),
        (
            "mean(case when answered then hold_s else nps_score end)",
            ("MD205", "cannot combine s and a number without a unit", "hold_s else nps_score", HINT),
        ),
        (
            "share(hold_s between 0s and nps_score)",
            ("MD205", "cannot compare s and a number without a unit", "hold_s between 0s and nps_score", HINT),
        ),
        ("mean(talk_s + nps_score)", ("MD205", "cannot add s and a number without a unit", "talk_s + nps_score", HINT)),
        ("mean(coalesce(amount, talk_s))", ("MD205", "cannot combine EUR and s", "amount, talk_s", None)),
        (
            "sum(talk_s) + count()",
            (
                "MD205",
                "cannot add s and a number without a unit",
                "sum(talk_s) + count()",
                "a time in s meets times only: durations such as `30s`, or columns declared with a time unit",
            ),
        ),
        (
            "mean(coalesce(nps_score, 5m))",
            (
                "MD205",
                "cannot combine a duration and a number without a time unit",
                "nps_score",
                "declare the column with `unit: s` (or min, h) to compare it with durations",
            ),
        ),
        ("mean(coalesce(hold_s, 5))", ("MD206", "bare number 5 used with a quantity in s", "5", "write `5s`")),
        (
            'count(where coalesce(hold_s, "none") == "none")',
            ("MD204", "cannot combine a float in s and a str", '"none"', None),
        ),
    ],
)
def test_units_that_disagree_inside_a_call_are_reported_where_they_meet(
    expr: str, expected: tuple[str, str, str, str | None]
) -> None:
    assert found(expr) == [expected]


def test_window_keys_of_different_units_are_reported() -> None:
    assert found("share(followed_by(orders, 7d, on=talk_s == total_s))") == [
        ("MD204", "key columns of different types: float and int", "talk_s == total_s", None)
    ]
    assert found("share(followed_by(orders, 7d, on=customer_id == total_s))") == [
        (
            "MD205",
            "cannot match a number without a unit and s",
            "customer_id == total_s",
            HINT.replace("nps_score", "customer_id"),
        )
    ]


# -- the value, by hand, on both paths --------------------------------------------------------------------------

ROWS: list[reference.Row] = [
    {"customer_id": 1, "answered": True, "talk_s": 100.0, "hold_s": 20.0, "wrap_s": 10.0},
    {"customer_id": 2, "answered": True, "talk_s": 200.0, "hold_s": None, "wrap_s": 30.0},  # no hold: 0s
    {"customer_id": 3, "answered": False, "talk_s": 60.0, "hold_s": 5.0, "wrap_s": 0.0},
]
METRICS = """\
  handle: {source: calls, expr: 'mean(talk_s + coalesce(hold_s, 0s) + wrap_s)'}
  handle_min: {source: calls, expr: 'mean(talk_s + coalesce(hold_s, 1m) + wrap_s)'}
  capped: {source: calls, expr: 'sum(least(talk_s, 2m))'}
  at_least: {source: calls, expr: 'sum(greatest(hold_s, 10s))'}
  hold_or_nothing: {source: calls, expr: 'sum(case when answered then coalesce(hold_s, 0s) else 1m end)'}
  short_hold: {source: calls, expr: 'share(coalesce(hold_s, 0s) between 0s and 10s)'}
"""


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    path = tmp_path_factory.mktemp("units") / "calls.yaml"
    path.write_text(PROJECT + METRICS)
    return metricdsl.load([path])


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("handle", (130 + 230 + 65) / 3),  # 100 + 20 + 10, 200 + 0 + 30, 60 + 5 + 0
        ("handle_min", (130 + 290 + 65) / 3),  # the missing hold is a minute: 60 s
        ("capped", 100 + 120 + 60),  # 200 s capped at 2 minutes
        ("at_least", 20 + 10 + 10),  # a missing hold is skipped by greatest: 10 s
        ("hold_or_nothing", 20 + 0 + 60),
        ("short_hold", 2 / 3),  # 20 s is not short; 0 s and 5 s are
    ],
)
def test_durations_inside_functions_are_seconds_on_both_paths(
    calls: metricdsl.Project, metric: str, expected: float
) -> None:
    columns = calls.definitions.sources["calls"].columns
    rows = [{**row, "at": datetime.datetime(2026, 1, 5, 9)} for row in ROWS]
    frame = pl.DataFrame(rows, schema={name: DTYPES[column.type] for name, column in columns.items()})
    empty = pl.DataFrame(schema={n: DTYPES[c.type] for n, c in calls.definitions.sources["orders"].columns.items()})
    [compiled] = calls.evaluate({"calls": frame, "orders": empty}, metrics=[metric]).to_dicts()
    [expected_row] = reference.evaluate_reference(calls.model, {"calls": rows, "orders": []}, [metric])
    assert compiled[metric] == pytest.approx(expected)
    assert expected_row[metric] == pytest.approx(expected)
