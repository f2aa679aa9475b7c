"""The compiled Polars path and the plain-Python reference give the same numbers on random data.

The data is drawn to hit the edges of the contract: nulls in every column (keys, times and dimensions
too), times exactly on window boundaries relative to each other and around the ISO new year, waits of
exactly 5 s and 20 s, small customer pools so that windows match, and enough survey answers now and
then to cross `min_n`.
"""

from __future__ import annotations

import datetime
import functools
import math
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metricdsl
from tests.reference import Row, evaluate_reference

SPECS = Path(__file__).parent.parent / "specs"
T = TypeVar("T")

DTYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(), "float": pl.Float64(), "bool": pl.Boolean(), "str": pl.String(),
    "datetime": pl.Datetime("us"), "date": pl.Date(),
}
# (by, grain) of each evaluation compared: the brief's three, then other grains and a derived dimension.
LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [
    ((), None), (("team",), None), (("team",), "week"),
    (("channel",), "day"), (("live",), "month"), ((), "quarter"), (("team", "channel"), "year"),
]

SECOND, DAY = datetime.timedelta(seconds=1), datetime.timedelta(days=1)
ANCHORS = [
    datetime.datetime(2025, 12, 28, 23, 59, 59), datetime.datetime(2025, 12, 29), datetime.datetime(2026, 1, 1, 12),
    datetime.datetime(2026, 1, 4, 23, 59, 59), datetime.datetime(2026, 1, 5),
]
# Offsets from an anchor: two times drawn from the same anchor are often exactly a window apart.
OFFSETS = [
    datetime.timedelta(0), SECOND, -SECOND, datetime.timedelta(microseconds=1), 7 * DAY, -7 * DAY,
    7 * DAY + SECOND, 7 * DAY - SECOND, -7 * DAY - SECOND, 30 * DAY, -30 * DAY, 30 * DAY + SECOND,
    30 * DAY - SECOND, -30 * DAY + SECOND, 3 * DAY + datetime.timedelta(hours=5),
]


def nullable(values: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    """`values`, or null about one time in six (shrinking towards null)."""
    return st.tuples(st.integers(0, 5), values).map(lambda pair: None if pair[0] == 0 else pair[1])


def one_of(*values: Any) -> st.SearchStrategy[Any]:
    """One of `values`, or null."""
    return nullable(st.sampled_from(values))


CUSTOMERS = one_of(1, 2, 3)
TIMES = nullable(st.builds(lambda anchor, offset: anchor + offset, st.sampled_from(ANCHORS), st.sampled_from(OFFSETS)))
BOOLS = one_of(True, False)
SCORES_1_5 = one_of(1, 2, 3, 4, 5)
SECONDS = one_of(0.0, 0.5, 30.0, 301.25, 1200.0)

INTERACTION = st.fixed_dictionaries({
    "interaction_id": nullable(st.integers(1, 10**6)),
    "customer_id": CUSTOMERS,
    "agent_id": one_of(7, 8),
    "team": one_of("north", "north", "north", "south", "east"),  # mostly north: enough rows for min_n
    "channel": one_of("phone", "chat", "email"),
    "queue": one_of("billing", "tech_support", "sales", "retention"),
    "contact_reason": one_of("delivery", "refund"),
    "started_at": TIMES,
    "answered": BOOLS,
    "wait_s": one_of(0.0, 4.999, 5.0, 5.001, 19.999, 20.0, 20.001, 95.5),
    "talk_s": SECONDS, "hold_s": SECONDS, "wrap_s": SECONDS,
    "transferred": BOOLS,
    "fcr_reported": BOOLS,
    "nps_score": nullable(st.integers(0, 10)),
    "csat_score": SCORES_1_5,
    "effort_score": SCORES_1_5,
    "sentiment_score": one_of(-1.0, -0.5, 0.0, 0.25, 1.0),
    "sale": BOOLS,
    "sale_amount": one_of(0.0, 9.99, 120.0),
})
ORDER = st.fixed_dictionaries({
    "order_id": nullable(st.integers(1, 10**6)),
    "customer_id": CUSTOMERS,
    "ordered_at": TIMES,
    "amount": one_of(-25.0, 0.0, 0.01, 49.9),
    "cross_sell": BOOLS,
    "referred_by": CUSTOMERS,
})
# Row counts: mostly small (readable failures), sometimes large enough to cross `min_n: 30`.
SIZES = st.sampled_from([0, 1, 2, 3, 4, 6, 9, 14, 45, 90])


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, list[Row]]:
    """Rows of interactions and orders as the two sources of `specs/` declare them."""
    interactions = draw(st.lists(INTERACTION, min_size=(n := draw(SIZES)), max_size=n))
    orders = draw(st.lists(ORDER, min_size=(m := draw(SIZES)), max_size=m))
    return {"interactions": interactions, "orders": orders}


