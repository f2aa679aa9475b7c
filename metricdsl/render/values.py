"""Values as text, by their unit: `7m 12s` for seconds, `41.2%` for ratios, `1,234.5 EUR` for money.

One formatter for every output (the terminal, Markdown, GitHub annotations, the HTML report): a value
(`format_value`), a change between two values (`format_change`: a ratio's in percentage points, `+0.4 pts`) and a
threshold (`format_threshold`: `< 60%`, `> 11m 00s`), each in the metric's unit.
"""

from __future__ import annotations

import math
import re

from metricdsl.language.units import DURATION_SECONDS, TIME_UNITS

# A threshold as grading writes it (`< 0.6`, `> 11m`, `< -10`): a comparison and a number, maybe a duration literal.
_THRESHOLD = re.compile(
    r"\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<number>[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?)"
    r"(?P<suffix>ms|min|s|m|h|d|w)?\s*"
)


def format_value(value: float | None, unit: str | None, *, digits: int | None = None, bare: bool = False) -> str:
    """A value in its unit: `7m 12s` for seconds, `41.2%` for ratios, `41.2` for points; `n/a` for none.

    A plain number has `digits` after the point when given (a table's column writes all its numbers alike), else
    three significant digits under 10 and one after the point from 10 on; `bare` leaves out a unit that is not a
    time or a ratio (a table writes it once, in the header)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    if unit is not None and unit in TIME_UNITS:
        return _duration(settled(value * TIME_UNITS[unit]))
    if unit == "ratio":
        return _zero_unsigned(f"{settled(value * 100):,.1f}") + "%"
    value = settled(value)
    if digits is not None:
        text = f"{value:,.{digits}f}"
    else:
        text = f"{value:,.0f}" if isinstance(value, int) else f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    text = _zero_unsigned(text)
    return text if bare else _with_unit(text, unit)


NOISE = 1e-12  # a value closer to zero than this is a sum's rounding error around zero: it is written as zero


def settled(value: float) -> float:
    """`value` to twelve significant digits, and 0 within `NOISE` of it: the last bits of a float depend on the order a
    sum was taken in (two engines, two runs of one), so a value on a rounding tie (`0.08109375`) would be written one
    way or the other, and a mean of zero `-5.55e-18` by one engine and `0` by another; twelve digits are far more
    than any text shows, and settle such a tie the same way every time."""
    if isinstance(value, int) or not math.isfinite(value):
        return value
    return 0.0 if abs(value) < NOISE else float(f"{value:.12g}")


def column_digits(values: list[float | None]) -> int:
    """The digits after the point that a column of plain numbers is written with: none when all are whole, one
    when the largest is 10 or more, else two."""
    given = [v for v in values if v is not None and math.isfinite(v)]
    if all(float(v).is_integer() for v in given):
        return 0
    return 1 if max(abs(v) for v in given) >= 10 else 2


def unit_header(header: str, unit: str | None) -> str:
    """A column's header with its unit when the values are written bare and the header does not say it:
    `Sales per handle hour (sales/h)`, but `Contacts offered`; a time, a ratio or points need none."""
    if unit is None or unit in TIME_UNITS or unit in ("ratio", "points") or unit.lower() in header.lower():
        return header
    return f"{header} ({unit})"


def format_change(delta: float | None, unit: str | None) -> str:
    """A change between two values of a metric, signed, in what a reader compares: a ratio's in percentage points
    (`+0.4 pts`), a duration's in seconds and minutes (`-9s`, `+0.4s` under a second, `+1m 05s`), a whole number's
    whole (`-162`); a change that rounds to nothing has no sign (`0.0 pts`, `0s`)."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return "n/a"
    if math.isinf(delta):
        return "-inf" if delta < 0 else "+inf"
    if unit == "ratio":
        return _signed(f"{settled(delta * 100):.1f}", " pts")
    if unit is not None and unit in TIME_UNITS:
        seconds = settled(delta * TIME_UNITS[unit])
        if abs(seconds) < 0.95:  # under a second, which rounding to whole seconds would write `+0s`
            return _signed(f"{seconds:.1f}".removesuffix(".0"), "s")
        if abs(seconds) < 59.5:
            return _signed(f"{seconds:.0f}", "s")
        return ("+" if seconds > 0 else "-") + _duration(abs(seconds))
    delta = settled(delta)
    whole = float(delta).is_integer()
    text = f"{delta:,.0f}" if whole else f"{delta:,.1f}" if abs(delta) >= 10 else f"{delta:.3g}"
    return _with_unit(_signed(text, ""), unit)


def format_threshold(op: str, value: float, unit: str | None) -> str:
    """A threshold in the metric's unit, as few digits as it was written with: `< 60%`, `> 11m 00s`, `< -10`."""
    if not math.isfinite(value):
        return f"{op} {value}"
    if unit == "ratio":
        return f"{op} {_trimmed(value * 100)}%"
    if unit is not None and unit in TIME_UNITS:
        return f"{op} {_duration(value * TIME_UNITS[unit])}"
    return f"{op} {_with_unit(_trimmed(value), unit)}"


def threshold_bound(text: str, unit: str | None) -> tuple[str, float] | None:
    """The comparison and number of a threshold's text as grading writes it (`< 0.6`: `("<", 0.6)`), the number in
    the metric's unit (`> 11m` of a metric in seconds: `(">", 660.0)`); None for any other threshold (`between`,
    `in`, an expression, a duration of a metric not in a time unit), which is shown as written."""
    match = _THRESHOLD.fullmatch(text)
    if match is None:
        return None
    number = float(match["number"].replace("_", ""))
    suffix = match["suffix"]
    if suffix is None:
        return match["op"], number
    if unit is None or unit not in TIME_UNITS:
        return None
    return match["op"], number * DURATION_SECONDS[suffix] / TIME_UNITS[unit]


def threshold_text(text: str, unit: str | None) -> str:
    """A threshold's text in the metric's unit (`< 0.6` of a ratio: `< 60%`), or as written when it is not one
    comparison with a number (see `threshold_bound`)."""
    bound = threshold_bound(text, unit)
    return text if bound is None else format_threshold(*bound, unit)


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


def _duration(seconds: float) -> str:
    """`1h 02m`, `7m 12s`, `45.2s`, `45s` (a tenth of a second shown only when there is one), `-1m 30s`."""
    sign = "-" if seconds < 0 and round(abs(seconds), 1) > 0 else ""
    seconds = abs(seconds)
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {rest:02d}s"
    return f"{sign}{f'{seconds:.1f}'.removesuffix('.0')}s"


def _signed(number: str, suffix: str) -> str:
    """`number` with a `+` when positive, and no sign when it reads as zero (`-0.0` is `0.0`)."""
    digits = number.lstrip("+-")
    if not digits or not any(c in "123456789" for c in digits.split("e")[0]):
        return digits + suffix
    return ("-" if number.startswith("-") else "+") + digits + suffix


def _zero_unsigned(number: str) -> str:
    """`number` without its `-` when it reads as zero: `-0.0` (of -0.0004) is `0.0`."""
    return number[1:] if number.startswith("-") and not any(c in "123456789" for c in number.split("e")[0]) else number


def _trimmed(value: float) -> str:
    """A number with the digits it needs, at most four after the point: `60`, `7.5`, `-10`, `1,200`."""
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _with_unit(text: str, unit: str | None) -> str:
    return text if unit in (None, "points") else f"{text} {unit}"
