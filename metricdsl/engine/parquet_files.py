"""Check that a Parquet file's declared structure holds together before Polars reads it.

Polars trusts the counts and sizes a Parquet file declares: a corrupt one can make it panic, or ask for an
allocation of exabytes, and an allocation that fails aborts the whole process, past every `except`. A data file
may come from anyone (a pull request), so `parquet_problem` reads the footer and the header of every page, never
the pages' values, and checks that every column chunk and page lies inside the file, that no count or size is
negative and that the counts agree: the file's rows are its row groups' rows, a flat column's values are its row
group's rows, and a column chunk's pages hold as many values as the chunk declares. Pages hold a megabyte or some
thousands of rows, so that is a few hundred bytes decoded per megabyte or so of data: cheap beside reading it.

What a page's values hold is not checked (it would take decompressing them): Polars fails on most corrupt values
with an error or a panic, which reach Python as exceptions. Problems name places (row groups, columns and pages
by number, bytes by offset), never the file's values.
"""

from __future__ import annotations

import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from metricdsl.engine.thrift import Struct, ThriftError, Truncated, decode

MAGIC = b"PAR1"
_TRAILER = 8  # the footer's length (4 bytes, little-endian), then the magic
_REPEATED = 2  # FieldRepetitionType.REPEATED
_DATA, _INDEX, _DICTIONARY, _DATA_V2 = range(4)  # PageType
_MAX_DEPTH = 64  # a schema nested deeper is corrupt
_HEADER_READ = 256  # bytes decoded for a page header at first; doubled while the header runs on
_BLOCK = 16384  # bytes read at once: the headers of pages smaller than this take one read for several


class Unreadable(ValueError):
    """A file that is not read: a Parquet file it is not safe to read, or one of a kind this check cannot read."""


class Corrupt(Unreadable):
    """A Parquet file whose declared structure does not hold together."""


@dataclass(frozen=True)
class _Chunk:
    """Where a column chunk's pages lie, and how many values they hold."""

    place: str
    start: int
    end: int
    values: int


def parquet_problem(path: Path) -> str | None:
    """Why `path` is not a Parquet file that can be read safely, in a few words; None when it can."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # a FIFO would block, and Parquet is read from its end
            raise Unreadable("it is not a regular file")
        with open(path, "rb") as file:
            window = _Window(file)
            for chunk in _chunks(file, status.st_size):
                _check_pages(window, chunk)
    except Corrupt as error:
        return f"not a valid Parquet file: {error}"
    except Unreadable as error:
        return str(error)
    except OSError as error:
        return error.strerror or type(error).__name__
    return None


def _chunks(file: BinaryIO, size: int) -> Iterator[_Chunk]:
    """The column chunks the footer declares, each checked against the footer and the file's size."""
    if size < len(MAGIC) + _TRAILER:
        raise Corrupt(f"{size} bytes is too short")
    head = file.read(len(MAGIC))
    file.seek(size - _TRAILER)
    length, tail = struct.unpack("<I4s", file.read(_TRAILER))
    if tail == b"PARE":
        raise Unreadable("it is encrypted, and encrypted Parquet files are not read")
    if head != MAGIC or tail != MAGIC:
        raise Corrupt("it does not begin and end with PAR1")
    footer_start = size - _TRAILER - length
    if footer_start < len(MAGIC):
        raise Corrupt(f"its footer's length, {length} bytes, is more than the file holds")
    file.seek(footer_start)
    meta = _decode(file.read(length), "its footer")
    if 8 in meta:
        raise Unreadable("its columns are encrypted, and encrypted Parquet files are not read")
    rows = _count(meta, 3, "its number of rows")
    repeated = _repeated_leaves(_structs(meta, 2, "its schema"))
    groups = _structs(meta, 4, "its list of row groups")
    group_rows = [_count(g, 3, f"row group {i}: number of rows") for i, g in enumerate(groups)]
    if sum(group_rows) != rows:
        raise Corrupt(f"its row groups' rows do not add up to its {rows} rows")
    for i, group in enumerate(groups):
        columns = _structs(group, 1, f"row group {i}: list of columns")
        if len(columns) != len(repeated):
            raise Corrupt(f"row group {i} has {len(columns)} columns, its schema {len(repeated)}")
        for j, column in enumerate(columns):
            yield _chunk(column, f"row group {i}, column {j}", repeated[j], group_rows[i], footer_start)


def _chunk(column: Struct, place: str, repeated: bool, rows: int, footer_start: int) -> _Chunk:
    meta = _struct_field(column, 3, f"{place}: metadata")
    values = _count(meta, 5, f"{place}: number of values")
    if values < rows if repeated else values != rows:
        raise Corrupt(f"{place} holds {values} values for {rows} rows")
    # Readers start at the dictionary page when there is one, else at the first data page (at 0 in a chunk
    # without pages, as pyarrow writes an empty table's).
    start = _count(meta, 11 if 11 in meta else 9, f"{place}: offset")
    end = start + _count(meta, 7, f"{place}: size")
    if end > footer_start or start < len(MAGIC) < end:
        raise Corrupt(f"{place} declares bytes {start} to {end}, outside the {footer_start} bytes before the footer")
    return _Chunk(place, start, end, values)


