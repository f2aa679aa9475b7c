"""The git revision of a project's specs, recorded in findings so that a report names what it graded.

The specs may come from a pull request, and so may the repository around them: a crafted `.git/config`
(or a bare repository committed inside the specs' folder) must not make this module run a command. Git
runs commands named by configuration when it reads the work tree: `git status` runs `core.fsmonitor`,
the clean filters of `.gitattributes` (`filter.<name>.clean` and `.process`) on files whose stat changed,
and the `post-index-change` hook when it refreshes the index. Those cannot be switched off in one place
(a filter is looked up by a name that `.gitattributes` chooses), so git is never asked about the work
tree: it only reads objects, and this module compares the spec files with them.

- `git rev-parse` gives the commit, the work tree's top and the hash (SHA-1 or SHA-256);
  `git ls-tree -r HEAD` the blob of every file under the spec paths as committed.
- Each spec file that the loader reads is hashed here, as git hashes a blob, and compared with the
  committed one; line endings are compared as git's text conversion would (CRLF as LF). A spec file that
  is not committed, a committed one that is gone, or one whose content differs makes the revision `-dirty`.
  So `-dirty` means that the specs graded are not the commit's, whatever else in the folder changed.
- Even those two commands read configuration. A partial clone fetches missing objects through its
  promisor remote, which runs `core.sshCommand`: lazy fetching is off (`GIT_NO_LAZY_FETCH`) and no
  transport is allowed (`GIT_ALLOW_PROTOCOL`). `core.fsmonitor`, hooks and the untracked cache are off
  on the command line, which outranks the repository's config; `safe.bareRepository=explicit` stops git
  from taking a committed bare repository for the specs' repository; no pager, no prompt, no optional
  lock, pathspecs taken literally, and the system config ignored. The user's global config is read (it is
  theirs, and holds the `safe.directory` entries that CI runners need to read a checkout at all).

A pure-Python reader (dulwich) was considered: it would add a dependency, and its recent versions run
filter drivers from configuration too.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from metricdsl.spec.loader import SPEC_SUFFIXES, spec_files

GIT_TIMEOUT_S = 10
GIT_OPTIONS = (
    "--no-pager",
    "--no-optional-locks",
    "--literal-pathspecs",
    *("-c", "core.fsmonitor=false"),
    *("-c", "core.hooksPath=/dev/null"),
    *("-c", "core.untrackedCache=false"),
    *("-c", "safe.bareRepository=explicit"),
)
GIT_ENVIRONMENT = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_ALLOW_PROTOCOL": "none",  # no transport at all
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
}
BLOB_MODES = ("100644", "100755", "120000")  # files and symbolic links; not submodules


def spec_revision(paths: Sequence[str | Path]) -> str | None:
    """The commit of the repository holding the first of `paths`, with `-dirty` when the spec files under
    `paths` differ from that commit's; None outside a repository or without git."""
    first = Path(paths[0])
    folder = first if first.is_dir() else first.parent
    try:
        top, object_format, head = git_text(folder, "rev-parse", "--show-toplevel", "--show-object-format", "HEAD").split(
            "\n"
        )
        committed = _committed_specs(Path(top), paths)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return head + ("-dirty" if _differs(Path(top), paths, committed, object_format) else "")


def _committed_specs(top: Path, paths: Sequence[str | Path]) -> dict[str, str]:
    """The blob of each spec file of `paths` in HEAD, by its path in the repository."""
    inside = {given: name for given in paths if (name := in_repository(given, top)) is not None}
    if not inside:
        return {}
    named = {name for given, name in inside.items() if not Path(given).is_dir()}
    listing = git_text(top, "ls-tree", "-r", "-z", "HEAD", "--", *inside.values())
    committed: dict[str, str] = {}
    for entry in filter(None, listing.split("\0")):
        info, _, name = entry.partition("\t")
        mode, _, blob = info.split(" ")
        if mode in BLOB_MODES and (name in named or Path(name).suffix in SPEC_SUFFIXES):
            committed[name] = blob
    return committed


def _differs(top: Path, paths: Sequence[str | Path], committed: dict[str, str], object_format: str) -> bool:
    found = {in_repository(path, top): path for path in spec_files(paths)}
    if set(found) != set(committed):
        return True
    return any(not _same_blob(Path(path), committed[name], object_format) for name, path in found.items() if name)


def in_repository(path: str | Path, top: Path) -> str | None:
    """`path` relative to the repository's top, as git names it (its folder's links resolved, not its own)."""
    path = Path(path)
    folder = os.path.realpath(path if path.is_dir() else path.parent)
    relative = os.path.relpath(folder if path.is_dir() else os.path.join(folder, path.name), top)
    if relative == os.curdir:
        return "."
    return None if relative.split(os.sep)[0] == os.pardir else Path(relative).as_posix()


def _same_blob(path: Path, blob: str, object_format: str) -> bool:
    content = os.fsencode(os.readlink(path)) if path.is_symlink() else path.read_bytes()
    return blob in (_blob_id(content, object_format), _blob_id(content.replace(b"\r\n", b"\n"), object_format))


def _blob_id(content: bytes, object_format: str) -> str:
    return hashlib.new(object_format, b"blob %d\0" % len(content) + content).hexdigest()


def git_text(folder: Path, *args: str) -> str:
    """`run_git`'s output as text, without its trailing newlines."""
    return run_git(folder, *args).decode().strip("\n")


def run_git(folder: Path, *args: str, given: bytes | None = None) -> bytes:
    """The standard output of `git ARGS` run in `folder` as this module runs it (see its docstring): with
    `GIT_OPTIONS` and `GIT_ENVIRONMENT`, `given` as standard input (else none), within `GIT_TIMEOUT_S`. Raises
    `OSError` without git, `subprocess.CalledProcessError` (with git's standard error) when git fails and
    `subprocess.TimeoutExpired`. Use it only for commands that read objects and refs, never the work tree."""
    completed = subprocess.run(
        ["git", *GIT_OPTIONS, "-C", str(folder), *args],
        capture_output=True,
        timeout=GIT_TIMEOUT_S,
        check=True,
        input=given,
        stdin=None if given is not None else subprocess.DEVNULL,
        env={**os.environ, **GIT_ENVIRONMENT},
    )
    return completed.stdout
