"""What the engines are compared on: the example project's dashboards and a few small projects of edge cases (windows
with filters and censoring, weeks across a new year, nulls, zero denominators, time zones). Every engine must give
the Polars table of each, cell for cell."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

import metricdsl

EDGES = """\
calendar: {timezone: Europe/Paris}
sources:
  calls:
    time: at
    entities: {customer: customer}
    columns:
      customer: int
      team: str
      at: datetime
      wait_s: {type: float, unit: s}
      answered: bool
      score: {type: int, range: [0, 10]}
      handled: {type: duration, unit: min}
    derive:
      repeat_3d: followed_by(calls where answered, 3d)
  sales:
    time: sold_at
    timezone: America/New_York
    entities: {customer: customer}
    columns:
      customer: int
      team: str
      sold_at: datetime
      amount: {type: float, unit: EUR}
metrics:
  calls: {expr: count(), source: calls}
  asa: {expr: mean(wait_s), unit: s, where: answered}
  answered_share: {expr: share(answered), unit: ratio}
  repeat_rate: {expr: share(repeat_3d), unit: ratio}
  p90_wait: {expr: p90(wait_s), unit: s}
  median_score: {expr: median(score)}
  customers: {expr: count_distinct(customer), source: calls}
  handled: {expr: sum(handled), unit: min}
  night_calls: {expr: count(where hour(at) < 6)}
  revenue: {expr: sum(amount), unit: EUR}
  per_call: {expr: revenue / calls}
  promoters: {expr: share(score >= 9), unit: ratio}
  wait_per_score: {expr: sum(wait_s) / sum(score)}
dashboards:
  weekly:
    metrics: [calls, asa, answered_share, repeat_rate, p90_wait, median_score, customers, handled, night_calls,
              revenue, per_call, promoters, wait_per_score]
    by: [team]
    grain: week
  overall:
    metrics: [calls, asa, answered_share, repeat_rate, p90_wait, median_score, customers, handled, night_calls,
              revenue, per_call, promoters, wait_per_score]
"""
CALLS = """\
customer,team,at,wait_s,answered,score,handled
1,north,2025-12-28T23:30:00Z,10,true,9,5
1,north,2025-12-29T01:00:00Z,,false,,
2,north,2025-12-31T22:59:59Z,30,true,0,2.5
2,north,2026-01-01T03:00:00Z,25,true,10,1
3,,2026-01-04T23:30:00Z,5,false,7,
3,south,2026-01-05T00:30:00Z,12.5,true,0,3
4,south,2026-01-10T12:00:00Z,40,true,99,4
4,south,2026-01-11T12:00:00Z,nope,true,8,
,south,2026-01-12T05:00:00Z,0,,0,0
"""
SALES = """\
customer,team,sold_at,amount
1,north,2025-12-29T03:00:00Z,100
2,north,2026-01-01T04:59:00Z,-20.5
3,east,2026-01-05T02:00:00Z,7
,,2026-01-06T00:00:00Z,
"""


def edges_project(folder: Path) -> tuple[metricdsl.Project, dict[str, str]]:
    """The edge-case project, its spec and data written in `folder`; the data by source."""
    (folder / "edges.yaml").write_text(EDGES)
    data = {"calls": folder / "calls.csv", "sales": folder / "sales.csv"}
    data["calls"].write_text(CALLS)
    data["sales"].write_text(SALES)
    return metricdsl.load(folder / "edges.yaml"), {name: str(path) for name, path in data.items()}


def assert_same_run(expected: metricdsl.Run, actual: metricdsl.Run) -> None:
    """Two runs of one request agree: the same table, cell for cell (floats to 1e-12 relative: sums may be added in
    another order), and the same data-quality report."""
    assert_frame_equal(actual.table, expected.table, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
    assert actual.problems == expected.problems
    assert actual.notices == expected.notices


def frames_equal(expected: pl.DataFrame, actual: pl.DataFrame) -> None:
    assert_frame_equal(actual, expected, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)
