"""`python -m metricdsl` and the `metricdsl` command: the command line, which this module loads only once it runs.

Loading it imports Polars, which takes a while: a Ctrl-C or SIGTERM then must end in one line too, not in a
traceback.
"""

import contextlib
import sys

from metricdsl.stopping import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, handled


def run() -> None:
    """Load the command line and run it; Ctrl-C before it takes over (while loading) ends with `interrupted`, exit
    130; SIGTERM with `terminated`, exit 143 (128 + SIGTERM, as shells report it)."""
    try:
        with handled():
            from metricdsl.cli import main

            main()
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        _say("terminated")
        sys.exit(EXIT_TERMINATED)


def _say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # else there is no standard error to say it on
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


if __name__ == "__main__":
    run()
