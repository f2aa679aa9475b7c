"""Corrupt Parquet files: one line naming the file, exit 2; never an abort, a traceback or Rust's panic text.

Most cases are a Parquet file made here byte by byte (one INT64 column `x`, three rows, no compression), so
that each corruption is one number the test sets: a page's count of values, a column chunk's offset or size, the
footer's length. Each runs `python -m metricdsl eval` in a process of its own, as an abort would end the test run.
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
from click.testing import CliRunner
from data_files import assert_one_line_naming, eval_each

from conftest import ROOT
from metricdsl.cli import main
from metricdsl.engine.parquet_files import parquet_problem
from metricdsl.engine.thrift import ThriftError, decode

SPEC = """\
sources:
  calls:
    columns: {x: int}
metrics:
  total: sum(x)
"""

# Thrift's compact protocol, enough to write a Parquet file's footer and page headers.
I32, I64, BINARY, LIST, STRUCT = 5, 6, 8, 9, 12
INT64, PLAIN, RLE, REQUIRED, OPTIONAL = 2, 0, 3, 0, 1


def varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes([*out, n])


def encode(kind: int, value: object) -> bytes:
    if kind in (I32, I64):
        assert isinstance(value, int)
        return varint((value << 1) ^ (value >> 63))
    if kind == BINARY:
        assert isinstance(value, bytes)
        return varint(len(value)) + value
    if kind == LIST:
        element, items = value  # type: ignore[misc]
        head = bytes([len(items) << 4 | element]) if len(items) < 15 else bytes([0xF0 | element]) + varint(len(items))
        return head + b"".join(encode(element, item) for item in items)
    assert isinstance(value, bytes)  # a struct, encoded
    return value


def thrift(*fields: tuple[int, int, object]) -> bytes:
    """A struct of (field id, type, value), ids ascending."""
    out, last = bytearray(), 0
    for field, kind, value in fields:
        out += bytes([(field - last) << 4 | kind]) + encode(kind, value)
        last = field
    return bytes(out) + b"\0"


def parquet(
    values: tuple[int, ...] = (1, 2, 3),
    *,
    optional: bool = False,
    levels: bytes | None = None,
    page_values: int | None = None,
    offset: int = 4,
    size: int | None = None,
    footer_length: int | None = None,
) -> bytes:
    """A Parquet file of one INT64 column `x` holding `values` in one page; the keywords corrupt it: `levels`
    replaces the definition levels of an optional column (one run of 1s), the others replace a declared number."""
    body = b"".join(struct.pack("<q", v) for v in values)
    if optional:
        runs = bytes([len(values) << 1, 1]) if levels is None else levels
        body = struct.pack("<I", len(runs)) + runs + body
    count = len(values) if page_values is None else page_values
    page = thrift((1, I32, count), (2, I32, PLAIN), (3, I32, RLE), (4, I32, RLE))
    chunk = thrift((1, I32, 0), (2, I32, len(body)), (3, I32, len(body)), (5, STRUCT, page)) + body
    meta = thrift(
        *((1, I32, INT64), (2, LIST, (I32, [PLAIN, RLE])), (3, LIST, (BINARY, [b"x"])), (4, I32, 0)),
        *((5, I64, len(values)), (6, I64, len(chunk)), (7, I64, len(chunk) if size is None else size), (9, I64, offset)),
    )
    columns = [thrift((2, I64, offset), (3, STRUCT, meta))]
    schema = [
        thrift((4, BINARY, b"schema"), (5, I32, 1)),
        thrift((1, I32, INT64), (3, I32, OPTIONAL if optional else REQUIRED), (4, BINARY, b"x")),
    ]
    group = thrift((1, LIST, (STRUCT, columns)), (2, I64, len(chunk)), (3, I64, len(values)))
    footer = thrift((1, I32, 1), (2, LIST, (STRUCT, schema)), (3, I64, len(values)), (4, LIST, (STRUCT, [group])))
    length = len(footer) if footer_length is None else footer_length
    return b"PAR1" + chunk + footer + struct.pack("<I", length) + b"PAR1"


def polars_file(frame: pl.DataFrame | None = None, **options: object) -> bytes:
    buffer = io.BytesIO()
    (pl.DataFrame({"x": [1, 2, 3] * 20}) if frame is None else frame).write_parquet(buffer, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


def inverted_pages(data: bytes) -> bytes:
    """`data` with every byte between the leading magic and the footer inverted."""
    (length,) = struct.unpack("<I", data[-8:-4])
    end = len(data) - 8 - length
    return data[:4] + bytes(b ^ 0xFF for b in data[4:end]) + data[end:]


def flipped(data: bytes, seed: int) -> bytes:
    """`data` with four random bytes of its pages replaced."""
    (length,) = struct.unpack("<I", data[-8:-4])
    chance = random.Random(seed)
    out = bytearray(data)
    for position in chance.sample(range(4, len(data) - 8 - length), 4):
        out[position] = chance.randrange(256)
    return bytes(out)


CORRUPT = {
    "truncated": polars_file()[:-100],
    "footer-length": polars_file()[:-8] + struct.pack("<I", 2**31) + b"PAR1",
    "chunk-offset-past-the-end": parquet(offset=10**6),
    "huge-chunk-size": parquet(size=2**60),
    "negative-page-count": parquet(optional=True, page_values=-23),  # Polars asks for 2**61 bytes and aborts
    "huge-page-count": parquet(optional=True, page_values=2**31 - 1),
    "short-run-of-levels": parquet(optional=True, levels=bytes([2 << 1, 1])),  # Polars panics decoding the page
    "pages-inverted": inverted_pages(polars_file()),
}


# The data of every case run as a process: all start at once, when the first test that needs one runs.
PROCESSES = {
    **CORRUPT,
    **{f"flipped-{seed}": flipped(polars_file(), seed) for seed in range(3)},
    "handmade": parquet((1, 2, 3), optional=True),
}


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """Each case's folder and `python -m metricdsl eval` of this checkout over its data as the source's file."""
    return eval_each(tmp_path_factory, SPEC, PROCESSES, "calls.parquet")


def assert_one_line_naming_the_file(result: subprocess.CompletedProcess[str], folder: Path) -> None:
    assert_one_line_naming(result, folder / "calls.parquet")


@pytest.mark.parametrize("case", list(CORRUPT))
def test_a_corrupt_parquet_file_is_one_line_naming_it(processes, case):
    folder, result = processes[case]
    assert_one_line_naming_the_file(result, folder)


@pytest.mark.parametrize("seed", range(3))
def test_flipped_bytes_in_the_pages_end_in_a_table_or_one_line(processes, seed):
    folder, result = processes[f"flipped-{seed}"]
    if result.returncode == 0:  # the flips left a file that holds together: other numbers
        assert result.stderr == ""
    else:
        assert_one_line_naming_the_file(result, folder)


def test_the_handmade_file_is_read_as_written(processes):
    _, result = processes["handmade"]
    assert result.returncode == 0, result.stderr
    assert " 6 " in result.stdout


def test_only_what_python_writes_reaches_standard_error_inside_a_command():
    script = (
        "import os, sys\n"
        "from metricdsl.native_stderr import native_stderr_discarded\n"
        "with native_stderr_discarded():\n"
        "    os.write(2, b'native\\n')\n"
        "    print('python', file=sys.stderr)\n"
        "os.write(2, b'after\\n')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "python\nafter\n")


@pytest.mark.parametrize("case", ["chunk-offset-past-the-end", "negative-page-count", "huge-page-count", "pages-inverted"])
def test_the_check_names_the_problem_without_reading_pages(tmp_path, case):
    path = tmp_path / "calls.parquet"
    path.write_bytes(CORRUPT[case])
    problem = parquet_problem(path)
    assert problem is not None
    assert problem.startswith("not a valid Parquet file: ")


def test_the_problems_say_where(tmp_path):
    path = tmp_path / "calls.parquet"
    path.write_bytes(parquet(optional=True, page_values=-23))
    assert parquet_problem(path) == (
        "not a valid Parquet file: row group 0, column 0, page 0 (at byte 4): number of values is negative (-23)"
    )
    path.write_bytes(parquet(offset=10**6))
    assert parquet_problem(path) == (
        "not a valid Parquet file: row group 0, column 0 declares bytes 1000000 to 1000041, "
        "outside the 45 bytes before the footer"
    )
    path.write_bytes(b"PAR1")
    assert parquet_problem(path) == "not a valid Parquet file: 4 bytes is too short"
    path.write_bytes(b"PAR1" + bytes(16) + struct.pack("<I", 16) + b"PARE")
    assert parquet_problem(path) == "it is encrypted, and encrypted Parquet files are not read"
    assert parquet_problem(tmp_path / "nowhere.parquet") == "No such file or directory"
    os.mkfifo(tmp_path / "fifo.parquet")
    assert parquet_problem(tmp_path / "fifo.parquet") == "it is not a regular file"


WIDE = pl.DataFrame(
    {
        "i": range(300),
        "f": [x / 3 for x in range(300)],
        "s": [None if x % 7 == 0 else f"s{x % 13}" for x in range(300)],
        "b": [x % 2 == 0 for x in range(300)],
        "l": [[x, None] if x % 5 else None for x in range(300)],
        "st": [{"a": x, "b": [str(x)]} for x in range(300)],
        "n": pl.Series([None] * 300, dtype=pl.Int64),
    }
)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"compression": "uncompressed"},
        {"compression": "snappy", "statistics": False},
        {"compression": "gzip", "row_group_size": 50},
        {"compression": "lz4", "data_page_size": 64},
        {"compression": "brotli", "row_group_size": 7, "data_page_size": 64},
    ],
    ids=["zstd", "uncompressed", "snappy", "gzip-row-groups", "lz4-small-pages", "brotli-many-pages"],
)
@pytest.mark.parametrize("rows", [300, 1, 0])
def test_valid_files_pass(tmp_path, options, rows):
    path = tmp_path / "wide.parquet"
    WIDE.head(rows).write_parquet(path, **options)
    assert parquet_problem(path) is None
    assert pl.read_parquet(path).height == rows


def test_a_file_without_columns_passes(tmp_path):
    path = tmp_path / "empty.parquet"
    pl.DataFrame().write_parquet(path)
    assert parquet_problem(path) is None


def test_a_parquet_value_of_the_wrong_type_is_placed_by_row_not_line(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    pl.DataFrame({"x": ["1", "2", "three"]}).write_parquet(tmp_path / "calls.parquet")
    result = CliRunner().invoke(main, ["eval", str(tmp_path / "spec.yaml"), "--data", f"calls={tmp_path / 'calls.parquet'}"])
    assert result.exit_code == 0  # an invalid value is made missing, and reported
    assert f"1 row invalid (not an int); first at {tmp_path / 'calls.parquet'} row 2: `three`" in result.stderr
    assert "line" not in result.stderr


def test_an_ndjson_value_of_the_wrong_type_is_placed_by_line_past_blank_ones(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "calls.ndjson").write_text('{"x": 1}\n\n{"x": "three"}\n')
    result = CliRunner().invoke(main, ["eval", str(tmp_path / "spec.yaml"), "--data", f"calls={tmp_path / 'calls.ndjson'}"])
    assert result.exit_code == 0  # an invalid value is made missing, and reported
    assert f"1 row invalid (not an int); first at {tmp_path / 'calls.ndjson'}:3: `three`" in result.stderr


def test_a_corrupt_history_is_one_line(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC.replace("columns: {x: int}", "time: t\n    columns: {x: int, t: datetime}"))
    pl.select(x=pl.lit(1), t=pl.datetime(2026, 1, 5)).write_parquet(tmp_path / "calls.parquet")
    history = tmp_path / "history.parquet"
    history.write_bytes(CORRUPT["negative-page-count"])
    result = CliRunner().invoke(
        main,
        [
            *("check", str(tmp_path / "spec.yaml"), "--data", f"calls={tmp_path / 'calls.parquet'}"),
            *("--metrics", "total", "--grain", "week", "--history", str(history)),
        ],
    )
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: cannot read the history {history}: not a valid Parquet file: "
        "row group 0, column 0, page 0 (at byte 4): number of values is negative (-23)\n"
    )


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x15", "the bytes end inside a struct"),
        (b"\x18\x7f", "a length of 127 runs past the end of the bytes"),
        (b"\x15\xff\xff\xff\xff\x7f\x00", "does not fit in 32 bits"),
        (b"\x19" * 200, "values nested too deeply"),
        (b"\x1d\x00", "unknown field type 13"),
    ],
)
def test_thrift_decoding_trusts_no_length(data, problem):
    with pytest.raises(ThriftError, match=problem):
        decode(data)


def test_thrift_decodes_a_footer():
    data = parquet()
    (length,) = struct.unpack("<I", data[-8:-4])
    footer, end = decode(data, len(data) - 8 - length, len(data) - 8)
    assert end == len(data) - 8
    assert footer[3] == 3  # rows
    assert [element.get(4) for element in footer[2]] == [b"schema", b"x"]  # type: ignore[union-attr]


NDJSON_GLOB_SPEC = """
sources:
  answers:
    path: answers/*.ndjson
    columns: {id: int, score: {type: int, range: [0, 10]}, weight: float}
metrics:
  answers: {expr: count(), source: answers}
  mean_score: {expr: mean(score), source: answers}
  total_weight: {expr: sum(weight), source: answers}
"""


def ndjson_glob(tmp_path, *files: str) -> Path:
    (tmp_path / "answers").mkdir()
    for number, text in enumerate(files):
        (tmp_path / "answers" / f"{number}.ndjson").write_text(text)
    (tmp_path / "spec.yaml").write_text(NDJSON_GLOB_SPEC)
    return tmp_path / "spec.yaml"


def test_ndjson_files_of_a_glob_may_give_a_column_different_json_types(tmp_path):
    # Polars reads every file with the first one's types; here a float column written as whole numbers in one
    # file and with decimals in the other, a key absent from a file, and text among numbers all read as declared.
    spec = ndjson_glob(
        tmp_path,
        '{"id": 1, "score": 5, "weight": 1}\n{"id": 2, "score": 7, "weight": 2}\n',
        '{"id": 3, "score": "high", "weight": 0.5}\n\n{"id": 4, "score": 9}\n',
    )
    result = CliRunner().invoke(main, ["eval", str(spec), "--output-format", "json", "--output", "-"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"answers": 4, "mean_score": 7.0, "total_weight": 3.5}]
    where = Path("answers") / "1.ndjson"
    assert f"column `score`: 1 row invalid (not an int); first at {tmp_path / where}:1" in result.stderr


def test_a_fraction_in_one_ndjson_file_of_an_int_column_is_placed_by_line(tmp_path):
    spec = ndjson_glob(tmp_path, '{"id": 1, "score": 5}\n', '{"id": 2}\n\n{"id": 3, "score": 9.5}\n')
    result = CliRunner().invoke(main, ["eval", str(spec)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'answers' / '1.ndjson'}, line 3, column `score`: a value is not a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_nested_value_in_one_ndjson_file_names_that_file(tmp_path):
    spec = ndjson_glob(tmp_path, '{"id": 1, "score": 5}\n', '{"id": 2, "score": [1, 2]}\n')
    result = CliRunner().invoke(main, ["eval", str(spec)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'answers' / '1.ndjson'}, column `score` (declared int): holds nested values" in result.stderr
