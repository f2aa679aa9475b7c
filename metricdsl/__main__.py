"""`python -m metricdsl`: the command line."""

from metricdsl.cli import main

main()
