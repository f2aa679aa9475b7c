"""`metricdsl diff`: what a change of the specs does, in definitions and in numbers (records only, no text).

The specs of the base side are read from git objects at a revision (`git ls-tree`, `git cat-file --batch`, run as
`metricdsl.tools.revision.run_git` runs git: a repository from a pull request must not make us run a command, and
the work tree and the index are never read nor written), then loaded from memory under the paths they would have in
the work tree: their file:line are the work tree's, and their sources' `path:` lead to the same data. The head side
is the work tree, or another revision read alike. `metricdsl.tools.diff_definitions` compares the definitions and
`metricdsl.tools.diff_numbers` the numbers.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

from metricdsl.engine.inputs import Data
from metricdsl.engine.sql.engines import Engine
from metricdsl.errors import Diagnostic, RequestError, SpecError, has_errors
from metricdsl.project import Project, load
from metricdsl.semantics.checker import check
from metricdsl.spec.data_paths import project_folder
from metricdsl.spec.loader import SPEC_SUFFIXES, load_texts
from metricdsl.tools.diff_definitions import Change, definition_changes
from metricdsl.tools.diff_numbers import Numbers, RunOptions, compare_numbers
from metricdsl.tools.revision import git_text, in_repository, run_git

DEFAULT_BRANCHES = ("refs/remotes/origin/HEAD", "refs/heads/main", "refs/heads/master")


class DiffError(Exception):
    """A side that cannot be read (`message`), or whose specs do not validate (`diagnostics`); `side` names it:
    `base (1a2b3c4)`, `head (working tree)`."""

    def __init__(self, side: str, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(f"{side}: {message}")
        self.side = side
        self.message = message
        self.diagnostics = list(diagnostics)


@dataclasses.dataclass(frozen=True)
class Diff:
    """What a change of the specs does: the sides (`base (1a2b3c4)`, `head (working tree)`), the definitions
    changed (in `KINDS` order, then by name), the numbers, and the data they read or would read (`data`: each source's
    path, as given or as the head's `path:` says), which an output must not replace."""

    base: str
    head: str
    changes: tuple[Change, ...]
    numbers: Numbers
    data: Mapping[str, Data] = dataclasses.field(default_factory=dict)


# -- the two sides -------------------------------------------------------------------------------------------------


def diff_specs(
    paths: Sequence[str | Path],
    base: str | None = None,
    *,
    head: str | None = None,
    data: Mapping[str, Data] | None = None,
    dashboard: str | None = None,
    by: Iterable[str] = (),
    grain: str | None = None,
    engine: Engine = "polars",
    spark_remote: str | None = None,
    tables: Mapping[str, str] | None = None,
    allow_outside_paths: bool = False,
) -> Diff:
    """Compare the specs under `paths` at git revision `base` (default: `default_base()`) with the work tree, or with
    revision `head`; `paths` are as in the work tree (relative to the current folder, or absolute).

    Numbers are computed when every source the compared metrics read has data (`data`, else its `path:` on the head
    side), by the request of `dashboard` (default: the head's only dashboard) or `by` and `grain`, on `engine` (with
    `spark_remote` and `tables` as `Project.run` takes them). Raises `DiffError`
    naming the side for a path outside a repository, an unknown revision, a path absent at one side, git missing, or
    specs that do not validate; `RequestError` for a bad request; `DataError` for unreadable data.
    """
    if not paths:
        raise RequestError("no spec paths to compare")
    top = _top(paths)
    base_commit = _commit(top, base if base is not None else default_base(top), "base")
    base_label = f"base ({base_commit[:7]})"
    given = set(data or {}) | set(tables or {})
    if head is None:
        head_label = "head (working tree)"
        head_project = _working_tree(paths, head_label, allow_outside_paths, given)
    else:
        head_commit = _commit(top, head, "head")
        head_label = f"head ({head_commit[:7]})"
        head_project = _at_revision(top, head_commit, paths, head_label, allow_outside_paths, given)
    base_project = _at_revision(top, base_commit, paths, base_label, allow_outside_paths, given)
    changes, renames = definition_changes(base_project, head_project)
    run = RunOptions(engine, spark_remote, dict(tables or {}))
    sides = (base_label, head_label)
    numbers = compare_numbers(base_project, head_project, changes, renames, data or {}, dashboard, by, grain, run, sides)
    inputs = {n: s.path for n, s in head_project.definitions.sources.items() if s.path is not None} | dict(data or {})
    return Diff(base_label, head_label, tuple(changes), numbers, inputs)


def default_base(top: Path) -> str:
    """The merge base of HEAD with the default branch (`origin/HEAD`, else `main`, else `master`), else HEAD. Raises
    `DiffError` when that branch exists and has no commit in common with HEAD (a shallow clone): HEAD would compare
    nothing of the change."""
    for ref in DEFAULT_BRANCHES:
        try:
            git_text(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except subprocess.CalledProcessError:
            continue
        except (OSError, subprocess.SubprocessError):
            break
        try:
            return git_text(top, "merge-base", "HEAD", ref)
        except subprocess.CalledProcessError:
            raise DiffError("base", f"HEAD and {ref} have no common commit (a shallow clone?): give BASE") from None
        except (OSError, subprocess.SubprocessError):
            break
    return "HEAD"


def _top(paths: Sequence[str | Path]) -> Path:
    """The top of the work tree holding the first path (or its nearest folder that exists)."""
    folder = Path(os.path.abspath(paths[0]))
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        return Path(git_text(folder, "rev-parse", "--show-toplevel"))
    except OSError:
        raise DiffError("base", "cannot run git: is it installed?") from None
    except subprocess.CalledProcessError as error:
        if b"dubious ownership" in (error.stderr or b""):
            raise DiffError(
                "base",
                f"git refuses the repository holding {paths[0]}, which another user owns: "
                "git config --global --add safe.directory DIR lets it read it",
            ) from None
        raise DiffError("base", f"{paths[0]} is not in a git repository") from None
    except subprocess.SubprocessError:
        raise DiffError("base", "git did not answer in time") from None


def _commit(top: Path, revision: str, side: str) -> str:
    if revision.startswith("-"):
        raise DiffError(side, f"`{revision}` is not a revision")
    try:
        return git_text(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except (OSError, subprocess.SubprocessError):
        raise DiffError(side, f"unknown revision `{revision}`") from None


def _working_tree(paths: Sequence[str | Path], side: str, allow_outside: bool, given: Collection[str]) -> Project:
    for path in paths:
        if not os.path.lexists(path):
            raise DiffError(side, f"{path} does not exist")
    try:
        return load(paths, allow_outside_paths=allow_outside, given_sources=given)
    except SpecError as error:
        raise DiffError(side, "the specs do not validate", error.diagnostics) from None


def _at_revision(
    top: Path, commit: str, paths: Sequence[str | Path], side: str, allow_outside: bool, given: Collection[str]
) -> Project:
    """The project of the spec files under `paths` at `commit`, each loaded from its blob under its work tree path."""
    try:
        texts = revision_files(top, commit, paths, side)
    except (OSError, subprocess.SubprocessError) as error:
        told = error.stderr.decode(errors="replace").strip() if isinstance(error, subprocess.CalledProcessError) else ""
        raise DiffError(side, f"git could not read the specs at this revision: {told or error}") from None
    folder = None if allow_outside else project_folder(paths)
    definitions, diagnostics = load_texts(texts, folder, given)
    if not texts:
        diagnostics.append(Diagnostic.make("MD002", f"no spec files (*.yaml, *.yml) in {', '.join(map(str, paths))}", None))
    model, found = check(definitions)
    diagnostics += found
    if has_errors(diagnostics):
        raise DiffError(side, "the specs do not validate", diagnostics)
    return Project(definitions, model, diagnostics)


def revision_files(top: Path, commit: str, paths: Sequence[str | Path], side: str) -> list[tuple[str, str]]:
    """The spec files under `paths` at `commit` as `(path, text)`, each path as the file would have in the work tree
    (under the path given), sorted. Raises `DiffError` for a path outside the repository or absent at `commit`, a
    symbolic link, or a file that is not UTF-8."""
    named: dict[str, Path] = {}
    for path in paths:
        name = in_repository(path, top)
        if name is None:
            raise DiffError(side, f"{path} is outside the repository at {top}")
        named[name] = Path(path)
    listing = run_git(top, "ls-tree", "-r", "-z", commit, "--", *named).decode()
    blobs: dict[str, str] = {}
    for entry in filter(None, listing.split("\0")):
        info, _, name = entry.partition("\t")
        mode, kind, blob = info.split(" ")
        within = next((given for given in named if given in (".", name) or name.startswith(given + "/")), None)
        if kind != "blob" or within is None or (name != within and Path(name).suffix not in SPEC_SUFFIXES):
            continue
        if mode == "120000":
            raise DiffError(side, f"{name} is a symbolic link, which diff does not follow at a revision")
        blobs[str(named[within] / os.path.relpath(name, within))] = blob  # `specs/.` is `specs`
    for given, path in named.items():
        if given != "." and not any(name == given or name.startswith(given + "/") for name in _names(listing)):
            raise DiffError(side, f"{path} does not exist at this revision")
    contents = _blob_contents(top, list(blobs.values()))
    texts: list[tuple[str, str]] = []
    for shown, blob in sorted(blobs.items()):
        try:
            texts.append((shown, contents[blob].decode("utf-8")))
        except UnicodeDecodeError:
            raise DiffError(side, f"{shown} is not UTF-8 text") from None
    return texts


def _names(listing: str) -> list[str]:
    return [entry.partition("\t")[2] for entry in filter(None, listing.split("\0"))]


def _blob_contents(top: Path, blobs: list[str]) -> dict[str, bytes]:
    """The content of each blob, from one `git cat-file --batch`."""
    if not blobs:
        return {}
    output = run_git(top, "cat-file", "--batch", given="".join(f"{blob}\n" for blob in blobs).encode())
    contents: dict[str, bytes] = {}
    at = 0
    for blob in blobs:
        end = output.index(b"\n", at)
        header = output[at:end].decode().split(" ")
        size = int(header[2])
        contents[blob] = output[end + 1 : end + 1 + size]
        at = end + 1 + size + 1  # the content, then a newline
    return contents
