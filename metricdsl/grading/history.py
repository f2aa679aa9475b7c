"""A Parquet file of earlier runs' metric values per group and period, so that `prev()` needs no service.

Each row is one group and period of one layout (grain and dimensions). Writing replaces the rows of
the periods this run computed and keeps the others; the file is written to a temporary file and
renamed over the old one, so a crash mid-write leaves the old file whole.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import polars as pl

from metricdsl.engine.columns import GRAIN_COLUMN, GROUP, LAYOUT, RECORDED, hidden
from metricdsl.errors import DataError
from metricdsl.files import replace_atomically
from metricdsl.grading.grader import Graded


def layout(by: tuple[str, ...], grain: str | None) -> str:
    return f"{grain}|{','.join(by)}"


def read_history(path: Path, by: tuple[str, ...], grain: str | None) -> pl.DataFrame | None:
    """The earlier rows of this layout, or None when the file does not exist yet."""
    if not path.exists():
        return None
    try:
        rows = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise DataError(f"cannot read the history {path}: {str(error).splitlines()[0]}") from None
    if LAYOUT not in rows.columns:
        raise DataError(f"{path} is not a metricdsl history file")
    return rows.filter(pl.col(LAYOUT) == layout(by, grain))


def write_history(path: Path, graded: Graded) -> int:
    """Record this run's rows; return how many rows the file holds."""
    columns = [
        *graded.by,
        GRAIN_COLUMN,
        GROUP,
        *graded.metrics,
        *(hidden(part, m) for m in graded.metrics for part in ("n", "se")),
    ]
    now = graded.table.select([c for c in columns if c in graded.table.columns]).with_columns(
        pl.lit(layout(graded.by, graded.grain)).alias(LAYOUT),
        pl.lit(datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)).alias(RECORDED),
    )
    if path.exists():
        earlier = pl.read_parquet(path)
        keep = earlier.join(
            now.select(LAYOUT, GROUP, GRAIN_COLUMN), on=[LAYOUT, GROUP, GRAIN_COLUMN], how="anti", nulls_equal=True
        )
        now = pl.concat([keep, now], how="diagonal_relaxed")
    replace_atomically(path, now.write_parquet)
    return now.height
