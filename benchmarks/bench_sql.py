"""Benchmark the `service_2_0` dashboard on the DuckDB engine against the same metrics as hand-written DuckDB SQL.

Both sides read the Parquet files of `bench_dashboard.py` (generated once by `examples/generate.py` and cached
under `benchmarks/data/`) and run in this process: `Project.evaluate(..., engine="duckdb")` (the project's input
layer reads the files, DuckDB computes the aggregated groups, Polars finishes the table) and `HAND_WRITTEN_SQL`
(`read_parquet` of the same files, one query) on a fresh DuckDB connection. Before anything is timed, the
hand-written SQL must agree with the Polars engine (the definition of the numbers) and the DuckDB engine with the
hand-written SQL: same groups in the same order, every value within 1e-9, nulls in the same places, first on a
20k-row sample, then on the benchmarked data. Runs alternate between the sides; medians and the ratio are printed.
With `--spark`, the Spark engine (local mode) is timed against the Polars engine as well.

    python benchmarks/bench_sql.py                    # 1M and 10M interactions, 5 runs each
    python benchmarks/bench_sql.py --quick            # 20k interactions: the checks and timings in seconds
    python benchmarks/bench_sql.py --rows 1000000 --profile   # where the DuckDB engine's time goes
    python benchmarks/bench_sql.py --spark            # also Spark local at 1M against the Polars engine
    python benchmarks/bench_sql.py --spark-only       # only that
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from bench_dashboard import DASHBOARD, ROOT, SAMPLE, Paths, compare, dataset, project

from metricdsl.engine.sql.engines import Engine

# The dashboard's metrics written directly in DuckDB SQL from their definitions in `specs/`: ISO weeks (Monday
# start, labelled with the ISO year), shares as the mean of a condition over the rows where it is not null,
# windows strictly after the contact with an inclusive end and censored at the horizon of the other source,
# `min_n` after aggregation, division by zero giving null. `$interactions` and `$orders` are the Parquet paths.
HAND_WRITTEN_SQL = """
WITH
contacts AS (
    SELECT customer_id, team, channel, started_at, answered, wait_s, talk_s, hold_s, wrap_s, transferred,
           fcr_reported, nps_score, csat_score, effort_score, sentiment_score, sale
    FROM read_parquet($interactions)
),
orders AS (SELECT customer_id, referred_by, ordered_at, amount, cross_sell FROM read_parquet($orders)),
-- the horizon of each window's source: a window reaching past it is unknown (censored)
horizon AS (
    SELECT (SELECT max(started_at) FROM contacts) AS contacts_until,
           (SELECT max(ordered_at) FROM orders) AS orders_until
),
-- the contacts and the events they look for in one table, so that one window over it (by customer, in time)
-- finds each contact's next contact, order, cross-sell and referral: the first of each strictly after it
events AS (
    SELECT *, customer_id AS entity, started_at AS t, 0 AS kind FROM contacts
    UNION ALL BY NAME
    SELECT customer_id AS entity, ordered_at AS t, CASE WHEN cross_sell THEN 2 ELSE 1 END AS kind
    FROM orders WHERE amount > 0 AND customer_id IS NOT NULL AND ordered_at IS NOT NULL
    UNION ALL BY NAME
    SELECT referred_by AS entity, ordered_at AS t, 3 AS kind
    FROM orders WHERE amount > 0 AND referred_by IS NOT NULL AND ordered_at IS NOT NULL
),
nexts AS (
    SELECT * EXCLUDE (entity, t, kind) FROM (
        SELECT *,
            min(CASE WHEN kind = 0 THEN t END) OVER after AS next_contact,
            min(CASE WHEN kind IN (1, 2) THEN t END) OVER after AS next_order,
            min(CASE WHEN kind = 2 THEN t END) OVER after AS next_cross_sell,
            min(CASE WHEN kind = 3 THEN t END) OVER after AS next_referral
        FROM events
        WINDOW after AS (PARTITION BY entity ORDER BY t RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP)
    )
    WHERE kind = 0
),
rows AS (
    SELECT
        team,
        CAST(date_trunc('week', started_at) AS DATE) AS week_start,  -- ISO week: Monday
        channel IN ('phone', 'chat') AS live,
        answered,
        wait_s,
        talk_s + hold_s + wrap_s AS handle_s,
        NOT (NOT answered AND wait_s < 5) AS counted,  -- not a short abandon
        transferred, fcr_reported, nps_score, csat_score, effort_score, sentiment_score, sale,
        -- true when the next event lies in (t, t + window]; null without time or customer, or when the
        -- window ends after the source's horizon
        CASE WHEN customer_id IS NULL OR started_at IS NULL OR started_at + INTERVAL 7 DAY > contacts_until THEN NULL
             ELSE coalesce(next_contact <= started_at + INTERVAL 7 DAY, false) END AS repeat_7d,
        CASE WHEN customer_id IS NULL OR started_at IS NULL OR started_at + INTERVAL 30 DAY > orders_until THEN NULL
             ELSE coalesce(next_order <= started_at + INTERVAL 30 DAY, false) END AS bought,
        CASE WHEN customer_id IS NULL OR started_at IS NULL OR started_at + INTERVAL 30 DAY > orders_until THEN NULL
             ELSE coalesce(next_cross_sell <= started_at + INTERVAL 30 DAY, false) END AS bought_more,
        CASE WHEN customer_id IS NULL OR started_at IS NULL OR started_at + INTERVAL 30 DAY > orders_until THEN NULL
             ELSE coalesce(next_referral <= started_at + INTERVAL 30 DAY, false) END AS referred
    FROM nexts CROSS JOIN horizon
),
-- one row per team and week; a share is the mean of a condition over the rows where it is not null
sums AS (
    SELECT
        team,
        week_start,
        count(*) AS contacts,
        avg(CAST(nps_score >= 9 AS DOUBLE)) AS promoters,
        avg(CAST(nps_score <= 6 AS DOUBLE)) AS detractors,
        count(nps_score) AS nps_n,
        avg(CAST(csat_score >= 4 AS DOUBLE)) AS csat,
        count(csat_score) AS csat_n,
        avg(effort_score) AS ces,
        avg(CAST(effort_score <= 2 AS DOUBLE)) AS ces_agree,
        count(effort_score) AS effort_n,
        avg(sentiment_score) AS sentiment,
        avg(CAST(fcr_reported AS DOUBLE)) AS fcr_reported,
        count(fcr_reported) AS fcr_reported_n,
        avg(CAST(NOT repeat_7d AS DOUBLE)) FILTER (WHERE answered) AS fcr,
        avg(CAST(repeat_7d AS DOUBLE)) FILTER (WHERE answered) AS repeat_rate,
        avg(CAST(bought AS DOUBLE)) AS buy_again_30d,
        avg(CAST(bought_more AS DOUBLE)) AS buy_more_30d,
        avg(CAST(referred AS DOUBLE)) AS spread_word_30d,
        avg(handle_s) FILTER (WHERE answered) AS aht,
        avg(wait_s) FILTER (WHERE live AND answered) AS asa,
        avg(CAST(answered AND wait_s <= 20 AS DOUBLE)) FILTER (WHERE live AND counted) AS service_level,
        avg(CAST(NOT answered AS DOUBLE)) FILTER (WHERE live AND counted) AS abandon_rate,
        avg(CAST(transferred AS DOUBLE)) FILTER (WHERE answered) AS transfer_rate,
        avg(CAST(sale AS DOUBLE)) FILTER (WHERE answered) AS sales_conversion,
        count(*) FILTER (WHERE sale) AS sales,
        sum(handle_s) FILTER (WHERE answered) / 3600 AS handle_hours
    FROM rows
    GROUP BY team, week_start
),
-- min_n after aggregation; division by zero gives null
metrics AS (
    SELECT
        *,
        CASE WHEN nps_n >= 30 THEN 100 * (promoters - detractors) END AS nps,
        CASE WHEN csat_n >= 30 THEN csat END AS csat_min_n,
        CASE WHEN effort_n >= 30 THEN ces END AS ces_min_n,
        CASE WHEN effort_n >= 30 THEN ces_agree END AS ces_agree_min_n,
        CASE WHEN fcr_reported_n >= 30 THEN fcr_reported END AS fcr_reported_min_n,
        sales / nullif(handle_hours, 0) AS sales_per_hour
    FROM sums
)
SELECT
    team,
    strftime(week_start, '%G-W%V') AS week,
    contacts,
    nps,
    csat_min_n AS csat,
    ces_min_n AS ces,
    ces_agree_min_n AS ces_agree,
    sentiment,
    fcr_reported_min_n AS fcr_reported,
    fcr,
    repeat_rate,
    buy_again_30d,
    buy_more_30d,
    spread_word_30d,
    0.5 * (nps + 100) / 200 + 0.5 * buy_again_30d AS loyalty_index,
    aht,
    asa,
    service_level,
    abandon_rate,
    transfer_rate,
    sales_conversion,
    sales_per_hour
