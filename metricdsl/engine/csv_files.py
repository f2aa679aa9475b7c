"""CSV files as a source's `csv:` dialect says they are written: encoding, separator, header and lines.

Polars reads UTF-8 only, so a file declared in another encoding is transcoded, a chunk at a time, to a
temporary UTF-8 file, which the caller deletes when done (`Transcoded.close`). A file read as UTF-8 that is
not (a UTF-16 export, a Latin-1 byte) is a `DataError` that names the encoding it looks like and the line of
its first bad byte, never garbled column names or a traceback. The header is read apart to find duplicate
names (Polars would rename the second `team` to `team_duplicated_0`), and a row's physical line (the header
and the `skip_rows` before it counted, comment lines and line breaks inside quoted fields too) is worked out
only when a message needs it.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from pathlib import Path

import polars as pl

from metricdsl.errors import DataError
from metricdsl.spec.definitions import CsvDialect

CHUNK = 1 << 20  # bytes read at a time when checking or transcoding
SNIFFED = 1 << 16  # bytes looked at before every read
PYTHON_CODECS = {
    "utf-16": "utf-16",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
    "latin-1": "latin-1",
    "cp1252": "cp1252",
}
BOMS = {codecs.BOM_UTF16_LE: "utf-16", codecs.BOM_UTF16_BE: "utf-16"}


def polars_options(dialect: CsvDialect) -> dict[str, object]:
    """The `scan_csv` options of a dialect: every column read as the text written, an empty field as empty text
    (the null words are made null after, by `null_words`; the declared types are applied after that)."""
    return {
        "separator": dialect.separator,
        "infer_schema": False,
        "skip_lines": dialect.skip_rows,
        "comment_prefix": dialect.comment_prefix,
        "empty_string_is_null": False,
        "raise_if_empty": False,
        "glob": False,
    }


def scan(files: list[str], dialect: CsvDialect) -> pl.LazyFrame:
    """The records of UTF-8 `files`, every column as text, the dialect's null words null.

    A line without text, blank or of separators alone (as a spreadsheet exports an empty row), is no record,
    though Polars reads it as a row of empty fields. A line of null words alone (`NA;NA;NA`) is a record: a
    row whose values are all missing, which `count()` counts. Finding the lines without text reads every field
    of every record, so Polars checks each record's width in any file: one with more fields than the header
    fails the query, even one that reads a few of the columns (a query reading them alone drops the extra
    fields)."""
    return null_words(scan_lines(files, dialect).filter(~BLANK), dialect)


def scan_lines(files: list[str], dialect: CsvDialect) -> pl.LazyFrame:
    """The rows of UTF-8 `files` as Polars reads them, blank ones too, every column as the text written."""
    return pl.scan_csv(files, **polars_options(dialect))  # type: ignore[arg-type]


BLANK = pl.all_horizontal(pl.all().fill_null("") == "")  # a row read from a line without text


def null_words(rows: pl.LazyFrame, dialect: CsvDialect) -> pl.LazyFrame:
    """`rows` with every field that is one of the dialect's `null_values` null (quoted or not, as Polars' own
    `null_values` do; "" among them makes an empty field null)."""
    if not dialect.null_values:
        return rows
    words = list(dialect.null_values)
    return rows.with_columns(pl.when(pl.all().is_in(words)).then(None).otherwise(pl.all()).name.keep())


class Transcoded:
    """The UTF-8 copies of files in other encodings, deleted by `close()` (or at exit)."""

    def __init__(self) -> None:
        self.files: list[Path] = []

    def utf8(self, path: Path, dialect: CsvDialect, source: str) -> Path:
        """`path` as a UTF-8 file: itself when it is one (checked at its start), else a transcoded copy."""
        encoding = dialect.encoding
        if encoding in (None, "utf-8", "utf-8-sig"):
            problem = sniff(path)
            if problem is not None:
                raise DataError(f"source `{source}`: {path}, {problem}")
            return path
        handle, name = tempfile.mkstemp(prefix="metricdsl-", suffix=".csv", dir=_temporary_folder())
        os.close(handle)
        self.files.append(Path(name))
        problem = transcode(path, Path(name), encoding)
        if problem is not None:
            raise DataError(f"source `{source}`: {path}, {problem}")
        return Path(name)

    def close(self) -> None:
        for file in self.files:
            file.unlink(missing_ok=True)
        self.files.clear()


_FOLDER: list[tempfile.TemporaryDirectory[str]] = []


def _temporary_folder() -> str:
    """One folder per process for transcoded files, removed at exit with whatever is left in it."""
    if not _FOLDER:
        _FOLDER.append(tempfile.TemporaryDirectory(prefix="metricdsl-"))
    return _FOLDER[0].name


def sniff(path: Path, *, whole: bool = False) -> str | None:
    """Why `path` is not UTF-8, with the line of its first bad byte and the `encoding:` to declare; None when
    its start (or, with `whole`, all of it) is UTF-8."""
    with open(path, "rb") as file:
        head = file.read(SNIFFED)
        for bom, encoding in BOMS.items():
            if head.startswith(bom):
                return f"line 1: the file starts with a UTF-16 byte-order mark: {_declare(encoding)}"
        endian = _utf16_without_mark(head)
        if endian is not None:
            line = head.count(b"\n", 0, head.index(b"\x00")) + 1
            return f"line {line}: NUL bytes, as in UTF-16 text: {_declare('utf-16-' + endian)}"
        file.seek(0)
        return _first_bad_utf8(file, limit=None if whole else SNIFFED)


def _utf16_without_mark(head: bytes) -> str | None:
    """`le` or `be` when the NUL bytes of `head` fall on every other byte, as in UTF-16 text of Latin letters (a
    stray NUL in UTF-8 text is no sign of it)."""
    sample = head[:4096]
    half = len(sample) // 2
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if max(even, odd) < max(2, half / 4) or min(even, odd) > half / 20:
        return None
    return "le" if odd > even else "be"


def _first_bad_utf8(file: io.BufferedReader, limit: int | None) -> str | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, done = 0, 0
    while limit is None or done < limit:
        chunk = file.read(CHUNK if limit is None else min(CHUNK, limit - done))
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            line = lines + chunk.count(b"\n", 0, max(error.start, 0)) + 1
            byte = chunk[error.start] if 0 <= error.start < len(chunk) else None
            what = f"byte 0x{byte:02X}" if byte is not None else "a byte"
            return f"line {line}: {what} is not UTF-8; the file looks like latin-1 or cp1252: {_declare('cp1252')}"
        if not chunk:
            return None
        lines += chunk.count(b"\n")
        done += len(chunk)
    return None


def _declare(encoding: str) -> str:
    return f"declare it in the source's spec: `csv: {{encoding: {encoding}}}`"


def transcode(path: Path, target: Path, encoding: str) -> str | None:
    """Write `path`, in `encoding`, to `target` as UTF-8; why it cannot be, with the line, if it cannot."""
    name = PYTHON_CODECS[encoding]
    with open(path, "rb") as source, open(target, "wb") as out:
        head = source.read(SNIFFED)
        if problem := _other_encoding(head, encoding):
            return problem
        if name == "utf-16":  # a byte-order mark says the byte order; without one, NUL bytes do
            name = "utf-16" if head[:2] in BOMS else ("utf-16-be" if head[:1] == b"\x00" else "utf-16-le")
        source.seek(0)
        decoder = codecs.getincrementaldecoder(name)()
        # A file declared in a one-byte encoding whose letters beyond ASCII are all UTF-8 is UTF-8: read as
        # cp1252, `ü` would become `Ã¼` without a word. Its first such line is kept until the end shows it.
        utf8: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder("utf-8")() if name in ONE_BYTE else None
        first_beyond_ascii: int | None = None
        lines, first = 0, True
        while True:
            chunk = source.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                done = decoder_lines(chunk[: max(error.start, 0)], name)
                return f"line {lines + done + 1}: bytes that are not {encoding} ({error.reason})"
            if utf8 is not None:
                try:
                    utf8.decode(chunk, final=not chunk)
                except UnicodeDecodeError:
                    utf8 = None
                if first_beyond_ascii is None and not chunk.isascii():
                    at = next(i for i, byte in enumerate(chunk) if byte > 0x7F)
                    first_beyond_ascii = lines + chunk.count(b"\n", 0, at) + 1
            if first and text.startswith("\ufeff"):
                text = text[1:]
            first = first and not text
            lines += text.count("\n")
            out.write(text.encode("utf-8"))
            if not chunk:
                break
    if utf8 is not None and first_beyond_ascii is not None:
        return (
            f"line {first_beyond_ascii}: the file is UTF-8, not {encoding} (its letters beyond ASCII are UTF-8 "
            f"bytes): {_declare('utf-8')}"
        )
    return None


ONE_BYTE = ("latin-1", "cp1252")


def _utf8_start(head: bytes) -> bool:
    """Whether `head`, the start of a file, is UTF-8 (a character cut at its end aside)."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3 and error.reason == "unexpected end of data"
    return True


