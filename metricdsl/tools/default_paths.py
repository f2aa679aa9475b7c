"""What a command reads when it is given no PATHS: `./specs` when the current folder has one, else the spec files
under the current folder that belong to the project.

A project's folder also holds other people's YAML: CI workflows (`.github/`), tool settings
(`.pre-commit-config.yaml`), virtual environments and installed packages. Those are never specs, so the search
skips hidden files and folders, virtual environments (`venv/`, `env/`, any folder with a `pyvenv.cfg`) and
`node_modules/`. Paths given on the command line are read as given (see `metricdsl.spec.loader.spec_files`).
"""

from __future__ import annotations

import os
from pathlib import Path

from metricdsl.spec.loader import SPEC_SUFFIXES

SPECS_FOLDER = Path("specs")
SKIPPED_FOLDERS = frozenset({"node_modules", "venv", "env"})


def default_spec_paths() -> list[Path]:
    """`[specs]` when the current folder has a `specs/`, else the project's spec files under it (maybe none)."""
    if SPECS_FOLDER.is_dir():
        return [SPECS_FOLDER]
    return project_spec_files(Path("."))


def project_spec_files(root: Path) -> list[Path]:
    """The spec files under `root`, sorted as `spec_files` sorts them, outside hidden files and folders,
    virtual environments and `node_modules/`; the folders skipped are not searched at all."""
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not _skipped(Path(folder, name))]
        found += [Path(folder, name) for name in files if not name.startswith(".") and Path(name).suffix in SPEC_SUFFIXES]
    return sorted(path for path in found if path.is_file())


def _skipped(folder: Path) -> bool:
    return folder.name.startswith(".") or folder.name in SKIPPED_FOLDERS or (folder / "pyvenv.cfg").is_file()