FROM metrics
ORDER BY team, week_start
"""


def hand_written(paths: Paths) -> pl.DataFrame:
    """The hand-written query on a fresh in-process connection, as the engine opens one per query."""
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        params = {name: str(path) for name, path in paths.items()}
        return con.sql(HAND_WRITTEN_SQL, params=params).pl()


def with_engine(engine: Engine) -> Callable[[Paths], pl.DataFrame]:
    """The dashboard through the public API on `engine`, without the `provisional` column that the hand-written
    query has not. Polars' own engine choice stays `evaluate()`'s default (streaming)."""

    def run(paths: Paths) -> pl.DataFrame:
        data = {name: str(path) for name, path in paths.items()}
        return project().evaluate(data, dashboard=DASHBOARD, engine=engine).drop("provisional")

    return run


HAND = "hand-written SQL"
SIDES: dict[str, Callable[[Paths], pl.DataFrame]] = {
    "duckdb engine": with_engine("duckdb"),
    "polars engine": with_engine("polars"),
    "spark engine": with_engine("spark"),
    HAND: hand_written,
}


# -- checking and timing --------------------------------------------------------------------------


def check(first: str, second: str, paths: Paths, what: str) -> None:
    """Both sides' results must agree (see `bench_dashboard.compare`); a side that cannot run stops the script."""
    results = []
    for side in (first, second):
        try:
            results.append(SIDES[side](paths))
        except Exception as error:  # an engine missing from this checkout or its extra: say so and stop
            raise SystemExit(f"{side} failed on the {what}: {type(error).__name__}: {error}") from error
    compare(*results, what, names=(first, second))


