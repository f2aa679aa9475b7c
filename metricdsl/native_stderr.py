"""Keep what native code writes to standard error out of a command's standard error.

Polars' Rust core prints a panic's message (and with `RUST_BACKTRACE`, a backtrace) straight to the process's
descriptor 2, even when the panic reaches Python as an exception that the command turns into one line: a corrupt
data file would put lines of Rust internals before that line. Polars has no setting that silences its panic hook,
so `native_stderr_discarded` points descriptor 2 at the null device for the length of a command and gives Python's
`sys.stderr` a copy of the old descriptor: what the command says still reaches its standard error, what native
code says does not.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO


@contextlib.contextmanager
def native_stderr_discarded() -> Iterator[None]:
    """Discard what is written to descriptor 2 by anything but `sys.stderr`, while inside; nothing changes when
    `sys.stderr` is not descriptor 2 (a test's capture, a redirection in Python)."""
    original = sys.stderr
    saved = _copy_of_descriptor_2(original)
    if saved is None:
        yield
        return
    stream = open(saved, "w", encoding=original.encoding, errors=original.errors, buffering=1)  # noqa: SIM115
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    sys.stderr = stream
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
        os.dup2(saved, 2)
        sys.stderr = original
        with contextlib.suppress(OSError, ValueError):
            stream.close()


def _copy_of_descriptor_2(stream: TextIO | None) -> int | None:
    """A new descriptor of what descriptor 2 is, when `stream` writes to it (flushed first); else None."""
    try:
        if stream is None or stream.fileno() != 2:
            return None
        stream.flush()
        return os.dup(2)
    except (AttributeError, OSError, ValueError):
        return None
