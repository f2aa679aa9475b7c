"""Benchmark the `service_2_0` dashboard: metricdsl against the same query written by hand in Polars.

Both sides read the same Parquet files (generated once by `examples/generate.py` and cached under
`benchmarks/data/`), compute the 20 metrics of `specs/` by team and ISO week in one lazy query, and
collect it with the same engine (streaming, the default of `Project.evaluate()`, or `--engine in-memory`).
Before anything is timed, the two results must agree (same groups, every value within 1e-9, nulls in
the same places), first on a 20k-row sample, then on the benchmarked data. Runs alternate between
the sides in this process; medians are reported. Each side's peak memory is the RSS high-water mark
of a fresh child process that runs it once.

    python benchmarks/bench_dashboard.py                 # 10M interactions, 2.5M orders, 5 runs each
    python benchmarks/bench_dashboard.py --quick         # 20k interactions: a check in seconds
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import polars as pl

import metricdsl

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SPECS = ROOT / "specs"
DASHBOARD = "service_2_0"
ENGINES = ["streaming", "in-memory"]  # Project.evaluate()'s default first
SAMPLE = 20_000
TOLERANCE = 1e-9
PART = 10_000_000  # the most contacts generated at once (about 4 GB)
ID_OFFSET = 10**9  # ids of each part of a large dataset start at part x 1e9
MEMORY_LIMIT = "METRICDSL_BENCH_MEMORY_LIMIT"  # metricdsl's memory limit, in this process and spawned children
Paths = dict[str, Path]


# -- data -----------------------------------------------------------------------------------------


def _generator() -> ModuleType:
    """`examples/generate.py` as a module (the examples folder is no package)."""
    spec = importlib.util.spec_from_file_location("metricdsl_examples_generate", ROOT / "examples" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(n_interactions: int, seed: int, paths: Paths) -> None:
    """Generate both tables and write them as Parquet, each through a temporary file."""
    for name, frame in zip(("interactions", "orders"), _generator().generate(n_interactions, seed=seed), strict=True):
        frame.write_parquet(paths[name].with_suffix(".tmp"))
        paths[name].with_suffix(".tmp").replace(paths[name])


def _write_part(n_interactions: int, seed: int, part: int, folders: Paths) -> None:
    """One part of a large dataset: `generate(n_interactions, seed=seed + part)` with its customers, contacts and
    orders numbered apart from every other part's (ids offset by `part` x 1e9), so that the parts are one dataset of
    different customers over the same quarter."""
    offset = part * ID_OFFSET
    interactions, orders = _generator().generate(n_interactions, seed=seed * 1000 + part)
    ids = ["interaction_id", "customer_id", "order_id", "referred_by"]
    for name, frame in (("interactions", interactions), ("orders", orders)):
        frame = frame.with_columns(pl.col(c) + offset for c in ids if c in frame.columns)
        temporary = folders[name] / f".part-{part:03d}.tmp"
        frame.write_parquet(temporary)
        temporary.replace(folders[name] / f"part-{part:03d}.parquet")


def dataset(n_interactions: int, *, seed: int = 7, regenerate: bool = False) -> Paths:
    """The cached Parquet files for `n_interactions` contacts; generated (in a child) when missing.

    Above `PART` (10M) contacts, generating at once would need tens of GB, so the data is generated in parts of at
    most 10M contacts, one child process each (see `_write_part`), into a folder per table: the path is then a glob
    of its part files, which both sides read as one table."""
    DATA.mkdir(parents=True, exist_ok=True)
    if n_interactions > PART:
        return _parts(n_interactions, seed, regenerate)
    paths = {name: DATA / f"{name}_{n_interactions}_seed{seed}.parquet" for name in ("interactions", "orders")}
    if regenerate or not all(p.exists() for p in paths.values()):
        print(f"generating {n_interactions:,} interactions into {DATA} ...", flush=True)
        started = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(target=_write, args=(n_interactions, seed, paths))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generating the data failed (exit code {child.exitcode})")
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    return paths


def _parts(n_interactions: int, seed: int, regenerate: bool) -> Paths:
    """The folders of a dataset generated in parts (see `dataset`), as globs."""
    folders = {name: DATA / f"{name}_{n_interactions}_seed{seed}" for name in ("interactions", "orders")}
    sizes = [PART] * (n_interactions // PART) + ([n_interactions % PART] if n_interactions % PART else [])
    done = folders["interactions"] / ".complete"
    if regenerate or not done.exists():
        print(f"generating {n_interactions:,} interactions in {len(sizes)} parts into {DATA} ...", flush=True)
        started = time.perf_counter()
        for folder in folders.values():
            folder.mkdir(exist_ok=True)
            for old in folder.glob("*.parquet"):
                old.unlink()
        done.unlink(missing_ok=True)
        for part, size in enumerate(sizes):
            child = multiprocessing.get_context("spawn").Process(target=_write_part, args=(size, seed, part, folders))
            child.start()
            child.join()
            if child.exitcode != 0:
                raise SystemExit(f"generating part {part} failed (exit code {child.exitcode})")
            print(f"  part {part + 1}/{len(sizes)} at {time.perf_counter() - started:.1f} s", flush=True)
        done.touch()
    return {name: folder / "*.parquet" for name, folder in folders.items()}


# -- the two sides --------------------------------------------------------------------------------


@functools.cache
def project() -> metricdsl.Project:
    """The specs, loaded and checked once per process: parsing them is timed apart, not per run."""
    return metricdsl.load(SPECS)


def with_metricdsl(paths: Paths, engine: str) -> pl.DataFrame:
    """The dashboard through the public API: `evaluate()` scans lazily and collects with `engine` (its `provisional`
    column, which the hand-written query has not, left out after)."""
    data = {name: str(path) for name, path in paths.items()}
    limit = os.environ.get(MEMORY_LIMIT) or None
    return project().evaluate(data, dashboard=DASHBOARD, polars_engine=engine, memory_limit=limit).drop("provisional")


def followed_within(found_at: str, window: timedelta, until: pl.Expr) -> pl.Expr:
    """True when the match found by a forward as-of join lies within `window`; null without time or customer, and
    null when the window reaches past `until`, the latest time of the other source (censored)."""
    t = pl.col("started_at")
    unknown = t.is_null() | pl.col("customer_id").is_null() | (t + window > until)
    return pl.when(unknown).then(None).otherwise((pl.col(found_at) <= t + window).fill_null(False))


def next_events(contacts: pl.LazyFrame, orders: pl.LazyFrame) -> pl.LazyFrame:
    """Each contact with the time of the same customer's next contact, order, cross-sell and referral.

    "Next" is strictly after the contact; one sorted, forward `join_asof` by customer each.
    """
    rows = contacts.sort("started_at")
    for name, events, key, at in (
        ("next_contact", contacts, "customer_id", "started_at"),
        ("next_order", orders, "customer_id", "ordered_at"),
        ("next_cross_sell", orders.filter(pl.col("cross_sell")), "customer_id", "ordered_at"),
        ("next_referral", orders, "referred_by", "ordered_at"),
    ):
        right = events.select(pl.col(key).alias("customer_id"), pl.col(at).alias(name)).drop_nulls().sort(name)
        rows = rows.join_asof(
            right,
            left_on="started_at",
            right_on=name,
            by="customer_id",
            strategy="forward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
    return rows


def hand_written_query(paths: Paths) -> pl.LazyFrame:
    """The same 20 metrics as one lazy Polars query, written directly."""
    answered, wait = pl.col("answered"), pl.col("wait_s")
    orders = pl.scan_parquet(paths["orders"]).filter(pl.col("amount") > 0)
    orders_until = pl.scan_parquet(paths["orders"]).select(pl.col("ordered_at").max().alias("orders_until"))
    rows = next_events(pl.scan_parquet(paths["interactions"]), orders).join(orders_until, how="cross")
    contacts_until, until = pl.col("started_at").max(), pl.col("orders_until")
    rows = rows.with_columns(
        repeat_7d=followed_within("next_contact", timedelta(days=7), contacts_until),
        bought=followed_within("next_order", timedelta(days=30), until),
        bought_more=followed_within("next_cross_sell", timedelta(days=30), until),
        referred=followed_within("next_referral", timedelta(days=30), until),
        handle_s=pl.col("talk_s") + pl.col("hold_s") + pl.col("wrap_s"),
        live=pl.col("channel").is_in(["phone", "chat"]),
        counted=~(~answered & (wait < 5)),  # not a short abandon
    )
    live, counted, repeat = pl.col("live"), pl.col("counted"), pl.col("repeat_7d")
    nps, effort = pl.col("nps_score"), pl.col("effort_score")
    sums = rows.group_by("team", pl.col("started_at").dt.truncate("1w").alias("week_start")).agg(
        contacts=pl.len(),
        promoters=(nps >= 9).mean(),
        detractors=(nps <= 6).mean(),
        nps_n=nps.count(),
        csat=(pl.col("csat_score") >= 4).mean(),
        csat_n=pl.col("csat_score").count(),
        ces=effort.mean(),
        ces_agree=(effort <= 2).mean(),
        effort_n=effort.count(),
        sentiment=pl.col("sentiment_score").mean(),
        fcr_reported=pl.col("fcr_reported").mean(),
        fcr_reported_n=pl.col("fcr_reported").count(),
        fcr=pl.when(answered).then(~repeat).mean(),
        repeat_rate=pl.when(answered).then(repeat).mean(),
        buy_again_30d=pl.col("bought").mean(),
        buy_more_30d=pl.col("bought_more").mean(),
        spread_word_30d=pl.col("referred").mean(),
        aht=pl.when(answered).then(pl.col("handle_s")).mean(),
        asa=pl.when(live & answered).then(wait).mean(),
        service_level=pl.when(live & counted).then(answered & (wait <= 20)).mean(),
        abandon_rate=pl.when(live & counted).then(~answered).mean(),
        transfer_rate=pl.when(answered).then(pl.col("transferred")).mean(),
        sales_conversion=pl.when(answered).then(pl.col("sale")).mean(),
        sales=pl.col("sale").sum().cast(pl.Int64),
        handle_hours=pl.when(answered).then(pl.col("handle_s")).sum() / 3600,
    )

    def at_least(n: str, value: pl.Expr, min_n: int = 30) -> pl.Expr:
        return pl.when(pl.col(n) >= min_n).then(value)

    return (
        sums.with_columns(nps=at_least("nps_n", 100 * (pl.col("promoters") - pl.col("detractors"))))
        .with_columns(
            at_least("csat_n", pl.col("csat")),
            at_least("effort_n", pl.col("ces")),
            at_least("effort_n", pl.col("ces_agree")),
            at_least("fcr_reported_n", pl.col("fcr_reported")),
            loyalty_index=0.5 * (pl.col("nps") + 100) / 200 + 0.5 * pl.col("buy_again_30d"),
            sales_per_hour=pl.when(pl.col("handle_hours") != 0).then(pl.col("sales") / pl.col("handle_hours")),
        )
        .sort("team", "week_start")
        .select("team", pl.col("week_start").dt.strftime("%G-W%V").alias("week"), *METRICS)
    )


METRICS = [
    "contacts",
    "nps",
    "csat",
    "ces",
    "ces_agree",
    "sentiment",
    "fcr_reported",
    "fcr",
    "repeat_rate",
    "buy_again_30d",
    "buy_more_30d",
    "spread_word_30d",
    "loyalty_index",
    "aht",
    "asa",
    "service_level",
    "abandon_rate",
    "transfer_rate",
    "sales_conversion",
    "sales_per_hour",
]


def with_duckdb(paths: Paths, engine: str) -> pl.DataFrame:
    """The same metrics as DuckDB SQL written by hand (`bench_sql.HAND_WRITTEN_SQL`), over the same Parquet files."""
    import bench_sql  # beside this file; it imports this module, so not at the top

    return bench_sql.hand_written(paths)


# Each side by name: metricdsl with the engine asked for (`--engine`); the hand-written query with each of Polars'
# engines; the hand-written DuckDB SQL.
SIDES: dict[str, Callable[[Paths, str], pl.DataFrame]] = {
    "metricdsl": with_metricdsl,
    "polars in-memory": lambda paths, engine: hand_written_query(paths).collect(engine="in-memory"),
    "polars streaming": lambda paths, engine: hand_written_query(paths).collect(engine="streaming"),
    "duckdb sql": with_duckdb,
}


# -- checking and timing --------------------------------------------------------------------------


def compare(
    expected: pl.DataFrame, actual: pl.DataFrame, what: str, names: tuple[str, str] = ("metricdsl", "hand-written")
) -> None:
    """Fail unless both tables have the same groups in the same order, and values within `TOLERANCE`.

    A value matches when both are null, or both are numbers with |a - b| <= 1e-9 * max(1, |a|).
    """
    keys = ["team", "week"]
    if expected.columns != actual.columns:
        raise SystemExit(f"MISMATCH ({what}): columns differ:\n  {expected.columns}\n  {actual.columns}")
    if not expected.select(keys).equals(actual.select(keys)):
        only = expected.select(keys).join(actual.select(keys), on=keys, how="anti", nulls_equal=True)
        extra = actual.select(keys).join(expected.select(keys), on=keys, how="anti", nulls_equal=True)
        raise SystemExit(
            f"MISMATCH ({what}): groups differ ({expected.height} vs {actual.height} rows); "
            f"only in {names[0]}: {only.rows()[:5]}, only in {names[1]}: {extra.rows()[:5]}"
        )
    a = expected.select(pl.col(METRICS).cast(pl.Float64))
    b = actual.select(pl.col(METRICS).cast(pl.Float64).name.suffix("__b"))
    both = pl.concat([expected.select(keys), a, b], how="horizontal")

    def differs(m: str) -> pl.Expr:
        x, y = pl.col(m), pl.col(f"{m}__b")
        far = (x - y).abs() > TOLERANCE * pl.max_horizontal(pl.lit(1.0), x.abs())
        return (x.is_null() != y.is_null()) | (x.is_nan() != y.is_nan()).fill_null(False) | far.fill_null(False)

    bad = both.select(differs(m).sum().alias(m) for m in METRICS).row(0, named=True)
    wrong = [m for m, count in bad.items() if count]
    if wrong:
        rows = both.filter(differs(wrong[0])).select(*keys, wrong[0], f"{wrong[0]}__b").head(5)
        raise SystemExit(
            f"MISMATCH ({what}): groups differing per metric: { ({m: bad[m] for m in wrong}) }\n"
            f"first rows of `{wrong[0]}` ({names[0]}, {names[1]}):\n{rows}"
        )
    print(f"results match ({what}): {expected.height} groups x {len(METRICS)} metrics, within {TOLERANCE:g}")


def time_alternating(
    paths: Paths, engine: str, runs: int, sides: list[str]
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock and CPU seconds (all threads, DuckDB's too) of each run of each side, in this process: each run
    takes the sides in another order (rotated, and reversed every other run), so that none is always first or last.

    CPU time is reported too because it moves less than wall time when other work shares the cores.
    """
    wall: dict[str, list[float]] = {side: [] for side in sides}
    cpu: dict[str, list[float]] = {side: [] for side in sides}
    for run in range(runs):
        order = sides[run % len(sides) :] + sides[: run % len(sides)]
        for side in order if run % 2 == 0 else reversed(order):
            started, started_cpu = time.perf_counter(), time.process_time()
            SIDES[side](paths, engine)
            wall[side].append(time.perf_counter() - started)
            cpu[side].append(time.process_time() - started_cpu)
            print(
                f"  run {run + 1} {side:>16}: {wall[side][-1]:7.3f} s wall, {cpu[side][-1]:7.3f} s CPU, "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    return wall, cpu


def _memory_gib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (Linux), in GiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 2**20  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def _peak_rss(side: str, paths: Paths, engine: str) -> tuple[float, float, float]:
    """In a fresh child: (seconds, RSS before the run, RSS high-water mark), in GiB.

    VmHWM, not `ru_maxrss`: Linux carries `ru_maxrss` over fork and exec, so a spawned child would
    report its parent's size at the fork; VmHWM belongs to the new address space only.
    """
    project()  # the specs are loaded before the run, as in the timings
    before = _memory_gib("VmRSS")
    started = time.perf_counter()
    SIDES[side](paths, engine)
    return time.perf_counter() - started, before, _memory_gib("VmHWM")


def peak_memory(side: str, paths: Paths, engine: str) -> tuple[float, float, float]:
    """Run `side` once in a new spawned process, so that its peak is its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_peak_rss, side, paths, engine).result()


# -- command line ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, check that every side agrees with metricdsl, time them, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=10_000_000, help="contacts to generate (10,000,000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each side (5)")
    parser.add_argument("--quick", action="store_true", help=f"{SAMPLE:,} interactions: check and time in seconds")
    parser.add_argument("--regenerate", action="store_true", help="write the cached Parquet files again")
    parser.add_argument("--engine", choices=ENGINES, default=ENGINES[0], help="Polars engine of metricdsl (streaming)")
    parser.add_argument("--sides", nargs="+", choices=list(SIDES), default=list(SIDES), help="the sides (all)")
    parser.add_argument("--memory-limit", help="metricdsl's memory_limit (4GB); default: none given")
    parser.add_argument("--no-memory", action="store_true", help="do not measure each side's peak RSS")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    args = parser.parse_args(argv)
    n, engine = SAMPLE if args.quick else args.interactions, args.engine
    if n < 1 or args.runs < 1:
        parser.error("--interactions and --runs must be at least 1")
    sides = ["metricdsl", *(side for side in args.sides if side != "metricdsl")]
    if args.memory_limit:
        os.environ[MEMORY_LIMIT] = args.memory_limit  # spawned children read it too

    started = time.perf_counter()
    project()
    print(
        f"polars {pl.__version__}, {pl.thread_pool_size()} threads, {os.cpu_count()} cores, metricdsl on Polars' "
        f"{engine!r} engine; metricdsl.load('specs') took {time.perf_counter() - started:.3f} s (not timed below)"
    )

    def check_all(paths: Paths, what: str) -> None:
        expected = SIDES["metricdsl"](paths, engine)
        for side in sides[1:]:
            compare(expected, SIDES[side](paths, engine), f"{side}, {what}", ("metricdsl", side))

    sample = dataset(SAMPLE, seed=args.seed, regenerate=args.regenerate)
    check_all(sample, f"{SAMPLE:,}-row sample")
    paths = sample if n == SAMPLE else dataset(n, seed=args.seed, regenerate=args.regenerate)
    rows = {name: pl.scan_parquet(path).select(pl.len()).collect().item() for name, path in paths.items()}
    print(
        f"rows: {rows['interactions']:,} interactions, {rows['orders']:,} orders "
        f"({', '.join(str(p.relative_to(ROOT)) for p in paths.values())})"
    )
    if n != SAMPLE:  # also warms the file cache before the timings
        check_all(paths, f"{n:,} rows")

    print(f"timing {args.runs} runs of each side, alternating:")
    wall, cpu = time_alternating(paths, engine, args.runs, sides)
    peaks: dict[str, tuple[float, float, float]] = {}
    if not args.no_memory:
        print("peak memory, each side once in a fresh process:")
        for side in sides:
            peaks[side] = peak_memory(side, paths, engine)
            seconds, before, peak = peaks[side]
            print(f"  {side:>16}: {peak:5.2f} GiB high-water mark ({before:.2f} GiB before the run of {seconds:.3f} s)")

    median = {side: statistics.median(wall[side]) for side in sides}
    median_cpu = {side: statistics.median(cpu[side]) for side in sides}
    print(
        f"\nSUMMARY: {rows['interactions']:,} interactions, {rows['orders']:,} orders, metricdsl on {engine!r}"
        f"{f', memory limit {args.memory_limit}' if args.memory_limit else ''}, medians of {args.runs} runs"
    )
    for side in sides:
        peak = f"peak RSS {peaks[side][2]:.2f} GiB; " if side in peaks else ""
        print(
            f"  {side:>16}: {median[side]:7.3f} s wall, {median_cpu[side]:7.3f} s CPU, "
            f"{peak}runs (s): {' '.join(f'{t:.3f}' for t in wall[side])}"
        )
    for side in sides[1:]:
        print(
            f"  metricdsl / {side}: {median['metricdsl'] / median[side]:.2f} wall, "
            f"{median_cpu['metricdsl'] / median_cpu[side]:.2f} CPU"
        )


if __name__ == "__main__":
    main()