def time_alternating(
    sides: tuple[str, str], paths: Paths, runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock and CPU seconds (all threads of this process) of each run of each side, A B, B A, A B, ...

    DuckDB and Polars run their threads in this process, so CPU time counts all their work; Spark's JVM is
    another process, so its CPU time is not counted.
    """
    wall: dict[str, list[float]] = {side: [] for side in sides}
    cpu: dict[str, list[float]] = {side: [] for side in sides}
    for run in range(runs):
        for side in sides if run % 2 == 0 else reversed(sides):
            started, started_cpu = time.perf_counter(), time.process_time()
            SIDES[side](paths)
            wall[side].append(time.perf_counter() - started)
            cpu[side].append(time.process_time() - started_cpu)
            print(
                f"  run {run + 1} {side:>16}: {wall[side][-1]:7.3f} s wall, {cpu[side][-1]:7.3f} s CPU, "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    return wall, cpu


def _peak_rss(side: str, paths: Paths) -> float:
    """In a fresh child: the RSS high-water mark (VmHWM, Linux) of one run of `side`, in GiB."""
    project()
    SIDES[side](paths)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


def peak_memory(side: str, paths: Paths) -> float:
    """Run `side` once in a new spawned process, so that its peak is its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_peak_rss, side, paths).result()


def benchmark(sides: tuple[str, str], paths: Paths, runs: int, *, memory: bool) -> dict[str, float | str]:
    """Time `sides` (engine first, reference second) alternately and print the medians and their ratio."""
    print(f"timing {runs} runs of each side, alternating:", flush=True)
    wall, cpu = time_alternating(sides, paths, runs)
    peaks = {side: peak_memory(side, paths) for side in sides} if memory else {}
    median = {side: statistics.median(wall[side]) for side in sides}
    median_cpu = {side: statistics.median(cpu[side]) for side in sides}
    for side in sides:
        peak = f", peak RSS {peaks[side]:.2f} GiB" if side in peaks else ""
        print(
            f"  {side:>16}: median {median[side]:7.3f} s wall, {median_cpu[side]:7.3f} s CPU{peak}; "
            f"runs (s): {' '.join(f'{t:.3f}' for t in wall[side])}"
        )
    engine, reference = sides
    ratio, ratio_cpu = median[engine] / median[reference], median_cpu[engine] / median_cpu[reference]
    in_process = "" if engine == "spark engine" else f", {ratio_cpu:.2f} CPU"  # Spark works in its JVM, not here
    print(f"  {engine} / {reference}: {ratio:.2f} wall{in_process}", flush=True)
    return {"engine": median[engine], "reference": median[reference], "ratio": ratio, "ratio_cpu": ratio_cpu}


def rows_of(paths: Paths) -> str:
    """The row counts of the two files, for the report."""
    rows = {name: pl.scan_parquet(path).select(pl.len()).collect().item() for name, path in paths.items()}
    return f"{rows['interactions']:,} interactions, {rows['orders']:,} orders"


# -- where the DuckDB engine's time goes -----------------------------------------------------------


@contextlib.contextmanager
def timing_calls(
    targets: dict[str, tuple[Any, str]], seconds: dict[str, float], calls: list[tuple[Any, ...]]
) -> Iterator[None]:
    """Within the block, each `owner.attribute` of `targets` adds its wall time to `seconds[label]`; the arguments
    of the calls to the last target are kept in `calls`. The originals are put back after."""
    originals = [(owner, attribute, getattr(owner, attribute)) for owner, attribute in targets.values()]
    last = list(targets)[-1]
    for label, (owner, attribute) in targets.items():
        original = getattr(owner, attribute)

        def timed(*args: Any, _original: Any = original, _label: str = label, **kwargs: Any) -> Any:
            if _label == last:
                calls.append(args)
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                seconds[_label] = seconds.get(_label, 0.0) + time.perf_counter() - started

        setattr(owner, attribute, timed)
    try:
        yield
    finally:
        for owner, attribute, original in originals:
            setattr(owner, attribute, original)


def operators(sql: str, params: dict[str, str], tables: dict[str, pl.DataFrame]) -> tuple[float, float, list[str]]:
    """`EXPLAIN ANALYZE` of `sql` on a fresh connection (UTC, `tables` registered as Arrow): wall and CPU seconds of
    the query, and its operators that took at least 3 % of the CPU time, in plan order."""
    with tempfile.TemporaryDirectory() as folder, duckdb.connect() as con:
        output = Path(folder) / "profile.json"
        con.execute("SET enable_progress_bar = false")
        con.execute("SET TimeZone = 'UTC'")
        for name, frame in tables.items():
            con.register(name, frame.to_arrow())
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = '{output}'")
        started = time.perf_counter()
        con.sql(sql, params=params or None).fetchall()
        wall = time.perf_counter() - started
        con.execute("PRAGMA disable_profiling")
        tree = json.loads(output.read_text())
    cpu = tree["query"]["cpu_time"]
    lines: list[str] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        if node["timing"] >= 0.03 * cpu:
            info = node["extra_info"]
            detail = info.get("Function") or info.get("Conditions") or info.get("CTE Name") or ""
            lines.append(
                f"{node['timing']:7.3f} s {'  ' * depth}{node['name']} {detail} ({node['intermediate_rows']:,} rows)"
            )
        for child in node.get("children", []):
            walk(child, depth + 1)

    walk(tree["operator"][0], 0)
    return wall, cpu, lines


def profile(paths: Paths) -> None:
    """One run of the DuckDB engine with its steps timed, then `EXPLAIN ANALYZE` of its query against the
    hand-written one, over the Parquet files and over the engine's own Arrow tables (the SQL alone)."""
    from metricdsl.engine.sql import dialects, frames, query, run_duckdb

    seconds: dict[str, float] = {}
    calls: list[tuple[Any, ...]] = []
    targets = {
        "read the inputs with Polars (typed frames and data-quality counts)": (pl, "collect_all"),
        "convert the frames to the table contract": (frames, "to_sql_frame"),
        "build the query (sqlglot)": (query, "groups_query"),
        "render it as DuckDB SQL": (dialects, "render"),
        "cast the groups to Polars' schema": (frames, "from_sql_groups"),
        "DuckDB: register the Arrow tables, run, fetch to Polars": (run_duckdb, "execute"),
    }
    started = time.perf_counter()
    with timing_calls(targets, seconds, calls):
        SIDES["duckdb engine"](paths)
    total = time.perf_counter() - started
    print(f"one run of the duckdb engine, {total:.3f} s wall:")
    for label, spent in seconds.items():
        print(f"  {spent:7.3f} s {100 * spent / total:4.0f} %  {label}")
    rest = total - sum(seconds.values())
    print(f"  {rest:7.3f} s {100 * rest / total:4.0f} %  the rest: checking the request, planning, finishing the table")

    sql, tables = calls[0]
    started = time.perf_counter()
    for frame in tables.values():
        frame.to_arrow()
    print(f"of which Polars to Arrow (`to_arrow()` of the tables handed over): {time.perf_counter() - started:.3f} s")
    on_tables = HAND_WRITTEN_SQL.replace("read_parquet($interactions)", "interactions").replace(
        "read_parquet($orders)", "orders"
    )
    for what, text, params, registered in (
        ("the engine's query over its Arrow tables", sql, {}, tables),
        ("the hand-written SQL over the same Arrow tables", on_tables, {}, tables),
        ("the hand-written SQL over the Parquet files", HAND_WRITTEN_SQL, {k: str(v) for k, v in paths.items()}, {}),
    ):
        wall, cpu, lines = operators(text, params, registered)
        print(f"\nEXPLAIN ANALYZE, {what}: {wall:.3f} s wall, {cpu:.3f} s CPU; operators of 3 % of it or more:")
        print(*lines, sep="\n")


