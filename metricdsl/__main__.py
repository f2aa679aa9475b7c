"""`python -m metricdsl` and the `metricdsl` command: the command line, which this module loads only once it runs.

Loading it imports Polars, which takes a while: a Ctrl-C or SIGTERM then must end in one line too, not in a
traceback.
"""

from metricdsl.stopping import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, handled, stop


def run() -> None:
    """Load the command line and run it; Ctrl-C before it takes over (while loading) ends with `interrupted`, exit
    130; SIGTERM with `terminated`, exit 143 (128 + SIGTERM, as shells report it). Signals that come once the command
    is done, while the process ends, are ignored."""
    try:
        with handled(restore=False):
            from metricdsl.cli import main

            main()
    except KeyboardInterrupt:
        stop(EXIT_INTERRUPTED)
    except Terminated:
        stop(EXIT_TERMINATED)


if __name__ == "__main__":
    run()