def _other_encoding(head: bytes, encoding: str) -> str | None:
    """Why a file that starts with `head` is not in the declared `encoding` but plainly in another: UTF-16 declared
    where there is neither a byte-order mark nor a NUL byte (the header's ASCII names would have them), or a
    one-byte encoding declared for UTF-16 text."""
    mark = any(head.startswith(bom) for bom in BOMS)
    if encoding.startswith("utf-16") and head and not mark and b"\x00" not in head:
        suggest = "utf-8" if _utf8_start(head) else "cp1252"
        return f"line 1: the file is not UTF-16 (no byte-order mark, no NUL bytes): {_declare(suggest)}"
    if encoding in ONE_BYTE and (mark or _utf16_without_mark(head)):
        return f"line 1: the file is UTF-16, not {encoding}: {_declare('utf-16')}"
    return None


def decoder_lines(data: bytes, name: str) -> int:
    """The line breaks in the part of a chunk that decoded."""
    return codecs.decode(data, name, errors="replace").count("\n")


def header(path: Path, dialect: CsvDialect) -> list[str]:
    """The column names of a UTF-8 file's header, as written (duplicates kept)."""
    with open(path, encoding="utf-8-sig", newline="") as file:
        for _ in range(dialect.skip_rows):
            file.readline()
        for row in csv.reader(file, delimiter=dialect.separator):
            if dialect.comment_prefix and row and row[0].startswith(dialect.comment_prefix):
                continue
            return row
    return []


