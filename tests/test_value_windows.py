"""Windows that give a value (`value=COL`), a count (`count=true`) or a sum (`sum=COL`), with values by hand."""

from __future__ import annotations

import datetime

import polars as pl
import pytest

import metricdsl
from metricdsl.engine.inputs import Data

SPEC = """
sources:
  contacts:
    time: at
    timezone: Europe/Berlin
    entities: {customer: customer_id}
    columns: {customer_id: int, team: str, at: datetime, wait_s: {type: float, unit: s}}
  orders:
    time: ordered_at
    timezone: Europe/Berlin
    entities: {customer: customer_id}
    columns: {customer_id: int, ordered_at: datetime, amount: {type: float, unit: EUR}}
    derive:
      credited_team: preceded_by(contacts, 30d, value=team)
metrics:
  revenue: {source: orders, expr: sum(amount)}
  north_revenue: {source: orders, expr: 'sum(amount where credited_team == "north")'}
  contacts_before: {source: orders, expr: 'sum(preceded_by(contacts, 30d, count=true))'}
  uncredited: {source: orders, expr: 'count(where preceded_by(contacts, 30d, value=team) is null)'}
  last_wait: {source: orders, expr: 'sum(preceded_by(contacts, 30d, value=wait_s))'}
  revenue_after: {source: contacts, expr: 'sum(followed_by(orders, 30d, sum=amount))'}
  orders_after: {source: contacts, expr: 'sum(followed_by(orders, 30d, count=true))'}
  next_order: {source: contacts, expr: 'sum(followed_by(orders, 30d, value=amount))'}
  orders_after_7d: {source: contacts, expr: 'sum(followed_by(orders, 7d, count=true))'}
  revenue_after_7d: {source: contacts, expr: 'sum(followed_by(orders, 7d, sum=amount))'}
"""

T0 = datetime.datetime(2026, 1, 10, 12)  # local time in Berlin, as every time here; no change of offset near it
DAY, MICRO = datetime.timedelta(days=1), datetime.timedelta(microseconds=1)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> metricdsl.Project:
    path = tmp_path_factory.mktemp("value_windows") / "spec.yaml"
    path.write_text(SPEC)
    loaded = metricdsl.load(path)
    assert not loaded.diagnostics
    return loaded


def data(contacts: list[dict[str, object]], orders: list[dict[str, object]]) -> dict[str, Data]:
    return {
        "contacts": pl.DataFrame(
            [{"team": None, "wait_s": None, **c} for c in contacts],
            schema={"customer_id": pl.Int64, "team": pl.String, "at": pl.Datetime("us"), "wait_s": pl.Float64},
        ),
        "orders": pl.DataFrame(
            orders, schema={"customer_id": pl.Int64, "ordered_at": pl.Datetime("us"), "amount": pl.Float64}
        ),
    }


# Customer 1's order has two earlier contacts: one 31 days before (outside the 30-day window), one in the same second
# (not strictly before): no team is credited. Customer 2's latest contact before its order is south's (north's is
# earlier); customer 3's only contact is exactly 30 days before its order (the window's start is inclusive).
CREDIT = data(
    [
        {"customer_id": 1, "team": "north", "at": T0 - 31 * DAY},
        {"customer_id": 1, "team": "north", "at": T0},
        {"customer_id": 2, "team": "south", "at": T0 - 2 * DAY},
        {"customer_id": 2, "team": "north", "at": T0 - 10 * DAY},
        {"customer_id": 3, "team": "north", "at": T0 - 30 * DAY},
    ],
    [
        {"customer_id": 1, "ordered_at": T0, "amount": 100.0},
        {"customer_id": 2, "ordered_at": T0, "amount": 40.0},
        {"customer_id": 3, "ordered_at": T0, "amount": 7.0},
    ],
)


def test_revenue_is_credited_to_the_team_of_the_latest_contact_before(project: metricdsl.Project) -> None:
    by_team = project.evaluate(CREDIT, metrics=["revenue"], by=["credited_team"]).to_dicts()
    assert sorted(by_team, key=lambda row: str(row["credited_team"])) == [
        {"credited_team": None, "revenue": 100.0},
        {"credited_team": "north", "revenue": 7.0},
        {"credited_team": "south", "revenue": 40.0},
    ]
    found = project.evaluate(CREDIT, metrics=["north_revenue", "contacts_before", "uncredited"]).to_dicts()
    # Contacts within [t - 30d, t): none for customer 1, two for customer 2, one for customer 3.
    assert found == [{"north_revenue": 7.0, "contacts_before": 3, "uncredited": 1, "provisional": False}]


def test_rows_at_the_nearest_time_give_the_least_of_their_known_values(project: metricdsl.Project) -> None:
    t = T0 + 5 * DAY
    contacts = [
        {"customer_id": 1, "team": "first", "at": T0 - 40 * DAY, "wait_s": 1.0},  # the first time: nothing censored
        # Customer 4: three contacts at the latest time before the order (south, east, null), one earlier.
        {"customer_id": 4, "team": "south", "at": t - DAY, "wait_s": 9.0},
        {"customer_id": 4, "team": "east", "at": t - DAY, "wait_s": None},
        {"customer_id": 4, "team": None, "at": t - DAY, "wait_s": 5.0},
        {"customer_id": 4, "team": "a", "at": t - 2 * DAY, "wait_s": 1.0},
        # Customer 5: its latest contact has no team and no wait: the value is null, not the earlier contact's.
        {"customer_id": 5, "team": None, "at": t - DAY},
        {"customer_id": 5, "team": "north", "at": t - 2 * DAY, "wait_s": 2.0},
    ]
    orders = [{"customer_id": 4, "ordered_at": t, "amount": 1.0}, {"customer_id": 5, "ordered_at": t, "amount": 2.0}]
    found = project.evaluate(data(contacts, orders), metrics=["revenue", "last_wait", "uncredited"], by=["credited_team"])
    assert sorted(found.to_dicts(), key=lambda row: str(row["credited_team"])) == [
        {"credited_team": None, "revenue": 2.0, "last_wait": None, "uncredited": 1, "provisional": False},
        {"credited_team": "east", "revenue": 1.0, "last_wait": 5.0, "uncredited": 0, "provisional": False},
    ]


