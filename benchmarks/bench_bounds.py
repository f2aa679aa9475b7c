"""Wall time and peak memory of `metricdsl` commands on hostile specs, each in a fresh process.

    python benchmarks/bench_bounds.py [--case NAME ...] [--timeout 120] [--code PATH]

Each case writes a small spec into a temporary folder (an alias bomb, 32 KB of escapes, 2,000 metrics,
a 3,000-long chain of metrics of metrics...) and runs one command on it as `python -m metricdsl`. The
table gives the exit code, the wall time, the child's peak RSS (`ru_maxrss` from `wait4` for that child
alone, which includes this small script's size at the fork), and how the output begins: a diagnostic
code, or the exception that ended the run. The commands run this checkout's package; `--code PATH` runs
another's (as PYTHONPATH), to compare versions. A case past `--timeout` seconds is killed.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "sources:\n  s:\n    columns: {x: int, y: str}\n"
ROWS = "x,y\n" + "".join(f"{i},a\n" for i in range(10))


def _test_with_row(value: str) -> str:
    return (
        SOURCE
        + "metrics:\n  n: count()\ntests:\n  - name: t\n    given:\n      s:\n"
        + f"        - {{x: 1, y: {value}}}\n    expect: {{n: 1}}\n"
    )


def alias_bomb() -> str:
    """Nine lines of anchors, each repeating the one before nine times: 9 ** 9 values."""
    lists = ["&a0 [x, x, x, x, x, x, x, x, x]"] + [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return _test_with_row("[" + ", ".join(lists) + "]")


def metrics(lines: list[str], derive: list[str] | None = None) -> str:
    derived = "    derive:\n" + "".join(f"      {line}\n" for line in derive) if derive else ""
    return SOURCE + derived + "metrics:\n" + "".join(f"  {line}\n" for line in lines)


def groups_test(groups: int) -> str:
    """A spec test of `groups` groups, each expected (200 KB for 4,000)."""
    rows = "".join(f"        - {{x: {i}, y: a}}\n" for i in range(groups))
    expect = "".join(f"      - {{x: {i}, n: 1}}\n" for i in range(groups))
    given = f"tests:\n  - name: t\n    by: [x]\n    given:\n      s:\n{rows}    expect:\n{expect}"
    return metrics(["n: count()"]) + given


def sources_test(sources: int) -> str:
    """`sources` sources with a metric each, and a spec test of them all by a dimension."""
    columns = "".join(f"  s{i}:\n    columns: {{x: int, y: str}}\n" for i in range(sources))
    lines = "".join(f"  m{i}: {{expr: count(), source: s{i}}}\n" for i in range(sources))
    expect = "{y: a, " + ", ".join(f"m{i}: {int(i == 0)}" for i in range(sources)) + "}"
    given = "given: {s0: [{x: 1, y: a}]}"
    return f"sources:\n{columns}metrics:\n{lines}tests:\n  - {{name: t, by: [y], {given}, expect: {expect}}}\n"


def chain(levels: int) -> str:
    return metrics(["m0: count()"] + [f"m{i}: m{i - 1} + 1" for i in range(1, levels)])


CASES: dict[str, tuple[Callable[[], str], list[str]]] = {
    "alias bomb in given": (alias_bomb, ["test"]),
    "250-deep list in given": (lambda: _test_with_row("[" * 250 + "]" * 250), ["test"]),
    "32 KB of \\x41 escapes": (lambda: metrics(["m: \"count() + len('" + "\\x41" * 8000 + "')\""]), ["validate"]),
    "2,000 x count()": (lambda: metrics([f"m{i}: count()" for i in range(2000)]), ["eval", "--data", "s=ROWS"]),
    "2,000 x mean(x)": (lambda: metrics([f"m{i}: mean(x)" for i in range(2000)]), ["eval", "--data", "s=ROWS"]),
    "3,000-long chain: validate": (lambda: chain(3000), ["validate"]),
    "3,000-long chain: eval": (lambda: chain(3000), ["eval", "--data", "s=ROWS", "--metrics", "m2999"]),
    "3,000-long chain: explain": (lambda: chain(3000), ["explain", "m2999"]),
    "3,000-long chain: graph": (lambda: chain(3000), ["graph"]),
    "64-long chain: eval": (lambda: chain(65), ["eval", "--data", "s=ROWS"]),
    "64 levels, each read twice: explain": (
        lambda: metrics(["m0: count()"] + [f"m{i}: m{i - 1} + m{i - 1}" for i in range(1, 65)]),
        ["explain", "m64"],
    ),
    "18 derived columns, each read twice: eval": (
        lambda: metrics(["m: sum(d17)"], ["d0: x + x"] + [f"d{i}: d{i - 1} + d{i - 1}" for i in range(1, 18)]),
        ["eval", "--data", "s=ROWS"],
    ),
    "4,000 groups expected in a spec test": (lambda: groups_test(4000), ["test"]),
    "1,000 sources, a metric of each, by a dimension": (lambda: sources_test(1000), ["test"]),
    "calls nested 198 deep: validate": (lambda: metrics(["m: sum(" + "abs(" * 198 + "x" + ")" * 198 + ")"]), ["validate"]),
}


def run(name: str, folder: Path, code: str, timeout: float) -> tuple[str, float, float, str]:
    """Exit code (or `killed`), wall seconds, peak MiB and the start of the output of one case."""
    write, command = CASES[name]
    (folder / "spec.yaml").write_text(write())
    (folder / "rows.csv").write_text(ROWS)
    arguments = [a.replace("s=ROWS", f"s={folder / 'rows.csv'}") for a in command]
    if arguments[0] == "eval":
        arguments += ["--output", str(folder / "out.csv")]
    environment = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": code}
    output = folder / "output.txt"
    with output.open("w") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "metricdsl", *arguments, str(folder)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        status, usage = None, None
        while status is None:
            pid, waited, used = os.wait4(child.pid, os.WNOHANG)
            if pid:
                status, usage = waited, used
            elif time.perf_counter() - started > timeout:
                child.send_signal(signal.SIGKILL)
                _, status, usage = os.wait4(child.pid, 0)
            else:
                time.sleep(0.02)
        elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    result = "killed" if child.returncode == -signal.SIGKILL else str(child.returncode)
    text = output.read_text(errors="replace")
    error = re.search(r"^(\w+Error)\b", text, re.MULTILINE)
    codes = sorted(set(re.findall(r"\b(MD\d{3})\b", text)))
    first = re.sub(r" to \S+|\S*/", "", text.strip().splitlines()[0])[:40] if text.strip() else ""
    summary = error.group(1) if error else ", ".join(codes) if codes else first
    return result, elapsed, usage.ru_maxrss / 1024, summary


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--case", action="append", choices=sorted(CASES), help="run only this case (repeatable)")
    arguments.add_argument("--timeout", type=float, default=120.0, help="kill a case after this many seconds")
    arguments.add_argument(
        "--code", default=str(ROOT), help="the folder holding the `metricdsl` package to run (default: this checkout)"
    )
    options = arguments.parse_args()
    print("| case | command | exit | wall | peak RSS | output |\n|---|---|---|---:|---:|---|")
    for name in options.case or CASES:
        with tempfile.TemporaryDirectory() as folder:
            result, elapsed, peak, summary = run(name, Path(folder), options.code, options.timeout)
        command = " ".join(a for a in CASES[name][1] if a not in ("--data", "s=ROWS"))
        print(f"| {name} | {command} | {result} | {elapsed:.2f} s | {peak:,.0f} MiB | {summary} |", flush=True)


if __name__ == "__main__":
    main()
