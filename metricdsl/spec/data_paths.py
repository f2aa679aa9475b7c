"""Where a source's `path:` may lead: the files a path or glob names, and the project folder they must stay in.

Specs may come from a stranger's pull request, and a `path:` is read with the rights of whoever runs
metricdsl: without a bound, `path: /etc/passwd.csv` or `../../secrets/*.csv` would be read and its numbers
printed. So the loader requires every `path:` to lead inside the *project folder*:

- the work tree of the git repository that holds the spec paths given (found by looking for `.git` in
  their folder and its parents, without running git: a pull request cannot commit a `.git`);
- outside a repository, the current folder when it holds the spec paths (so `metricdsl eval specs/` reads
  `../examples/data/` from an unpacked archive too), else the spec paths' common folder.

Links are followed (realpath) before comparing: a link inside the folder that points out of it leads out.
A glob is checked file by file, along with the folder it starts from, and `files()` is also how the engine
expands it, so what is read is what was checked (Polars' own globbing would also match hidden files).
Its `**` does not enter linked folders (two links to `..` would make the tree endless, and one would read
every file again through it), and a glob that matches more than `MAX_MATCHES` files is an error.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from metricdsl.errors import DataError

GLOB_CHARACTERS = re.compile(r"[*?[]")
SEPARATORS = re.compile(r"[/\\]" if os.altsep else "/")
MAX_MATCHES = 100_000


def files(path: str | Path) -> list[str]:
    """The files a path names: the path itself when it exists, or every match of a glob (`**` spans folders,
    `*` skips hidden files, and neither enters hidden folders), sorted. `~` stands for the home folder, as Polars
    reads it. `**` does not enter linked folders; more than `MAX_MATCHES` matches raise DataError."""
    text = os.path.expanduser(str(path))
    if not GLOB_CHARACTERS.search(text):
        return [text] if os.path.exists(text) else []
    drive, rest = os.path.splitdrive(text)
    anchor = drive + (os.sep if SEPARATORS.match(rest) else "")
    parts = [part for part in SEPARATORS.split(rest) if part]
    parts = [part for i, part in enumerate(parts) if not (part == "**" and parts[i - 1 : i] == ["**"])]
    found: set[str] = set()
    for match in _matches(anchor, parts):
        found.add(match)
        if len(found) > MAX_MATCHES:
            raise DataError(f"{text} matches more than {MAX_MATCHES:,} files: name fewer files or folders")
    return sorted(found)


def _matches(base: str, parts: list[str]) -> Iterator[str]:
    """The paths under `base` ('' for the current folder) that the path components `parts` match."""
    if not parts:
        yield base
        return
    part, rest = parts[0], parts[1:]
    if part == "**":
        for folder, names in _tree(base):
            if rest:
                yield from _matches(folder, rest)
            else:
                yield from (os.path.join(folder, name) for name in names)
    elif GLOB_CHARACTERS.search(part):
        try:
            with os.scandir(base or os.curdir) as entries:
                matched = [
                    (entry.name, entry.is_dir())
                    for entry in entries
                    if (part.startswith(".") or not entry.name.startswith(".")) and fnmatch.fnmatch(entry.name, part)
                ]
        except OSError:
            return
        for name, is_folder in matched:
            if is_folder or not rest:
                yield from _matches(os.path.join(base, name), rest)
    else:
        path = os.path.join(base, part)
        if os.path.isdir(path) if rest else os.path.lexists(path):
            yield from _matches(path, rest)


def _tree(base: str) -> Iterator[tuple[str, list[str]]]:
    """`base` and every folder under it that is neither hidden nor a link or under one, each with the names of its
    entries that are not hidden (what `**` spans)."""
    for parent, folders, names in os.walk(base or os.curdir):
        folders[:] = sorted(f for f in folders if not f.startswith(".") and not os.path.islink(os.path.join(parent, f)))
        folder = base if parent == (base or os.curdir) else (parent[len(os.curdir) + 1 :] if not base else parent)
        yield folder, [*folders, *(name for name in names if not name.startswith("."))]


def project_folder(paths: Sequence[str | Path]) -> Path:
    """The folder that the data paths of the specs under `paths` must stay in (see the module's docstring)."""
    folders = [os.path.realpath(p if os.path.isdir(p) else os.path.dirname(p) or os.curdir) for p in paths]
    common = Path(os.path.commonpath(folders)) if folders else Path(os.path.realpath(os.curdir))
    for folder in (common, *common.parents):
        if (folder / ".git").exists():
            return folder
    current = Path(os.path.realpath(os.curdir))
    return current if _inside(common, current) else common


def leads_outside(path: str | Path, folder: Path) -> str | None:
    """What of `path` leads outside `folder` (a real path, links resolved): `path` itself (`~` expanded) when it
    or the folder its glob starts from does, else the first match of its glob or file under a matched folder
    that does; None when everything stays inside."""
    text = os.path.expanduser(str(path))
    if not _inside(_fixed_start(text), folder):
        return text
    for match in files(text):
        if not _inside(match, folder):
            return match
        if os.path.isdir(match):  # a folder of files, such as a Parquet dataset
            reached = next((entry for entry in _entries(match) if not _inside(entry, folder)), None)
            if reached is not None:
                return reached
    return None


def _fixed_start(text: str) -> str:
    """A path without its glob: the folder a glob starts from, or the path itself."""
    match = GLOB_CHARACTERS.search(text)
    if match is None:
        return text
    return os.path.dirname(text[: match.start()]) or os.curdir


def _entries(folder: str) -> Iterator[str]:
    """Every file and folder under `folder`, links not followed (they are checked where they point)."""
    for parent, folders, names in os.walk(folder):
        yield from (os.path.join(parent, name) for name in (*folders, *names))


def _inside(path: str | Path, folder: Path) -> bool:
    real = os.path.realpath(path)
    try:
        return os.path.commonpath([real, folder]) == str(folder)
    except ValueError:  # another drive
        return False
