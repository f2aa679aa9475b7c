"""Windows computed together agree with the reference: on times from a coarse grid, so that rows tie, and rows lie
exactly a window's width apart, often.

The Polars plan stacks the windows of one source that key its rows by the same columns, sorts the stack once, and
finds the next (previous) time looked for by a fill; equal window calls share one column. What such a plan could get
wrong, drawn here: rows at the same time (not after one another), a match exactly at the window's end (inside) or a
microsecond past it, several windows on one key with different filters, widths and directions (and windows that
share the rows they look for, with other widths or directions), windows over the
source itself and over another source by the same key and by another column, a key of several columns and one of
text, a filter that reads another window, null keys, times and filters, and censoring at the horizon (the latest
time, or `as_of`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import math
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import metricdsl
from metricdsl.engine import memory
from metricdsl.engine.polars import partition
from tests.reference import evaluate_reference
from tests.test_differential import SPECS, Dataset, check_agreement, frames, interaction, nullable, order

WINDOW_METRICS = """
metrics:
  w_any_7d: {source: interactions, expr: 'share(followed_by(interactions, 7d))'}
  w_any_7d_again: {source: interactions, expr: 'mean(case when followed_by(interactions, 7d) then 1 else 0 end)'}
  w_answered_1d: {source: interactions, expr: 'share(followed_by(interactions where answered, 1d))'}
  w_unanswered_before: {source: interactions, expr: 'share(preceded_by(interactions where not answered, 2d))'}
  w_same_reason: {source: interactions, expr: 'share(followed_by(interactions where sale, 7d,
    on=[customer_id, contact_reason]))'}
  w_reason_before: {source: interactions, expr: 'share(preceded_by(interactions, 1d, on=contact_reason))'}
  w_order_7d: {source: interactions, expr: 'share(followed_by(orders where amount > 0, 7d))'}
  w_order_1d: {source: interactions, expr: 'share(followed_by(orders where amount > 0, 1d))'}
  w_order_2d_before: {source: interactions, expr: 'share(preceded_by(orders where amount > 0, 2d))'}
  w_any_1d: {source: interactions, expr: 'share(followed_by(interactions, 1d))'}
  w_cross_sell_1d: {source: interactions, expr: 'share(followed_by(orders where cross_sell, 1d))'}
  w_order_before: {source: interactions, expr: 'share(preceded_by(orders, 1d))'}
  w_referred_before: {source: interactions, expr: 'share(preceded_by(orders, 1d, on=customer_id == referred_by))'}
  w_nested: {source: interactions, expr: 'share(followed_by(interactions where preceded_by(orders, 1d), 1d))'}
  w_repeaters: {source: interactions, expr: 'count(where followed_by(interactions, 7d) and answered)'}
  w_rebuy: {source: orders, expr: 'share(followed_by(orders, 7d))'}
  w_after_contact: {source: orders, expr: 'share(preceded_by(interactions where answered, 1d))'}
  w_next_team: {source: interactions, expr: 'count(where followed_by(interactions, 1d, value=team) == "north")'}
  w_last_order_amount: {source: interactions, expr: 'sum(preceded_by(orders where cross_sell, 2d, value=amount))'}
  w_repeats_7d: {source: interactions, expr: 'sum(followed_by(interactions where answered, 7d, count=true))'}
  w_order_sum_1d: {source: interactions, expr: 'sum(followed_by(orders, 1d, sum=amount))'}
  w_orders_before_2d: {source: interactions, expr: 'mean(preceded_by(orders, 2d, count=true))'}
  w_talk_after: {source: interactions, expr: 'sum(followed_by(interactions, 1d, sum=talk_s))'}
  w_talk_before: {source: interactions, expr: 'sum(preceded_by(interactions, 1d, sum=talk_s))'}
  w_credited_team: {source: orders, expr: 'count(where preceded_by(interactions, 1d, value=team) == "south")'}
  w_contacts_after: {source: orders, expr: 'sum(followed_by(interactions, 7d, count=true))'}
