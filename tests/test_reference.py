"""Hand-computed checks of the reference evaluator, so that the differential test compares with a known truth."""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import pytest

from metricdsl.semantics.checker import check
from metricdsl.semantics.model import Model
from metricdsl.spec.loader import load_files
from tests.reference import Row, evaluate_reference, grain_key

SPECS = Path(__file__).parent.parent / "specs"
T0 = datetime.datetime(2026, 1, 5, 9, 30)
SECOND, WEEK = datetime.timedelta(seconds=1), datetime.timedelta(days=7)

# A small project for the rules that the standard library does not exercise.
EVENTS = """
sources:
  events:
    time: at
    entities: {user: user_id}
    columns: {user_id: int, ref: int, at: datetime, a: bool, b: bool, x: float, y: float, kind: str}
    derive:
      returned: preceded_by(events where a, 7d)
      referred: followed_by(events, 1d, on=user_id == ref)
metrics:
  a_and_b: {expr: count(where a and b)}
  a_or_b: {expr: count(where a or b)}
  not_a_and_b: {expr: count(where not (a and b))}
  unknown_or: {expr: count(where (a or b) is null)}
  share_a_and_b: {expr: share(a and b)}
  kind_in: {expr: 'count(where kind in ["p", null])'}
  kind_not_in: {expr: 'count(where kind not in ["p"])'}
  ratio: {expr: sum(x) / sum(y)}
  remainder: {expr: sum(x) % sum(y)}
  per_p: {expr: 'count() / count(where kind == "p")'}
  total: {expr: sum(x)}
  middle: {expr: median(x)}
  p90: {expr: p90(x)}
  spread: {expr: stddev(x)}
  distinct: {expr: count_distinct(kind)}
  returned_rate: {expr: share(returned)}
  referred_count: {expr: count(where referred)}
  nps_plain: {expr: 100 * (share(x >= 9) - share(x <= 6))}
  this_week: {expr: 'count(where at >= @2026-01-05)'}
  last_week: {expr: 'count(where at between @2025-12-29 and @2026-01-04)'}
  rounded: {expr: 'sum(round(x) + round(y, 2))'}
  picky: {expr: mean(x), min_n: 4}
  picky_twice: {expr: 2 * picky}
"""


def load_model(*paths: Path) -> Model:
    """The checked model of spec files, which must have no diagnostics."""
    definitions, problems = load_files(list(paths))
    model, more = check(definitions)
    assert not problems + more, problems + more
    return model


@pytest.fixture(scope="module")
def library() -> Model:
    return load_model(SPECS)


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Model:
    path = tmp_path_factory.mktemp("events") / "events.yaml"
    path.write_text(EVENTS)
    return load_model(path)


def overall(model: Model, data: dict[str, list[Row]], *metrics: str) -> Row:
    """The single row of the metrics with no `by` and no grain (without its `provisional` flag)."""
    [row] = evaluate_reference(model, data, list(metrics))
    row.pop("provisional", None)
    return row


def contact(at: datetime.datetime | None, customer: int | None = 1, **columns: object) -> Row:
    return {"customer_id": customer, "started_at": at, "answered": True, **columns}


def test_nps_is_promoters_minus_detractors_among_answers(events: Model) -> None:
    rows = [{"x": score} for score in (10, 9, 3, None)]
    assert overall(events, {"events": rows}, "nps_plain")["nps_plain"] == pytest.approx(100 / 3, abs=1e-12)


def test_min_n_nulls_a_small_sample_and_what_is_computed_from_it(library: Model, events: Model) -> None:
    answers = [contact(T0, nps_score=score) for score in (10, 9, 3, None)]
    assert overall(library, {"interactions": answers}, "nps", "loyalty_index") == {"nps": None, "loyalty_index": None}
    thirty = [contact(T0, nps_score=score) for score in (10, 9, 3) * 10]
    assert overall(library, {"interactions": thirty}, "nps")["nps"] == pytest.approx(100 / 3, abs=1e-12)
    three = [{"x": 1.0}, {"x": 2.0}, {"x": 3.0}, {"x": None}]
    assert overall(events, {"events": three}, "picky", "picky_twice") == {"picky": None, "picky_twice": None}
    four = [*three, {"x": 6.0}]
    assert overall(events, {"events": four}, "picky", "picky_twice") == {"picky": 3.0, "picky_twice": 6.0}


