"""Corrupt Arrow IPC files: one line naming the file, exit 2; never an abort, a traceback or Rust's panic text.

The files are written by Polars (one INT64 column `x` of 1,000 rows, some null), then corrupted: the uncompressed
length that starts the compressed buffer of its validity bitmap (8 bytes, little-endian), or a byte of an LZ4
frame. Each case runs
`python -m metricdsl eval` in a process of its own, as an abort would end the test run. The files of a glob
must agree on their columns, undeclared ones too: the one that differs is named.
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from data_files import assert_one_line_naming, eval_each

from conftest import ROOT
from metricdsl.engine.ipc_files import ipc_problem

SPEC = """\
sources:
  calls:
    columns: {x: int}
metrics:
  total: sum(x)
"""
ROWS = 1000
VALUES = [None if i % 7 == 0 else i for i in range(ROWS)]
LENGTH = struct.pack("<q", ROWS // 8)  # the uncompressed length of the validity bitmap, before its compressed bytes


def ipc(compression: str = "uncompressed", frame: pl.DataFrame | None = None) -> bytes:
    out = io.BytesIO()
    (pl.DataFrame({"x": VALUES}) if frame is None else frame).write_ipc(out, compression=compression)  # type: ignore[arg-type]
    return out.getvalue()


def declared_length(data: bytes, length: int) -> bytes:
    """`data` with the uncompressed length of its validity bitmap replaced by `length`."""
    assert data.count(LENGTH) == 1
    return data.replace(LENGTH, struct.pack("<q", length))


def lz4_frame_flipped(data: bytes) -> bytes:
    """`data` with a byte of its LZ4 frame's block flipped (its checksum no longer holds)."""
    start = data.index(b"\x04\x22\x4d\x18")  # the frame's magic number
    out = bytearray(data)
    out[start + 20] ^= 0xFF
    return bytes(out)


def flipped(data: bytes, seed: int) -> bytes:
    """`data` with four random bytes after its magic replaced."""
    chance = random.Random(seed)
    out = bytearray(data)
    for position in chance.sample(range(8, len(data) - 8), 4):
        out[position] = chance.randrange(256)
    return bytes(out)


CORRUPT = {
    "zstd-exabytes": declared_length(ipc("zstd"), 9018132054024404407),  # Polars asks for that much and aborts
    "zstd-petabytes": declared_length(ipc("zstd"), 2**50),
    "zstd-negative": declared_length(ipc("zstd"), -2),
    "lz4-exabytes": declared_length(ipc("lz4"), 2**62),
    "lz4-bad-block": lz4_frame_flipped(ipc("lz4")),  # Polars raises OSError: LZ4 error
    "truncated": ipc("zstd")[:-100],
}
FLIPPED = {
    f"flipped-{kind}-{seed}": flipped(ipc(kind), seed) for kind in ("zstd", "lz4", "uncompressed") for seed in range(3)
}
VALID = {f"valid-{kind}": ipc(kind) for kind in ("zstd", "lz4", "uncompressed")}


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """Each case's folder and `python -m metricdsl eval` of this checkout over its data as the source's file."""
    return eval_each(tmp_path_factory, SPEC, {**CORRUPT, **FLIPPED, **VALID}, "calls.arrow")


def assert_one_line_naming_the_file(result: subprocess.CompletedProcess[str], folder: Path) -> None:
    assert_one_line_naming(result, folder / "calls.arrow")


@pytest.mark.parametrize("case", list(CORRUPT))
def test_a_corrupt_arrow_file_is_one_line_naming_it(processes, case):
    folder, result = processes[case]
    assert_one_line_naming_the_file(result, folder)


def test_an_abort_reading_it_is_named_as_such(processes):
    _, result = processes["zstd-exabytes"]
    assert "not a valid Arrow IPC file: reading it made Polars die (SIGABRT)" in result.stderr


def test_an_lz4_error_is_polars_message(processes):
    _, result = processes["lz4-bad-block"]
    assert ": LZ4 error: " in result.stderr


@pytest.mark.parametrize("case", list(FLIPPED))
def test_flipped_bytes_end_in_a_table_or_one_line(processes, case):
    _, result = processes[case]
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert "panicked" not in result.stderr
    if result.returncode == 2:
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stdout == ""


@pytest.mark.parametrize("case", list(VALID))
def test_a_valid_file_is_read(processes, case):
    _, result = processes[case]
    assert result.returncode == 0, result.stderr
    assert f" {sum(v for v in VALUES if v is not None):,} " in result.stdout  # formatted: `428,429`


def test_valid_files_pass_the_check(tmp_path):
    paths = []
    for case, data in VALID.items():
        (tmp_path / f"{case}.arrow").write_bytes(data)
        paths.append(str(tmp_path / f"{case}.arrow"))
    assert ipc_problem(paths) is None
    assert ipc_problem([]) is None


def test_the_check_names_the_file_that_aborts(tmp_path):
    paths = []
    for case in ("valid-zstd", "zstd-exabytes", "valid-lz4"):
        (tmp_path / f"{case}.arrow").write_bytes({**VALID, **CORRUPT}[case])
        paths.append(str(tmp_path / f"{case}.arrow"))
    assert ipc_problem(paths) == (paths[1], "not a valid Arrow IPC file: reading it made Polars die (SIGABRT)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "calls.arrow")
    assert ipc_problem([str(tmp_path / "calls.arrow")]) == (str(tmp_path / "calls.arrow"), "it is not a regular file")


@pytest.mark.parametrize("given", [True, False])
def test_the_files_of_a_glob_with_other_undeclared_columns_are_read(tmp_path, given):
    """Parquet files that differ in an undeclared column: each file's declared columns are read, and the others
    make no difference."""
    pl.DataFrame({"x": [1, 2], "note": ["a", "b"]}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"x": [3], "other": [1.5]}).write_parquet(tmp_path / "b.parquet")
    glob = str(tmp_path / "*.parquet")
    spec = SPEC if given else SPEC.replace("  calls:\n", "  calls:\n    path: '*.parquet'\n")
    (tmp_path / "spec.yaml").write_text(spec)
    command = [sys.executable, "-m", "metricdsl", "eval", str(tmp_path / "spec.yaml"), "--output", "-"]
    result = subprocess.run(
        [*command, "--output-format", "json", *(["--data", f"calls={glob}"] if given else [])],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"total": 6}]