"""
LAYOUTS: list[tuple[tuple[str, ...], str | None]] = [((), None), (("team",), "day")]
GRID_START = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)
MICRO, DAY = datetime.timedelta(microseconds=1), datetime.timedelta(days=1)
# Half days over ten days, now and then a microsecond off: ties, and rows exactly 1, 2 and 7 days apart.
GRID = st.builds(
    lambda k, nudge: GRID_START + k * datetime.timedelta(hours=12) + nudge,
    st.integers(0, 20),
    st.sampled_from([datetime.timedelta(0)] * 4 + [MICRO, -MICRO]),
)
SIZES = st.sampled_from([0, 1, 2, 5, 9, 16, 30])


@st.composite
def grid_datasets(draw: st.DrawFn) -> tuple[Dataset, datetime.datetime | None]:
    """Interactions and orders with times on the grid (or null), in UTC, and an `as_of` on the grid or None."""
    times = nullable(GRID)
    interactions = draw(st.lists(interaction(times), min_size=(n := draw(SIZES)), max_size=n))
    orders = draw(st.lists(order(times), min_size=(m := draw(SIZES)), max_size=m))
    as_of = draw(st.none() | GRID)
    rows = {"interactions": interactions, "orders": orders}
    return Dataset(rows, {s: "UTC" for s in rows}, {s: "utc" for s in rows}), as_of


@pytest.fixture(scope="module")
def windowed(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    """The standard library and the window metrics of `WINDOW_METRICS`."""
    path = tmp_path_factory.mktemp("windows") / "windows.yaml"
    path.write_text(WINDOW_METRICS)
    return metricdsl.load([SPECS, path])


def check_windows(project: metricdsl.Project, data: Dataset, as_of: datetime.datetime | None) -> None:
    names = [n for n in project.model.metrics if n.startswith("w_")]
    contacts = [n for n in names if project.model.metrics[n].source == "interactions"]
    check_agreement(project, [*contacts, "repeat_rate"], data, LAYOUTS, as_of)
    check_agreement(project, [n for n in names if n not in contacts], data, [((), None)], as_of)


@settings(max_examples=20, deadline=None)
@given(drawn=grid_datasets())
def test_windows_computed_together_agree_with_the_reference(
    windowed: metricdsl.Project, drawn: tuple[Dataset, datetime.datetime | None]
) -> None:
    check_windows(windowed, *drawn)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(drawn=grid_datasets())
def test_windows_computed_together_agree_with_the_reference_at_length(
    windowed: metricdsl.Project, drawn: tuple[Dataset, datetime.datetime | None]
) -> None:
    check_windows(windowed, *drawn)


def test_a_tie_and_the_window_end(windowed: metricdsl.Project) -> None:
    """By hand: customer 1 has contacts at t, t (a tie), t + 7d (exactly the end) and t + 7d + 1 µs, and the horizon
    (`as_of`) is t + 30d. The tied contacts are followed within 7d (by the one at t + 7d, inclusive), not by each
    other; the one at t + 7d is followed 1 µs later; the last is not. Customer 2's lone contact at t + 1d neither."""
    t = GRID_START
    times = [t, t, t + datetime.timedelta(days=7), t + datetime.timedelta(days=7) + MICRO]
    rows = [{"customer_id": 1, "started_at": s, "answered": True, "team": "north"} for s in times]
    rows.append({"customer_id": 2, "started_at": t + datetime.timedelta(days=1), "answered": True, "team": "north"})
    contacts = [{**r, "channel": "phone"} for r in rows]
    table = windowed.evaluate(
        {"interactions": _frame(windowed, contacts), "orders": _frame(windowed, [], "orders")},
        metrics=["w_any_7d", "w_repeaters"],
        as_of=t + datetime.timedelta(days=30),
    )
    # Known rows: the two tied (true), t + 7d (true), t + 7d + 1 µs (false), customer 2 (false): 3 of 5.
    assert table.row(0, named=True) == {"w_any_7d": pytest.approx(3 / 5), "w_repeaters": 3, "provisional": False}


