"""Generate realistic, deterministic contact-center data for the standard library in ``specs/``.

Two tables match ``specs/sources.yaml`` column for column: ``interactions`` (one row per contact
offered: phone, chat or email) and ``orders`` (orders and refunds). The shape is that of a real
center over one quarter: six teams of different quality, business hours with daily and weekly
seasonality, short and long abandons, repeat contacts, sparse surveys whose scores follow the
contact's outcome, and orders, cross-sells and referrals that are likelier after a good contact.
Everything is vectorised with NumPy and Polars; the same seed gives the same files.

    python examples/generate.py --interactions 20000 --out examples/data --format csv
"""

from __future__ import annotations

import argparse
import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

DAY = 86_400
TEAMS = ["north", "south", "east", "west", "digital", "retention"]
TEAM_QUALITY = np.array([0.35, 0.10, -0.25, 0.00, 0.20, -0.15])  # drives every outcome
TEAM_AGENTS = np.array([24, 24, 20, 20, 20, 12])  # 120 agents, ids 1001..1120
CHANNELS, CHANNEL_P = ["phone", "chat", "email"], [0.55, 0.30, 0.15]
QUEUES, QUEUE_P = ["billing", "tech_support", "sales", "retention"], [0.35, 0.35, 0.20, 0.10]
REASONS = [  # three per queue, in queue order, drawn 50/30/20
    "invoice_question", "payment_issue", "refund_request",
    "connection_problem", "device_setup", "outage",
    "new_product", "upgrade", "price_inquiry",
    "cancellation", "complaint", "contract_renewal",
]  # fmt: skip
WEEKDAY_LOAD = [1.15, 1.05, 1.0, 1.0, 0.95, 0.45, 0.25]  # Monday first
HOLIDAY_LOAD = {(12, 24): 0.6, (12, 25): 0.15, (12, 26): 0.3, (12, 31): 0.6, (1, 1): 0.15}
LIVE_HOURS = np.array([0] * 7 + [3, 8, 12, 14, 13, 10, 11, 13, 12, 10, 8, 6, 4, 2] + [0] * 3, float)
EMAIL_HOURS = np.array([1] * 7 + [4] * 12 + [2] * 5, float)
TALK_MEDIAN, WRAP_MEDIAN = np.array([330.0, 540.0, 300.0]), np.array([45.0, 30.0, 90.0])  # by channel
QUEUE_TALK = np.array([0.9, 1.3, 1.1, 1.2])
SALE_P, SALE_MEDIAN = np.array([0.02, 0.03, 0.25, 0.15]), np.array([45.0, 45.0, 120.0, 60.0])  # by queue
RESPONSE_P = np.array([0.15, 0.22, 0.25])  # survey response rate by channel
ITEM_RESPONSE = {"fcr_reported": 0.90, "nps_score": 0.93, "csat_score": 0.96, "effort_score": 0.88}
# The three ACSI items on the 1-10 scale, asked together in 85 % of the surveys: each item's answer rate when asked,
# and its mean answer at an average contact (a contact rates lower against expectations, and lower still against
# the ideal, than it does on satisfaction).
ACSI_ASKED = 0.85
ACSI_ITEMS = {"acsi_satisfaction": (0.96, 7.9), "acsi_expectations": (0.95, 7.4), "acsi_ideal": (0.94, 6.9)}
REPEAT_P = 0.15  # share of contacts that follow up an earlier contact of the same customer
# Follow-up delay: 0..6 calendar days later, exactly 7 days to the second, or 8..20 days later.
REPEAT_DAY_P = [0.22, 0.20, 0.15, 0.11, 0.09, 0.07, 0.05, 0.03, 0.08]

Arrays = dict[str, np.ndarray]


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    """``n`` log-normal draws around ``median``: durations, waits and amounts."""
    return median * np.exp(sigma * rng.standard_normal(n))