@pytest.mark.parametrize(
    ("gap", "repeat"),
    [
        (WEEK, 1.0),
        (WEEK + SECOND, 0.0),
        (WEEK - SECOND, 1.0),
        (datetime.timedelta(0), 0.0),
    ],
)
def test_followed_by_window_is_strictly_after_and_at_most_the_width(
    library: Model, gap: datetime.timedelta, repeat: float
) -> None:
    late = contact(T0 + 2 * WEEK, customer=2, channel="email")  # the data runs on: the first window is complete
    data = {"interactions": [contact(T0, channel="phone"), contact(T0 + gap, channel="chat"), late]}
    [first, *_] = evaluate_reference(library, data, ["repeat_rate"], by=["channel"])
    assert first == {"channel": "phone", "repeat_rate": repeat, "provisional": False}


@pytest.mark.parametrize(
    ("gap", "repeat"),
    [(WEEK, 1.0), (WEEK + SECOND, 0.0), (WEEK - SECOND, None), (datetime.timedelta(0), None)],
)
def test_followed_by_is_unknown_past_the_latest_time(library: Model, gap: datetime.timedelta, repeat: float) -> None:
    data = {"interactions": [contact(T0, channel="phone"), contact(T0 + gap, channel="chat")]}
    [first, *_] = evaluate_reference(library, data, ["repeat_rate"], by=["channel"])
    assert first == {"channel": "phone", "repeat_rate": repeat, "provisional": repeat is None}


def test_followed_by_is_null_without_a_time_or_a_key(library: Model) -> None:
    rows = [contact(None, channel="phone"), contact(T0, customer=None, channel="chat"), contact(T0 + SECOND)]
    result = evaluate_reference(library, {"interactions": rows}, ["repeat_rate", "contacts"], by=["channel"])
    assert result[:2] == [  # null, not censored: not provisional
        {"channel": "phone", "repeat_rate": None, "contacts": 1, "provisional": False},
        {"channel": "chat", "repeat_rate": None, "contacts": 1, "provisional": False},
    ]


def test_preceded_by_filter_and_paired_keys(events: Model) -> None:
    rows = [
        {"user_id": 1, "at": T0, "a": True},  # the first time: `returned` unknown (censored)
        {"user_id": 1, "at": T0 + WEEK, "a": False},  # preceded by the first, exactly 7 days before (on the edge: known)
        {"user_id": 1, "at": T0 + 2 * WEEK, "a": True},  # preceded by the second only, which fails `a`
        {"user_id": 2, "ref": 1, "at": T0 + SECOND},  # referred by user 1: `referred` for the first row
    ]
    result = overall(events, {"events": rows}, "returned_rate", "referred_count")
    # `returned` of the second row true, of the third false, of the first and fourth unknown; `referred` of the last
    # row unknown (its day reaches past the latest time), of the first true.
    assert result == {"returned_rate": 0.5, "referred_count": 1}


def test_three_valued_logic(events: Model) -> None:
    rows = [{"a": True, "b": None}, {"a": False, "b": None}, {"a": None, "b": None}, {"a": True, "b": True}]
    result = overall(events, {"events": rows}, "a_and_b", "a_or_b", "not_a_and_b", "unknown_or", "share_a_and_b")
    assert result == {"a_and_b": 1, "a_or_b": 2, "not_a_and_b": 1, "unknown_or": 2, "share_a_and_b": 0.5}


def test_in_skips_null_items_and_keeps_null_operands_out(events: Model) -> None:
    rows = [{"kind": "p"}, {"kind": "q"}, {"kind": None}]
    assert overall(events, {"events": rows}, "kind_in", "kind_not_in", "distinct") == {
        "kind_in": 1,
        "kind_not_in": 1,
        "distinct": 2,
    }