HOUR = datetime.timedelta(hours=1)
# Talks of customer 1 (at a time, or none) and the sum of `w_talk_after` over its contacts; customer 2 talks alone.
LARGE_BEFORE = [
    # Without a time, the contact is in no window; its talk once went into the running sum of its customer's rows
    # (rows without a time sort first), where 1e17 + 1 is 1e17, and the sum came out 0.
    ([(None, 1e17), (GRID_START, 0.0), (GRID_START + HOUR, 1.0), (GRID_START + 2 * HOUR, 1.0)], 3.0),
    # At a time, before the others: the windows after it are 1 + 1 and 1, which a running sum lost the same way.
    ([(GRID_START - 2 * HOUR, 1e17), (GRID_START, 0.0), (GRID_START + HOUR, 1.0), (GRID_START + 2 * HOUR, 1.0)], 5.0),
    # An amount of money, then a cent: 123456789.12 + 0.01 - 123456789.12 is 0.010000005364418.
    ([(GRID_START - 2 * DAY, 123456789.12), (GRID_START, 0.0), (GRID_START + HOUR, 0.01)], 0.01),
]


@pytest.mark.parametrize("engine", ["in-memory", "streaming", "duckdb"])
@pytest.mark.parametrize(("talks", "total"), LARGE_BEFORE)
def test_a_large_value_leaves_the_sums_of_small_values_after_it_exact(
    windowed: metricdsl.Project, engine: str, talks: list[tuple[datetime.datetime | None, float]], total: float
) -> None:
    """`sum=` of floats, the talk after each contact within 1d, where a large talk comes first: each sum is exact (the
    running sums within a key carry their rounding errors), the same as the reference's; in buckets (a limit of one
    byte) the same to the bit."""
    rows = [{"customer_id": 1, "started_at": at, "talk_s": talk, "team": "north"} for at, talk in talks]
    rows.append({"customer_id": 2, "started_at": GRID_START, "talk_s": 5.0, "team": "north"})
    data = {"interactions": _frame(windowed, rows), "orders": _frame(windowed, [], "orders")}
    request: dict[str, Any] = {"metrics": ["w_talk_after"], "by": ["customer_id"], "as_of": GRID_START + 3 * DAY}
    if engine == "duckdb":
        request["engine"] = engine
    else:
        request["polars_engine"] = engine
    whole = windowed.evaluate(data, memory_limit="1TB", **request)
    assert whole["w_talk_after"].to_list() == [total, 0.0]
    given = {"interactions": [{c: r.get(c) for c in windowed.definitions.sources["interactions"].columns} for r in rows]}
    expected = evaluate_reference(
        windowed.model, {**given, "orders": []}, ["w_talk_after"], ["customer_id"], as_of=request["as_of"]
    )
    assert [row["w_talk_after"] for row in expected] == [total, 0.0]
    if engine != "duckdb":
        with spy() as used:
            split = windowed.evaluate(data, memory_limit=1, **request)
        assert used
        assert_frame_equal(split, whole, check_exact=True)


# Talks of one customer, at times from GRID_START, whose running sums round in more than one way.
ROUNDED = {
    # The rounding error of adding 1e15 to 1e31 is 1e15 itself: a later 1e-3 is lost in a plain running sum of the
    # errors as 1e-3 is in the running sum of the talks.
    "error of errors": [(-3 * DAY, 1e31), (-2 * DAY, 1e15), (-HOUR, 0.0), (0 * DAY, 1e-3), (HOUR, 0.0)],
    "error of errors, far apart": [(-3 * DAY, 1e300), (-2 * DAY, 1e200), (-HOUR, 0.0), (0 * DAY, 1.0), (HOUR, 0.0)],
    # The window before the 1e13 holds 1e-3 alone: rebuilt from the running sum of errors after the 1e13's own error,
    # it came out 0.001953125.
    "the row's own error": [(0 * DAY, 1e30), (2 * DAY, 1e-3), (2 * DAY + 12 * HOUR, 1e13)],
    # The window before the 1e15 is empty: exactly 0, not -8.67e-19.
    "an empty window": [(6 * HOUR, 0.01), (12 * HOUR, 0.001), (2 * DAY + 6 * HOUR, 1e15)],
}


