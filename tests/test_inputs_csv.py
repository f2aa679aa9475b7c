"""CSV dialects: separators, decimal commas, encodings, null and boolean words, skipped and comment lines."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from reading import read, source, write

from metricdsl import DataError
from metricdsl.engine.quality import DataProblem
from metricdsl.spec.definitions import CsvDialect

COLUMNS = {"team": "str", "n": "int", "x": "float", "ok": "bool"}


def test_a_european_export_reads_with_its_dialect(tmp_path):
    text = "team;n;x;ok\nnord;1;12,5;Y\nsüd;2;-0,25;N\nwest;;NA;-\n"
    dialect = CsvDialect(
        separator=";", decimal_comma=True, null_values=("", "NA", "-"), true_values=("Y",), false_values=("N",)
    )
    frame, problems, _ = read(source(COLUMNS, csv=dialect), write(tmp_path, text))
    assert frame.rows() == [("nord", 1, 12.5, True), ("süd", 2, -0.25, False), ("west", None, None, None)]
    assert problems == []


def test_with_a_decimal_comma_a_dot_is_not_a_decimal_point(tmp_path):
    dialect = CsvDialect(separator=";", decimal_comma=True)
    frame, problems, _ = read(source({"x": "float"}, csv=dialect), write(tmp_path, "x\n1,5\n1.234\n"))
    assert frame["x"].to_list() == [1.5, None]
    assert problems == [DataProblem("s", "x", 1, "not a float", f"{tmp_path / 'data.csv'}:3", "1.234")]


def test_with_a_decimal_comma_durations_read_their_comma_too(tmp_path):
    dialect = CsvDialect(separator=";", decimal_comma=True)
    spec = source({"d": "duration", "m": {"type": "duration", "unit": "min"}}, csv=dialect)
    frame, problems, _ = read(spec, write(tmp_path, "d;m\n12,5;1,5\nPT1,5S;2\n1.5;3\n"))
    assert frame.rows() == [
        (timedelta(seconds=12.5), timedelta(seconds=90)),
        (timedelta(seconds=1.5), timedelta(seconds=120)),
        (None, timedelta(seconds=180)),
    ]
    assert problems == [DataProblem("s", "d", 1, "not a duration", f"{tmp_path / 'data.csv'}:4", "1.5")]


@pytest.mark.parametrize("word", ["true", "TRUE", "1", "yes", "Y", "y", "Yes"])
def test_booleans_read_the_usual_words_in_any_case(tmp_path, word):
    frame, problems, _ = read(source({"ok": "bool"}), write(tmp_path, f"ok\n{word}\n{word.replace('1', '0')}\nno\n"))
    assert frame["ok"].to_list()[0] is True
    assert frame["ok"].to_list()[2] is False
    assert problems == []


def test_a_word_that_is_not_a_boolean_is_invalid(tmp_path):
    frame, problems, _ = read(source({"ok": "bool"}), write(tmp_path, "ok\ntrue\nmaybe\n"))
    assert frame["ok"].to_list() == [True, None]
    assert problems[0].reason == "not a bool"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252", "utf-8-sig"])
def test_a_declared_encoding_is_read(tmp_path, encoding):
    text = "team,x\nMünchen,1.5\nZürich €,2\n" if encoding != "latin-1" else "team,x\nMünchen,1.5\nZürich,2\n"
    path = write(tmp_path, text, encoding=encoding)
    frame, _, _ = read(source({"team": "str", "x": "float"}, csv=CsvDialect(encoding=encoding)), path)
    assert frame["team"].to_list()[0] == "München"
    assert frame["x"].to_list() == [1.5, 2.0]


def test_the_temporary_utf8_copy_is_deleted(tmp_path):
    path = write(tmp_path, "x\n1\n", encoding="utf-16")
    spec = source({"x": "int"}, csv=CsvDialect(encoding="utf-16"))
    from metricdsl.engine.inputs import scan

    reading = scan(spec, path)
    copies = list(reading.transcoded.files)
    assert copies
    assert all(c.exists() for c in copies)
    reading.close()
    assert not any(c.exists() for c in copies)


def test_a_utf8_file_with_a_byte_order_mark_reads_without_declaring_it(tmp_path):
    frame, _, _ = read(source({"team": "str"}), write(tmp_path, "team\nnord\n", encoding="utf-8-sig"))
    assert frame["team"].to_list() == ["nord"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_read_without_encoding_names_the_encoding(tmp_path, encoding):
    path = write(tmp_path, "team\nnord\n", encoding=encoding)
    with pytest.raises(DataError, match=r"data.csv, line 1: .*UTF-16.*`csv: \{encoding: utf-16"):
        read(source({"team": "str"}), path)


def test_a_latin1_byte_names_its_line_and_the_encoding(tmp_path):
    path = write(tmp_path, "team\nnord\nM\xfcnchen\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"data.csv, line 3: byte 0xFC is not UTF-8.*latin-1 or cp1252.*encoding: cp1252"):
        read(source({"team": "str"}), path)


def test_a_latin1_byte_far_into_a_file_is_found_when_reading_fails(project, tmp_path):
    rows = "".join(f"{i},2026-01-05T09:00:00,north\n" for i in range(20_000))
    path = write(
        tmp_path, b"interaction_id,started_at,team\n" + rows.encode() + b"1,2026-01-05T09:00:00,M\xfcnchen\n", name="x.csv"
    )
    with pytest.raises(DataError, match=r"x.csv, line 20002: byte 0xFC is not UTF-8"):
        project.evaluate({"interactions": path}, metrics=["contacts"], by=["team"])


def test_a_byte_that_is_not_cp1252_is_an_error_with_its_line(tmp_path):
    path = write(tmp_path, b"team\nnord\nx\x81y\n")
    with pytest.raises(DataError, match=r"data.csv, line 3: bytes that are not cp1252"):
        read(source({"team": "str"}, csv=CsvDialect(encoding="cp1252")), path)


@pytest.mark.parametrize("declared", ["latin-1", "cp1252"])
def test_a_utf8_file_declared_in_a_one_byte_encoding_is_an_error_not_garbled_text(tmp_path, declared):
    rows = "".join(f"nord,{i}\n" for i in range(3000))
    path = write(tmp_path, "team,n\n" + rows + "München,1\n")
    with pytest.raises(DataError, match=rf"data.csv, line 3002: the file is UTF-8, not {declared}.*encoding: utf-8"):
        read(source({"team": "str", "n": "int"}, csv=CsvDialect(encoding=declared)), path)


@pytest.mark.parametrize(
    ("written", "declared", "suggested"),
    [
        ("utf-16", "cp1252", "utf-16"),
        ("utf-16-le", "latin-1", "utf-16"),
        ("utf-8", "utf-16", "utf-8"),
        ("utf-8", "utf-16-le", "utf-8"),
        ("cp1252", "utf-16", "cp1252"),
    ],
)
def test_a_file_in_another_encoding_than_declared_names_its_own(tmp_path, written, declared, suggested):
    path = write(tmp_path, "team,n\nMünchen,1\nnord,2\n", encoding=written)
    with pytest.raises(DataError, match=rf"data.csv, line 1: the file is .*`csv: \{{encoding: {suggested}\}}`$"):
        read(source({"team": "str", "n": "int"}, csv=CsvDialect(encoding=declared)), path)


def test_skipped_rows_and_comment_lines_count_in_line_numbers(tmp_path):
    text = "exported 2026-02-01\nby the platform\nteam,n\n# a comment\nnord,1\n# another\nsüd,99\n"
    dialect = CsvDialect(skip_rows=2, comment_prefix="#")
    frame, problems, _ = read(
        source({"team": "str", "n": {"type": "int", "range": (0, 10)}}, csv=dialect), write(tmp_path, text)
    )
    assert frame.rows() == [("nord", 1), ("süd", None)]
    assert problems == [DataProblem("s", "n", 1, "outside [0, 10]", f"{tmp_path / 'data.csv'}:7", "99")]


def test_line_breaks_inside_quoted_fields_count_in_line_numbers(tmp_path):
    text = 'team,note,n\nnord,"two\nlines",1\nsüd,x,abc\n'
    _, problems, _ = read(source({"team": "str", "note": "str", "n": "int"}), write(tmp_path, text))
    assert problems[0].first == f"{tmp_path / 'data.csv'}:4"


def test_custom_null_values_replace_the_empty_field(tmp_path):
    dialect = CsvDialect(null_values=("NULL",))
    text = "team,n,x\n,NULL,a\nnord,1,b\n"  # a row of nothing but empty fields and null words is no record
    frame, _, _ = read(source({"team": "str", "n": "int", "x": "str"}, csv=dialect), write(tmp_path, text))
    assert frame.rows() == [("", None, "a"), ("nord", 1, "b")]


def test_a_duplicate_declared_header_name_is_an_error(tmp_path):
    path = write(tmp_path, "team,n,team\nnord,1,süd\n")
    with pytest.raises(DataError, match=r"data.csv, line 1: column `team` is named 2 times in the header"):
        read(source({"team": "str", "n": "int"}), path)


def test_a_duplicate_undeclared_header_name_is_no_error(tmp_path):
    frame, _, _ = read(source({"n": "int"}), write(tmp_path, "note,n,note\na,1,b\n"))
    assert frame["n"].to_list() == [1]


@pytest.mark.parametrize("text", ["", "team,n\n", "\ufeff"])
def test_an_empty_file_is_a_source_without_rows(tmp_path, text):
    frame, problems, _ = read(source({"team": "str", "n": "int"}), write(tmp_path, text))
    assert frame.height == 0
    assert problems == [DataProblem("s", None, 0, "no rows")]


def test_a_glob_of_csv_files_places_a_problem_in_its_own_file(tmp_path):
    write(tmp_path, "n\n1\n2\n", name="a.csv")
    write(tmp_path, "n\n3\nx\n", name="b.csv")
    frame, problems, _ = read(source({"n": "int"}), tmp_path / "*.csv")
    assert frame["n"].to_list() == [1, 2, 3, None]
    assert problems == [DataProblem("s", "n", 1, "not an int", f"{tmp_path / 'b.csv'}:3", "x")]


def test_csv_files_of_a_glob_are_read_by_column_name_whatever_their_order_and_other_columns(tmp_path):
    write(tmp_path, "team,n\nA,1\nA,x\n", name="a.csv")
    write(tmp_path, "n,extra,team\n3,?,B\n", name="b.csv")
    write(tmp_path, "team,n,notes\n", name="c.csv")
    frame, problems, _ = read(source({"team": "str", "n": "int"}), tmp_path / "*.csv")
    assert frame.rows() == [("A", 1), ("A", None), ("B", 3)]
    assert problems == [DataProblem("s", "n", 1, "not an int", f"{tmp_path / 'a.csv'}:3", "x")]


def test_a_csv_file_of_a_glob_without_a_declared_column_the_others_have_is_named(tmp_path):
    write(tmp_path, "team,n\nA,1\n", name="a.csv")
    write(tmp_path, "team\nB\n", name="b.csv")
    with pytest.raises(DataError) as error:
        read(source({"team": "str", "n": "int"}), tmp_path / "*.csv")
    assert str(error.value) == f"source `s`: {tmp_path / 'b.csv'} has no column `n`, which {tmp_path / 'a.csv'} has"


def test_a_tsv_file_is_tab_separated_unless_its_dialect_says_otherwise(tmp_path):
    frame, _, _ = read(source({"team": "str", "n": "int"}), write(tmp_path, "team\tn\nnord\t1\n", name="x.tsv"))
    assert frame.rows() == [("nord", 1)]
    dialect = CsvDialect(separator=";")
    frame, _, _ = read(source({"team": "str", "n": "int"}, csv=dialect), write(tmp_path, "team;n\nsüd;2\n", name="y.tsv"))
    assert frame.rows() == [("süd", 2)]


def test_a_tab_separated_file(tmp_path):
    frame, _, _ = read(
        source({"team": "str", "n": "int"}, csv=CsvDialect(separator="\t")), write(tmp_path, "team\tn\nnord\t1\n")
    )
    assert frame.rows() == [("nord", 1)]


def test_values_of_a_spec_path_are_not_quoted(tmp_path):
    _, problems, _ = read(source({"n": "int"}), write(tmp_path, "n\nsecret\n"), quote=False)
    assert problems == [DataProblem("s", "n", 1, "not an int", f"{tmp_path / 'data.csv'}:2", None)]


def test_reading_never_infers_types_from_the_first_rows(tmp_path):
    rows = "".join(f"{i}\n" for i in range(200)) + "1.5\n"
    frame, _, _ = read(source({"x": "float"}), write(tmp_path, "x\n" + rows))
    assert frame["x"].dtype == pl.Float64
    assert frame["x"].to_list()[-1] == 1.5


def test_a_stray_nul_byte_in_utf8_text_is_no_sign_of_utf16(tmp_path):
    frame, _, _ = read(source({"team": "str"}), write(tmp_path, "team\na\x00b\n"))
    assert frame["team"].to_list() == ["a\x00b"]
