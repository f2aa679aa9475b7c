"""A typed frame written as CSV in any supported dialect reads back equal, with the matching `CsvDialect`.

The CSV is written by Python's `csv` module, not by Polars, so that reader and writer are independent.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reading import read, source

from metricdsl.spec.definitions import CsvDialect

KINDS = ("int", "float", "bool", "str", "date", "datetime", "duration")
DTYPES = {
    "int": pl.Int64,
    "float": pl.Float64,
    "bool": pl.Boolean,
    "str": pl.String,
    "date": pl.Date,
    "datetime": pl.Datetime("us", "UTC"),
    "duration": pl.Duration("us"),
}
BOOLEAN_WORDS = [(("true",), ("false",)), (("Y",), ("N",)), (("1",), ("0",)), (("ja", "J"), ("nein", "N"))]
# Letters, digits and punctuation that every supported encoding can hold, the separators and quotes among them.
TEXT = st.text(st.sampled_from("abcxyzÄÖÜäöüßéèàç 0123456789.,;|\t\"'-_/"), min_size=1, max_size=8)
EPOCH = datetime(1990, 1, 1)


def values(kind: str) -> st.SearchStrategy[object]:
    return {
        "int": st.integers(-(2**63), 2**63 - 1),
        "float": st.floats(allow_nan=False, allow_infinity=False),
        "bool": st.booleans(),
        "str": TEXT,
        "date": st.dates(date(1900, 1, 1), date(2200, 12, 31)),
        "datetime": st.integers(0, 60 * 365 * 86400 * 10**6).map(lambda us: EPOCH + timedelta(microseconds=us)),
        "duration": st.integers(-(10**12), 10**12).map(lambda ms: timedelta(milliseconds=ms)),
    }[kind]


@st.composite
def dialects(draw: st.DrawFn) -> CsvDialect:
    trues, falses = draw(st.sampled_from(BOOLEAN_WORDS))
    return CsvDialect(
        separator=draw(st.sampled_from([",", ";", "\t", "|"])),
        decimal_comma=draw(st.booleans()),
        encoding=draw(
            st.sampled_from([None, "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252"])
        ),
        null_values=(draw(st.sampled_from(["", "NA", "NULL", "-"])),),
        true_values=trues,
        false_values=falses,
        skip_rows=draw(st.integers(0, 2)),
        comment_prefix=draw(st.sampled_from([None, "#"])),
    )


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[object]]]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    rows = draw(st.lists(st.tuples(*(st.none() | values(k) for k in kinds)).map(list), max_size=12))
    return kinds, rows


def text_of(value: object, kind: str, dialect: CsvDialect) -> str:
    if value is None:
        return dialect.null_values[0]
    if kind == "bool":
        return (dialect.true_values if value else dialect.false_values)[0]
    if kind == "float":
        written = repr(value)
        return written.replace(".", ",") if dialect.decimal_comma else written
    if kind == "duration":  # seconds, with the dialect's decimal mark
        written = str(value.total_seconds())  # type: ignore[attr-defined]
        return written.replace(".", ",") if dialect.decimal_comma else written
    if kind == "datetime":
        return value.isoformat(sep=" ")  # type: ignore[attr-defined]
    if kind == "date":
        return value.isoformat()  # type: ignore[attr-defined]
    return str(value)


def written(kinds: list[str], rows: list[list[object]], dialect: CsvDialect) -> bytes:
    out = io.StringIO()
    for i in range(dialect.skip_rows):
        out.write(f'exported by the platform, part {i}; "quoted"\n')
    writer = csv.writer(out, delimiter=dialect.separator, lineterminator="\n")
    writer.writerow([f"c{i}" for i in range(len(kinds))])
    if dialect.comment_prefix:
        out.write(f"{dialect.comment_prefix} a comment line\n")
    for row in rows:
        writer.writerow([text_of(v, k, dialect) for v, k in zip(row, kinds, strict=True)])
    return out.getvalue().encode(dialect.encoding or "utf-8")


def round_trip(
    tmp_path_factory: pytest.TempPathFactory, table: tuple[list[str], list[list[object]]], dialect: CsvDialect
) -> None:
    kinds, rows = table
    null = dialect.null_values[0]
    # A text that is the null word reads as null, and one that starts with the comment prefix as a comment.
    rows = [
        [None if v == null or (k == "str" and str(v).startswith("#")) else v for v, k in zip(r, kinds, strict=True)]
        for r in rows
    ]
    rows = [r for r in rows if any(v is not None and v != "" for v in r)]  # a record of empty fields is none
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_bytes(written(kinds, rows, dialect))
    spec = source({f"c{i}": kind for i, kind in enumerate(kinds)}, csv=dialect)
    frame, problems, _ = read(spec, path, zone="UTC")
    schema = {f"c{i}": DTYPES[k] if k != "datetime" else pl.Datetime("us") for i, k in enumerate(kinds)}
    expected = pl.DataFrame(rows, schema=schema, orient="row").with_columns(
        pl.col(pl.Datetime("us")).dt.replace_time_zone("UTC")
    )
    assert frame.equals(expected), (frame, expected)
    assert problems == ([] if rows else [problems[0]])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables(), dialect=dialects())
def test_a_frame_written_in_a_dialect_reads_back_equal(tmp_path_factory, table, dialect):
    round_trip(tmp_path_factory, table, dialect)


@pytest.mark.slow
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables(), dialect=dialects())
def test_many_frames_written_in_a_dialect_read_back_equal(tmp_path_factory, table, dialect):
    round_trip(tmp_path_factory, table, dialect)
