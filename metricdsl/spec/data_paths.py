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
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

GLOB_CHARACTERS = re.compile(r"[*?[]")


def files(path: str | Path) -> list[str]:
    """The files a path names: the path itself when it exists, or every match of a glob (`**` spans folders,
    `*` skips hidden files), sorted. `~` stands for the home folder, as Polars reads it."""
    text = os.path.expanduser(str(path))
    if not GLOB_CHARACTERS.search(text):
        return [text] if os.path.exists(text) else []
    return sorted(glob.glob(text, recursive=True))


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
