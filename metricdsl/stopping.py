"""Ctrl-C (SIGINT) and SIGTERM: the way a run is stopped, noted, so that the command line tells it in one line.

A signal that lands while Polars' native code is calling back into Python does not always come out as the
`KeyboardInterrupt` it raised: Polars may turn the failed call into an error of its own, such as
`TypeError: '<unprintable str object>' is not a Polars data type`. The handlers here note the signal before they
raise, so that the error that follows is told as the stop it is, not as a bug.

This module imports nothing of the project's: `python -m metricdsl` installs the handlers before it loads Polars.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

# 128 + the signal's number, as shells report a process that the signal ended.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM, raised where the process is: not an `Exception`, so that no handler of errors takes it for one, and
    the way out releases what the run holds (the temporary folder of windows computed in buckets) as Ctrl-C does.
    Python's own response to SIGTERM ends the process at once, leaving them behind."""


_received: list[int] = []  # the signals noted since the handlers were installed, in order


def stopped_by() -> int | None:
    """The exit code of the first stop noted since `handled()` began (`EXIT_INTERRUPTED`, `EXIT_TERMINATED`), if
    any: an error raised after it is the stop's doing."""
    if not _received:
        return None
    return EXIT_INTERRUPTED if _received[0] == signal.SIGINT else EXIT_TERMINATED


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """While inside, Ctrl-C raises `KeyboardInterrupt` and SIGTERM raises `Terminated`, each noted for
    `stopped_by()`; the handlers before are restored on the way out. Outside the main thread, where Python lets no
    handler be set (a test's runner), nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    before = {number: signal.signal(number, _note) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)  # None: set outside Python


def _note(number: int, frame: FrameType | None) -> None:
    _received.append(number)
    if number == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated
