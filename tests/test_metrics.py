"""Hand-checked fixtures for every metric of the standard library in `specs/`."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from conftest import evaluate, value

T0 = datetime(2026, 1, 14, 10, 0, 0)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def contact(**fields) -> dict:
    """An answered phone contact of team north at T0, with the fields given overriding."""
    row = {
        "interaction_id": 1,
        "customer_id": 1,
        "team": "north",
        "channel": "phone",
        "started_at": T0,
        "answered": True,
        "wait_s": 10.0,
        "talk_s": 100.0,
        "hold_s": 0.0,
        "wrap_s": 20.0,
    }
    return row | fields


def answers(column: str, scores: list, copies: int = 1) -> list[dict]:
    return [contact(**{column: score}) for score in scores * copies]


# -- survey metrics (min_n 30: the fixtures repeat their answers to reach it) ----------------------


def test_nps_is_promoters_minus_detractors_among_answers(project):
    rows = answers("nps_score", [10, 9, 3, None], copies=10)
    assert value(project, "nps", rows) == pytest.approx(100 * (20 / 30 - 10 / 30))


def test_nps_answer_of_zero_is_a_detractor_and_negative_nps_does_not_wrap(project):
    rows = answers("nps_score", [0, 0, 10], copies=10)
    assert value(project, "nps", rows) == pytest.approx(100 * (10 / 30 - 20 / 30))


def test_nps_is_null_below_min_n_and_a_value_at_it(project):
    assert value(project, "nps", answers("nps_score", [10] * 29)) is None
    assert value(project, "nps", answers("nps_score", [10] * 30)) == 100.0


def test_team_without_survey_answers_has_null_nps_not_zero(project):
    rows = [*answers("nps_score", [10, 5, 9], copies=10), contact(team="south")]
    result = {r["team"]: r["nps"] for r in evaluate(project, rows, metrics=["nps"], by=["team"])}
    assert result == {"north": pytest.approx(100 / 3), "south": None}


def test_csat_is_top_two_box(project):
    assert value(project, "csat", answers("csat_score", [5, 4, 3, 2, 1, None], copies=6)) == pytest.approx(0.4)


def test_ces_mean_and_share_agreeing_it_was_easy(project):
    rows = answers("effort_score", [1, 2, 3, 4, 5, None], copies=6)
    assert value(project, "ces", rows) == pytest.approx(3.0)
    assert value(project, "ces_agree", rows) == pytest.approx(0.4)


def test_sentiment_is_the_mean_of_scored_contacts(project):
    assert value(project, "sentiment", answers("sentiment_score", [0.5, -0.5, None, 1.0])) == pytest.approx(1 / 3)


def test_reported_fcr_is_the_share_of_resolved_answers(project):
    rows = answers("fcr_reported", [True, True, False, None], copies=10)
    assert value(project, "fcr_reported", rows) == pytest.approx(2 / 3)


def test_acsi_rescales_each_item_and_weights_them_equally(project):
    full = [
        contact(acsi_satisfaction=10, acsi_expectations=10, acsi_ideal=10),
        contact(acsi_satisfaction=1, acsi_expectations=1, acsi_ideal=1),
        contact(acsi_satisfaction=7, acsi_expectations=4, acsi_ideal=1),
    ]
    blank = [contact(acsi_satisfaction=10, acsi_expectations=None, acsi_ideal=10), contact()]
    expected = (100 + 0 + 100 * (6 / 9 + 3 / 9 + 0) / 3) / 3
    assert value(project, "acsi", (full + blank) * 10) == pytest.approx(expected)
    assert value(project, "acsi", full * 9 + full[:2] + blank * 10) is None  # 29 complete answers: below min_n


# -- repeat contacts ------------------------------------------------------------------------------


def test_contacts_counts_every_offered_contact(project):
    rows = [contact(), contact(answered=False, talk_s=None), contact(channel="email", started_at=None)]
    assert value(project, "contacts", rows) == 3


def test_repeat_exactly_seven_days_later_counts_and_one_second_more_does_not(project):
    rows = [
        contact(customer_id=1),
        contact(customer_id=1, started_at=T0 + 7 * DAY),
        contact(customer_id=2),
        contact(customer_id=2, started_at=T0 + 7 * DAY + SECOND),
    ]
    # Customer 1's first contact repeats; nothing else does (the later contacts have no follower).
    assert value(project, "repeat_rate", rows) == pytest.approx(1 / 4)
    assert value(project, "fcr", rows) == pytest.approx(3 / 4)


def test_a_contact_in_the_same_second_or_of_another_customer_is_no_repeat(project):
    rows = [contact(customer_id=1), contact(customer_id=1), contact(customer_id=2, started_at=T0 + DAY)]
    assert value(project, "repeat_rate", rows) == 0.0


def test_an_abandoned_later_contact_is_a_repeat_but_only_answered_contacts_are_measured(project):
    rows = [contact(), contact(started_at=T0 + DAY, answered=False)]
    assert value(project, "repeat_rate", rows) == 1.0


def test_repeat_of_a_contact_without_customer_or_time_is_unknown(project):
    rows = [contact(customer_id=None), contact(started_at=None), contact(customer_id=1, started_at=T0 + DAY)]
    # Only the last contact is known (no follower): the unknown ones are left out of the share.
    assert value(project, "repeat_rate", rows) == 0.0


# -- handling -------------------------------------------------------------------------------------


def test_aht_averages_handle_time_of_answered_contacts(project):
    rows = [
        contact(talk_s=100.0, hold_s=20.0, wrap_s=30.0),
        contact(talk_s=50.0, hold_s=0.0, wrap_s=10.0),
        contact(answered=False, talk_s=500.0),
        contact(hold_s=None),
    ]
    assert value(project, "aht", rows) == pytest.approx((150 + 60) / 2)


def test_asa_is_the_wait_of_answered_live_contacts(project):
    rows = [
        contact(wait_s=10.0),
        contact(channel="chat", wait_s=30.0),
        contact(channel="email", wait_s=3600.0),
        contact(answered=False, wait_s=90.0),
    ]
    assert value(project, "asa", rows) == pytest.approx(20.0)


def test_service_level_counts_a_wait_of_exactly_20s_as_within(project):
    rows = [contact(wait_s=20.0), contact(wait_s=20.5), contact(wait_s=1.0), contact(answered=False, wait_s=40.0)]
    assert value(project, "service_level", rows) == pytest.approx(2 / 4)


def test_service_level_leaves_out_short_abandons_but_not_an_abandon_after_exactly_5s(project):
    rows = [contact(wait_s=10.0), contact(answered=False, wait_s=4.9), contact(answered=False, wait_s=5.0)]
    assert value(project, "service_level", rows) == pytest.approx(1 / 2)


def test_abandon_rate_leaves_out_short_abandons(project):
    rows = [
        contact(),
        contact(answered=False, wait_s=4.0),
        contact(answered=False, wait_s=5.0),
        contact(answered=False, wait_s=60.0, channel="email"),
    ]
    assert value(project, "abandon_rate", rows) == pytest.approx(1 / 2)


def test_transfer_rate_among_answered_contacts(project):
    rows = [
        contact(transferred=True),
        contact(transferred=False),
        contact(transferred=None),
        contact(answered=False, transferred=True),
    ]
    assert value(project, "transfer_rate", rows) == pytest.approx(1 / 2)


def test_team_with_only_email_has_a_row_with_null_live_metrics(project):
    rows = [contact(team="north"), contact(team="digital", channel="email")]
    result = {r["team"]: r for r in evaluate(project, rows, metrics=["asa", "contacts"], by=["team"])}
    assert result["digital"] == {"team": "digital", "asa": None, "contacts": 1}


# -- sales ----------------------------------------------------------------------------------------


def test_sales_conversion_among_answered_contacts(project):
    rows = [contact(sale=True), contact(sale=False), contact(sale=False), contact(answered=False, sale=None)]
    assert value(project, "sales_conversion", rows) == pytest.approx(1 / 3)


def test_sales_per_handle_hour(project):
    rows = [
        contact(sale=True, talk_s=600.0, wrap_s=0.0),
        contact(sale=True, talk_s=900.0, wrap_s=0.0),
        contact(sale=False, talk_s=300.0, wrap_s=0.0),
    ]
    assert value(project, "sales_per_hour", rows) == pytest.approx(2 / 0.5)


def test_no_sales_is_a_real_zero_and_no_handle_time_is_null(project):
    assert value(project, "sales_per_hour", [contact(sale=False)]) == 0.0
    zero_time = [contact(sale=True, talk_s=0.0, wrap_s=0.0, hold_s=0.0)]
    assert value(project, "sales_per_hour", zero_time) is None


# -- loyalty behaviour after a contact -------------------------------------------------------------


def order(**fields) -> dict:
    row = {"order_id": 1, "customer_id": 1, "ordered_at": T0 + DAY, "amount": 50.0, "cross_sell": False}
    return row | fields


def test_buy_again_window_is_strictly_after_and_at_most_30_days(project):
    rows = [contact(customer_id=c) for c in (1, 2, 3, 4, 5)]
    orders = [
        order(customer_id=1, ordered_at=T0),  # same second: no
        order(customer_id=2, ordered_at=T0 + 30 * DAY),  # exactly 30 days: yes
        order(customer_id=3, ordered_at=T0 + 30 * DAY + SECOND),  # one second late: no
        order(customer_id=4, ordered_at=T0 + SECOND, amount=-20.0),  # a refund: no
        order(customer_id=5, ordered_at=T0 - DAY),  # before: no
    ]
    assert value(project, "buy_again_30d", rows, orders) == pytest.approx(1 / 5)


def test_buy_more_needs_a_cross_sell(project):
    rows = [contact(customer_id=1), contact(customer_id=2)]
    orders = [order(customer_id=1, cross_sell=True), order(customer_id=2, cross_sell=False)]
    assert value(project, "buy_more_30d", rows, orders) == pytest.approx(1 / 2)


def test_spread_the_word_is_an_order_by_a_referred_customer(project):
    rows = [contact(customer_id=1), contact(customer_id=2)]
    orders = [order(customer_id=9, referred_by=1), order(customer_id=2, referred_by=None)]
    assert value(project, "spread_word_30d", rows, orders) == pytest.approx(1 / 2)


def test_loyalty_index_combines_nps_and_buy_again_after_aggregation(project):
    rows = answers("nps_score", [10, 10, 0], copies=10)
    orders = [order(customer_id=1)]
    nps = 100 * (20 / 30 - 10 / 30)
    assert value(project, "loyalty_index", rows, orders) == pytest.approx(0.5 * (nps + 100) / 200 + 0.5 * 1.0)
    assert value(project, "loyalty_index", rows[:3], orders) is None  # NPS below its min_n


def test_repeat_contacts_count_each_further_contact_in_the_seven_days(project):
    rows = [
        contact(customer_id=1),
        contact(customer_id=1, started_at=T0 + DAY),
        contact(customer_id=1, started_at=T0 + 7 * DAY),  # the window's last second: counts for the first
        contact(customer_id=1, started_at=T0 + 7 * DAY + SECOND, answered=False),  # counted, not measured
        contact(customer_id=2, started_at=T0),  # the same second of another customer: none
    ]
    # Followed within 7 days: the first by 2 (not by the fourth, a second late), the second by 2, the third by 1.
    assert value(project, "repeat_contacts_7d", rows) == pytest.approx((2 + 2 + 1 + 0) / 4)
    assert value(project, "repeat_contacts_7d", [contact()]) == 0  # a real zero, not null


def test_repeat_contacts_of_a_window_past_the_data_are_unknown_even_with_a_repeat_seen(project):
    last = contact(customer_id=2, started_at=T0 + 7 * DAY + 12 * 3600 * SECOND)  # the data ends here
    rows = [contact(customer_id=1), contact(customer_id=1, started_at=T0 + DAY), last]
    (row,) = evaluate(project, rows, metrics=["repeat_contacts_7d"], complete=False)
    # Only the first contact's 7 days end by the last contact; the second saw no repeat yet but is not 0.
    assert row == {"repeat_contacts_7d": 1.0, "provisional": True}


def churn_rows() -> tuple[list[dict], list[dict]]:
    rows = [
        contact(customer_id=1),  # ordered on day 90, the window's last second: stayed
        contact(customer_id=2),  # contacted again after 90 days and 1 second: churned
        contact(customer_id=2, started_at=T0 + 90 * DAY + SECOND),
        contact(customer_id=3),  # only a refund: churned
        contact(customer_id=4, started_at=T0 + 40 * DAY),  # an order seen, but its 90 days pass the data
    ]
    orders = [
        order(customer_id=1, ordered_at=T0 + 90 * DAY),
        order(customer_id=3, amount=-20.0),
        order(customer_id=4, ordered_at=T0 + 41 * DAY),
    ]
    return rows, orders


def test_churn_is_no_order_and_no_contact_within_ninety_days(project):
    rows, orders = churn_rows()
    # All windows complete: the late contact of customer 2 and customer 4's are churned and stayed.
    assert value(project, "churn_90d", rows, orders) == pytest.approx(3 / 5)


def test_churn_of_a_window_past_the_data_is_unknown_not_stayed(project):
    rows, orders = churn_rows()
    (row,) = evaluate(project, rows, orders, metrics=["churn_90d"], complete=False)
    # Known: customers 1, 2 (the first contact) and 3. Customer 4's order does not make its contact known: counting
    # it would let the stayers of the censored contacts in and keep the churned out.
    assert row == {"churn_90d": pytest.approx(2 / 3), "provisional": True}


def test_revenue_goes_to_the_team_of_the_last_contact_within_thirty_days(project):
    first = contact(customer_id=9, started_at=T0 - 60 * DAY)  # the contacts begin 60 days before the orders
    rows = [
        first,
        contact(customer_id=1, team="north", started_at=T0 - 10 * DAY),
        contact(customer_id=1, team="south", started_at=T0 - DAY),  # later: credited
        contact(customer_id=2, team="north", started_at=T0 - 30 * DAY - SECOND),  # a second too early
        contact(customer_id=3, team="north", started_at=T0 - 30 * DAY),  # exactly 30 days before: credited
        contact(customer_id=3, team="south", started_at=T0),  # the order's second: not before it
    ]
    orders = [
        order(customer_id=1, ordered_at=T0, amount=100.0),
        order(customer_id=2, ordered_at=T0, amount=40.0),
        order(customer_id=3, ordered_at=T0, amount=25.0),
        order(customer_id=3, ordered_at=T0, amount=-25.0),  # a refund: no revenue
    ]
    result = evaluate(project, rows, orders, metrics=["revenue_after_contact"], by=["team"])
    assert result == [
        {"team": "north", "revenue_after_contact": 25.0},
        {"team": "south", "revenue_after_contact": 100.0},
        {"team": None, "revenue_after_contact": None},  # customer 2's order, credited to no team
    ]
    assert value(project, "revenue_after_contact", rows, orders) == 125.0


def test_revenue_in_the_first_thirty_days_of_the_contacts_is_unknown(project):
    rows = [contact(customer_id=1, started_at=T0 - 20 * DAY), contact(customer_id=2, started_at=T0 - 40 * DAY)]
    orders = [order(customer_id=1, ordered_at=T0, amount=70.0), order(customer_id=2, ordered_at=T0 - 39 * DAY)]
    (row,) = evaluate(project, rows, orders, metrics=["revenue_after_contact"], complete=False)
    # 30 days before the first order reach before the first contact: unknown, so the total is pending.
    assert row == {"revenue_after_contact": 70.0, "provisional": True}


# -- grains ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "grain", "label"),
    [
        (datetime(2025, 12, 29, 0, 0), "week", "2026-W01"),
        (datetime(2025, 12, 28, 23, 59, 59), "week", "2025-W52"),
        (datetime(2027, 1, 1, 12), "week", "2026-W53"),
        (datetime(2026, 1, 4, 23, 59), "week", "2026-W01"),
        (datetime(2026, 3, 31, 23, 0), "month", "2026-03"),
        (datetime(2026, 4, 1), "quarter", "2026-Q2"),
        (datetime(2025, 12, 31, 23, 59), "year", 2025),
    ],
)
def test_grain_labels(project, moment, grain, label):
    (row,) = evaluate(project, [contact(started_at=moment)], metrics=["contacts"], grain=grain)
    assert row == {grain: label, "contacts": 1}


def test_contacts_by_team_and_week_across_the_new_year(project):
    rows = [
        contact(started_at=datetime(2025, 12, 28, 9)),
        contact(started_at=datetime(2025, 12, 29, 9)),
        contact(started_at=datetime(2026, 1, 4, 9)),
        contact(team="south", started_at=datetime(2026, 1, 5, 9)),
    ]
    result = evaluate(project, rows, metrics=["contacts"], by=["team"], grain="week")
    assert result == [  # every team has every week from the first to the last
        {"team": "north", "week": "2025-W52", "contacts": 1},
        {"team": "north", "week": "2026-W01", "contacts": 2},
        {"team": "north", "week": "2026-W02", "contacts": 0},
        {"team": "south", "week": "2025-W52", "contacts": 0},
        {"team": "south", "week": "2026-W01", "contacts": 0},
        {"team": "south", "week": "2026-W02", "contacts": 1},
    ]


# -- dashboards -----------------------------------------------------------------------------------

SURVEY_COLUMNS = ["nps_score", "csat_score", "effort_score", "fcr_reported", "acsi_satisfaction", "acsi_expectations"]


@pytest.mark.parametrize("board", ["agents", "voice_of_customer"])
def test_every_survey_metric_of_the_agent_and_voice_dashboards_waits_for_enough_answers(project, board):
    """An agent's quarter has a few dozen answers: a survey metric that graded one answer would rank agents by luck."""
    from metricdsl.semantics.graph import dependency_graph, impact

    graph = dependency_graph(project.model)
    survey = {node.split(":", 1)[1] for c in SURVEY_COLUMNS for node in impact(graph, f"column:interactions.{c}")}
    dashboard = project.definitions.dashboards[board]
    used = [name for name in dashboard.metrics if name in survey]
    assert {"nps", "csat", "ces", "acsi"} <= set(used)
    answered = {"nps_score": 10, "csat_score": 5, "effort_score": 1, "fcr_reported": True, "sentiment_score": 0.5}
    acsi = {"acsi_satisfaction": 9, "acsi_expectations": 9, "acsi_ideal": 9}
    rows = [contact(agent_id=1001, contact_reason="outage", **answered, **acsi) for _ in range(29)]
    (few,) = evaluate(project, rows, metrics=used, by=list(dashboard.by), grain=dashboard.grain)
    assert {name: few[name] for name in used} == dict.fromkeys(used)  # 29 answers: all null
    (enough,) = evaluate(project, [*rows, rows[0]], metrics=used, by=list(dashboard.by), grain=dashboard.grain)
    assert all(enough[name] is not None for name in used), enough
