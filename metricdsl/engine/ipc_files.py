"""Read Arrow IPC files once in a child process, so that a corrupt one cannot abort this process.

Polars trusts the lengths an Arrow IPC file declares: a compressed buffer of a corrupt file can declare an
uncompressed length of exabytes, and an allocation that fails aborts the whole process (SIGABRT), past every
`except`. Unlike Parquet (`parquet_files`), the file's structure is not parsed here: `ipc_problem` has a child
Python process read the files with Polars, one after the other, under a limit on its address space, and a child
that dies (by a signal, or with an exit status) marks the file it was reading as one that cannot be read safely.
An error that Polars raises in the child is left to the read that follows, which reports it as it reports any
error of Polars. Arrow IPC is rare in this field, so its files are read twice, once in the child and once to
evaluate: the price of a safe read, plus the child's start (about half a second).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

_GIB = 2**30
_MIN_LIMIT = 8 * _GIB  # Polars' threads and allocator reserve address space, some hundreds of megabytes per core

# Run with `python -c`: without the working directory on `sys.path` (a `polars.py` there is not imported), with
# its address space limited (where `resource` exists), it prints the index of each file before reading it.
_CHILD = """\
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".")]
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
except (ImportError, ValueError, OSError):
    pass
import polars as pl
for index, file in enumerate(sys.argv[2:]):
    print(index, flush=True)
    try:
        pl.scan_ipc(file, glob=False).collect()
    except BaseException:
        pass
print("done", flush=True)
"""


def ipc_problem(paths: list[str]) -> tuple[str, str] | None:
    """The first of `paths` (Arrow IPC files) that cannot be read safely, with why in a few words; None if none."""
    for path in paths:
        try:
            if not stat.S_ISREG(Path(path).stat().st_mode):  # a FIFO would block the child
                return path, "it is not a regular file"
        except OSError as error:
            return path, error.strerror or type(error).__name__
    if not paths or not sys.executable:
        return None
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(_limit()), *paths],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the Rust core's message when it aborts, which speaks of its internals
        check=False,
    )
    lines = child.stdout.decode(errors="replace").split()
    if child.returncode == 0 and lines[-1:] == ["done"]:
        return None
    started = [int(line) for line in lines if line.isdigit() and int(line) < len(paths)]
    if not started:  # the child failed before reading: Python or Polars could not start
        return paths[0], f"cannot check it: the process that reads it first failed to start ({_death(child.returncode)})"
    return paths[started[-1]], f"not a valid Arrow IPC file: reading it made Polars {_death(child.returncode)}"


def _death(status: int) -> str:
    if status < 0:
        try:
            return f"die ({signal.Signals(-status).name})"
        except ValueError:
            return f"die (signal {-status})"
    return f"fail (exit status {status})"


def _limit() -> int:
    """The child's address space: the machine's memory, at least `_MIN_LIMIT` (a read that needs more could not
    succeed here either)."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        memory = 0
    return max(memory, _MIN_LIMIT)
