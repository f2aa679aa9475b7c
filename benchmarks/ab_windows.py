"""A/B of the window stage: this checkout's against an earlier revision's, in one process, alternating.

The compiler module of revision REV (`git show REV:metricdsl/engine/polars/compiler.py`) is loaded beside this
checkout's, and each run of the `service_2_0` dashboard (`Project.evaluate`) uses one or the other's
`Compiler.add_windows`: everything else is the same code, so the difference is that of the window plans. Before the
timings, both tables must match (within 1e-9). Measured this way: the stack of windows sorted once against the
`join_asof`s of `2654008`.

    PYTHONPATH=. python benchmarks/ab_windows.py 2654008 --interactions 1000000 --runs 5
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_dashboard  # beside this file

from metricdsl.engine.polars import compiler

PATH = "metricdsl/engine/polars/compiler.py"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the earlier revision (a commit)")
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engines", nargs="+", default=bench_dashboard.ENGINES, choices=bench_dashboard.ENGINES)
    args = parser.parse_args(argv)
    text = subprocess.run(["git", "show", f"{args.revision}:{PATH}"], capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "earlier_compiler.py").write_text(text)
        spec = importlib.util.spec_from_file_location("earlier_compiler", Path(folder) / "earlier_compiler.py")
        assert spec is not None
        assert spec.loader is not None
        earlier = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(earlier)
    plans = {"earlier": earlier.Compiler.add_windows, "this": compiler.Compiler.add_windows}
    paths = bench_dashboard.dataset(args.interactions)
    bench_dashboard.project()
    tables = {}
    for name, plan in plans.items():
        compiler.Compiler.add_windows = plan  # type: ignore[method-assign]
        tables[name] = bench_dashboard.with_metricdsl(paths, "in-memory")
    bench_dashboard.compare(tables["earlier"], tables["this"], "earlier against this", ("earlier", "this"))
    for engine in args.engines:
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in plans}
        for run in range(args.runs):
            for name in list(plans) if run % 2 == 0 else reversed(plans):
                compiler.Compiler.add_windows = plans[name]  # type: ignore[method-assign]
                started, started_cpu = time.perf_counter(), time.process_time()
                bench_dashboard.with_metricdsl(paths, engine)
                runs[name].append((time.perf_counter() - started, time.process_time() - started_cpu))
        wall = {name: statistics.median(r[0] for r in found) for name, found in runs.items()}
        cpu = {name: statistics.median(r[1] for r in found) for name, found in runs.items()}
        print(
            f"{engine}: earlier {wall['earlier']:.3f} s wall {cpu['earlier']:.3f} s CPU | this {wall['this']:.3f} s wall "
            f"{cpu['this']:.3f} s CPU | this / earlier {wall['this'] / wall['earlier']:.2f} wall, "
            f"{cpu['this'] / cpu['earlier']:.2f} CPU | load average {os.getloadavg()[0]:.1f}"
        )
    compiler.Compiler.add_windows = plans["this"]  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