@pytest.mark.parametrize("engine", ["in-memory", "streaming", "duckdb"])
@pytest.mark.parametrize("talks", list(ROUNDED.values()), ids=list(ROUNDED))
def test_each_window_sum_is_the_exact_sum_of_its_rows(
    windowed: metricdsl.Project, engine: str, talks: list[tuple[datetime.timedelta, float]]
) -> None:
    """`sum=` of floats both ways, each contact in its own team so that each window is a cell of the table: each sum
    is the reference's (an exact sum, rounded once), to the last bit, an empty window exactly 0; in buckets the same
    to the bit."""
    rows = [
        {"customer_id": 1, "started_at": GRID_START + at, "talk_s": talk, "team": f"t{i}"}
        for i, (at, talk) in enumerate(talks)
    ]
    data = {"interactions": _frame(windowed, rows), "orders": _frame(windowed, [], "orders")}
    metrics = ["w_talk_after", "w_talk_before"]
    request: dict[str, Any] = {"metrics": metrics, "by": ["team"], "as_of": GRID_START + 5 * DAY}
    request["engine" if engine == "duckdb" else "polars_engine"] = engine
    whole = windowed.evaluate(data, memory_limit="1TB", **request)
    given = {"interactions": [{c: r.get(c) for c in windowed.definitions.sources["interactions"].columns} for r in rows]}
    expected = evaluate_reference(windowed.model, {**given, "orders": []}, metrics, ["team"], as_of=request["as_of"])
    assert len(expected) == len(rows)
    by_team = {row["team"]: row for row in whole.to_dicts()}
    for row in expected:
        assert {m: by_team[row["team"]][m] for m in metrics} == {m: row[m] for m in metrics}, row["team"]
    if engine != "duckdb":
        with spy() as used:
            split = windowed.evaluate(data, memory_limit=1, **request)
        assert used
        assert_frame_equal(split, whole, check_exact=True)


def _frame(project: metricdsl.Project, rows: list[dict[str, object]], source: str = "interactions") -> pl.DataFrame:
    """`rows` (the columns not given null) as a frame of `source`'s declared types."""
    data = Dataset({source: rows}, {source: "UTC"}, {source: "utc"})
    full = [{c: row.get(c) for c in project.definitions.sources[source].columns} for row in rows]
    return frames(project, dataclasses.replace(data, rows={source: full}))[source]


def test_equal_windows_share_one_column(windowed: metricdsl.Project) -> None:
    """The same window written in two metrics is computed once: one column in the compiled query."""
    query = windowed.compile(
        {"interactions": _frame(windowed, []), "orders": _frame(windowed, [], "orders")},
        metrics=["w_any_7d", "w_any_7d_again", "repeat_rate"],
    )
    plan = query.explain()
    assert "__window0" in plan
    assert "__window1" not in plan


# -- windows in buckets of keys (bounded memory) ---------------------------------------------------

# The window metrics whose windows key each source's rows by one column set (the customer): they can be computed in
# buckets of keys.
BUCKETED = [
    "w_any_7d",
    "w_any_7d_again",
    "w_answered_1d",
    "w_unanswered_before",
    "w_order_7d",
    "w_order_1d",
    "w_order_2d_before",
    "w_any_1d",
    "w_cross_sell_1d",
    "w_order_before",
    "w_referred_before",
    "w_repeaters",
    "w_next_team",
    "w_last_order_amount",
    "w_repeats_7d",
    "w_order_sum_1d",
    "w_orders_before_2d",
    "w_talk_after",
    "repeat_rate",
]


def check_in_buckets(project: metricdsl.Project, data: Dataset, as_of: datetime.datetime | None) -> None:
    """With a memory limit of one byte (the default limit patched, as `check_agreement` gives none), the windows are
    computed in seven buckets of keys (the most allowed, patched too), and every metric agrees with the reference."""
    patched = mock.patch.object(memory, "default_limit", return_value=1), mock.patch.object(memory, "MAX_BUCKETS", 7)
    with patched[0], patched[1], spy() as used:
        check_agreement(project, BUCKETED, data, LAYOUTS, as_of)
        check_agreement(
            project, ["w_rebuy", "w_after_contact", "w_credited_team", "w_contacts_after"], data, [((), None)], as_of
        )
    assert used or not any(data.rows.values())