def _check_pages(file: _Window, chunk: _Chunk) -> None:
    """Walk the pages of `chunk` by their headers: each lies inside the chunk and declares sane counts, and the
    data pages hold the chunk's values. Readers stop at the chunk's last value, and so does this walk."""
    position, values, number = chunk.start, 0, 0
    while position < chunk.end and (values < chunk.values or not chunk.values):
        try:
            header, body = _page_header(file, position, chunk.end)
            held, size = _page(header, number, chunk.end - body)
        except Corrupt as error:
            raise Corrupt(f"{chunk.place}, page {number} (at byte {position}): {error}") from None
        values += held
        position = body + size
        number += 1
    if values != chunk.values:
        raise Corrupt(f"the pages of {chunk.place} hold {values} values, not the {chunk.values} it declares")


def _page(header: Struct, number: int, room: int) -> tuple[int, int]:
    """The number of values a page holds (none but in a data page) and its size, given the `room` left in its
    column chunk."""
    kind = _count(header, 1, "type")
    size = _count(header, 3, "size")
    _count(header, 2, "uncompressed size")
    if size > room:
        raise Corrupt(f"its {size} bytes run past the end of its column chunk")
    if kind == _DATA:
        return _count(_struct_field(header, 5, "data page header"), 1, "number of values"), size
    if kind == _DATA_V2:
        page = _struct_field(header, 8, "data page header")
        values = _count(page, 1, "number of values")
        if _count(page, 2, "number of nulls") > values or _count(page, 3, "number of rows") > values:
            raise Corrupt(f"it declares more nulls or rows than its {values} values")
        if _count(page, 5, "size of definition levels") + _count(page, 6, "size of repetition levels") > size:
            raise Corrupt(f"its levels take more than its {size} bytes")
        return values, size
    if kind == _DICTIONARY:
        if number:
            raise Corrupt("it is a dictionary page after the first page")
        _count(_struct_field(header, 7, "dictionary page header"), 1, "number of values")
        return 0, size
    if kind == _INDEX:
        return 0, size
    raise Corrupt(f"its type, {kind}, is unknown")


class _Window:
    """Reads a file a block at a time, so that the headers of small pages that follow one another take one read."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.start = 0
        self.data = b""

    def at(self, position: int, size: int) -> tuple[bytes, int]:
        """Bytes that hold `size` bytes from `position` (fewer at the end of the file), and where `position` is in
        them."""
        if not self.start <= position <= position + size <= self.start + len(self.data):
            self.file.seek(position)
            self.start, self.data = position, self.file.read(max(size, _BLOCK))
        return self.data, position - self.start


def _page_header(file: _Window, position: int, end: int) -> tuple[Struct, int]:
    """The page header at `position`, and where the page's bytes begin. Its length is not declared: read a
    little, and more while the header runs on, up to `end`."""
    size = _HEADER_READ
    while True:
        size = min(size, end - position)
        data, offset = file.at(position, size)
        try:
            header, after = decode(data, offset, offset + size)
        except Truncated as error:
            if size >= end - position:
                raise Corrupt(f"its header cannot be decoded: {error}") from None
            size *= 2
        except ThriftError as error:
            raise Corrupt(f"its header cannot be decoded: {error}") from None
        else:
            return header, position + after - offset


def _decode(data: bytes, what: str) -> Struct:
    try:
        return decode(data)[0]
    except ThriftError as error:
        raise Corrupt(f"{what} cannot be decoded: {error}") from None


def _repeated_leaves(schema: list[Struct]) -> list[bool]:
    """Whether each leaf column of `schema` (its elements in depth-first order, after the root) is repeated, or
    inside a repeated group."""
    leaves: list[bool] = []
    position = 1

    def walk(children: int, repeated: bool, depth: int) -> None:
        nonlocal position
        for _ in range(children):
            if position >= len(schema) or depth > _MAX_DEPTH:
                raise Corrupt("its schema's groups declare more columns than it has")
            element = schema[position]
            position += 1
            inner = repeated or element.get(3) == _REPEATED
            if 5 in element:
                walk(_count(element, 5, "a schema group's number of columns"), inner, depth + 1)
            else:
                leaves.append(inner)

    if not schema:
        raise Corrupt("its schema is empty")
    walk(_count(schema[0], 5, "its schema's number of columns"), False, 0)
    if position != len(schema):
        raise Corrupt("its schema holds columns outside its groups")
    return leaves


def _count(fields: Struct, field: int, what: str) -> int:
    """A count, size or offset the file declares: present, an integer, not negative."""
    value = fields.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Corrupt(f"{what} is missing")
    if value < 0:
        raise Corrupt(f"{what} is negative ({value})")
    return value


def _struct_field(fields: Struct, field: int, what: str) -> Struct:
    value = fields.get(field)
    if not isinstance(value, dict):
        raise Corrupt(f"{what} is missing")
    return value


def _structs(fields: Struct, field: int, what: str) -> list[Struct]:
    value = fields.get(field)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Corrupt(f"{what} is missing")
    return value  # type: ignore[return-value]