def header_lines(path: Path, dialect: CsvDialect) -> int:
    """The physical lines the header takes (more than one when a quoted name holds a line break)."""
    return 1 + sum(name.count("\n") for name in header(path, dialect))


def line_of(path: Path, dialect: CsvDialect, row: int) -> int:
    """The physical line (from 1) of data row `row` (from 0) of a UTF-8 file, blank rows not counted in `row`."""
    read = scan_lines([str(path)], dialect)
    marked = read.with_columns(BLANK.alias("__blank")).with_row_index("__row").filter(~pl.col("__blank"))
    index = marked.slice(row, 1).select("__row").collect()
    row = int(index.item()) if index.height else row  # the row among all that Polars reads, blank ones too
    rows = read.head(row)
    breaks = rows.select(pl.sum_horizontal(pl.all().str.count_matches("\n", literal=True).fill_null(0)).sum()).collect()
    before = header_lines(path, dialect) + row + int(breaks.item() or 0)  # lines of records before this one
    if not dialect.comment_prefix:
        return dialect.skip_rows + before + 1
    lines = pl.scan_csv(
        path, has_header=False, separator="\x00", quote_char=None, infer_schema=False, skip_lines=dialect.skip_rows
    )
    kept = (
        lines.with_row_index("line", offset=dialect.skip_rows + 1)
        .filter(~pl.nth(1).fill_null("").str.starts_with(dialect.comment_prefix))
        .slice(before, 1)
        .select("line")
        .collect()
    )
    return int(kept.item()) if kept.height else dialect.skip_rows + before + 1


CHECKED = 1 << 20  # bytes up to which a file's rows are checked for extra fields before it is read


def ragged(path: Path, dialect: CsvDialect) -> str | None:
    """Where a small UTF-8 file has a malformed record (see `malformed`), found before the file is read for a
    query (`compile()` runs none, and the user's run of its query would fail with Polars' message alone). Polars
    reads every column of the file to check it; only if that fails is the file read in Python to find the line.
    Larger files are left to the query: it reads every field to find the lines without text (see `scan`), so it
    fails on such a record, and `Reading.explain` finds its line."""
    if path.stat().st_size > CHECKED:
        return None
    try:
        scan_lines([str(path)], dialect).collect()
    except pl.exceptions.PolarsError:
        return malformed(path, dialect)
    return None


def malformed(path: Path, dialect: CsvDialect) -> str | None:
    """Where and how a UTF-8 file's first malformed record is: one with more fields than the header has names,
    or a quote not closed. None when there is none. It reads the file in Python, a record at a time: only when
    Polars failed to read it; None too for text that is not UTF-8 (`sniff` says where)."""
    try:
        return _malformed(path, dialect)
    except UnicodeDecodeError:
        return None


def _malformed(path: Path, dialect: CsvDialect) -> str | None:
    with open(path, encoding="utf-8-sig", newline="") as file:
        for _ in range(dialect.skip_rows):
            file.readline()
        reader = csv.reader(file, delimiter=dialect.separator, strict=True)
        width, line = None, dialect.skip_rows + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return None
            except csv.Error as error:
                return f"line {line}: a quoted field that is not closed, or not followed by a separator ({error})"
            start, line = line, dialect.skip_rows + reader.line_num + 1
            if dialect.comment_prefix and row and row[0].startswith(dialect.comment_prefix):
                continue
            if width is None:
                width = len(row)
            elif len(row) > width:
                return f"line {start}: {len(row)} fields, more than the {width} names of the header"


def is_empty(path: Path) -> bool:
    """True for a file with nothing in it but a byte-order mark and white space."""
    if path.stat().st_size > 64:
        return False
    return not path.read_bytes().lstrip(codecs.BOM_UTF8).strip()
