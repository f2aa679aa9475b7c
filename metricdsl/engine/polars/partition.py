"""A request with windows in bounded memory: the windows computed one bucket of keys at a time, spilled to disk.

A window is per key (per customer): whether a contact is followed by another of the same customer depends on that
customer's rows only. So the rows can be split into buckets by a hash of their window key, and each bucket's windows
computed on its own, in a fraction of the memory; a window over another source (orders) reads the rows of that
source whose key hashes to the same bucket. Rows with a null key match nothing: they fall into one bucket like any
other row, and their windows are null there as anywhere.

The design, chosen for being exact with the least machinery: only what the windows read is split into buckets (each
row's number, key and time, and the columns of the windows' filters and values); per bucket, the window columns (and
censored flags) are computed and written, with the rows' numbers, to a temporary folder; the buckets' files are
merged back into the order of the rows by their numbers (a streaming merge of sorted files, written once more so
that the query reads them in large pieces) and set beside the source's rows, read again from its input; then the
request's normal query runs over that, as if it were the source, with the windows already there. The aggregation
sees every row once, in the order it sees them in one piece, so that every aggregate stays exact (distinct counts
and exact quantiles too) without merging partial aggregates per bucket, and it streams in bounded memory. Merging
partial aggregates instead would need an algebra per aggregate, and the values of every quantile and distinct count
anyway, to stay exact. The bounds that censor windows (each source's first and latest time) are found over all rows
beforehand, as a bucket sees only some of them.

What is exact, to the bit, against the same request in one piece: every window column, and every aggregate of
integers, booleans, counts, distinct counts, quantiles, minima and maxima. Float sums and means (and metrics made of
them) are bit-exact with Polars' in-memory engine, whose group sums add each group's rows in their order; Polars'
streaming engine (the default) adds them piece by piece of the rows as its plan cuts them, and a plan that sets two
frames side by side cuts the rows wherever either of them does, so the two plans, whose window columns come from a
sort in one piece and from files here, add the same rows in the same order but in other pieces: they may differ in
the last bits (on the example data, 20,000 contacts: the mean wait 18.518789808917198 against 18.51878980891719).
Past a few hundred thousand rows, the streaming engine's float sums are not reproducible run to run even in one
piece (the benchmark's dashboard at 1M contacts gave two tables out of three runs; a `group_by` float mean at 200,000
rows differed once in five runs), which no order of the rows can make exact.

A request can be partitioned when each source's windows key its rows by the same columns, of the same kinds on both
sides, and no window's filter (or the column of its `value=` or `sum=`) reads another window; otherwise it is
computed in one piece.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from pathlib import Path

import polars as pl

from metricdsl.engine.plan import Request, window_key_names
from metricdsl.engine.polars.compiler import Compiler, censored_column, looked_up
from metricdsl.engine.polars.query import build_stages
from metricdsl.language import ast
from metricdsl.semantics.model import Model

Stages = tuple[pl.LazyFrame, Callable[[pl.LazyFrame], pl.LazyFrame], Compiler]


def windowed_sources(compiler: Compiler) -> dict[str, dict[str, ast.Call]]:
    """The sources whose rows a planned request computes windows for, with their windows by column."""
    found: dict[str, dict[str, ast.Call]] = {}
    for (source, call), column in compiler.window_names.items():
        found.setdefault(source, {}).setdefault(column, call)
    return found


def partitionable(model: Model, compiler: Compiler) -> bool:
    """Whether the windows of a planned request can be computed in buckets of keys (see the module's docstring)."""
    for source, calls in windowed_sources(compiler).items():
        keys = set()
        for call in calls.values():
            target = call.args[0].name  # type: ignore[union-attr]
            pairs = window_key_names(model, call, source, target)
            keys.add(tuple(m for m, _ in pairs))
            if any(compiler.column_kind(source, m) != compiler.column_kind(target, t) for m, t in pairs):
                return False
            if compiler.windows_in(target, looked_up(call)):
                return False
        if len(keys) != 1:
            return False
    return True


def bounds(
    compiler: Compiler, calls: list[ast.Call], scan: Callable[[str], pl.LazyFrame]
) -> dict[tuple[str, str], datetime.datetime | None]:
    """The first and latest time of each source that windows look for, over all its rows, in UTC."""
    targets = sorted({call.args[0].name for call in calls})  # type: ignore[union-attr]
    frames = [
        scan(t).select(compiler.instant(t).min().alias("min"), compiler.instant(t).max().alias("max")) for t in targets
    ]
    found: dict[tuple[str, str], datetime.datetime | None] = {}
    for target, row in zip(targets, pl.collect_all(frames, engine="streaming"), strict=True):
        found[(target, "min")], found[(target, "max")] = row.item(0, "min"), row.item(0, "max")
    return found


def partitioned_stages(
    model: Model,
    request: Request,
    scan: Callable[[str], pl.LazyFrame],
    folder: Path,
    buckets: int,
    planned: Compiler,
    slices: int | None = None,
) -> Stages | None:
    """The stages of `request` (as `build_stages`) with its windows computed in `buckets` buckets of keys, written
    under `folder`; None when the request has no window or cannot be partitioned. `planned` is the compiler of the
    request's query in one piece (`build_stages`'), which knows its windows and the columns it reads; `slices`, the
    rows of a source split into buckets in one pass (`Buckets`): all at once by default.

    Only what the windows read is split: each source's row number, key, time and the columns its own windows' filters
    and values read (`window_inputs`), and the rows each window looks for (their key, time and filters), written to
    one folder per bucket in one pass (`Buckets`). Each bucket's window columns are computed from its folders and
    written beside them with the row numbers, in the order of its rows; the buckets' files are then merged back into
    the order of the source's rows by their numbers (`in_row_order`), and set beside the source's own rows, read
    again from its input, for the request's normal query. So the aggregation reads every row in the order it reads
    them unpartitioned (the module's docstring says what that makes exact). Every file holds at most FILE_ROWS rows: Polars'
    streaming scan of a few large files held memory in proportion to their rows (6M rows in 8 files: 0.28 GiB, in
    60 files: 0.11 GiB).
    """
    hosts = windowed_sources(planned)
    if not hosts or not partitionable(model, planned):
        return None
    found = bounds(planned, [c for calls in hosts.values() for c in calls.values()], scan)
    spilled: dict[str, pl.LazyFrame] = {}
    for source, calls in hosts.items():
        schema = scan(source).collect_schema()
        kept = [c for c in schema if c in planned.columns_read.get(source, set())]
        narrow = window_inputs(model, request, planned, source, list(calls.values()), scan)
        first = next(iter(calls.values()))
        mine = [m for m, _ in window_key_names(model, first, source, first.args[0].name)]  # type: ignore[union-attr]
        split = Buckets(folder / source, buckets)
        written = folder / source / "windows"
        written.mkdir(parents=True)
        flags = [censored_column(c) for c in calls]
        pieces = []
        for bucket in range(buckets):
            compiler = Compiler(model, request.as_of)
            compiler.window_names, compiler.bounds = dict(planned.window_names), found
            compiler.buckets, compiler.in_bucket = buckets, functools.partial(split.rows, bucket=bucket)
            keys = [compiler.column(source, m) for m in mine]
            key = compiler.bucket_of(keys, [compiler.column_kind(source, m) for m in mine])
            numbered = scan(source).with_row_index(ROW_NUMBER).select(ROW_NUMBER, *narrow)
            rows = split.rows("rows", numbered, key, bucket, slices=slices)
            windows = compiler.add_windows(rows, source, list(calls.values()), scan).select(ROW_NUMBER, *calls, *flags)
            in_files = pl.PartitionBy(written / f"{bucket:05d}", max_rows_per_file=FILE_ROWS)
            windows.sink_parquet(in_files, mkdir=True, compression="lz4")
            files = sorted((written / f"{bucket:05d}").glob("*.parquet"))
            if files:  # else the bucket has no rows
                pieces.append(pl.scan_parquet(files))
            empty = windows.clear()
        ordered = in_row_order(pieces, folder / source / "ordered") if pieces else empty.drop(ROW_NUMBER)
        spilled[source] = pl.concat([scan(source).select(kept), ordered], how="horizontal")
    final = Compiler(model, request.as_of)
    final.window_names, final.precomputed = dict(planned.window_names), set(hosts)
    return build_stages(model, request, lambda name: spilled[name] if name in spilled else scan(name), final)


def window_inputs(
    model: Model,
    request: Request,
    planned: Compiler,
    source: str,
    calls: list[ast.Call],
    scan: Callable[[str], pl.LazyFrame],
) -> list[str]:
    """The columns of `source` that computing its window `calls` reads (key, time, the filters and values of the
    windows over its own rows), in the order of its frame: found by compiling the windows once, unrun."""
    probe = Compiler(model, request.as_of)
    probe.window_names = dict(planned.window_names)
    probe.add_windows(scan(source), source, calls, scan)
    read = probe.columns_read.get(source, set())
    return [c for c in scan(source).collect_schema() if c in read]


def in_row_order(pieces: list[pl.LazyFrame], folder: Path) -> pl.LazyFrame:
    """The rows of `pieces`, each in the order of its numbers (ROW_NUMBER), in the order of their numbers (without
    them), from files written under `folder`.

    The pieces are merged in pairs, then pairs of pairs (a plan as deep as the logarithm of their number), in a
    streaming pass that writes the merged rows. The merge hands on the rows in runs of consecutive numbers, a few rows
    each when the keys of neighbouring rows fall into different buckets: set beside the source's rows, those runs cut
    every piece of the rows the query reads, and at 50M rows in 3 buckets the query took 71 s and 4.7 GiB (against
    42 s and 1.8 GiB when each bucket's rows were written with their windows). Read back from files, the rows come
    in pieces of the files' row groups."""
    while len(pieces) > 1:
        merged = [left.merge_sorted(right, ROW_NUMBER) for left, right in zip(pieces[0::2], pieces[1::2], strict=False)]
        pieces = merged + pieces[len(merged) * 2 :]
    in_files = pl.PartitionBy(folder, max_rows_per_file=FILE_ROWS)
    pieces[0].drop(ROW_NUMBER).sink_parquet(in_files, mkdir=True, compression="lz4", row_group_size=ROW_GROUP)
    return pl.scan_parquet(sorted(folder.glob("*.parquet")))


class Buckets:
    """Frames split into buckets on disk, each in one pass, when first asked for: under `folder`, one folder per frame
    (by its name) holding one folder per bucket.

    Each bucket's rows are in files of at most FILE_ROWS rows, in the frame's order. A frame given with `slices` is
    split `slices` rows at a time, one pass per slice (a Parquet scan reads only the
    row groups of its slice): Polars' streaming sink of the typed rows held memory in proportion to the rows it had
    written (0.22 GiB at 1M rows, 0.56 GiB at 6M), a slice's in proportion to the slice (0.28 GiB for 2M of 6M)."""

    def __init__(self, folder: Path, buckets: int) -> None:
        self.folder, self.buckets = folder, buckets
        self.written: dict[str, Path] = {}
        self.schemas: dict[str, pl.Schema] = {}

    def rows(
        self, name: str, frame: pl.LazyFrame, bucket_of: pl.Expr, bucket: int, slices: int | None = None
    ) -> pl.LazyFrame:
        """The rows of `frame` (named `name`) whose `bucket_of` is `bucket`, in the order of `frame`."""
        if name not in self.written:
            path = self.folder / f"frame{len(self.written)}"
            self.schemas[name] = frame.collect_schema()
            total = frame.select(pl.len()).collect().item() if slices else 0
            for index, start in enumerate(range(0, total, slices) if slices else [0]):
                part = frame.slice(start, slices) if slices else frame
                split = pl.PartitionBy(
                    path / f"{index:06d}", key=bucket_of.alias(BUCKET), include_key=False, max_rows_per_file=FILE_ROWS
                )
                # Uncompressed: at 50M rows of 17 columns, 15.5 s against 26.5 s with lz4 (2.7 GB on disk).
                part.sink_parquet(split, mkdir=True, compression="uncompressed", row_group_size=ROW_GROUP)
            self.written[name] = path
        files = sorted(self.written[name].glob(f"*/{BUCKET}={bucket}/*.parquet"))
        return pl.scan_parquet(files) if files else pl.LazyFrame(schema=self.schemas[name])


BUCKET = "bucket"
# The number of a row of a source with windows, which puts its windows computed in buckets back in its order.
ROW_NUMBER = "__row_number"
# Rows per row group of the files written (a reader decodes a row group at once), and per file of a bucket's rows.
ROW_GROUP, FILE_ROWS = 100_000, 200_000
