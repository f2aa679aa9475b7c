"""A Parquet file of earlier runs' metric values per group and period, so that `prev()` needs no service.

The file is a small database of one table: a row per group and period, with the layout it was computed in
(`__layout`: the grain and the dimensions), each metric's value, observations and standard error, and when the row
was recorded. A history needs a grain (without one there is no earlier period), and it records one layout: a run
by another grain or other dimensions is refused, not mixed in, so that every column keeps one meaning.

Writing takes an exclusive lock (`metricdsl.files.locked`) around reading, merging and replacing the file: this
run's rows replace the file's rows of the same group and period and the others stay, so two runs at once both
keep their periods. The new file is written beside the old one, flushed and renamed over it, so a crash leaves the
old file whole. Reading takes the lock too, and reads the file through one descriptor: its check and its reading see
one file, never the old one's size and the new one's bytes. A history in a folder this user cannot write is read
without the lock (no lock file can be made there, and no run of this user can replace the file).

A history's columns must have types this run's can be compared with (`check_types`): a value read as text where a
run computes numbers is refused in one line, before it reaches grading.

A metric renamed in the specs keeps its old name in the history, where `prev()` of the new name cannot find it:
`metric_drift` names the metrics a history and a run do not share, for a warning.
"""

from __future__ import annotations

import datetime
import io
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from metricdsl.engine.columns import GRAIN_COLUMN, GROUP, LAYOUT, RECORDED, hidden
from metricdsl.engine.inputs import POLARS_FAILURES
from metricdsl.engine.parquet_files import parquet_problem
from metricdsl.errors import DataError, RequestError
from metricdsl.files import is_stream, locked, reason, replace_atomically
from metricdsl.grading.grader import Graded

FORMAT_KEY, FORMAT = "metricdsl.history", "1"  # Parquet key-value metadata: the version of this layout of the file
NEEDS_GRAIN = "a history needs a grain: `prev()` compares a period with the one before it (give a grain, or no history)"
_KEY = [LAYOUT, GROUP, GRAIN_COLUMN]
_TYPES = {LAYOUT: pl.String, GROUP: pl.String, GRAIN_COLUMN: pl.Date}
_SHOWN = 5  # metric names quoted in a message, at most


@dataclass(frozen=True)
class Drift:
    """Metrics that a history and a run do not share: a metric renamed in the specs shows on both sides."""

    gone: tuple[str, ...] = ()  # recorded in the history, no longer defined by the specs
    unrecorded: tuple[str, ...] = ()  # computed by this run, never recorded in a history that has other metrics

    def __bool__(self) -> bool:
        return bool(self.gone or self.unrecorded)


def layout(by: tuple[str, ...], grain: str | None, week_start: str = "monday") -> str:
    """The `__layout` of a run's rows: `week|team,queue`; weeks that start on Sunday are other periods than ISO
    weeks, and their layout says so: `week from sunday|team`."""
    periods = f"{grain} from {week_start}" if grain == "week" and week_start != "monday" else grain
    return f"{periods}|{','.join(by)}"


def read_history(
    path: Path,
    by: tuple[str, ...],
    grain: str | None,
    defined: Collection[str] | None = None,
    week_start: str = "monday",
) -> pl.DataFrame | None:
    """The earlier rows of this layout, or None when the file does not exist yet (or is empty, or a device).

    Raises `RequestError` without a grain, and `DataError` (one line) for a file that is not a history, a history
    of other specs (none of its metrics is in `defined`, when given) or a history of another layout.
    """
    if grain is None:
        raise RequestError(NEEDS_GRAIN)
    rows = _read_locked(path)
    if rows is None:
        return None
    if defined is not None:
        recorded = _metrics(rows)
        if recorded and not set(recorded) & set(defined):
            raise DataError(
                f"{path} is the history of other specs: none of its metrics ({_names(recorded)}) is defined here "
                "(give these specs their own history file)"
            )
    return _of_layout(path, rows, layout(by, grain, week_start))


