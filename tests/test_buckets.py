"""Windows computed in buckets of keys give the table of the request computed in one piece, to the bit where Polars'
own aggregation is reproducible, and the bucketed evaluation leaves nothing behind.

The bucketed aggregation reads the source's rows in their order (`metricdsl.engine.polars.partition`): with Polars'
in-memory engine, whose group sums add each group's rows in their order, every value is bit-exact, float sums and
means included. Polars' streaming engine adds a float sum piece by piece of the rows as its plan cuts them, and the
two plans cut them differently: every value but a float sum or mean is bit-exact, those within rounding.
"""

from __future__ import annotations

import datetime
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import polars as pl
import pytest
from hypothesis import given, settings
from polars.testing import assert_frame_equal

import metricdsl
from metricdsl.cli import EXIT_TERMINATED
from metricdsl.engine import memory
from tests.test_differential import SPECS, Dataset, frames
from tests.test_window_plans import BUCKETED, GRID_START, _frame, grid_datasets, spy, windowed  # noqa: F401 (a fixture)

EXAMPLE = {
    "interactions": SPECS.parent / "examples" / "data" / "interactions.csv",
    "orders": SPECS.parent / "examples" / "data" / "orders.csv",
}
# Float means and sums beside the windows: plain ones (talk and hold times, amounts) and those of `value=` and `sum=`.
FLOATS = [
    "aht",
    "asa",
    "sentiment",
    "w_last_order_amount",
    "w_order_sum_1d",
    "w_talk_after",
    "w_talk_before",
    "w_orders_before_2d",
]


@pytest.fixture(scope="module")
def example() -> metricdsl.Project:
    return metricdsl.load(SPECS)


def limit_for(buckets: int, rows: int) -> int:
    """A memory limit that splits the windows of `rows` rows into `buckets` buckets (`memory.buckets_for`)."""
    return math.floor(2 * rows * memory.BYTES_PER_BUCKET_ROW / buckets)


def float_columns(table: pl.DataFrame) -> list[str]:
    return [name for name, kind in table.schema.items() if kind.is_float()]


@pytest.mark.parametrize("buckets", [2, 3, 40])
def test_the_example_dashboard_in_buckets_is_the_table_in_one_piece(example: metricdsl.Project, buckets: int) -> None:
    """On the example data, in 2, 3 and 40 buckets: with the in-memory engine, the very table of no limit; with the
    streaming engine, the same but for the last bits of float means."""
    rows = sum(pl.scan_csv(path).select(pl.len()).collect().item() for path in EXAMPLE.values())
    request = {"dashboard": "service_2_0", "by": ["team"], "grain": "week"}
    for engine in ("in-memory", "streaming"):
        whole = example.evaluate(EXAMPLE, polars_engine=engine, memory_limit="1TB", **request)  # type: ignore[arg-type]
        with spy() as used:
            split = example.evaluate(
                EXAMPLE,
                polars_engine=engine,  # type: ignore[arg-type]
                memory_limit=limit_for(buckets, rows),
                **request,  # type: ignore[arg-type]
            )
        assert used == [buckets]
        if engine == "in-memory":
            assert split.equals(whole)
            assert_frame_equal(split, whole, check_exact=True)
        else:
            floats = float_columns(whole)
            assert_frame_equal(split.drop(floats), whole.drop(floats), check_exact=True)
            assert_frame_equal(split, whole, rel_tol=1e-12, abs_tol=0.0)


def evaluate_both(
    project: metricdsl.Project, data: Dataset, as_of: datetime.datetime | None, by: list[str], engine: str
) -> tuple[pl.DataFrame, pl.DataFrame, list[int]]:
    """The table of `BUCKETED` and FLOATS by `by`, in one piece and in up to seven buckets (a limit of one byte)."""
    inputs = frames(project, data)
    metrics = [*BUCKETED, *FLOATS]
    request = {"metrics": metrics, "by": by, "as_of": as_of, "polars_engine": engine}
    whole = project.evaluate(inputs, memory_limit="1TB", **request)  # type: ignore[arg-type]
    with mock.patch.object(memory, "MAX_BUCKETS", 7), spy() as used:
        split = project.evaluate(inputs, memory_limit=1, **request)  # type: ignore[arg-type]
    return whole, split, used


@settings(max_examples=15, deadline=None)
@given(drawn=grid_datasets())
def test_windows_of_every_kind_in_buckets_are_bit_exact(
    windowed: metricdsl.Project,  # noqa: F811 (the fixture imported)
    drawn: tuple[Dataset, datetime.datetime | None],
) -> None:
    """Boolean windows both ways, over the same source and another, `value=`, `count=` and `sum=` (of floats), and
    float means beside them: in buckets, with the in-memory engine, the very table of the request in one piece (nulls
    and all); with the streaming engine, every column but the floats bit-exact."""
    data, as_of = drawn
    for by in ([], ["team"]):
        whole, split, used = evaluate_both(windowed, data, as_of, by, "in-memory")
        assert used or not any(data.rows.values())
        assert_frame_equal(split, whole, check_exact=True)
        whole, split, _ = evaluate_both(windowed, data, as_of, by, "streaming")
        floats = float_columns(whole)
        assert_frame_equal(split.drop(floats), whole.drop(floats), check_exact=True)
        assert_frame_equal(split, whole, rel_tol=1e-12, abs_tol=1e-9)


