"""Writing outputs: atomic over regular files, through links, as streams to devices, modes kept, inputs refused."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import polars as pl
import pytest

from metricdsl import files
from metricdsl.errors import OutputError
from metricdsl.files import locked, refuse_overwriting, replace_atomically, write_bytes_atomically, write_text_atomically

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the umask for a test (`umask(0o027)`), and restore it after."""
    saved = os.umask(0o022)
    yield os.umask
    os.umask(saved)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_of_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    write_text_atomically(tmp_path / "out.json", "{}\n")
    assert mode(tmp_path / "out.json") == expected


@pytest.mark.parametrize("old_mode", [0o444, 0o640, 0o604])
def test_an_existing_file_keeps_its_mode(tmp_path, old_mode):
    path = tmp_path / "out.json"
    path.write_text("old")
    path.chmod(old_mode)
    if not os.access(path, os.W_OK):
        pytest.skip("a read-only file is refused to a user without privileges")
    write_text_atomically(path, "new")
    assert path.read_text() == "new"
    assert mode(path) == old_mode


@pytest.mark.skipif(AS_ROOT, reason="permission checks do not apply to root")
def test_a_read_only_file_is_refused_without_privileges(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    path.chmod(0o444)
    with pytest.raises(OutputError, match=r"out\.json: it is read-only"):
        write_text_atomically(path, "new")
    assert path.read_text() == "old"


def test_a_read_only_file_is_refused_when_it_is_not_writable(tmp_path, monkeypatch):
    path = tmp_path / "out.json"
    path.write_text("old")
    monkeypatch.setattr(files.os, "access", lambda *args, **kwargs: False)
    with pytest.raises(OutputError, match=r"^cannot write .*out\.json: it is read-only$"):
        write_text_atomically(path, "new")
    assert path.read_text() == "old"


def test_a_symbolic_link_stays_a_link_to_the_rewritten_target(tmp_path):
    target = tmp_path / "store" / "report.json"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "report.json"
    link.symlink_to(Path("store") / "report.json")
    write_text_atomically(link, "new")
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("store") / "report.json")
    assert target.read_text() == "new"
    assert mode(target) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_a_dangling_link_creates_its_target(tmp_path):
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "later" / "report.json")
    write_text_atomically(link, "new")
    assert link.is_symlink()
    assert (tmp_path / "later" / "report.json").read_text() == "new"


def test_a_fifo_is_written_as_a_stream(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_bytes_atomically(fifo, b"rows\n")
    reader.join(timeout=10)
    assert received == [b"rows\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_is_one_line_and_stays_a_device(tmp_path):
    full = tmp_path / "full"  # through a link, so that a mistake would replace the link, never the device
    full.symlink_to("/dev/full")
    with pytest.raises(OutputError) as raised:
        write_text_atomically(full, "x" * 100_000)
    assert str(raised.value) == f"cannot write {full}: No space left on device"
    assert full.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_link_to_a_device_writes_to_the_device(tmp_path):
    link = tmp_path / "sink"
    link.symlink_to("/dev/null")
    write_text_atomically(link, "discarded")
    assert link.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sink"]


def test_a_dash_is_standard_output(capfdbinary):
    replace_atomically("-", lambda temporary: pl.DataFrame({"a": [1, 2]}).write_csv(temporary))
    assert capfdbinary.readouterr().out == b"a\n1\n2\n"


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="needs /dev/stdout")
def test_a_name_of_standard_output_is_written_through_the_descriptor(tmp_path, capfdbinary):
    link = tmp_path / "out.json"  # a link, so that a mistake would replace the link, never /dev/stdout
    link.symlink_to("/dev/stdout")
    write_text_atomically(link, "one\n")
    write_text_atomically(link, "two\n")
    assert capfdbinary.readouterr().out == b"one\ntwo\n"
    assert link.is_symlink()
    assert files.is_stream("/dev/stdout")
    assert files.is_stream(link)
    assert not files.is_stream(tmp_path / "new.json")


@pytest.mark.skipif(not os.path.exists("/dev/fd"), reason="needs /dev/fd")
def test_a_descriptor_that_is_a_regular_file_is_appended_to_not_replaced(tmp_path):
    path = tmp_path / "log.txt"
    with open(path, "wb") as log:
        log.write(b"before\n")
        log.flush()
        write_text_atomically(f"/dev/fd/{log.fileno()}", "after\n")
        inode = os.fstat(log.fileno()).st_ino
    assert path.read_bytes() == b"before\nafter\n"
    assert path.stat().st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt"]


def test_a_folder_given_as_the_output_is_one_line(tmp_path):
    with pytest.raises(OutputError) as raised:
        write_text_atomically(tmp_path, "x")
    assert str(raised.value) == f"cannot write {tmp_path}: it is a folder"
    assert tmp_path.is_dir()


def test_missing_parent_folders_are_created(tmp_path, umask):
    umask(0o022)
    write_text_atomically(tmp_path / "a" / "b" / "out.json", "{}")
    assert (tmp_path / "a" / "b" / "out.json").read_text() == "{}"
    assert mode(tmp_path / "a") == 0o755


def test_a_parent_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "spec.yaml").write_text("x")
    with pytest.raises(OutputError) as raised:
        write_text_atomically(tmp_path / "spec.yaml" / "out.json", "{}")
    assert (
        str(raised.value) == f"cannot write {tmp_path / 'spec.yaml' / 'out.json'}: {tmp_path / 'spec.yaml'} is not a folder"
    )