def test_division_and_remainder_by_zero_are_null(events: Model, library: Model) -> None:
    rows = [{"x": 3.0, "y": 0.0, "kind": "q"}, {"x": 1.0, "y": None, "kind": "q"}]
    assert overall(events, {"events": rows}, "ratio", "remainder", "per_p") == {
        "ratio": None,
        "remainder": None,
        "per_p": None,
    }
    no_handle_time = [contact(T0, sale=True, talk_s=0.0, hold_s=0.0, wrap_s=0.0)]
    assert overall(library, {"interactions": no_handle_time}, "sales_per_hour") == {"sales_per_hour": None}


def test_aggregates_skip_nulls_and_interpolate_quantiles(events: Model) -> None:
    rows = [{"x": value} for value in (4.0, None, 1.0, 3.0, 2.0)]
    result = overall(events, {"events": rows}, "total", "middle", "p90", "spread")
    assert result["total"] == 10.0
    assert result["middle"] == 2.5
    assert result["p90"] == pytest.approx(3.7, abs=1e-12)
    assert result["spread"] == pytest.approx(math.sqrt(5 / 3), abs=1e-12)
    assert overall(events, {"events": rows[:2]}, "spread", "middle") == {"spread": None, "middle": 4.0}


def test_a_date_met_by_a_datetime_is_its_midnight(events: Model) -> None:
    monday = datetime.datetime(2026, 1, 5)
    rows = [{"at": at} for at in (monday, monday - SECOND, monday - datetime.timedelta(days=1), monday - WEEK)]
    assert overall(events, {"events": rows}, "this_week", "last_week") == {"this_week": 1, "last_week": 2}


def test_round_is_half_to_even(events: Model) -> None:
    rows = [{"x": 2.5, "y": 0.125}, {"x": -0.5, "y": 0.375}]
    assert overall(events, {"events": rows}, "rounded")["rounded"] == pytest.approx(2 + 0.12 + 0 + 0.38, abs=1e-12)


def test_empty_population_is_null_but_counts_are_zero(events: Model) -> None:
    assert overall(events, {"events": []}, "total", "distinct", "a_or_b", "share_a_and_b") == {
        "total": None,
        "distinct": 0,
        "a_or_b": 0,
        "share_a_and_b": None,
    }


def test_groups_come_from_unfiltered_rows(library: Model) -> None:
    rows = [
        contact(T0, team="email_only", channel="email", wait_s=3.0),
        contact(T0, team="live", channel="phone", wait_s=4.0),
    ]
    result = evaluate_reference(library, {"interactions": rows}, ["asa", "contacts"], by=["team"])
    assert result == [{"team": "email_only", "asa": None, "contacts": 1}, {"team": "live", "asa": 4.0, "contacts": 1}]


@pytest.mark.parametrize(
    ("day", "grain", "label"),
    [
        (datetime.date(2025, 12, 29), "week", "2026-W01"),
        (datetime.date(2025, 12, 28), "week", "2025-W52"),
        (datetime.date(2027, 1, 3), "week", "2026-W53"),
        (datetime.date(2026, 1, 31), "month", "2026-01"),
        (datetime.date(2026, 12, 31), "quarter", "2026-Q4"),
        (datetime.date(2026, 4, 1), "quarter", "2026-Q2"),
        (datetime.date(2026, 4, 1), "year", 2026),
        (datetime.date(2026, 4, 1), "day", datetime.date(2026, 4, 1)),
    ],
)
def test_grain_labels(day: datetime.date, grain: str, label: object) -> None:
    assert grain_key(datetime.datetime.combine(day, datetime.time(23, 59, 59)), grain) == label


def test_iso_week_groups_across_the_new_year(library: Model) -> None:
    rows = [
        contact(datetime.datetime(2025, 12, 29, 0, 0)),
        contact(datetime.datetime(2026, 1, 4, 23, 59, 59)),
        contact(datetime.datetime(2025, 12, 28, 23, 59, 59)),
        contact(None),
    ]
    result = evaluate_reference(library, {"interactions": rows}, ["contacts"], grain="week")
    assert result == [  # every period from the first to the last, then the rows without a time
        {"week": "2025-W52", "contacts": 1},
        {"week": "2026-W01", "contacts": 2},
        {"week": None, "contacts": 1},
    ]