def _draw(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """``k`` indices drawn with replacement, proportionally to ``weights``, in index order."""
    return np.repeat(np.arange(len(weights)), rng.multinomial(k, weights / weights.sum()))


def _pick(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct indices drawn proportionally to ``weights``."""
    keys = rng.exponential(size=len(weights)) / weights  # Efraimidis-Spirakis: keep the k smallest
    return np.sort(np.argpartition(keys, k - 1)[:k]) if k < len(weights) else np.arange(k)


def _clock(rng: np.random.Generator, email: np.ndarray) -> np.ndarray:
    """Second of the day of each contact: business hours for live contacts, around the clock for email."""
    n = len(email)
    live = rng.choice(24, n, p=LIVE_HOURS / LIVE_HOURS.sum())
    mail = rng.choice(24, n, p=EMAIL_HOURS / EMAIL_HOURS.sum())
    return np.where(email, mail, live) * 3600 + rng.integers(0, 3600, n)


def _day_weights(start: date, weeks: int) -> np.ndarray:
    """Probability of each day of the period: quiet weekends, quieter holidays."""
    days = [start + timedelta(d) for d in range(weeks * 7)]
    load = [WEEKDAY_LOAD[d.weekday()] * HOLIDAY_LOAD.get((d.month, d.day), 1.0) for d in days]
    return np.array(load) / sum(load)


def _contacts(rng: np.random.Generator, n: int) -> Arrays:
    """What happens in each contact: who takes it, how long it waits, what the agent does."""
    channel = rng.choice(3, n, p=CHANNEL_P)
    queue = rng.choice(4, n, p=QUEUE_P)
    reason = queue * 3 + rng.choice(3, n, p=[0.5, 0.3, 0.2])
    u = rng.random(n)  # retention queue -> retention team, chat/email -> digital, else a phone team
    phone_team = rng.choice(4, n, p=TEAM_AGENTS[:4] / TEAM_AGENTS[:4].sum())
    team = np.where((queue == 3) & (u < 0.85), 5, np.where((channel > 0) & (u < 0.8), 4, phone_team))
    agent = (np.cumsum(TEAM_AGENTS) - TEAM_AGENTS)[team] + (rng.random(n) * TEAM_AGENTS[team]).astype(int)
    quality = TEAM_QUALITY[team] + rng.normal(0, 0.15, TEAM_AGENTS.sum())[agent]

    live = channel < 2
    answered = rng.random(n) >= np.where(live, 0.075 - 0.05 * quality, 0.005)
    kind = rng.random(n)  # of abandons, 40 % hang up within 5 s and 5 % at exactly 5.0 s
    abandon_wait = np.where(kind < 0.4, rng.uniform(0.5, 4.9, n), 5.0 + _lognormal(rng, 70, 0.8, n))
    abandon_wait[(kind >= 0.4) & (kind < 0.45)] = 5.0
    answer_wait = _lognormal(rng, np.where(channel == 0, 9.0, 14.0) * np.exp(-quality), 0.9, n)
    answer_wait[kind < 0.02] = 20.0
    email_wait = np.where(answered, _lognormal(rng, 3 * 3600 * np.exp(-0.5 * quality), 0.9, n),
                          rng.uniform(2, 5, n) * DAY)  # fmt: skip
    wait = np.where(live, np.where(answered, answer_wait, abandon_wait).round(1), email_wait.round())
    long_wait = wait > np.where(live, 60, 12 * 3600)

    talk = _lognormal(rng, TALK_MEDIAN[channel] * QUEUE_TALK[queue] * np.exp(-0.15 * quality), 0.55, n)
    hold = np.where((channel == 0) & (rng.random(n) < 0.35), _lognormal(rng, 50, 0.7, n), 0.0)
    wrap = _lognormal(rng, WRAP_MEDIAN[channel], 0.5, n)
    transferred = rng.random(n) < 0.10 - 0.08 * quality + 0.05 * (queue == 1)
    sale = answered & (rng.random(n) < SALE_P[queue] * np.exp(0.5 * quality))
    sale_amount = _lognormal(rng, SALE_MEDIAN[queue], 0.6, n).round(2)
    # How likely the customer is to come back: abandons, transfers and long waits raise it.
    trouble = np.exp(-quality + 1.5 * ~answered + 0.8 * (answered & transferred) + 0.5 * long_wait)
    return {
        "channel": channel, "queue": queue, "reason": reason, "team": team, "agent": agent,
        "quality": quality, "answered": answered, "wait": wait, "long_wait": long_wait,
        "talk": talk.round(), "hold": hold.round(), "wrap": wrap.round(), "transferred": transferred,
        "sale": sale, "sale_amount": sale_amount, "trouble": trouble,
    }  # fmt: skip


def _timeline(
    rng: np.random.Generator, c: Arrays, activity: np.ndarray, start_s: int, day_p: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Customer and start time (epoch seconds) of each contact, follow-ups after troubled contacts."""
    n, end_s = len(c["channel"]), start_s + len(day_p) * DAY
    email = c["channel"] == 2
    customer, t = np.empty(n, np.int64), np.empty(n, np.int64)
    lo = n - int(n * REPEAT_P)  # first contacts, then rounds of follow-ups of the round before
    customer[:lo] = 1 + rng.permutation(_draw(rng, activity, lo))
    t[:lo] = start_s + rng.choice(len(day_p), lo, p=day_p) * DAY + _clock(rng, email[:lo])
    prev = slice(0, lo)
    while lo < n:
        k = min(n - lo, max(1, round((prev.stop - prev.start) * REPEAT_P)))
        parent = prev.start + _pick(rng, c["trouble"][prev], k)
        child = slice(lo, lo + k)
        customer[child] = customer[parent]
        t[child] = _follow_up(rng, t[parent], c["answered"][parent], email[child], start_s, end_s)
        prev, lo = child, lo + k
    return customer, t


def _follow_up(
    rng: np.random.Generator, parent: np.ndarray, answered: np.ndarray, email: np.ndarray,
    start_s: int, end_s: int,
) -> np.ndarray:  # fmt: skip
    """Start times of follow-up contacts; one that would fall after the period comes as many days before."""
    k = len(parent)
    days = rng.choice(len(REPEAT_DAY_P), k, p=REPEAT_DAY_P)
    days = np.where(days == 8, rng.integers(8, 21, k), days)
    t = parent // DAY * DAY + days * DAY + _clock(rng, email)
    t = np.where(t <= parent, t + DAY, t)
    t = np.where(days == 7, parent + 7 * DAY, t)
    callback = ~answered & (rng.random(k) < 0.6)  # most who hang up try again within minutes
    t = np.where(callback, parent + 60 + rng.exponential(900, k).astype(np.int64), t)
    days_after = -((parent - t) // DAY)  # rounded up, so that moving back keeps the time of day
    return np.clip(np.where(t >= end_s, t - 2 * days_after * DAY, t), start_s, end_s - 1)


def _repeated(customer: np.ndarray, t: np.ndarray) -> np.ndarray:
    """True where the same customer contacts again within 7 days: the outcome surveys react to."""
    order = np.argsort(customer * (t.max() - t.min() + 1) + (t - t.min()), kind="stable")
    cs, ts = customer[order], t[order]
    flag = np.append((cs[1:] == cs[:-1]) & (np.diff(ts) <= 7 * DAY), False)
    out = np.empty_like(flag)
    out[order] = flag
    return out


def _surveys(rng: np.random.Generator, c: Arrays, repeat: np.ndarray) -> tuple[Arrays, Arrays, np.ndarray]:
    """Survey and analytics scores, where each is known, and the latent satisfaction of each contact."""
    n = len(repeat)
    z = c["quality"] + rng.normal(0, 0.8, n) - 0.9 * repeat - 0.5 * c["long_wait"]
    z += 0.4 * c["sale"] - 0.6 * c["transferred"]
    scores = {
        "fcr_reported": rng.random(n) < 1 / (1 + np.exp(-1.0 - 1.5 * z)),
        "nps_score": np.clip(np.rint(8.3 + 1.8 * z + rng.normal(0, 1.2, n)), 0, 10).astype(np.int64),
        "csat_score": np.clip(np.rint(4.2 + 0.9 * z + rng.normal(0, 0.7, n)), 1, 5).astype(np.int64),
        "effort_score": np.clip(np.rint(2.2 - 0.8 * z + rng.normal(0, 0.7, n)), 1, 5).astype(np.int64),
        "sentiment_score": np.tanh(0.15 + 0.35 * z + rng.normal(0, 0.3, n)).round(2),
    }
    surveyed = c["answered"] & (rng.random(n) < RESPONSE_P[c["channel"]])
    known = {col: surveyed & (rng.random(n) < p) for col, p in ITEM_RESPONSE.items()}
    known["sentiment_score"] = c["answered"] & ((c["channel"] < 2) | (rng.random(n) < 0.5))
    return scores, known, z


def _additions(seed: int, c: Arrays, known: Arrays, z: np.ndarray, t: np.ndarray, start_s: int) -> tuple[Arrays, Arrays]:
    """Columns added to the data after its first release, and where each is known: the ACSI survey items
    (answered in some of the surveys, as the other items are) and each agent's tenure.

    They are drawn from a generator of their own (the seed and a stream number), so that the columns drawn
    before them keep their values: adding a column never changes another one.
    """
    rng = np.random.default_rng([seed, 1])
    n = len(z)
    surveyed = np.logical_or.reduce([known[col] for col in ITEM_RESPONSE])
    items = {
        col: np.clip(np.rint(mean + 2.0 * z + rng.normal(0, 1.1, n)), 1, 10).astype(np.int64)
        for col, (_, mean) in ACSI_ITEMS.items()
    }
    asked = surveyed & (rng.random(n) < ACSI_ASKED)
    answered = {col: asked & (rng.random(n) < p) for col, (p, _) in ACSI_ITEMS.items()}
    # Tenure in whole months at the contact: hired before the quarter, months from 1 to about 15 years, long
    # tail of veterans, and better agents (of their team) have stayed longer.
    agents = TEAM_AGENTS.sum()
    agent_quality = np.zeros(agents)
    agent_quality[c["agent"]] = c["quality"] - TEAM_QUALITY[c["team"]]
    hired = np.clip(_lognormal(rng, 20.0 * np.exp(3.0 * agent_quality), 0.9, agents), 1, 180)
    tenure = np.floor(hired[c["agent"]] + (t - start_s) / (30.44 * DAY)).astype(np.int64)
    return {**items, "agent_tenure_months": tenure}, answered


def _orders(
    rng: np.random.Generator, c: Arrays, z: np.ndarray, customer: np.ndarray, t: np.ndarray,
    n_customers: int, horizon: tuple[int, int],
) -> pl.DataFrame:  # fmt: skip
    """Sales closed in contacts, orders after good contacts, referrals, other orders, refunds."""
    m = round(len(t) / 4)
    sold = np.flatnonzero(c["sale"])
    sold = np.sort(rng.choice(sold, min(len(sold), m // 2), replace=False))
    n_sold, n_refund, n_referral = len(sold), m // 25, m // 20
    n_after = (m - n_sold - n_refund - n_referral) // 2
    n_other = m - n_sold - n_refund - n_referral - n_after
    good = np.where(c["answered"], np.exp(1.5 * z), 0.05)
    after, referrer = _draw(rng, good, n_after), _draw(rng, good**1.5, n_referral)
    late = rng.random(n_after) >= 0.85  # some buy again only after the 30 days
    delay = np.where(late, rng.uniform(31, 75, n_after) * DAY, rng.exponential(7 * DAY, n_after))
    cust = np.concatenate([
        customer[sold], customer[after],
        2 * n_customers + 1 + np.arange(n_referral),  # a referral brings a new customer
        1 + rng.integers(0, 2 * n_customers, n_other),  # half of these never contact the center
    ])  # fmt: skip
    when = np.concatenate([
        t[sold] + c["wait"][sold] + c["talk"][sold] + rng.integers(60, 900, n_sold),
        t[after] + 60 + delay,
        t[referrer] + 60 + rng.exponential(6 * DAY, n_referral),
        rng.integers(*horizon, n_other),
    ]).astype(np.int64)  # fmt: skip
    bought = _lognormal(rng, 60, 0.8, m - n_sold - n_refund - n_other).round(2)
    amount = np.concatenate([c["sale_amount"][sold], bought, _lognormal(rng, 45, 0.9, n_other).round(2)])
    cross_p = np.repeat([0.35, 0.25, 0.0, 0.12], [n_sold, n_after, n_referral, n_other])
    referred_by = np.repeat([0, -1, 0], [n_sold + n_after, n_referral, n_other])
    referred_by[referred_by < 0] = customer[referrer]
    base = rng.integers(0, len(cust), n_refund)  # a refund returns all or part of an earlier order
    share = np.where(rng.random(n_refund) < 0.6, 1.0, rng.uniform(0.2, 0.8, n_refund))
    refund_at = when[base] + rng.integers(DAY, 21 * DAY, n_refund)
    orders = pl.DataFrame({
        "customer_id": np.concatenate([cust, cust[base]]),
        "ordered_at": np.minimum(np.concatenate([when, refund_at]), horizon[1] - 1),
        "amount": np.concatenate([amount, -(amount[base] * share).round(2)]),
        "cross_sell": np.concatenate([rng.random(len(cust)) < cross_p, np.zeros(n_refund, bool)]),
        "referred_by": np.concatenate([referred_by, np.zeros(n_refund, np.int64)]),
    })  # fmt: skip
    return (
        orders.with_columns(
            pl.from_epoch("ordered_at", time_unit="s"),
            pl.when(pl.col("referred_by") > 0).then("referred_by").alias("referred_by"),
        )
        .sort("ordered_at", maintain_order=True)
        .select(pl.int_range(1, m + 1, dtype=pl.Int64).alias("order_id"), pl.all())
    )


def generate(
    n_interactions: int, *, seed: int = 7, start: date = date(2025, 11, 3), weeks: int = 13
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return ``(interactions, orders)``: ``n_interactions`` contacts over ``weeks`` weeks from ``start``.

    There are about a quarter as many orders, and they run 30 days past the period so that every
    contact has a complete 30-day window to buy again. The same seed gives the same tables.
    """
    rng = np.random.default_rng(seed)
    start_s = (start - date(1970, 1, 1)).days * DAY
    day_p = _day_weights(start, weeks)
    n_customers = max(1, n_interactions // 3)
    activity = rng.lognormal(0, 0.6, n_customers)  # some customers call far more often than others
    c = _contacts(rng, n_interactions)
    customer, t = _timeline(rng, c, activity, start_s, day_p)
    del c["trouble"]  # used up by the timeline: no need to sort it
    order = np.argsort(t, kind="stable")  # stable: the same order on every CPU; ids follow time
    customer, t = customer[order], t[order]
    for key in c:
        c[key] = c[key][order]
    scores, known, z = _surveys(rng, c, _repeated(customer, t))
    orders = _orders(rng, c, z, customer, t, n_customers, (start_s, start_s + (weeks * 7 + 30) * DAY))
    added, added_known = _additions(seed, c, known, z, t, start_s)
    interactions = pl.DataFrame({  # columns in the order of specs/sources.yaml
        "interaction_id": np.arange(1, n_interactions + 1), "customer_id": customer,
        "agent_id": 1001 + c["agent"], "team": pl.Series(TEAMS).gather(c["team"]),
        "channel": pl.Series(CHANNELS).gather(c["channel"]), "queue": pl.Series(QUEUES).gather(c["queue"]),
        "contact_reason": pl.Series(REASONS).gather(c["reason"]),
        "started_at": pl.from_epoch(pl.Series(t), time_unit="s"), "answered": c["answered"],
        "wait_s": c["wait"], "talk_s": c["talk"], "hold_s": c["hold"], "wrap_s": c["wrap"],
        "transferred": c["transferred"], **scores, "sale": c["sale"], "sale_amount": c["sale_amount"],
        **added,
    })  # fmt: skip
    answered_only = ["talk_s", "hold_s", "wrap_s", "transferred", "sale"]
    return (
        interactions.with_columns(
            *(pl.when(pl.col("answered")).then(col).alias(col) for col in answered_only),
            *(pl.when(pl.Series(mask)).then(col).alias(col) for col, mask in {**known, **added_known}.items()),
            pl.when(pl.col("sale")).then("sale_amount").alias("sale_amount"),
        ),
        orders,
    )


def _write(df: pl.DataFrame, path: Path) -> None:
    """Write ``df`` as CSV or Parquet (by suffix) to a temporary file beside ``path``, then rename it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if path.suffix == ".csv":
            df.write_csv(tmp, datetime_format="%Y-%m-%dT%H:%M:%S")
        else:
            df.write_parquet(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    """Command line: generate both tables and write them to ``--out``."""
    parser = argparse.ArgumentParser(description="Generate the example contact-center data.")
    parser.add_argument("--interactions", type=int, default=20_000, metavar="N", help="(default 20000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data", metavar="DIR",
                        help="output folder (default examples/data)")  # fmt: skip
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv", help="(default csv)")
    args = parser.parse_args(argv)
    if args.interactions < 1:
        parser.error("--interactions must be at least 1")
    interactions, orders = generate(args.interactions, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, df in [("interactions", interactions), ("orders", orders)]:
        _write(df, args.out / f"{name}.{args.format}")


if __name__ == "__main__":
    main()
