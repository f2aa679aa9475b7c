"""Trend charts as a report draws them from the example's data: 6 teams and the centre over 13 ISO weeks, the last one
provisional, gaps where a team has too few answers, metrics with and without an interval, in every kind of unit."""

from __future__ import annotations

from metricdsl.render.html.charts import Threshold, TrendChart, TrendPoint
from metricdsl.render.values import format_value

CENTRE = "All teams"
TEAMS = ("north", "south", "east", "west", "digital", "retention")
WEEKS = tuple(f"2025-W{w}" for w in range(45, 53)) + tuple(f"2026-W0{w}" for w in range(1, 6))


def _wobble(team: int, week: int) -> float:
    """A fixed pseudo-random number in [-1, 1]: the same charts on every run."""
    return ((team * 7919 + week * week * 104729 + team * week * 613) % 201) / 100 - 1


def chart(
    name: str,
    label: str,
    unit: str | None,
    middle: float,
    spread: float,
    *,
    interval: float | None,
    thresholds: tuple[tuple[str, str, float], ...] = (),
    whole: bool = False,
    gaps: frozenset[tuple[str, int]] = frozenset({("east", 3), ("east", 4), ("west", 9)}),
    teams: tuple[str, ...] = TEAMS,
    weeks: tuple[str, ...] = WEEKS,
) -> TrendChart:
    """A metric's chart: values around `middle` (± `spread`), an interval of ± `interval` (None: none), the last week
    provisional, a gap at each of `gaps` (team, week index)."""
    points = []
    for g, who in enumerate((CENTRE, *teams)):
        for w, week in enumerate(weeks):
            value: float | None = middle + spread * _wobble(g, w) * (0.4 if who == CENTRE else 1)
            if whole and value is not None:
                value = round(value)  # a count, as an engine gives it
            if (who, w) in gaps:
                value = None
            width = None if interval is None or value is None else interval * (0.5 if who == CENTRE else 1)
            n = None if value is None else 40 + (g * 31 + w * 17) % 300
            points.append(
                TrendPoint(
                    period=week,
                    who=who,
                    value=value,
                    low=None if width is None or value is None else value - width,
                    high=None if width is None or value is None else value + width,
                    n=n,
                    provisional=w == len(weeks) - 1,
                )
            )
    return TrendChart(
        name=name,
        label=label,
        unit=unit,
        better="higher",
        centre=CENTRE,
        dimension="team",
        points=tuple(points),
        thresholds=tuple(
            Threshold(level, op, value, f"{op} {format_value(value, unit)}")  # type: ignore[arg-type]
            for level, op, value in thresholds
        ),
        description=f"{label}: {format_value(middle, unit)}, 13 weeks",
    )


def realistic_charts() -> list[TrendChart]:
    """One chart per kind of metric: a ratio, a duration in seconds and in minutes, points that go negative, a count
    and a rate without an interval, a plain number; one without thresholds."""
    return [
        chart(
            "csat",
            "Customer satisfaction",
            "ratio",
            0.66,
            0.08,
            interval=0.05,
            thresholds=(("target", ">=", 0.7), ("warn", "<", 0.65), ("fail", "<", 0.6)),
        ),
        chart("aht", "Average handle time", "s", 560, 60, interval=25, thresholds=(("warn", ">", 660), ("fail", ">", 900))),
        chart("asa_min", "Average speed of answer", "min", 0.4, 0.3, interval=0.1, thresholds=(("warn", ">", 0.5),)),
        chart("nps", "Net promoter score", "points", 4, 12, interval=8, thresholds=(("warn", "<", 10), ("fail", "<", 0))),
        chart("contacts", "Contacts", "contacts", 1200, 300, interval=None, whole=True),
        chart("sales_per_hour", "Sales per hour", "sales/h", 1.6, 0.5, interval=None, thresholds=(("target", ">=", 1.5),)),
        chart("loyalty_index", "Loyalty index", None, 0.43, 0.06, interval=None, thresholds=(("warn", "<", 0.4),)),
    ]
