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
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import NoReturn

# 128 + the signal's number, as shells report a process that the signal ended.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM, raised where the process is: not an `Exception`, so that no handler of errors takes it for one, and
    the way out releases what the run holds (the temporary folder of windows computed in buckets) as Ctrl-C does.
    Python's own response to SIGTERM ends the process at once, leaving them behind."""


_received: list[int] = []  # the signals noted since the handlers were installed, in order
_told: list[int] = []  # the exit code of the stop told (`stop`), once it is


def stopped_by() -> int | None:
    """The exit code of the first stop noted since `handled()` began (`EXIT_INTERRUPTED`, `EXIT_TERMINATED`), if
    any: an error raised after it is the stop's doing."""
    if not _received:
        return None
    return EXIT_INTERRUPTED if _received[0] == signal.SIGINT else EXIT_TERMINATED


def raise_noted() -> None:
    """Raise the first stop noted (`KeyboardInterrupt`, `Terminated`), if any: where its own exception was lost."""
    if (code := stopped_by()) is not None:
        raise KeyboardInterrupt if code == EXIT_INTERRUPTED else Terminated


def stop(code: int) -> NoReturn:
    """End the run stopped with exit `code` (`EXIT_INTERRUPTED`, `EXIT_TERMINATED`), saying so in one line on standard
    error. From then on, signals under `handled()` are only noted: a second Ctrl-C while the run winds down (removes
    its temporary files, joins Polars' threads) does not break the way out with a second exception."""
    _told.append(code)
    with contextlib.suppress(OSError, ValueError):  # else there is no standard error to say it on
        sys.stderr.write(("interrupted" if code == EXIT_INTERRUPTED else "terminated") + "\n")
        sys.stderr.flush()
    sys.exit(code)


@contextlib.contextmanager
def handled(*, restore: bool = True) -> Iterator[None]:
    """While inside, Ctrl-C raises `KeyboardInterrupt` and SIGTERM raises `Terminated`, each noted for
    `stopped_by()`, until a stop is told (`stop`). On the way out, the handlers before are restored (and what was
    noted forgotten); with `restore=False` (the process ends next), both signals are ignored instead: Python's own
    handlers would break its shutdown with a traceback, or end it without a word, once the run's output is whole.
    Inside another `handled()`, what is noted stays until the outer one ends. Outside the main thread, where Python
    lets no handler be set (a test's runner), nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {number: signal.signal(number, _note) for number in (signal.SIGINT, signal.SIGTERM)}
    outermost = before[signal.SIGINT] is not _note  # inside another: what it noted stays until it ends
    if outermost:
        _received.clear()
        _told.clear()
    try:
        yield
    finally:
        if restore and outermost:
            _received.clear()
            _told.clear()
        for number, handler in before.items():
            if not restore:
                handler = signal.SIG_IGN
            signal.signal(number, signal.SIG_DFL if handler is None else handler)  # None: set outside Python


def _note(number: int, frame: FrameType | None) -> None:
    _received.append(number)
    if _told:
        return
    if number == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated
