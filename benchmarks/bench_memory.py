"""Peak memory of one evaluation of the `service_2_0` dashboard, each as its own process, with memory limits.

For each `--memory-limit` given (`none`: no limit given, the default of half the machine's memory), a fresh Python
process loads the specs, evaluates the dashboard over the cached Parquet files of `bench_dashboard.py` (generated when
missing, in parts of 10M contacts above 10M) and reports its wall time and the high-water mark of its resident memory
(`VmHWM` of /proc/self/status: that of the new process alone, unlike `ru_maxrss`, which Linux carries over exec).
Before that, the tables of every limit are checked equal to the first one's (values within 1e-9).

    python benchmarks/bench_memory.py --interactions 1000000 --memory-limit none 200MB
    python benchmarks/bench_memory.py --interactions 50000000 --memory-limit none 4GB
    python benchmarks/bench_memory.py --interactions 100000000 --memory-limit 4GB
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_dashboard  # noqa: E402  (beside this file)


def child(paths: dict[str, str], limit: str, engine: str, output: str | None) -> None:
    """Evaluate once in this process; print seconds and peak RSS as JSON (and write the table to `output`)."""
    import metricdsl

    project = metricdsl.load(bench_dashboard.SPECS)
    started = time.perf_counter()
    table = project.evaluate(
        paths, dashboard=bench_dashboard.DASHBOARD, polars_engine=engine, memory_limit=None if limit == "none" else limit
    )
    seconds = time.perf_counter() - started
    if output:
        table.write_parquet(output)
    print(json.dumps({"seconds": seconds, "peak_gib": bench_dashboard._memory_gib("VmHWM")}))


def run(paths: dict[str, str], limit: str, engine: str, output: str | None) -> dict[str, float]:
    """`child` in a new process (this checkout's package first on its path)."""
    arguments = [sys.executable, __file__, "--child", json.dumps(paths), "--memory-limit", limit, "--engine", engine]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(bench_dashboard.ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [*arguments, *(["--output", output] if output else [])], capture_output=True, text=True, env=environment
    )
    if done.returncode != 0:
        raise SystemExit(f"the evaluation with --memory-limit {limit} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=10_000_000, help="contacts (10,000,000)")
    parser.add_argument("--memory-limit", nargs="+", default=["none", "4GB"], help="limits to run, `none` for none")
    parser.add_argument("--engine", choices=bench_dashboard.ENGINES, default=bench_dashboard.ENGINES[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-check", action="store_true", help="do not compare the tables")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child), args.memory_limit[0], args.engine, args.output)
        return
    import polars as pl

    paths = {name: str(path) for name, path in bench_dashboard.dataset(args.interactions, seed=args.seed).items()}
    print(f"{args.interactions:,} interactions, engine {args.engine!r}, load average {os.getloadavg()[0]:.1f}")
    results, tables = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for limit in args.memory_limit:
            output = None if args.no_check else str(Path(folder) / f"{len(tables)}.parquet")
            results[limit] = run(paths, limit, args.engine, output)
            print(
                f"  --memory-limit {limit:>6}: {results[limit]['seconds']:8.2f} s, peak RSS "
                f"{results[limit]['peak_gib']:6.2f} GiB (load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
            if output:
                tables[limit] = pl.read_parquet(output).drop("provisional")
        first = next(iter(tables), None)
        for limit, table in tables.items():
            if limit != first:
                bench_dashboard.compare(tables[first], table, f"--memory-limit {limit} against {first}", (first, limit))


if __name__ == "__main__":
    main()
