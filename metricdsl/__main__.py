"""`python -m metricdsl` and the `metricdsl` command: the command line, which this module loads only once it runs.

Loading it imports Polars, which takes a while: a Ctrl-C then must end in one line too, not in a traceback.
"""

import contextlib
import sys

EXIT_INTERRUPTED = 130  # as `metricdsl.cli.EXIT_INTERRUPTED`, which cannot be imported before the command line is


def run() -> None:
    """Load the command line and run it; Ctrl-C before it takes over (while loading) ends with `interrupted`."""
    try:
        from metricdsl.cli import main

        main()
    except KeyboardInterrupt:
        with contextlib.suppress(OSError, ValueError):  # else there is no standard error to say it on
            sys.stderr.write("interrupted\n")
            sys.stderr.flush()
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    run()
