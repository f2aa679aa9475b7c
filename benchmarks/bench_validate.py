"""Time `validate` of a generated project of 2,000 metrics in 100 files against bare Lark parsing.

    python benchmarks/bench_validate.py [--metrics 2000] [--files 100] [--runs 5]

Both sides run in this process after start-up, so the ratio leaves out interpreter and import
time. "validate" is what `metricdsl validate` does: read and load the YAML with positions,
parse every expression, check the project (names, types, units, cycles). "Lark" is
`parser().parse(text)` of the same expression strings with the same grammar, nothing else.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from metricdsl.language.parser import parser
from metricdsl.semantics.checker import check
from metricdsl.spec.loader import expressions, load_files

SOURCES = Path(__file__).resolve().parent.parent / "specs" / "sources.yaml"
TEMPLATES = [
    "100 * (share(nps_score >= {a}) - share(nps_score <= {b}))",
    'mean(handle_s where answered and channel == "{channel}")',
    "share(answered and wait_s <= {a}s where not short_abandon and live)",
    'count(where sale and queue in ["sales", "retention"]) / (sum(handle_s where answered) / 3600)',
    "quantile(wait_s where answered, 0.{a})",
    "share(followed_by(orders where amount > {a} and cross_sell, {b}d))",
    "case when count() > {a} then mean(talk_s) else null end",
    "share(repeat_7d where answered and hour(started_at) between {b} and {a})",
]


def write_project(folder: Path, metrics: int, files: int) -> None:
    """`metrics` metrics over `files` files, plus the standard sources; names are unique."""
    rng = random.Random(7)
    # The library's data paths lead out of the specs' folder (MD009 here): point them at files of the project.
    (folder / "sources.yaml").write_text(SOURCES.read_text().replace("../examples/data/", "data/"))
    per_file = metrics // files
    for f in range(files):
        lines = ["metrics:"]
        for m in range(per_file):
            if m % 5 == 4:  # every fifth is a metric of metrics
                lines += [f"  m_{f}_{m}:", f"    expr: m_{f}_{m - 1} / m_{f}_{m - 2}"]
                continue
            expr = rng.choice(TEMPLATES).format(
                a=rng.randint(1, 9), b=rng.randint(1, 9), channel=rng.choice(["phone", "chat", "email"])
            )
            lines += [f"  m_{f}_{m}:", "    source: interactions", f"    expr: '{expr}'", "    better: higher"]
        (folder / f"metrics_{f:03}.yaml").write_text("\n".join(lines) + "\n")


def time_validate(folder: Path) -> tuple[float, int, list[str]]:
    start = time.perf_counter()
    definitions, diagnostics = load_files([folder])
    diagnostics += check(definitions)[1]
    elapsed = time.perf_counter() - start
    assert not diagnostics, diagnostics[:3]
    return elapsed, len(definitions.metrics), [e.text for e in expressions(definitions)]


def time_lark(texts: list[str]) -> float:
    lark = parser()
    start = time.perf_counter()
    for text in texts:
        lark.parse(text)
    return time.perf_counter() - start


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--metrics", type=int, default=2000)
    arguments.add_argument("--files", type=int, default=100)
    arguments.add_argument("--runs", type=int, default=5)
    options = arguments.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        write_project(Path(folder), options.metrics, options.files)
        parser()  # built once per process, as in the command
        time_validate(Path(folder))  # warm-up
        validate_times, lark_times = [], []
        for _ in range(options.runs):
            elapsed, count, texts = time_validate(Path(folder))
            validate_times.append(elapsed)
            lark_times.append(time_lark(texts))
    validate, lark = statistics.median(validate_times), statistics.median(lark_times)
    print(f"project: {count} metrics ({len(texts)} expressions) in {options.files + 1} files")
    print(f"validate (load + parse + check): median {validate:.3f} s  runs {[round(t, 3) for t in validate_times]}")
    print(f"bare Lark parse of the same:     median {lark:.3f} s  runs {[round(t, 3) for t in lark_times]}")
    print(f"ratio validate / Lark: {validate / lark:.2f}")


if __name__ == "__main__":
    main()
