"""Decode Thrift's compact protocol, the encoding of a Parquet file's footer and page headers.

A struct decodes to a dict from field id to value: an int (of every integer width), a float, bytes, a bool, a
list, a list of pairs (a map) or a struct. Decoding trusts nothing it reads: every length is checked against the
bytes that remain, integers against their width and nesting against a depth, so a corrupt input ends in
`ThriftError` after at most one pass over its bytes, never in a large allocation. A file may hold a page header
for every few kilobytes, so these are plain functions over `bytes` and positions: no call per byte.
"""

from __future__ import annotations

import struct as _struct
from typing import TypeAlias

Value: TypeAlias = "int | float | bytes | bool | list[Value] | list[tuple[Value, Value]] | Struct"
Struct: TypeAlias = "dict[int, Value]"

_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)
_BITS = {_I16: 16, _I32: 32, _I64: 64}
MAX_DEPTH = 64  # Parquet nests a few levels; a deeper input is corrupt


class ThriftError(ValueError):
    """Bytes that are not the compact encoding of a struct."""


class Truncated(ThriftError):
    """Bytes that end before the struct does: more of them may hold the rest."""


def decode(data: bytes, position: int = 0, end: int | None = None) -> tuple[Struct, int]:
    """The struct encoded in `data[position:end]` from its start, and the position just after it."""
    return _struct_at(data, position, len(data) if end is None else end, 0)


def _struct_at(data: bytes, position: int, end: int, depth: int) -> tuple[Struct, int]:
    if depth > MAX_DEPTH:
        raise ThriftError("values nested too deeply")
    fields: Struct = {}
    field = 0
    while True:
        if position >= end:
            raise Truncated("the bytes end inside a struct")
        header = data[position]
        position += 1
        if not header:
            return fields, position
        kind, delta = header & 0x0F, header >> 4
        if delta:
            field += delta
        else:
            field, position = _integer(data, position, end, 16)
        if kind in (_TRUE, _FALSE):  # a struct's bool is its field header
            fields[field] = kind == _TRUE
        elif kind in _BITS and position < end and data[position] < 0x80:  # most fields: a small number, one byte
            fields[field] = (data[position] >> 1) ^ -(data[position] & 1)
            position += 1
        else:
            fields[field], position = _value(data, position, end, kind, depth + 1)


def _value(data: bytes, position: int, end: int, kind: int, depth: int) -> tuple[Value, int]:
    if kind in _BITS:
        return _integer(data, position, end, _BITS[kind])
    if kind == _BINARY:
        size, position = _varint(data, position, end)
        _check_room(size, position, end)
        return data[position : position + size], position + size
    if kind == _STRUCT:
        return _struct_at(data, position, end, depth)
    if kind in (_TRUE, _FALSE, _BYTE):  # a bool in a list or map is a byte, as a byte is
        _check_room(1, position, end)
        byte = data[position]
        return (byte == _TRUE if kind != _BYTE else byte - 256 if byte >= 128 else byte), position + 1
    if kind == _DOUBLE:
        _check_room(8, position, end)
        return float(_struct.unpack_from("<d", data, position)[0]), position + 8
    if kind in (_LIST, _SET, _MAP):
        return _container(data, position, end, kind, depth)
    raise ThriftError(f"unknown field type {kind}")


def _container(data: bytes, position: int, end: int, kind: int, depth: int) -> tuple[Value, int]:
    """A list or set (its size and type in one byte, or the size after it), or a map (its size, then the types)."""
    if depth > MAX_DEPTH:
        raise ThriftError("values nested too deeply")
    if kind == _MAP:
        size, position = _varint(data, position, end)
        if not size:
            return [], position
        _check_room(2 * size + 1, position, end)  # every key and value takes a byte at least
        types = data[position]
        pairs: list[tuple[Value, Value]] = []
        position += 1
        for _ in range(size):
            key, position = _value(data, position, end, types >> 4, depth + 1)
            value, position = _value(data, position, end, types & 0x0F, depth + 1)
            pairs.append((key, value))
        return pairs, position
    _check_room(1, position, end)
    header = data[position]
    size, element = header >> 4, header & 0x0F
    position += 1
    if size == 15:
        size, position = _varint(data, position, end)
    _check_room(size, position, end)  # every element takes a byte at least
    items: list[Value] = []
    for _ in range(size):
        item, position = _value(data, position, end, element, depth + 1)
        items.append(item)
    return items, position


def _check_room(size: int, position: int, end: int) -> None:
    if size > end - position:
        raise Truncated(f"a length of {size} runs past the end of the bytes")


def _varint(data: bytes, position: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= end:
            raise Truncated("the bytes end inside a struct")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise ThriftError("an integer longer than 64 bits")


def _integer(data: bytes, position: int, end: int, bits: int) -> tuple[int, int]:
    encoded, position = _varint(data, position, end)
    value = (encoded >> 1) ^ -(encoded & 1)
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise ThriftError(f"{value} does not fit in {bits} bits")
    return value, position