def check_types(path: Path, rows: pl.DataFrame, table: pl.DataFrame) -> None:
    """Raise `DataError` (one line naming `path` and the column) when a column of the history `rows` holds a type
    that the same column of this run's `table` cannot be compared or merged with: equal types, numbers of any width
    and a column without values go together, nothing else does (text against numbers, a list against numbers)."""
    for column in rows.columns:
        if column not in table.columns or column in _TYPES:
            continue
        recorded, computed = rows.schema[column], table.schema[column]
        if recorded == computed or pl.Null in (recorded, computed) or (recorded.is_numeric() and computed.is_numeric()):
            continue
        raise DataError(
            f"{path} is not a history these specs can use: its column `{column}` holds {recorded}, where this run "
            f"computes {computed} (give these specs their own history file)"
        )


def metric_drift(path: Path, graded: Graded, defined: Collection[str]) -> Drift:
    """The metrics of `path`'s history of `graded`'s layout that the specs no longer define, and those `graded`
    computes that the history lacks while it has others: a renamed metric is the likely cause of either."""
    rows = read_history(path, graded.by, graded.grain, week_start=graded.week_start)
    if rows is None:
        return Drift()
    recorded = _metrics(rows)
    return Drift(
        tuple(m for m in recorded if m not in defined),
        tuple(m for m in graded.metrics if m not in recorded) if recorded else (),
    )


def write_history(path: Path, graded: Graded) -> int:
    """Record this run's rows, under the file's lock; return how many rows the file holds.

    Raises `RequestError` without a grain, `DataError` when the file is not a history of this layout, and
    `metricdsl.errors.OutputError` when it cannot be written.
    """
    if graded.grain is None:
        raise RequestError(NEEDS_GRAIN)
    columns = [
        *graded.by,
        GRAIN_COLUMN,
        GROUP,
        *graded.metrics,
        *(hidden(part, m) for m in graded.metrics for part in ("n", "se")),
        # Whether a value was pending, so that a later run's `prev()` and `for:` do not take it for a settled one.
        *(hidden("pending", m) for m in graded.metrics),
    ]
    now = graded.table.select([c for c in columns if c in graded.table.columns]).with_columns(
        pl.lit(layout(graded.by, graded.grain, graded.week_start)).alias(LAYOUT),
        pl.lit(datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)).alias(RECORDED),
    )
    with locked(path):
        earlier = _read(path)
        if earlier is not None:
            _of_layout(path, earlier, layout(graded.by, graded.grain, graded.week_start))
            check_types(path, earlier, now)
            keep = earlier.join(now.select(_KEY), on=_KEY, how="anti", nulls_equal=True)
            try:
                now = pl.concat([keep, now], how="diagonal_relaxed")
            except pl.exceptions.PolarsError as error:
                raise DataError(f"cannot add this run to the history {path}: {reason(error)}") from None
        replace_atomically(path, lambda temporary: now.write_parquet(temporary, metadata={FORMAT_KEY: FORMAT}))
    return now.height


def _read_locked(path: Path) -> pl.DataFrame | None:
    """`_read` under the file's lock, so that no run replaces the file while it is read (see the module's rules)."""
    if is_stream(path) or not path.exists():
        return _read(path)  # nothing to read: no lock file to leave
    if not os.access(os.path.dirname(os.path.realpath(path)), os.W_OK):
        return _read(path)
    with locked(path):
        return _read(path)


