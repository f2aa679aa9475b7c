"""Units of the language: duration literals, the time units of columns, and how units combine.

A unit is a string (`s`, `min`, `EUR`, `points`, or a compound such as `EUR/s` or `s*s`) or None for a
plain number. Durations are their own type, not a unit: `30s` is a duration literal, while a column declared
with `unit: s` holds numbers of seconds; the two meet only where the checker converts the literal into the
column's unit (see `TIME_UNITS`).
"""

from __future__ import annotations

from collections.abc import Callable

# Seconds in one of each suffix a duration literal may have: `500ms 20s 5m 5min 2h 7d 4w`.
DURATION_SECONDS: dict[str, float] = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

# Seconds in one of each time unit a column may be declared in (`unit: s`): a duration literal compared
# with, or added to, such a column becomes a number in its unit.
TIME_UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}

# How the unit of a function's value follows from the unit of its first argument.
UnitRule = Callable[[str | None], str | None]


def combine_units(op: str, left: str | None, right: str | None) -> str | None:
    """The unit of `left op right` for `op` one of `*`, `/` and `%` (sums need equal units: the checker
    compares them instead).

    `*` multiplies (`EUR*h`; a plain number keeps the other unit), `/` divides (`EUR/s`, `1/s`; a unit over
    itself is a plain number), `%` keeps the left unit.
    """
    if op == "%":
        return left
    if op == "*":
        return left if right is None else right if left is None else f"{left}*{right}"
    if left == right:
        return None
    if right is None:
        return left
    return f"{left or 1}/{right}"


def same_unit(unit: str | None) -> str | None:
    """The argument's unit: a sum, mean or quantile of seconds is in seconds."""
    return unit


def no_unit(unit: str | None) -> None:
    """No unit: a count, a share or a text."""
    return None


def squared_unit(unit: str | None) -> str | None:
    """The unit times itself, the unit of a variance: `s*s` for seconds, as `x * x` has it by `combine_units`.

    Units combine into products and quotients, so a squared unit is written as the product of the unit with
    itself. It is not a time unit: a variance of seconds compared with a duration (`variance(wait_s) > 5s`) is
    an error, as `wait_s * wait_s > 5s` is. None (a plain number) stays None."""
    return combine_units("*", unit, unit)
