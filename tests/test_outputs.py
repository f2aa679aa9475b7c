"""The outputs of the command line: every failure one line, every output attempted, inputs and files kept whole."""

from __future__ import annotations

import codecs
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricdsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
SPEC = """\
sources:
  calls:
    time: started_at
    columns: {started_at: datetime, team: str, wait_s: {type: float, unit: s}}
metrics:
  asa: {expr: mean(wait_s), unit: s, better: lower}
rules:
  slower:
    when: asa > prev(asa)
    message: "{team}: waits {asa}"
"""
UNFORMATTED = 'metrics:\n  # a comment\n  x: {expr: "1+2", unit: count}\n'
FORMATTED = 'metrics:\n  # a comment\n  x: {expr: "1 + 2", unit: count}\n'


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "calls.csv").write_text(
        "started_at,team,wait_s\n2026-01-05T10:00:00,north,10\n2026-01-12T10:00:00,north,30\n"
    )
    return tmp_path


def check_args(folder: Path, *extra: str) -> list[str]:
    return [
        "check",
        str(folder / "spec.yaml"),
        "--data",
        f"calls={folder / 'calls.csv'}",
        "--by",
        "team",
        "--grain",
        "week",
        *extra,
    ]


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def run_process(args: list[str], stdout) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metricdsl", *args], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True, check=False
    )