# -- command line ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, check that the sides agree, time them, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[1_000_000, 10_000_000], help="interactions, one size or more (1M 10M)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each side (5)")
    parser.add_argument("--quick", action="store_true", help=f"{SAMPLE:,} interactions: check and time in seconds")
    parser.add_argument(
        "--engine", choices=["duckdb", "polars"], default="duckdb", help="metricdsl's engine timed against the SQL (duckdb)"
    )
    parser.add_argument("--memory", action="store_true", help="also each side's peak RSS, once in a fresh process")
    parser.add_argument("--spark", action="store_true", help="also the Spark engine (local) against the Polars engine")
    parser.add_argument("--spark-rows", type=int, default=1_000_000, help="interactions for --spark (1M)")
    parser.add_argument("--spark-only", action="store_true", help="only the Spark engine against the Polars engine")
    parser.add_argument("--spark-runs", type=int, default=3, help="timed runs of each side for --spark (3)")
    parser.add_argument(
        "--profile", action="store_true", help="where the duckdb engine's time goes, at each size, after the timings"
    )
    parser.add_argument("--regenerate", action="store_true", help="write the cached Parquet files again")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    args = parser.parse_args(argv)
    sizes = [] if args.spark_only else [SAMPLE] if args.quick else args.rows
    spark_rows = SAMPLE if args.quick else args.spark_rows
    if min(*sizes, spark_rows, args.runs, args.spark_runs) < 1:
        parser.error("--rows, --runs, --spark-rows and --spark-runs must be at least 1")
    engine = f"{args.engine} engine"

    started = time.perf_counter()
    project()
    print(
        f"duckdb {duckdb.__version__}, polars {pl.__version__} ({pl.thread_pool_size()} threads), {os.cpu_count()} cores, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
        f"metricdsl.load('specs') took {time.perf_counter() - started:.3f} s (not timed below)"
    )
    sample = dataset(SAMPLE, seed=args.seed, regenerate=args.regenerate)
    if sizes:
        check("polars engine", HAND, sample, f"{SAMPLE:,}-row sample")
        if args.engine != "polars":
            check(engine, HAND, sample, f"{SAMPLE:,}-row sample")

    summary: list[str] = []
    for n in sizes:
        paths = sample if n == SAMPLE else dataset(n, seed=args.seed, regenerate=args.regenerate)
        print(f"\n{rows_of(paths)} ({', '.join(str(p.relative_to(ROOT)) for p in paths.values())})", flush=True)
        if n != SAMPLE:  # also warms the file cache before the timings
            check("polars engine", HAND, paths, f"{n:,} rows")
            if args.engine != "polars":
                check(engine, HAND, paths, f"{n:,} rows")
        figures = benchmark((engine, HAND), paths, args.runs, memory=args.memory)
        if args.profile and args.engine == "duckdb":
            profile(paths)
        summary.append(
            f"  {n:>10,} interactions: {engine} {figures['engine']:.3f} s, {HAND} {figures['reference']:.3f} s, "
            f"ratio {figures['ratio']:.2f} wall ({figures['ratio_cpu']:.2f} CPU)"
        )

    if args.spark or args.spark_only:
        paths = dataset(spark_rows, seed=args.seed, regenerate=args.regenerate and spark_rows not in sizes)
        print(f"\nSpark: {rows_of(paths)}", flush=True)
        started = time.perf_counter()
        check("spark engine", "polars engine", paths, f"{spark_rows:,} rows")  # starts the session
        print(f"  first Spark check (session start-up, the first query, then Polars): {time.perf_counter() - started:.1f} s")
        figures = benchmark(("spark engine", "polars engine"), paths, args.spark_runs, memory=False)
        summary.append(
            f"  {spark_rows:>10,} interactions: spark engine {figures['engine']:.3f} s, polars engine "
            f"{figures['reference']:.3f} s, ratio {figures['ratio']:.2f} wall"
        )

    print(f"\nSUMMARY (medians; load average now {os.getloadavg()[0]:.1f}):", *summary, sep="\n")


if __name__ == "__main__":
    main()
