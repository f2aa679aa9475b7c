"""Memory limits: sizes as people write them, the machine's memory, and how many buckets keep a request within one.

`4GB`, `512MiB`, `1.5 GiB`, `2000000000` (bytes): units with an `i` are powers of 1024, the others powers of 1000.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}
BINARY = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i)?b?|(b)?)\s*$", re.IGNORECASE)

# What one row of a source with windows costs while its windows are computed in one piece, in bytes: each column it
# carries (the frame, held for its window columns to be set beside it) and the stack of its key, time, number and
# flags with the sort's keys and indices. The dashboard of benchmarks/ (16 columns) peaked at about 140 to 170 bytes a
# row (1M to 62.5M rows, the whole process): this estimate, 248 bytes, leaves a margin.
BYTES_PER_COLUMN = 8
BYTES_PER_STACKED_ROW = 120
# What one row costs in a bucket: the stack alone, as the rows' other columns stay on disk until the aggregation. The
# dashboard of benchmarks/ at 62.5M rows (50M contacts and their orders, 4GB) peaked at 1.11, 1.48 and 1.87 GiB in 8,
# 4 and 3 buckets: about 0.65 GiB and 63 bytes a row of a bucket; this estimate leaves a margin. Every bucket costs a
# pass over the rows spilled (8 buckets took 1.50 times as long as one piece, 3 buckets 1.14 times), so they are as
# few as the limit allows.
BYTES_PER_BUCKET_ROW = 96
# The most buckets, whatever the limit: each bucket is a file written at once while the rows are split, and a scan
# merged into the order of the rows. From about 1024 buckets (the example data at a limit of one byte: 1024 once in
# three runs, 1536 and 2048 every time), Polars warned that its threads for blocking work ran out
# (`POLARS_MAX_BLOCKING_THREAD_COUNT reached (512), this may indicate a deadlock`); 256 leaves a margin of four. Beyond
# it a bucket holds more rows than the limit allows, which needs about a billion rows at a limit of 1GB.
MAX_BUCKETS = 256
# What a row costs while the rows are split into buckets by Polars' streaming sink, in bytes: it held more memory the
# more rows it had written (0.22 GiB at 1M rows of 16 columns, 0.56 GiB at 6M, 1.04 GiB at 50M in 3 buckets, the whole
# process), so they are split a slice at a time. Each slice is a pass over the input (a slice of files read as one
# table is not pushed into their scans): at 50M rows, five slices took 31.6 s and peaked at 1.37 GiB, one pass 26.5 s
# and 1.04 GiB. So a slice is as large as half the limit allows.
BYTES_PER_SPLIT_ROW = 25


def parse_size(text: str | int) -> int:
    """A size in bytes from `4GB`, `512MiB`, `1.5 GiB` or a whole number of bytes (an int or its digits);
    ValueError when it is none: a float (`1.5` would be read as one byte), a fraction of a byte, no size at all."""
    if isinstance(text, bool) or not isinstance(text, (int, str)):
        raise ValueError(
            f"not a size: {text!r} is a {type(text).__name__}; give a whole number of bytes or a text such as "
            "'4GB' or '512MiB'"
        )
    if isinstance(text, int):
        if text <= 0:
            raise ValueError(f"a memory limit must be positive, not {text}")
        return text
    found = SIZE.match(text)
    if found is None:
        raise ValueError(f"not a size: {text!r} (write it as 4GB, 512MiB or a number of bytes)")
    number, prefix, binary = float(found.group(1)), (found.group(2) or "").lower(), found.group(3)
    if not prefix and not number.is_integer():
        raise ValueError(f"not a size: {text!r} is not a whole number of bytes (write it as 4GB, 512MiB or 2000)")
    size = int(number * (BINARY[prefix] if binary else UNITS[prefix]))
    if size <= 0:
        raise ValueError(f"a memory limit must be positive, not {text!r}")
    return size


def machine_memory() -> int | None:
    """This machine's physical memory in bytes, when the system says; a container's limit (cgroup v2) when lower."""
    try:
        total: int | None = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = None
    try:
        limited = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    if limited.isdigit() and (total is None or int(limited) < total):
        return int(limited)
    return total


def default_limit() -> int | None:
    """The memory a request may use when none is given: half of the machine's."""
    total = machine_memory()
    return total // 2 if total else None


def working_set(rows: int, columns: int) -> int:
    """The bytes that computing the windows of `rows` rows, carrying `columns` columns, is estimated to need."""
    return rows * (BYTES_PER_STACKED_ROW + BYTES_PER_COLUMN * columns)


def buckets_for(rows: int, columns: int, limit: int) -> int:
    """How many buckets of keys keep the windows of `rows` rows with `columns` columns within `limit` bytes: 1 when
    they fit in one piece (`working_set`); else enough for a bucket's share of the rows (BYTES_PER_BUCKET_ROW each) to
    fit within half the limit (the other half for splitting the rows, the aggregation and Polars' own), and at least
    2."""
    if working_set(rows, columns) <= limit:
        return 1
    return min(MAX_BUCKETS, max(2, math.ceil(rows * BYTES_PER_BUCKET_ROW / (limit / 2))))


def slice_rows(limit: int) -> int:
    """How many rows to split into buckets at a time within half of `limit` bytes (at least a million): nothing else
    is held while the rows are split."""
    return max(1_000_000, limit // (2 * BYTES_PER_SPLIT_ROW))