def test_counts_and_sums_include_the_window_end_and_not_its_start(project: metricdsl.Project) -> None:
    contacts = [{"customer_id": 1, "at": T0}, {"customer_id": 2, "at": T0}]
    # Customer 1: orders at t (not after it), t + 30d (the inclusive end) and 1 µs later (past the end); a null amount
    # is skipped. Customer 2 has none: 0, not null. The latest order is the horizon, so no window is censored.
    orders = [
        {"customer_id": 1, "ordered_at": T0, "amount": 1.0},
        {"customer_id": 1, "ordered_at": T0 + 10 * DAY, "amount": None},
        {"customer_id": 1, "ordered_at": T0 + 30 * DAY, "amount": 2.5},
        {"customer_id": 1, "ordered_at": T0 + 30 * DAY + MICRO, "amount": 4.0},
    ]
    found = project.evaluate(data(contacts, orders), metrics=["revenue_after", "orders_after", "next_order"])
    # The next order of customer 1 is the one with a null amount: its value is null, and customer 2 has none.
    assert found.to_dicts() == [{"revenue_after": 2.5, "orders_after": 2, "next_order": None, "provisional": False}]
    per_contact = project.evaluate(data(contacts, orders), metrics=["orders_after"], by=["customer_id"])
    assert sorted(per_contact.select("customer_id", "orders_after").rows()) == [(1, 2), (2, 0)]


def test_counts_sums_and_values_are_unknown_past_the_horizon(project: metricdsl.Project) -> None:
    # The orders end at T0 + 40d: the contact at T0 + 20d reaches past it, though an order follows it within the data.
    contacts = [{"customer_id": 1, "at": T0}, {"customer_id": 1, "at": T0 + 20 * DAY}]
    orders = [
        {"customer_id": 1, "ordered_at": T0 + 5 * DAY, "amount": 3.0},
        {"customer_id": 1, "ordered_at": T0 + 25 * DAY, "amount": 10.0},
        {"customer_id": 2, "ordered_at": T0 + 40 * DAY, "amount": 1.0},
    ]
    metrics = ["revenue_after", "orders_after", "next_order"]
    by_contact = project.evaluate(data(contacts, orders), metrics=metrics, by=["at"]).sort("at")
    assert by_contact.drop("at").to_dicts() == [
        {"revenue_after": 13.0, "orders_after": 2, "next_order": 3.0, "provisional": False},
        {"revenue_after": None, "orders_after": None, "next_order": None, "provisional": True},
    ]
    # Complete until T0 + 50d: the second contact's window is known.
    known = project.evaluate(data(contacts, orders), metrics=metrics, by=["at"], as_of=T0 + 50 * DAY).sort("at")
    assert known.drop("at").to_dicts()[1] == {
        "revenue_after": 10.0,
        "orders_after": 1,
        "next_order": 10.0,
        "provisional": False,
    }


def test_a_window_across_a_change_to_summer_time_is_exact_elapsed_time(project: metricdsl.Project) -> None:
    # Berlin moves to summer time on 2026-03-29: 7 days after 2026-03-25 12:00 (CET) is 2026-04-01 13:00 (CEST).
    start = datetime.datetime(2026, 3, 25, 12)
    end = datetime.datetime(2026, 4, 1, 13)
    contacts = [{"customer_id": 1, "at": start}]
    orders = [
        {"customer_id": 1, "ordered_at": end - datetime.timedelta(hours=1), "amount": 1.0},
        {"customer_id": 1, "ordered_at": end, "amount": 2.0},
        {"customer_id": 1, "ordered_at": end + MICRO, "amount": 4.0},
    ]
    found = project.evaluate(data(contacts, orders), metrics=["orders_after_7d", "revenue_after_7d"])
    assert found.to_dicts() == [{"orders_after_7d": 2, "revenue_after_7d": 3.0, "provisional": False}]


def test_null_keys_and_times_give_null(project: metricdsl.Project) -> None:
    contacts = [{"customer_id": None, "at": T0}, {"customer_id": 1, "at": None}, {"customer_id": 1, "at": T0}]
    orders = [{"customer_id": 1, "ordered_at": T0 + DAY, "amount": 5.0}, {"customer_id": 9, "ordered_at": T0 + 40 * DAY}]
    found = project.evaluate(data(contacts, orders), metrics=["revenue_after", "orders_after"], by=["customer_id", "at"])
    rows = {(r["customer_id"], r["at"] is not None): (r["revenue_after"], r["orders_after"]) for r in found.to_dicts()}
    assert rows == {(None, True): (None, None), (1, False): (None, None), (1, True): (5.0, 1)}