def test_a_float_sum_of_rows_at_the_same_time_does_not_depend_on_their_order(
    windowed: metricdsl.Project,  # noqa: F811 (the fixture imported)
) -> None:
    """`sum=` of floats whose order changes a plain running sum (1e16 + 1 - 1e16 is 0, 1e16 - 1e16 + 1 is 1), at the
    same time after each customer's first contact, in a different order for each customer: every customer's sum is
    the exact one, 4.101, whatever the order and whatever other keys are stacked beside it, in one piece and in
    buckets, to the bit."""
    later = GRID_START + datetime.timedelta(hours=1)
    values = [1e16, 1.0, -1e16, 3.0, 0.1, 1e-3]
    rows = [{"customer_id": c, "started_at": GRID_START, "talk_s": 0.0, "team": "north"} for c in range(60)]
    rows += [
        {"customer_id": c, "started_at": later, "talk_s": values[(c * 5 + i * 7) % 6], "team": "north"}
        for i in range(6)
        for c in range(60)
    ]
    data = {"interactions": _frame(windowed, rows), "orders": _frame(windowed, [], "orders")}
    request = {"metrics": ["w_talk_after"], "by": ["customer_id"], "as_of": later + datetime.timedelta(days=2)}
    whole = windowed.evaluate(data, memory_limit="1TB", polars_engine="in-memory", **request)  # type: ignore[arg-type]
    with mock.patch.object(memory, "MAX_BUCKETS", 7), spy() as used:
        split = windowed.evaluate(data, memory_limit=1, polars_engine="in-memory", **request)  # type: ignore[arg-type]
    assert used == [7]
    assert whole["w_talk_after"].to_list() == [pytest.approx(4.101, rel=1e-15, abs=0)] * 60
    assert_frame_equal(split, whole, check_exact=True)


# -- the limit, and the way out -------------------------------------------------------------------


@pytest.mark.parametrize("given", [1.5, 2.0, "1.5", "0.5 B", True])
def test_a_limit_that_is_not_a_whole_number_of_bytes_is_refused(example: metricdsl.Project, given: object) -> None:
    """A float is not read as its whole part (1.5 was one byte): a request error naming `memory_limit`."""
    with pytest.raises(metricdsl.RequestError, match=r"memory_limit: not a size: .*(float|whole|bool)"):
        example.evaluate({}, metrics=["repeat_rate"], memory_limit=given)  # type: ignore[arg-type]


@pytest.mark.parametrize(("given", "size"), [(4096, 4096), ("4096", 4096), ("4GB", 4 * 10**9), ("512MiB", 2**29)])
def test_ints_and_sizes_are_taken(given: int | str, size: int) -> None:
    assert memory.parse_size(given) == size


def run_eval(folder: Path, limit: str) -> subprocess.Popen[str]:
    """`metricdsl eval` of the example dashboard at `limit`, in a process of its own whose temporary folder is
    `folder`."""
    command = [sys.executable, "-m", "metricdsl", "eval", str(SPECS), "--dashboard", "service_2_0"]
    command += ["--memory-limit", limit, "--output", str(folder / "table.csv")]
    environment = {**os.environ, "TMPDIR": str(folder / "tmp"), "PYTHONPATH": str(SPECS.parent)}
    (folder / "tmp").mkdir()
    return subprocess.Popen(command, cwd=SPECS.parent, env=environment, stderr=subprocess.PIPE, text=True)


def test_a_float_limit_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    process = run_eval(tmp_path, "1.5")
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "--memory-limit" in errors
    assert "whole number of bytes" in errors


def test_the_most_buckets_raise_no_warning_from_polars(tmp_path: Path) -> None:
    """At a limit of one byte, the most buckets (MAX_BUCKETS): the table is written, and nothing but its line reaches
    standard error (at 1024 buckets and more, Polars warned that its blocking threads ran out)."""
    assert memory.buckets_for(10**6, 16, 1) == memory.MAX_BUCKETS
    process = run_eval(tmp_path, "1")
    _, errors = process.communicate(timeout=600)
    assert process.returncode == 0, errors
    assert errors.strip().splitlines() == [f"wrote 78 rows to {tmp_path / 'table.csv'}"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_sigterm_during_a_bucketed_evaluation_removes_its_temporary_folder(tmp_path: Path) -> None:
    """SIGTERM while the windows are computed in buckets: `terminated`, exit 143 (128 + SIGTERM, as Ctrl-C gives
    130), and the temporary folder of the buckets is gone, as after Ctrl-C."""
    process = run_eval(tmp_path, "16KB")
    started = time.monotonic()
    while not list((tmp_path / "tmp").glob("metricdsl-windows-*")):
        assert process.poll() is None, "the evaluation ended before its windows were computed in buckets"
        assert time.monotonic() - started < 120
        time.sleep(0.05)
    time.sleep(0.5)  # within the buckets' work
    process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == EXIT_TERMINATED
    assert errors.strip().splitlines()[-1] == "terminated"
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "table.csv").exists()