@functools.cache
def project() -> metricdsl.Project:
    return metricdsl.load(str(SPECS))


def frames(data: dict[str, list[Row]]) -> dict[str, pl.DataFrame]:
    """The rows as DataFrames with exactly the declared dtypes."""
    sources = project().model.definitions.sources
    return {name: pl.DataFrame(rows, schema={column: DTYPES[spec.type] for column, spec in
                                             sources[name].columns.items()})
            for name, rows in data.items()}


def same(expected: Any, actual: Any) -> bool:
    """Equal, nulls only with nulls, numbers within 1e-9 (relative or absolute)."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    return expected == actual


def disagreements(data: dict[str, list[Row]], by: tuple[str, ...], grain: str | None) -> list[str]:
    """Where `Project.evaluate` and the reference differ for one layout, one line each."""
    model = project().model
    metrics = list(model.metrics)
    keys = [*by, *([grain] if grain else [])]
    actual = project().evaluate(frames(data), metrics=metrics, by=by, grain=grain)
    if actual.columns != [*keys, *metrics]:
        return [f"columns {actual.columns}, expected {[*keys, *metrics]}"]
    expected_rows = {tuple(row[k] for k in keys): row for row in evaluate_reference(model, data, metrics, by, grain)}
    actual_rows = {tuple(row[k] for k in keys): row for row in actual.to_dicts()}
    problems = [f"{actual.height - len(actual_rows)} duplicate groups"] if len(actual_rows) != actual.height else []
    if set(expected_rows) != set(actual_rows):
        problems.append(f"groups: missing {set(expected_rows) - set(actual_rows)}, "
                        f"unexpected {set(actual_rows) - set(expected_rows)}")
    for key in expected_rows.keys() & actual_rows.keys():
        problems += [f"{name} at {dict(zip(keys, key))}: expected {expected_rows[key][name]!r}, "
                     f"got {actual_rows[key][name]!r}"
                     for name in metrics if not same(expected_rows[key][name], actual_rows[key][name])]
    return [f"by={list(by)} grain={grain}: {problem}" for problem in problems]


def check_agreement(data: dict[str, list[Row]]) -> None:
    problems = [problem for by, grain in LAYOUTS for problem in disagreements(data, by, grain)]
    assert not problems, "\n".join(problems)


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_compiled_metrics_agree_with_the_reference(data: dict[str, list[Row]]) -> None:
    check_agreement(data)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(datasets())
def test_compiled_metrics_agree_with_the_reference_at_length(data: dict[str, list[Row]]) -> None:
    check_agreement(data)


def test_dashboard_is_its_metrics_by_its_dimensions_and_grain() -> None:
    data = {"interactions": [
        {"customer_id": 1, "team": "north", "started_at": ANCHORS[1], "answered": True, "wait_s": 20.0},
        {"customer_id": 1, "team": "north", "started_at": ANCHORS[1] + 7 * DAY, "answered": True, "wait_s": 5.0},
        {"customer_id": 2, "team": None, "started_at": None, "answered": False, "wait_s": 4.0},
    ], "orders": [{"customer_id": 1, "ordered_at": ANCHORS[1] + 30 * DAY, "amount": 10.0}]}
    dashboard = project().model.definitions.dashboards["service_2_0"]
    actual = project().evaluate(frames(data), dashboard="service_2_0")
    expected = project().evaluate(frames(data), metrics=list(dashboard.metrics), by=dashboard.by,
                                  grain=dashboard.grain)
    assert actual.equals(expected)
    assert not disagreements(data, dashboard.by, dashboard.grain)
