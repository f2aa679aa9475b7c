"""Values as text, by their unit: `7m 12s` for seconds, `41.2%` for ratios, `1,234.5 EUR` for money."""

from __future__ import annotations

import math

from metricdsl.language.units import TIME_UNITS


def format_value(value: float | None, unit: str | None) -> str:
    """A value in its unit: `7m 12s` for seconds, `41.2%` for ratios, `41.2` for points; `n/a` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit is not None and unit in TIME_UNITS:
        seconds = value * TIME_UNITS[unit]
        minutes, rest = divmod(round(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {rest:02d}s" if minutes else f"{seconds:.1f}s"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    text = f"{value:,.0f}" if isinstance(value, int) else f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    return text if unit in (None, "points") else f"{text} {unit}"


def format_signed(value: float, unit: str | None) -> str:
    """A change in its unit, with its sign: `+1m 05s`, `-2.0%`."""
    return ("+" if value >= 0 else "-") + format_value(abs(value), unit)


def format_percent_change(value: float) -> str:
    """A relative change as a signed percentage: `+5.0%`."""
    return f"{value * 100:+.1f}%"


def counted(count: int, noun: str) -> str:
    """A count and its noun, singular for one: `1 row`, `3 rows`, `0 files`."""
    return f"{count} {noun}{'s' if count != 1 else ''}"


def format_count(value: float) -> str:
    """A number of observations: `1,204`."""
    return f"{int(value):,}"