def _read(path: Path) -> pl.DataFrame | None:
    """Every row of the history at `path`, checked to be one; None when there is nothing to read."""
    try:
        if is_stream(path) or not path.exists():
            return None  # a device, a FIFO or a descriptor is written as a stream and has nothing to read
        if path.is_dir():
            raise DataError(f"the history {path} is a folder")
        with open(path, "rb") as file:
            opened = os.fstat(file.fileno())
            if opened.st_size == 0:
                return None  # a history not begun
            if problem := parquet_problem(path):
                raise DataError(f"cannot read the history {path}: {problem}")
            content = file.read()
            if not _unchanged(path, opened) or len(content) != opened.st_size:
                raise DataError(f"cannot read the history {path}: it was replaced while it was read; run again")
        rows = pl.read_parquet(io.BytesIO(content))
        version = pl.read_parquet_metadata(io.BytesIO(content)).get(FORMAT_KEY, FORMAT)
    except (*POLARS_FAILURES, OSError) as error:
        raise DataError(f"cannot read the history {path}: {reason(error)}") from None
    if version != FORMAT:
        raise DataError(f"{path} is a history of format {version}, which this version of metricdsl cannot read")
    missing = [c for c in (LAYOUT, GROUP) if c not in rows.columns]
    if missing:
        raise DataError(f"{path} is not a metricdsl history: it has no `{missing[0]}` column")
    if GRAIN_COLUMN not in rows.columns:  # written without a grain, before a history needed one
        rows = rows.with_columns(pl.lit(None, dtype=pl.Date).alias(GRAIN_COLUMN))
    for column, dtype in _TYPES.items():
        if rows.schema[column] != dtype and rows.schema[column] != pl.Null:
            raise DataError(f"{path} is not a metricdsl history: `{column}` holds {rows.schema[column]}, not {dtype}")
    if RECORDED in rows.columns and not isinstance(rows.schema[RECORDED], (pl.Datetime, pl.Null)):
        raise DataError(f"{path} is not a metricdsl history: `{RECORDED}` holds {rows.schema[RECORDED]}, not Datetime")
    return rows.with_columns(pl.col(c).cast(t) for c, t in _TYPES.items())


def _unchanged(path: Path, opened: os.stat_result) -> bool:
    """Whether `path` is still the file opened, as it was: a writer that took no lock may have replaced it."""
    now = path.stat()
    return (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns) == (
        opened.st_dev,
        opened.st_ino,
        opened.st_size,
        opened.st_mtime_ns,
    )


def _of_layout(path: Path, rows: pl.DataFrame, wanted: str) -> pl.DataFrame:
    """The rows of layout `wanted`; raises `DataError` when the file records other layouts only."""
    mine = rows.filter(pl.col(LAYOUT) == wanted)
    if rows.height and not mine.height:
        recorded = rows[LAYOUT].drop_nulls().unique(maintain_order=True).to_list()
        raise DataError(
            f"{path} records {' and '.join(map(_describe, recorded)) or 'no layout'}, not {_describe(wanted)}: "
            "give each grain and set of dimensions its own history file"
        )
    return mine


def _describe(layout_text: str) -> str:
    grain, _, by = layout_text.partition("|")
    period = "no grain" if grain in ("None", "") else f"each {grain}"
    return f"{period} by {by.replace(',', ', ')}" if by else f"{period} overall"


def _metrics(rows: pl.DataFrame) -> list[str]:
    """The metrics `rows` record a value or a count of observations for."""
    dimensions = {d for text in rows[LAYOUT].drop_nulls().unique() for d in text.partition("|")[2].split(",") if d}
    names = [c for c in rows.columns if not c.startswith("__") and c not in dimensions]
    present = rows.select(
        pl.any_horizontal(pl.col(c).is_not_null().any() for c in _parts(m, rows.columns)).alias(m) for m in names
    )
    return [m for m in names if present[m].item()]


def _parts(metric: str, columns: list[str]) -> list[str]:
    """The columns of a metric's value and of its count of observations (kept when the value is not)."""
    return [c for c in (metric, hidden("n", metric)) if c in columns]


def _names(metrics: list[str]) -> str:
    shown = ", ".join(f"`{m}`" for m in metrics[:_SHOWN])
    return shown + (f" and {len(metrics) - _SHOWN} more" if len(metrics) > _SHOWN else "")