@pytest.mark.skipif(AS_ROOT, reason="permission checks do not apply to root")
def test_a_read_only_folder_is_one_line(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    with pytest.raises(OutputError, match="Permission denied"):
        write_text_atomically(folder / "out.json", "{}")


def test_a_folder_refusing_new_files_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    real_open = os.open

    def refuse(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", refuse)
    with pytest.raises(OutputError) as raised:
        write_text_atomically(tmp_path / "out.json", "{}")
    assert str(raised.value) == f"cannot write {tmp_path / 'out.json'}: Permission denied"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        pl.exceptions.ComputeError("parquet: underlying IO error: No space left on device (os error 28)"),
    ],
)
def test_a_failed_write_is_one_line_keeps_the_old_file_and_no_temporary(tmp_path, failure):
    path = tmp_path / "out.parquet"
    path.write_bytes(b"old")

    def fail(temporary: str) -> None:
        Path(temporary).write_bytes(b"half")
        raise failure

    with pytest.raises(OutputError) as raised:
        replace_atomically(path, fail)
    assert str(raised.value) == f"cannot write {path}: No space left on device"
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_the_data_is_flushed_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(handle: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(handle).st_mode) else "fsync file")
        real_fsync(handle)

    def replace(source, target) -> None:
        events.append("rename")
        real_replace(source, target)

    monkeypatch.setattr(files.os, "fsync", fsync)
    monkeypatch.setattr(files.os, "replace", replace)
    write_text_atomically(tmp_path / "out.json", "{}")
    expected = ["fsync file", "rename", "fsync folder"] if hasattr(os, "O_DIRECTORY") else ["fsync file", "rename"]
    assert events == expected


def test_refuse_overwriting_an_input_through_links_globs_and_hard_links(tmp_path):
    data = tmp_path / "calls.csv"
    data.write_text("a\n1\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("metrics: {}\n")
    inputs = [(tmp_path / "*.csv", "the data of source `calls`"), (spec, "a spec file")]
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    hard = tmp_path / "hard.yaml"
    os.link(spec, hard)
    for output, what in [
        (data, "the data of source `calls`"),
        (link, "the data of source `calls`"),
        (tmp_path / "sub" / ".." / "spec.yaml", "a spec file"),
        (hard, "a spec file"),
    ]:
        with pytest.raises(OutputError) as raised:
            refuse_overwriting([output], inputs)
        assert str(raised.value) == f"cannot write {output}: it is {what}"
    refuse_overwriting([tmp_path / "out.json", None, "-"], inputs)


def test_two_outputs_of_one_command_are_refused(tmp_path):
    with pytest.raises(OutputError, match="it is another output of this command"):
        refuse_overwriting([tmp_path / "a.json", tmp_path / "." / "a.json"], [])


def test_a_lock_held_elsewhere_times_out_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "LOCK_TIMEOUT", 0.2)
    path = tmp_path / "history.parquet"
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with locked(path):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(10)
    try:
        with pytest.raises(OutputError, match=r"another run has held its lock .*history\.parquet\.lock"), locked(path):
            pass
    finally:
        release.set()
        holder.join()
    with locked(path):  # released: free again
        pass


def test_a_loop_of_links_is_one_line_for_every_kind_of_output(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for write in (
        lambda: write_text_atomically(tmp_path / "a", "x"),
        lambda: files.is_stream(tmp_path / "a"),
        lambda: locked(tmp_path / "a").__enter__(),
    ):
        with pytest.raises(OutputError, match="Too many levels of symbolic links"):
            write()
    assert (tmp_path / "a").is_symlink()
    assert (tmp_path / "b").is_symlink()