def test_a_closed_standard_output_still_writes_the_files_and_ends_quietly(folder):
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `metricdsl check … | true` when `true` has gone
    try:
        result = run_process(
            check_args(folder, "--history", str(folder / "h.parquet"), "--output", str(folder / "o.json")), write_end
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0  # the run's own verdict: the reader that left is no error
    assert result.stderr == f"history: {folder / 'h.parquet'} holds 2 rows\n"
    assert (folder / "h.parquet").stat().st_size > 0
    assert json.loads((folder / "o.json").read_text())["schema"] == "metricdsl-findings/1"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_standard_output_still_writes_the_files_and_says_so_in_one_line(folder):
    with open("/dev/full", "w") as full:
        result = run_process(
            check_args(folder, "--history", str(folder / "h.parquet"), "--output", str(folder / "o.json")), full
        )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "error: cannot write standard output: No space left on device"
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr
    assert (folder / "h.parquet").exists()
    assert (folder / "o.json").exists()


@pytest.mark.skipif(not Path("/dev/stdout").exists(), reason="needs /dev/stdout")
def test_an_output_to_dev_stdout_redirected_to_a_file_writes_into_that_file(folder):
    redirected = folder / "redirected.txt"
    link = folder / "stdout.json"  # a link, so that a mistake would replace the link, never /dev/stdout
    link.symlink_to("/dev/stdout")
    with open(redirected, "w") as stdout:
        inode = os.fstat(stdout.fileno()).st_ino
        result = run_process(check_args(folder, "--output", str(link), "--format", "json"), stdout)
    assert result.returncode == 0, result.stderr
    written = redirected.read_text()
    assert json.loads(written)["schema"] == "metricdsl-findings/1"  # the --output alone
    assert json.loads(result.stderr)["schema"] == "metricdsl-findings/1"  # the report printed: not mixed into it
    assert redirected.stat().st_ino == inode  # written through the descriptor, not replaced


def test_every_output_is_attempted_when_one_fails(folder):
    (folder / "taken").mkdir()
    result = invoke(*check_args(folder, "--output", str(folder / "taken"), "--history", str(folder / "h.parquet")))
    assert result.exit_code == 2
    assert f"error: cannot write {folder / 'taken'}: it is a folder" in result.stderr.splitlines()
    assert f"history: {folder / 'h.parquet'} holds 2 rows" in result.stderr.splitlines()
    assert "north: waits 30s" in result.stdout


@pytest.mark.parametrize(
    ("option", "target", "what"),
    [
        ("--output", "calls.csv", "the data of source `calls`"),
        ("--history", "calls.csv", "the data of source `calls`"),
        ("--output", "spec.yaml", "a spec file"),
        ("--output", "link-to-data", "the data of source `calls`"),
    ],
)
def test_check_refuses_to_write_over_an_input(folder, option, target, what):
    (folder / "link-to-data").symlink_to(folder / "calls.csv")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = invoke(*check_args(folder, option, str(folder / target)))
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {folder / target}: it is {what}\n"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_eval_refuses_to_write_over_a_source_path_given_in_the_spec(folder):
    (folder / "spec.yaml").write_text(SPEC.replace("    time: started_at", "    path: calls.csv\n    time: started_at"))
    before = (folder / "calls.csv").read_bytes()
    result = invoke("eval", str(folder / "spec.yaml"), "--output", str(folder / "calls.csv"))
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {folder / 'calls.csv'}: it is the data of source `calls`\n"
    assert (folder / "calls.csv").read_bytes() == before


def test_test_refuses_to_write_its_junit_report_over_a_spec(folder):
    result = invoke("test", str(folder / "spec.yaml"), "--junit-xml", str(folder / "spec.yaml"))
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {folder / 'spec.yaml'}: it is a spec file\n"
    assert (folder / "spec.yaml").read_text() == SPEC


def test_a_junit_report_that_cannot_be_written_still_prints_the_results(folder):
    (folder / "reports").write_text("a file where a folder should be")
    result = invoke("test", str(folder / "spec.yaml"), "--junit-xml", str(folder / "reports" / "junit.xml"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot write {folder / 'reports' / 'junit.xml'}: {folder / 'reports'} is not a folder\n"
    )
    assert "0 passed, 0 failed" in result.stdout


def test_outputs_keep_links_and_modes_and_new_ones_follow_the_umask(folder):
    store = folder / "store"
    store.mkdir()
    (store / "o.json").write_text("old")
    (store / "o.json").chmod(0o640)
    (folder / "o.json").symlink_to(store / "o.json")
    saved = os.umask(0o027)
    try:
        result = invoke(*check_args(folder, "--output", str(folder / "o.json"), "--history", str(folder / "new.parquet")))
    finally:
        os.umask(saved)
    assert result.exit_code == 0, result.output
    assert (folder / "o.json").is_symlink()
    assert json.loads((store / "o.json").read_text())["schema"] == "metricdsl-findings/1"
    assert stat.S_IMODE((store / "o.json").stat().st_mode) == 0o640
    assert stat.S_IMODE((folder / "new.parquet").stat().st_mode) == 0o640  # the umask's, not 0o600


def test_an_output_folder_that_cannot_be_made_is_one_line(folder):
    result = invoke(
        "eval",
        str(folder / "spec.yaml"),
        "--data",
        f"calls={folder / 'calls.csv'}",
        "--output",
        str(folder / "spec.yaml" / "t.csv"),
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {folder / 'spec.yaml' / 't.csv'}: {folder / 'spec.yaml'} is not a folder\n"


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (UNFORMATTED.encode(), FORMATTED.encode()),
        (UNFORMATTED.replace("\n", "\r\n").encode(), FORMATTED.replace("\n", "\r\n").encode()),
        (codecs.BOM_UTF8 + UNFORMATTED.encode(), codecs.BOM_UTF8 + FORMATTED.encode()),
        (
            codecs.BOM_UTF8 + UNFORMATTED.replace("\n", "\r\n").encode(),
            codecs.BOM_UTF8 + FORMATTED.replace("\n", "\r\n").encode(),
        ),
        (UNFORMATTED.replace("comment\n", "comment\r\n").encode(), FORMATTED.replace("comment\n", "comment\r\n").encode()),
        ("metrics:\n  # café\n  x: 1+2\n".encode(), "metrics:\n  # café\n  x: 1 + 2\n".encode()),
    ],
    ids=["lf", "crlf", "bom", "bom-crlf", "mixed", "utf8"],
)
def test_fmt_keeps_the_byte_order_mark_and_line_ends(tmp_path, stored, expected):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(stored)
    checked = invoke("fmt", "--check", str(spec))
    assert checked.exit_code == 1
    assert "+  x: " in checked.stdout
    assert invoke("fmt", str(spec)).exit_code == 0
    assert spec.read_bytes() == expected
    assert invoke("fmt", "--check", str(spec)).exit_code == 0


def test_fmt_writes_through_a_link_and_keeps_a_read_only_mode(tmp_path):
    real = tmp_path / "library" / "spec.yaml"
    real.parent.mkdir()
    real.write_text(UNFORMATTED)
    real.chmod(0o444)
    link = tmp_path / "spec.yaml"
    link.symlink_to(Path("library") / "spec.yaml")
    result = invoke("fmt", str(link))
    if not os.access(real, os.W_OK):  # without privileges, a read-only spec is left alone
        assert result.exit_code == 2
        assert result.stderr.splitlines()[0] == f"error: cannot write {link}: it is read-only"
        return
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert real.read_text() == FORMATTED
    assert stat.S_IMODE(real.stat().st_mode) == 0o444
    assert sorted(p.name for p in real.parent.iterdir()) == ["spec.yaml"]


def test_fmt_leaves_a_file_that_is_not_utf8_alone(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes("metrics:\n  # caf\xe9\n  x: 1+2\n".encode("latin-1"))
    before = spec.read_bytes()
    result = invoke("fmt", str(spec))
    assert result.exit_code == 2
    assert f"{spec}: left as it is: it is not UTF-8 text" in result.stderr
    assert spec.read_bytes() == before


def test_an_output_naming_the_lock_of_the_history_is_refused(folder):
    """The history's lock file is held while the history is written: an output there would be emptied by it."""
    history = folder / "h.parquet"
    result = invoke(*check_args(folder, "--history", str(history), "--output", f"{history}.lock"))
    assert result.exit_code == 2
    assert f"cannot write {history}.lock: it is the lock of the history" in result.stderr
    assert not history.exists()
