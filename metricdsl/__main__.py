"""`python -m metricdsl` and the `metricdsl` command: the command line, which this module loads only once it runs.

Loading it imports Polars, which takes a while: a Ctrl-C then must end in one line too, not in a traceback.
"""

import contextlib
import signal
import sys
from types import FrameType

# As `metricdsl.cli.EXIT_INTERRUPTED` and `EXIT_TERMINATED`, which cannot be imported before the command line is.
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(BaseException):
    """SIGTERM, raised where the process is: not an `Exception`, so that no handler of errors takes it for one, and
    the way out releases what the run holds (the temporary folder of windows computed in buckets) as Ctrl-C does.
    Python's own response to SIGTERM ends the process at once, leaving them behind."""


def run() -> None:
    """Load the command line and run it; Ctrl-C before it takes over (while loading) ends with `interrupted`, exit
    130; SIGTERM at any time with `terminated`, exit 143 (128 + SIGTERM, as shells report it)."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from metricdsl.cli import main

        main()
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        _say("terminated")
        sys.exit(EXIT_TERMINATED)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def _say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # else there is no standard error to say it on
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


if __name__ == "__main__":
    run()
