"""Reading one source's input as the engine does, for the tests of `metricdsl.engine.inputs`."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from metricdsl.engine.inputs import Data, scan
from metricdsl.engine.quality import DataProblem
from metricdsl.spec.definitions import Column, CsvDialect, Source


def source(columns: dict[str, str | dict], *, csv: CsvDialect | None = None, **keys) -> Source:
    """A source named `s` with `columns`, each a type or the keyword arguments of a `Column`."""
    made = {name: Column(name, **({"type": spec} if isinstance(spec, str) else spec)) for name, spec in columns.items()}
    return Source("s", made, csv=csv or CsvDialect(), **keys)


def read(
    spec: Source, data: Data, *, zone: str | None = None, quote: bool = True
) -> tuple[pl.DataFrame, list[DataProblem], list[str]]:
    """The typed rows of the declared columns, the data-quality problems and the notices."""
    reading = scan(spec, data, zone=zone, quote=quote)
    try:
        frame, counts = pl.collect_all([reading.frame, reading.tally(spec.columns)])
        problems, notices = reading.report(counts.row(0, named=True))
    finally:
        reading.close()
    return frame.select(c for c in spec.columns if c in frame.columns), problems, notices


def write(folder: Path, text: str | bytes, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path
