"""NDJSON files that Polars cannot read: the line at fault, found by reading the file again, a line at a time.

Polars' JSON errors name a character of its buffer (`InvalidNumber at character 16`), not a line. Once a read
has failed, `ndjson_problem` finds the first line that is not UTF-8, not JSON, not an object, or holds a number
that is not finite (`NaN`, `Infinity`, `1e400`), which Polars refuses too. It says why without quoting the line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path


class _NotFinite(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite
    return value


def _refused(_: str) -> float:
    raise _NotFinite


def ndjson_problem(path: Path) -> str | None:
    """`line N: why` for the first line of `path` that is not a JSON object of finite numbers; None when every
    line (blank ones aside) is one."""
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                return f"line {number}: not UTF-8 text"
            if not line.strip():
                continue
            try:
                value = json.loads(line.rstrip("\r\n"), parse_float=_finite, parse_constant=_refused)
            except _NotFinite:
                return f"line {number}: a number that JSON cannot hold (NaN, Infinity, or beyond a float's range)"
            except ValueError as error:
                where = f" at column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
                return f"line {number}: not valid JSON ({getattr(error, 'msg', 'malformed')}{where})"
            if not isinstance(value, dict):
                return f"line {number}: not a JSON object"
    return None
