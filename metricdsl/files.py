"""Writing output files whole or not at all, without harming what is already there.

- A regular file, or a name that does not exist yet, is replaced atomically: the content goes to a temporary
  file beside it, takes the old file's mode and owner (a new file gets the mode the umask gives, as any new
  file would), is flushed to disk and is renamed over the old one; the folder is flushed too where the system
  allows it. (A file's other hard links keep the old content, as with any atomic replace.)
- A symbolic link is written through: its target is replaced that way, and the link stays a link.
- A device, a FIFO, `-` (standard output) and a name of an open descriptor (`/dev/stdout`, `/dev/fd/3`, which
  may stand for a redirected regular file) are written as streams, after the content is complete. A reader of
  standard output that has gone (`| head -1`) raises `BrokenPipeError`, for the caller to end as it would have.
- Missing parent folders are created (with the umask's mode), as `mkdir -p` would.
- An existing file that is not writable (read-only for this user) is refused, as writing it in place would be.

Every failure raises `OutputError`, whose message is one line naming the path; a failed replace leaves the old
file as it was and no temporary file behind. `locked` serialises the read-modify-replace of a file between runs, and
`refuse_overwriting` keeps a command from writing over one of its own inputs.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import filelock
import polars as pl

from metricdsl.errors import OutputError

STDOUT = "-"  # the output name that means standard output
LOCK_TIMEOUT = 600.0  # seconds to wait for another run's lock before giving up
_OS_ERROR = re.compile(r"\(os error (\d+)\)")
_STANDARD = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_DESCRIPTOR = re.compile(rf"^/(?:dev/fd|proc/self/fd|proc/{os.getpid()}/fd)/(\d+)$")


def replace_atomically(path: str | Path, write: Callable[[str], object]) -> None:
    """Call `write(temporary)` to write a temporary file, then put its content at `path` (see the module's rules).

    Raises `OutputError` when `path` cannot be written, and `BrokenPipeError` when it is standard output and its
    reader has gone; `write` raising anything else leaves `path` as it was.
    """
    shown = output_name(path)
    descriptor: int | None = None
    try:
        descriptor = 1 if str(path) == STDOUT else _descriptor(path)
        if descriptor is not None:
            _stream(write, descriptor)
            return
        target = Path(os.path.realpath(path))
        status = _status(target)
        if status is None or stat.S_ISREG(status.st_mode):
            _replace(target, write, status)
        elif stat.S_ISDIR(status.st_mode):
            raise OutputError(shown, "it is a folder")
        else:
            _stream(write, target)
    except BrokenPipeError as error:
        if descriptor == 1:
            raise
        raise OutputError(shown, reason(error)) from None
    except (OSError, pl.exceptions.PolarsError) as error:
        raise OutputError(shown, reason(error)) from None


def write_bytes_atomically(path: str | Path, data: bytes) -> None:
    """Write `data` to `path`, like `replace_atomically`."""
    replace_atomically(path, lambda temporary: Path(temporary).write_bytes(data))


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write `text` to `path` as UTF-8, its newlines as given, like `replace_atomically`."""
    write_bytes_atomically(path, text.encode("utf-8"))


def output_name(path: str | Path) -> str:
    """How messages name an output: `standard output` for `-`, else its path as given."""
    return "standard output" if str(path) == STDOUT else str(path)


def is_standard_output(path: str | Path) -> bool:
    """Whether `path` is written to standard output: `-`, `/dev/stdout`, `/dev/fd/1` or a link to one of them."""
    return str(path) == STDOUT or _descriptor(path) == 1


def is_terminal(path: str | Path) -> bool:
    """Whether `path` names an open descriptor (`-` too) that is a terminal."""
    descriptor = 1 if str(path) == STDOUT else _descriptor(path)
    if descriptor is None:
        return False
    stream = {1: sys.stdout, 2: sys.stderr}.get(descriptor)  # as `_stream` writes them: through Python's stream
    try:
        return stream.isatty() if stream is not None else os.isatty(descriptor)
    except (OSError, ValueError):  # closed
        return False


def is_stream(path: str | Path) -> bool:
    """Whether `path` is written as a stream: `-`, an open descriptor's name, a device or a FIFO (through links)."""
    if str(path) == STDOUT or _descriptor(path) is not None:
        return True
    status = _status(Path(os.path.realpath(path)))
    return status is not None and not stat.S_ISREG(status.st_mode) and not stat.S_ISDIR(status.st_mode)


def reason(error: BaseException) -> str:
    """The cause of a failed read or write, in a few words: `No space left on device`, `Permission denied`."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error).strip()
    code = _OS_ERROR.search(text)
    if code:
        return os.strerror(int(code.group(1)))
    return text.splitlines()[0] if text else type(error).__name__


def lock_path(path: str | Path) -> str:
    """The lock file of `path`: `PATH.lock` beside the file that `path` leads to."""
    return f"{os.path.realpath(path)}.lock"


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (through `PATH.lock` beside its target) while reading and replacing it.

    The lock file stays after use: removing it would let a waiting run and a new one both take the lock. A stream
    (device, FIFO, `-`) is not locked. Raises `OutputError` when the lock cannot be taken.
    """
    if is_stream(path):
        yield
        return
    shown = str(path)
    lock = filelock.FileLock(lock_path(path), timeout=LOCK_TIMEOUT)
    target = Path(os.path.realpath(path))
    try:
        _make_folder(target.parent)
        lock.acquire()
    except filelock.Timeout:
        raise OutputError(shown, f"another run has held its lock {lock.lock_file} for {LOCK_TIMEOUT:.0f} s") from None
    except OSError as error:
        raise OutputError(shown, f"cannot lock it ({lock.lock_file}): {reason(error)}") from None
    try:
        yield
    finally:
        lock.release()


def refuse_overwriting(outputs: Iterable[str | Path | None], inputs: Iterable[tuple[str | Path, str]]) -> None:
    """Raise `OutputError` when an output is the same file as an input or as another output.

    `inputs` pairs each input's path (or glob) with what it is (`the data of source `calls``); files are compared
    by their resolved path (through links) and, when they exist, by identity (hard links too).
    """
    known: list[tuple[str, os.stat_result | None, str]] = []
    for path, what in inputs:
        for name in dict.fromkeys([str(path), *glob.glob(str(path))]):
            real = os.path.realpath(name)
            known.append((real, _status(Path(real)), what))
    for output in outputs:
        if output is None or is_stream(output):
            continue  # written as a stream: it replaces no file
        real = os.path.realpath(output)
        status = _status(Path(real))
        for other, other_status, what in known:
            same = status is not None and other_status is not None and os.path.samestat(status, other_status)
            if real == other or same:
                raise OutputError(str(output), f"it is {what}")
        known.append((real, status, "another output of this command"))


def _descriptor(path: str | Path) -> int | None:
    """The descriptor that `path` names (`/dev/stdout`, `/dev/fd/3`, `/proc/self/fd/3`, or a link to one), if any.

    Resolving such a name gives the file behind the descriptor (`/tmp/log` for `> /tmp/log`), which must be written
    through the open descriptor, not replaced; a pipe's resolves to no file at all.
    """
    current = os.path.abspath(path)
    for _ in range(40):  # as many links as the system follows
        if current in _STANDARD:
            return _STANDARD[current]
        match = _DESCRIPTOR.match(current)
        if match:
            return int(match.group(1))
        if not os.path.islink(current):
            return None
        current = os.path.normpath(os.path.join(os.path.dirname(current), os.readlink(current)))
    return None


def _status(path: Path) -> os.stat_result | None:
    """The status of `path`, following links; None when it does not exist (or a folder on its way is a file)."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:  # a loop of links, a name too long: nothing can be written there either
        raise OutputError(str(path), reason(error)) from None


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OSError(errno.ENOTDIR, f"{folder} is not a folder") from None
    except OSError as error:
        raise OSError(error.errno, f"cannot create the folder {folder}: {reason(error)}") from None


def _replace(target: Path, write: Callable[[str], object], old: os.stat_result | None) -> None:
    """Write through a temporary file beside `target` and rename it over `target`."""
    if old is not None and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "it is read-only")
    folder = target.parent
    _make_folder(folder)
    temporary, mode = _create_temporary(folder, target.name)
    try:
        write(str(temporary))
        if old is not None:
            new = os.stat(temporary)
            if (old.st_uid, old.st_gid) != (new.st_uid, new.st_gid) and hasattr(os, "chown"):
                with contextlib.suppress(OSError):  # only a privileged user may give a file away
                    os.chown(temporary, old.st_uid, old.st_gid)
        os.chmod(temporary, stat.S_IMODE(old.st_mode) if old is not None else mode)
        _flush_to_disk(temporary)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
    _flush_folder(folder)


def _create_temporary(folder: Path, name: str) -> tuple[Path, int]:
    """A new empty file `.NAME.RANDOM.tmp` in `folder`, and its mode: created as 0o666, so the umask applies."""
    while True:
        temporary = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        try:
            return temporary, stat.S_IMODE(os.fstat(handle).st_mode)
        finally:
            os.close(handle)


def _flush_to_disk(path: Path) -> None:
    handle = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _flush_folder(folder: Path) -> None:
    """Make the rename durable; not every system can open or flush a folder, and then the rename stands as it is."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _stream(write: Callable[[str], object], target: Path | int) -> None:
    """Write the complete content to a temporary file, then copy it to `target`: a device, or an open descriptor."""
    with tempfile.TemporaryDirectory(prefix="metricdsl-") as folder:
        temporary = os.path.join(folder, "output")
        write(temporary)
        with open(temporary, "rb") as content:
            standard = {1: sys.stdout, 2: sys.stderr}.get(target) if isinstance(target, int) else None
            if standard is not None:  # through Python's stream, after what was printed to it
                standard.flush()
                shutil.copyfileobj(content, standard.buffer)
                standard.buffer.flush()
                return
            with open(target, "wb", closefd=not isinstance(target, int)) as sink:
                shutil.copyfileobj(content, sink)