@contextlib.contextmanager
def spy() -> Iterator[list[int]]:
    """The numbers of buckets of the requests computed in buckets while in the block."""
    used: list[int] = []
    original = partition.partitioned_stages

    def counted(*args: Any, **keywords: Any) -> Any:
        found = original(*args, **keywords)
        if found is not None:
            used.append(args[4])
        return found

    with mock.patch.object(partition, "partitioned_stages", counted):
        yield used


@settings(max_examples=10, deadline=None)
@given(drawn=grid_datasets())
def test_windows_in_buckets_agree_with_the_reference(
    windowed: metricdsl.Project, drawn: tuple[Dataset, datetime.datetime | None]
) -> None:
    check_in_buckets(windowed, *drawn)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(drawn=grid_datasets())
def test_windows_in_buckets_agree_with_the_reference_at_length(
    windowed: metricdsl.Project, drawn: tuple[Dataset, datetime.datetime | None]
) -> None:
    check_in_buckets(windowed, *drawn)


def test_a_memory_limit_splits_the_windows_into_buckets_with_the_same_results(
    windowed: metricdsl.Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A limit far below the rows' estimated working set: many buckets, the table of no limit; the temporary folder
    (made in the folder that `tempfile` is given) is gone after."""
    rows = [
        {"customer_id": c, "started_at": GRID_START + datetime.timedelta(hours=7 * i), "answered": i % 3 > 0, "team": t}
        for i, (c, t) in enumerate((c, t) for c in (1, 2, 3, 4, 5, None) for t in ("north", "south"))
    ]
    orders = [{"customer_id": c, "referred_by": 6 - c, "ordered_at": GRID_START + c * DAY, "amount": 1.0} for c in range(5)]
    data = {"interactions": _frame(windowed, rows), "orders": _frame(windowed, orders, "orders")}
    whole = windowed.evaluate(data, metrics=BUCKETED, by=["team"], memory_limit="1TB")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # this test's own, as other processes share /tmp
    made: list[Path] = []
    folder = tempfile.TemporaryDirectory

    def recorded(*args: Any, **kwargs: Any) -> tempfile.TemporaryDirectory[str]:
        made.append(Path((found := folder(*args, **kwargs)).name))
        return found

    monkeypatch.setattr(tempfile, "TemporaryDirectory", recorded)
    with spy() as used:
        split = windowed.evaluate(data, metrics=BUCKETED, by=["team"], memory_limit="1KB")
    assert used
    assert used[0] > 2
    assert split.equals(whole)
    assert [m.parent for m in made] == [tmp_path]
    assert list(tmp_path.iterdir()) == []


def test_a_request_whose_windows_key_by_several_columns_is_computed_in_one_piece(windowed: metricdsl.Project) -> None:
    """Windows of one source by the customer and by the customer and reason: not split, and still right."""
    rows = [{"customer_id": 1, "started_at": GRID_START, "contact_reason": "refund", "sale": True, "team": "north"}] * 2
    data = {"interactions": _frame(windowed, rows), "orders": _frame(windowed, [], "orders")}
    with spy() as used:
        table = windowed.evaluate(
            data, metrics=["w_any_7d", "w_same_reason"], memory_limit="1KB", as_of=GRID_START + 9 * DAY
        )
    assert not used
    assert table.row(0) == (0.0, 0.0, False)


@pytest.mark.parametrize(
    ("given", "size"),
    [("4GB", 4 * 10**9), ("512MiB", 512 * 2**20), ("1.5 GiB", 3 * 2**29), ("2000", 2000), (300, 300), ("10kb", 10**4)],
)
def test_sizes_read_as_people_write_them(given: str | int, size: int) -> None:
    assert memory.parse_size(given) == size


@pytest.mark.parametrize("given", ["", "4 parsecs", "-1GB", "0", "GB", 0])
def test_a_limit_that_is_no_size_is_a_request_error(windowed: metricdsl.Project, given: str | int) -> None:
    with pytest.raises(metricdsl.RequestError, match="memory_limit"):
        windowed.evaluate({}, metrics=["w_any_7d"], memory_limit=given)


def test_buckets_keep_the_estimated_working_set_within_half_the_limit() -> None:
    """One piece when the estimated working set fits; else the fewest buckets (at least 2) whose share of the rows
    fits in half the limit."""
    assert memory.buckets_for(1000, 10, 10**9) == 1
    assert memory.working_set(10**6, 16) <= 10**9 < memory.working_set(10**7, 16)
    assert memory.buckets_for(10**7, 16, 10**9) == math.ceil(10**7 * memory.BYTES_PER_BUCKET_ROW / (10**9 / 2))
    buckets = memory.buckets_for(10**8, 16, 4 * 2**30)
    share = 10**8 * memory.BYTES_PER_BUCKET_ROW
    assert share / buckets <= 2 * 2**30 < share / (buckets - 1)
    assert memory.buckets_for(10**7, 16, memory.working_set(10**7, 16) - 1) == 2


def test_the_rows_of_an_input_are_bounded_without_reading_it(tmp_path: Path) -> None:
    """A CSV file's bytes over its fields bound its rows, even when every field but one digit is empty (a byte each:
    a separator or the line's end); a frame's height is its rows; a Parquet file's rows are counted from its footer
    instead (None)."""
    from metricdsl.engine.inputs import scan

    source = metricdsl.load(SPECS).definitions.sources["interactions"]
    header = ",".join(source.columns)
    fields = len(source.columns)
    path = tmp_path / "empty_fields.csv"
    path.write_text(header + "\n" + ("1" + "," * (fields - 1) + "\n") * 50)
    reading = scan(source, path)
    rows = reading.frame.select(pl.len()).collect().item()
    try:
        assert rows == 50
        assert rows <= reading.most_rows(fields) <= path.stat().st_size  # type: ignore[operator]
    finally:
        reading.close()
    frame = reading.frame.collect()
    assert scan(source, frame).most_rows(fields) == 50
    frame.write_parquet(tmp_path / "rows.parquet")
    assert scan(source, tmp_path / "rows.parquet").most_rows(fields) is None


def test_the_command_line_takes_a_memory_limit(tmp_path: Path) -> None:
    """`eval --memory-limit` splits the windows of the example data into buckets, with the table of no limit;
    a limit that is no size is a usage error (exit 2) naming the option."""
    from click.testing import CliRunner

    from metricdsl.cli import main

    specs = str(Path(__file__).parent.parent / "specs")
    outputs = {}
    for limit in ("1TB", "64KB"):
        output = tmp_path / f"{limit}.csv"
        with spy() as used:
            result = CliRunner().invoke(
                main, ["eval", specs, "--dashboard", "service_2_0", "--memory-limit", limit, "--output", str(output)]
            )
        assert result.exit_code == 0, result.output
        assert bool(used) == (limit == "64KB")
        outputs[limit] = pl.read_csv(output)
    assert_frame_equal(outputs["64KB"], outputs["1TB"], rel_tol=1e-9)
    result = CliRunner().invoke(main, ["eval", specs, "--dashboard", "service_2_0", "--memory-limit", "lots"])
    assert result.exit_code == 2
    assert "--memory-limit" in result.output


def test_windows_that_look_for_the_same_rows_share_their_flag(windowed: metricdsl.Project) -> None:
    """Three windows over the orders with `amount > 0`, of two widths and both directions: three window columns,
    one flag of the orders they look for."""
    query = windowed.compile(
        {"interactions": _frame(windowed, []), "orders": _frame(windowed, [], "orders")},
        metrics=["w_order_7d", "w_order_1d", "w_order_2d_before"],
    )
    plan = query.explain()
    assert set(re.findall(r"__window\d+_hit", plan)) == {"__window0_hit"}
    assert set(re.findall(r"__window\d+\b", plan)) == {"__window0", "__window1", "__window2"}
