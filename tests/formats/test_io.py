"""Tests for convcli.formats.io: reading SIGNAL/KERNEL arguments, writing CSV, JSON and .npy,
write_text and output_sink.

Hand-worked cases for every input form and every error, exact round trips
(property-based) for the writers, the comparison writers against
engine.compare, and the atomicity and permissions of write_text. The fast CSV reader is
checked against the careful one and ``numpy.loadtxt``, also in tiny chunks so that every
rule is crossed by a chunk boundary; .npy files against ``numpy.load``.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import stat
import struct
import threading
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli import compare
from convcli.cli import inputs, outputs
from convcli.engine.core import Result, compute
from convcli.engine.geometry import plan
from convcli.errors import ConvcliError, InputError, OutputError
from convcli.formats import csv as csv_format
from convcli.formats import serialise
from convcli.options import Options
from tests.examples import EDGE_FLOATS, assert_identical

INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


# --------------------------------------------------------------------------- helpers


def write(directory: Path, name: str, content: str | bytes) -> str:
    """Write a file (text as UTF-8 with \\n line ends, or exact bytes) and return its path."""
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return str(path)


def float_bits(value: float) -> int:
    """The IEEE-754 bit pattern of a float, so -0.0 and 0.0 differ."""
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def same_float(actual: float, expected: float) -> bool:
    """Bitwise equal, except that any nan matches any nan."""
    if math.isnan(expected):
        return math.isnan(actual)
    return float_bits(actual) == float_bits(expected)


def strict_json(text: str) -> object:
    """json.loads that fails on NaN/Infinity tokens (not valid JSON)."""

    def refuse(token: str) -> object:
        raise AssertionError(f"non-standard JSON token {token!r}")

    return json.loads(text, parse_constant=refuse)


class TTYStream(io.BytesIO):
    """A binary stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- inline numbers


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("2,1,3,5,4", np.array([2, 1, 3, 5, 4], dtype=np.int64)),
        ("2 1 3 5 4", np.array([2, 1, 3, 5, 4], dtype=np.int64)),
        ("  2, 1,  3 ", np.array([2, 1, 3], dtype=np.int64)),
        ("[2, 1, 3]", np.array([2, 1, 3], dtype=np.int64)),
        ("-1,1", np.array([-1, 1], dtype=np.int64)),
        ("-1", np.array([-1], dtype=np.int64)),
        ("5", np.array([5], dtype=np.int64)),
        ("1;2;3", np.array([[1], [2], [3]], dtype=np.int64)),
        ("1,2;3,4", np.array([[1, 2], [3, 4]], dtype=np.int64)),
        ("1 2; 3 4", np.array([[1, 2], [3, 4]], dtype=np.int64)),
        ("[[1,2],[3,4]]", np.array([[1, 2], [3, 4]], dtype=np.int64)),
        ("[[1, 2.5], [3, 4]]", np.array([[1, 2.5], [3, 4]], dtype=np.float64)),
        ("1e-3,2", np.array([0.001, 2.0], dtype=np.float64)),
        ("-0.0", np.array([-0.0], dtype=np.float64)),
        ("1+2j,3", np.array([1 + 2j, 3], dtype=np.complex128)),
        ("1+2i,3-4i", np.array([1 + 2j, 3 - 4j], dtype=np.complex128)),
        ("inf,-inf,1", np.array([np.inf, -np.inf, 1.0], dtype=np.float64)),
        (f"{INT64_MAX},{INT64_MIN}", np.array([INT64_MAX, INT64_MIN], dtype=np.int64)),
    ],
)
def test_inline_numbers(source, expected):
    assert_identical(inputs.read_array(source), expected)


@pytest.mark.parametrize(
    ("source", "shape"),
    [
        ("1,2,3", (3,)),
        ("[1,2,3]", (3,)),
        ("1 2 3", (3,)),
        ("1;1", (2, 1)),
        ("1;", (1, 1)),
        ("[[1,1]]", (1, 2)),
        ("[[1]]", (1, 1)),
        ("[[1],[2]]", (2, 1)),
        ("1,2;3,4", (2, 2)),
    ],
)
def test_inline_brackets_and_semicolons_keep_their_dimensions(source, shape):
    """[[...]] and ; write a matrix, even of one row or one column; 1,2,3 and [1,2,3] are 1-D."""
    assert inputs.read_array(source).shape == shape


@pytest.mark.parametrize(
    ("source", "cell"),
    [("1,,2", "line 1, column 2"), (",1", "line 1, column 1"), ("1,2;3,,4", None)],
)
def test_inline_empty_cell_is_the_files_error(tmp_path, source, cell):
    """An empty cell typed inline is refused as the same cell in a file is."""
    path = write(tmp_path, "gap.csv", source.replace(";", "\n") + "\n")
    with pytest.raises(InputError) as in_file:
        inputs.read_array(path)
    with pytest.raises(InputError) as inline:
        inputs.read_array(source, role="kernel")
    file_message, inline_message = str(in_file.value), str(inline.value)
    assert file_message.startswith(path + ", ")
    assert inline_message.startswith(f"the kernel {source!r}, ")
    assert inline_message.removeprefix(f"the kernel {source!r}") == file_message.removeprefix(path)
    if cell is not None:
        assert inline_message.endswith(f"{cell}: the cell is empty")


def test_inline_trailing_comma_is_tolerated_as_in_a_file():
    assert_identical(inputs.read_array("1,2,"), np.array([1, 2]))


@pytest.mark.parametrize(
    "separator", ["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"]
)
def test_line_separators_inside_a_cell_are_no_line_break(tmp_path, separator):
    """Only \\n, \\r\\n and \\r end a line (as in Python's csv module): another of
    str.splitlines' separators inside a cell leaves it one cell, which is not a number,
    inline and in a file alike."""
    path = write(tmp_path, "sep.csv", f"1\n2{separator}3\n4\n")
    with pytest.raises(InputError, match=r"sep\.csv, line 2, column 1: .* is not a number"):
        inputs.read_array(path)
    with pytest.raises(InputError, match="is not a number"):
        inputs.read_array(f"1,2{separator}3,4")


@pytest.mark.parametrize("separator", ["\x0c", "\x0b", "\x1c", "\u2028"])
def test_a_separator_between_lines_does_not_shift_later_line_numbers(tmp_path, separator):
    path = write(tmp_path, "ff.csv", f"1\n{separator}2\n{separator}\nx\n")
    with pytest.raises(InputError, match=r"ff\.csv, line 4, column 1: 'x' is not a number"):
        inputs.read_array(path)


def test_inline_nan_is_a_number():
    # spec: floats may be nan; nan is not an overflow
    assert_identical(inputs.read_array("1,nan"), np.array([1.0, np.nan]))


def test_inline_ragged_rows_are_refused():
    with pytest.raises(InputError, match=r"line 2 has 1 value\(s\) but line 1 has 2"):
        inputs.read_array("1,2;3", role="kernel")


def test_inline_garbage_names_the_role_and_the_bad_token():
    with pytest.raises(InputError) as caught:
        inputs.read_array("1,abc,3", role="kernel")
    message = str(caught.value)
    assert "kernel" in message
    assert "'abc' is not a number" in message
    assert "\n" not in message


def test_inline_that_looks_like_a_path_is_a_missing_file():
    with pytest.raises(InputError, match=r"no such file: data\.csv") as caught:
        inputs.read_array("data.csv", role="signal")
    assert "signal" in str(caught.value)


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ConvcliError)
    assert issubclass(InputError, ValueError)
    with pytest.raises(ValueError):
        inputs.read_array("not numbers")


# --------------------------------------------------------------------------- CSV files


def test_file_one_column_is_1d(tmp_path):
    path = write(tmp_path, "f.csv", "2\n1\n3\n5\n4\n")
    assert_identical(inputs.read_array(path), np.array([2, 1, 3, 5, 4], dtype=np.int64))


def test_file_one_row_is_1d(tmp_path):
    path = write(tmp_path, "f.csv", "2,1,3,5,4\n")
    assert_identical(inputs.read_array(path), np.array([2, 1, 3, 5, 4], dtype=np.int64))


def test_file_rows_and_columns_is_2d(tmp_path):
    path = write(tmp_path, "f.csv", "1,2,3\n4,5,6\n")
    assert_identical(inputs.read_array(path), np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int64))


def test_file_without_final_newline(tmp_path):
    path = write(tmp_path, "f.csv", "1,2\n3,4")
    assert_identical(inputs.read_array(path), np.array([[1, 2], [3, 4]], dtype=np.int64))


def test_file_header_is_skipped(tmp_path):
    path = write(tmp_path, "f.csv", "time,value\n0,1.5\n1,2.5\n")
    assert_identical(inputs.read_array(path), np.array([[0, 1.5], [1, 2.5]]))


def test_file_header_and_one_row_is_1d(tmp_path):
    path = write(tmp_path, "f.csv", "a,b,c\n1,2,3\n")
    assert_identical(inputs.read_array(path), np.array([1, 2, 3], dtype=np.int64))


def test_file_blank_and_comment_lines_are_ignored(tmp_path):
    text = "# made by hand\n\n1,2\n   \n  # indented comment\n3,4\n\n"
    path = write(tmp_path, "f.csv", text)
    assert_identical(inputs.read_array(path), np.array([[1, 2], [3, 4]], dtype=np.int64))


def test_file_wins_over_inline_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "1,2", "7\n8\n9\n")
    assert_identical(inputs.read_array("1,2"), np.array([7, 8, 9], dtype=np.int64))


def test_excel_bom_and_crlf(tmp_path):
    data = b"\xef\xbb\xbftime,Value\r\n0,1.5\r\n1,-2\r\n"
    path = write(tmp_path, "excel.csv", data)
    assert_identical(inputs.read_array(f"{path}:Value"), np.array([1.5, -2.0]))
    # the BOM must not stick to the first header name
    assert_identical(inputs.read_array(f"{path}:time"), np.array([0, 1], dtype=np.int64))


def test_bom_before_a_number(tmp_path):
    path = write(tmp_path, "f.csv", b"\xef\xbb\xbf1\r\n2\r\n")
    assert_identical(inputs.read_array(path), np.array([1, 2], dtype=np.int64))


def test_quoted_cells(tmp_path):
    path = write(tmp_path, "f.csv", '"a","b"\n"1.5","2"\n"3",4\n')
    assert_identical(inputs.read_array(path), np.array([[1.5, 2.0], [3.0, 4.0]]))


def test_trailing_delimiter_is_tolerated(tmp_path):
    path = write(tmp_path, "f.csv", "a,b,\n1,2,\n3,4,\n")
    assert_identical(inputs.read_array(path), np.array([[1, 2], [3, 4]], dtype=np.int64))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("tab", "1\t2\n3\t4\n"),
        ("\\t", "1\t2\n3\t4\n"),
        (";", "1;2\n3;4\n"),
        ("semicolon", "1; 2\n3 ;4\n"),
        ("space", "1  2\n 3 4\n"),
        ("whitespace", "1 \t 2\n3\t4\n"),
        ("|", "1|2\n3|4\n"),
    ],
)
def test_delimiters(tmp_path, name, text):
    path = write(tmp_path, "f.txt", text)
    delimiter = csv_format.parse_delimiter(name)
    assert_identical(
        inputs.read_array(path, delimiter=delimiter), np.array([[1, 2], [3, 4]], dtype=np.int64)
    )


def test_semicolon_file_read_with_default_comma_is_an_error(tmp_path):
    path = write(tmp_path, "f.csv", "1;2\n3;4\n")
    with pytest.raises(InputError, match="'3;4' is not a number"):
        inputs.read_array(path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("comma", ","),
        (",", ","),
        ("tab", "\t"),
        ("TAB", "\t"),
        ("\\t", "\t"),
        (";", ";"),
        ("semicolon", ";"),
        ("|", "|"),
        ("space", None),
        ("whitespace", None),
    ],
)
def test_parse_delimiter(name, expected):
    assert csv_format.parse_delimiter(name) == expected


@pytest.mark.parametrize("name", ["ab", "", ".", "-", "+", "e", "1", '"', "#"])
def test_parse_delimiter_refuses_what_could_be_part_of_a_number(name):
    with pytest.raises(InputError, match="delimiter"):
        csv_format.parse_delimiter(name)


def test_number_kinds_and_dtypes(tmp_path):
    ints = write(tmp_path, "i.csv", "1\n-2\n+3\n")
    floats = write(tmp_path, "f.csv", "1\n1e-3\n-inf\n")
    complexes = write(tmp_path, "c.csv", "1\n2.5\n1+2i\n0-3j\n")
    assert_identical(inputs.read_array(ints), np.array([1, -2, 3], dtype=np.int64))
    assert_identical(inputs.read_array(floats), np.array([1.0, 0.001, -np.inf]))
    assert_identical(inputs.read_array(complexes), np.array([1, 2.5, 1 + 2j, complex(0, -3)]))


def test_nan_in_a_file(tmp_path):
    path = write(tmp_path, "f.csv", "1.5\nnan\n")
    assert_identical(inputs.read_array(path), np.array([1.5, np.nan]))


def test_latin1_file_is_read(tmp_path):
    path = write(tmp_path, "f.csv", "caf\xe9,x\n1,2\n3,4\n".encode("latin-1"))
    assert_identical(inputs.read_array(f"{path}:café"), np.array([1, 3], dtype=np.int64))


def test_parse_numbers_positions_and_dtype():
    values = csv_format.parse_numbers(["1", "2.5", "1+2i"], [(1, 1), (2, 1), (3, 1)])
    assert_identical(values, np.array([1, 2.5, 1 + 2j]))
    with pytest.raises(InputError, match=r"^data, line 7, column 3: 'x' is not a number$"):
        csv_format.parse_numbers(["1", "x"], [(6, 3), (7, 3)], "data")


# --------------------------------------------------------------------------- FILE:COLUMN


@pytest.fixture
def table_csv(tmp_path):
    return write(tmp_path, "t.csv", "time,Value,other\n0,10,-1\n1,20,-2\n2,30,-3\n")


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("Value", [10, 20, 30]),
        ("value", [10, 20, 30]),
        ("VALUE", [10, 20, 30]),
        ("time", [0, 1, 2]),
        ("1", [0, 1, 2]),
        ("2", [10, 20, 30]),
        ("3", [-1, -2, -3]),
    ],
)
def test_column_by_name_or_index(table_csv, column, expected):
    actual = inputs.read_array(f"{table_csv}:{column}")
    assert_identical(actual, np.array(expected, dtype=np.int64))


def test_exact_column_name_wins_over_case_insensitive(tmp_path):
    path = write(tmp_path, "f.csv", "a,A\n1,2\n3,4\n")
    assert_identical(inputs.read_array(f"{path}:A"), np.array([2, 4], dtype=np.int64))
    assert_identical(inputs.read_array(f"{path}:a"), np.array([1, 3], dtype=np.int64))


def test_column_by_index_without_header(tmp_path):
    path = write(tmp_path, "f.csv", "1,2\n3,4\n5,6\n")
    assert_identical(inputs.read_array(f"{path}:2"), np.array([2, 4, 6], dtype=np.int64))


def test_column_of_mixed_file_keeps_that_columns_dtype(tmp_path):
    path = write(tmp_path, "f.csv", "n,x\n1,0.5\n2,1.5\n")
    assert_identical(inputs.read_array(f"{path}:n"), np.array([1, 2], dtype=np.int64))
    assert_identical(inputs.read_array(f"{path}:x"), np.array([0.5, 1.5]))


def test_bad_cell_in_a_column_names_its_real_line_and_column(tmp_path):
    path = write(tmp_path, "f.csv", "a,b\n# note\n1,2\n3,oops\n")
    with pytest.raises(InputError, match=r"line 4, column 2: 'oops' is not a number"):
        inputs.read_array(f"{path}:b")


@pytest.mark.parametrize("column", ["i", "j"])
def test_header_with_a_column_named_like_the_imaginary_unit(tmp_path, column):
    # "i" and "j" are common index names; a header row of names is still a header
    path = write(tmp_path, "f.csv", f"{column},value\n0,2\n1,3\n")
    assert_identical(inputs.read_array(f"{path}:value"), np.array([2, 3], dtype=np.int64))


# --------------------------------------------------------------------------- standard input


def test_stdin():
    stream = io.BytesIO(b"2\n1\n3\n5\n4\n")
    assert_identical(
        inputs.read_array("-", stdin=stream), np.array([2, 1, 3, 5, 4], dtype=np.int64)
    )


def test_stdin_2d_crlf_and_bom():
    stream = io.BytesIO(b"\xef\xbb\xbf1,2\r\n3,4\r\n")
    assert_identical(
        inputs.read_array("-", stdin=stream), np.array([[1, 2], [3, 4]], dtype=np.int64)
    )


def test_stdin_column():
    stream = io.BytesIO(b"t,y\n0,1.5\n1,2.5\n")
    assert_identical(inputs.read_array("-:y", stdin=stream), np.array([1.5, 2.5]))


def test_stdin_with_delimiter():
    stream = io.BytesIO(b"1\t2\n3\t4\n")
    actual = inputs.read_array("-", delimiter="\t", stdin=stream)
    assert_identical(actual, np.array([[1, 2], [3, 4]], dtype=np.int64))


def test_stdin_terminal_is_refused():
    with pytest.raises(InputError, match="terminal") as caught:
        inputs.read_array("-", role="kernel", stdin=TTYStream(b"1,2\n"))
    assert "kernel" in str(caught.value)


def test_empty_stdin():
    with pytest.raises(InputError, match="standard input has no numbers"):
        inputs.read_array("-", stdin=io.BytesIO(b""))


def test_bad_cell_on_stdin_names_standard_input():
    with pytest.raises(InputError, match=r"^standard input, line 2, column 1: 'x'"):
        inputs.read_array("-", stdin=io.BytesIO(b"1\nx\n"))


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="no such file") as caught:
        inputs.read_array(path)
    assert path in str(caught.value)


def test_missing_file_with_column(tmp_path):
    path = str(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="no such file") as caught:
        inputs.read_array(f"{path}:value")
    assert "nope.csv" in str(caught.value)


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory") as caught:
        inputs.read_array(str(tmp_path))
    assert str(tmp_path) in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"# only a comment\n\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = write(tmp_path, "empty.csv", content)
    with pytest.raises(InputError, match="has no numbers") as caught:
        inputs.read_array(path)
    assert "empty.csv" in str(caught.value)


def test_header_only_file(tmp_path):
    path = write(tmp_path, "head.csv", "time,value\n# no data yet\n")
    with pytest.raises(InputError, match="header but no rows") as caught:
        inputs.read_array(path)
    assert "head.csv" in str(caught.value)


def test_non_numeric_cell_names_line_and_column(tmp_path):
    path = write(tmp_path, "bad.csv", "# comment\n1,2\n\n3,x\n")
    with pytest.raises(InputError) as caught:
        inputs.read_array(path)
    message = str(caught.value)
    assert "bad.csv" in message
    assert "line 4, column 2" in message
    assert "'x' is not a number" in message
    assert "\n" not in message


def test_empty_cell_is_an_error_not_a_number(tmp_path):
    # an empty cell must be reported, never read as a value (e.g. as 1j)
    path = write(tmp_path, "gap.csv", "1,,2\n")
    with pytest.raises(InputError, match=r"line 1, column 2: the cell is empty"):
        inputs.read_array(path)


def test_ragged_rows(tmp_path):
    path = write(tmp_path, "ragged.csv", "1,2\n3,4\n5\n")
    with pytest.raises(InputError) as caught:
        inputs.read_array(path)
    message = str(caught.value)
    assert "ragged.csv" in message
    assert "line 3 has 1 value(s) but line 1 has 2" in message


def test_ragged_rows_with_a_column(tmp_path):
    # taking a column that a short row lacks is an InputError, not an IndexError
    path = write(tmp_path, "ragged.csv", "a,b\n1,2\n3\n")
    with pytest.raises(InputError, match="line 3"):
        inputs.read_array(f"{path}:b")


def test_unknown_column_lists_the_columns(table_csv):
    with pytest.raises(InputError) as caught:
        inputs.read_array(f"{table_csv}:speed")
    message = str(caught.value)
    assert "'speed'" in message
    assert "time, Value, other" in message


@pytest.mark.parametrize("column", ["0", "3", "x"])
def test_unknown_column_without_header_gives_the_width(tmp_path, column):
    path = write(tmp_path, "f.csv", "1,2\n3,4\n")
    with pytest.raises(InputError, match="it has 2") as caught:
        inputs.read_array(f"{path}:{column}")
    assert f"no column {column!r}" in str(caught.value)


@pytest.mark.parametrize("number", [str(INT64_MAX + 1), str(INT64_MIN - 1), "1" + "0" * 30])
def test_integer_beyond_int64(tmp_path, number):
    path = write(tmp_path, "big.csv", f"1\n{number}\n")
    with pytest.raises(InputError) as caught:
        inputs.read_array(path)
    message = str(caught.value)
    assert "line 2, column 1" in message
    assert "64-bit integer" in message
    with pytest.raises(InputError, match="64-bit integer"):
        inputs.read_array(f"1,{number}")


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1e400j", "2+1e999j"])
def test_float_literal_overflow(tmp_path, literal):
    path = write(tmp_path, "huge.csv", f"1.5,{literal}\n")
    with pytest.raises(InputError) as caught:
        inputs.read_array(path)
    message = str(caught.value)
    assert "line 1, column 2" in message
    assert "overflows" in message
    with pytest.raises(InputError, match="overflows"):
        inputs.read_array(f"1.5,{literal}")


def test_binary_file(tmp_path):
    path = write(tmp_path, "blob.bin", b"1,2\x00\x00\x7fELF\n")
    with pytest.raises(InputError, match="binary") as caught:
        inputs.read_array(path)
    assert "blob.bin" in str(caught.value)


def test_binary_stdin():
    with pytest.raises(InputError, match="standard input looks like a binary"):
        inputs.read_array("-", stdin=io.BytesIO(b"\x00\x01\x02"))


# --------------------------------------------------------------------------- format_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (-7, "-7"),
        (0.1, "0.1"),
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (-1e300, "-1e+300"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (math.nan, "nan"),
        (5e-324, "5e-324"),
        (1 - 0.5j, "1.0-0.5j"),
        (complex(0.0, -0.0), "0.0-0.0j"),
    ],
)
def test_format_number_examples(value, text):
    assert serialise.format_number(value) == text


@pytest.mark.parametrize("value", EDGE_FLOATS)
def test_format_number_edge_floats(value):
    assert same_float(float(serialise.format_number(value)), value)


@given(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True))
def test_format_number_float_round_trip(value):
    text = serialise.format_number(value)
    assert same_float(float(text), value)
    assert len(text) <= len(repr(value))  # never longer than Python's shortest repr


@given(st.integers())
def test_format_number_int_round_trip(value):
    assert int(serialise.format_number(value)) == value


@given(st.builds(complex, st.floats(), st.floats()))
def test_format_number_complex_round_trip(value):
    back = complex(serialise.format_number(value))
    assert same_float(back.real, value.real)
    assert same_float(back.imag, value.imag)


@pytest.mark.parametrize(
    "value",
    [complex(-0.0, -0.0), complex(-0.0, 0.0), complex(math.inf, -math.inf), complex(1e-320, 1e308)],
)
def test_format_number_complex_edges(value):
    back = complex(serialise.format_number(value))
    assert same_float(back.real, value.real)
    assert same_float(back.imag, value.imag)


# --------------------------------------------------------------------------- CSV round trips

FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)
ALL_FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
INT64S = st.integers(INT64_MIN, INT64_MAX)
#: Lists up to this long cover both writers: one value at a time, and numtext's blocks
#: (from serialise._SMALL_ARRAY values on).
ROUND_TRIP_SIZE = 150


def round_trip(directory: Path, values: np.ndarray) -> np.ndarray:
    """Write with result_csv, read back with read_array."""
    path = directory / "values.csv"
    path.write_text(serialise.result_csv(values), encoding="utf-8")
    return inputs.read_array(str(path))


def test_result_csv_layout():
    assert serialise.result_csv(np.array([1, -2, 3])) == "1\n-2\n3\n"
    assert serialise.result_csv(np.array([[1.5, 2.0], [3.0, -0.0]])) == "1.5,2.0\n3.0,-0.0\n"
    assert serialise.result_csv(np.array([1 + 2j])) == "1.0+2.0j\n"


@pytest.mark.parametrize("value", EDGE_FLOATS)
def test_csv_round_trip_edge_floats(tmp_path, value):
    values = np.array([value, 1.5])
    assert_identical(round_trip(tmp_path, values), values)


@pytest.mark.slow
@given(st.lists(INT64S, min_size=1, max_size=ROUND_TRIP_SIZE))
def test_csv_round_trip_int64(tmp_path_factory, values):
    array = np.array(values, dtype=np.int64)
    assert_identical(round_trip(tmp_path_factory.mktemp("rt"), array), array)


@pytest.mark.slow
@given(st.lists(FINITE_FLOATS, min_size=1, max_size=20))
def test_csv_round_trip_finite_floats(tmp_path_factory, values):
    array = np.array(values, dtype=np.float64)
    assert_identical(round_trip(tmp_path_factory.mktemp("rt"), array), array)


@pytest.mark.slow
@given(st.lists(ALL_FLOATS, min_size=1, max_size=ROUND_TRIP_SIZE))
def test_csv_round_trip_every_float(tmp_path_factory, values):
    array = np.array(values, dtype=np.float64)
    assert_identical(round_trip(tmp_path_factory.mktemp("rt"), array), array)


@pytest.mark.slow
@given(st.lists(st.builds(complex, FINITE_FLOATS, FINITE_FLOATS), min_size=1, max_size=20))
def test_csv_round_trip_finite_complex(tmp_path_factory, values):
    array = np.array(values, dtype=np.complex128)
    assert_identical(round_trip(tmp_path_factory.mktemp("rt"), array), array)


@pytest.mark.slow
@given(st.lists(st.builds(complex, ALL_FLOATS, ALL_FLOATS), min_size=1, max_size=ROUND_TRIP_SIZE))
def test_csv_round_trip_every_complex(tmp_path_factory, values):
    array = np.array(values, dtype=np.complex128)
    assert_identical(round_trip(tmp_path_factory.mktemp("rt"), array), array)


SHAPES_2D = hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=5)


@pytest.mark.slow
@given(
    st.one_of(
        hnp.arrays(np.int64, SHAPES_2D, elements=INT64S),
        hnp.arrays(np.float64, SHAPES_2D, elements=FINITE_FLOATS),
        hnp.arrays(
            np.complex128, SHAPES_2D, elements=st.builds(complex, FINITE_FLOATS, FINITE_FLOATS)
        ),
    )
)
def test_csv_round_trip_2d(tmp_path_factory, array):
    assert_identical(round_trip(tmp_path_factory.mktemp("rt"), array), array)


@pytest.mark.slow
@given(
    st.one_of(
        hnp.arrays(np.float64, SHAPES_2D, elements=ALL_FLOATS),
        hnp.arrays(np.complex128, SHAPES_2D, elements=st.builds(complex, ALL_FLOATS, ALL_FLOATS)),
    )
)
def test_csv_round_trip_2d_non_finite(tmp_path_factory, array):
    assert_identical(round_trip(tmp_path_factory.mktemp("rt"), array), array)


# --------------------------------------------------------------------------- JSON round trips


def decode(item: object, kind: str) -> object:
    """A JSON value back to a Python number of the array's kind."""
    if kind == "c":
        assert isinstance(item, str)
        return complex(item)
    if kind == "f":
        if isinstance(item, str):
            value = float(item)
            assert not math.isfinite(value)  # only non-finite floats become strings
            return value
        assert isinstance(item, float)
        return item
    assert isinstance(item, int)
    return item


def decode_array(items: list, dtype: np.dtype) -> np.ndarray:
    def walk(node):
        return [walk(x) for x in node] if isinstance(node, list) else decode(node, dtype.kind)

    return np.array(walk(items), dtype=dtype)


def make_result(values: np.ndarray) -> Result:
    geometry = plan(values.shape, (1,) * values.ndim)
    return Result("convolution", values, geometry, "direct")


@pytest.mark.slow
@given(
    st.one_of(
        hnp.arrays(np.int64, hnp.array_shapes(max_dims=2, max_side=5), elements=INT64S),
        hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5), elements=ALL_FLOATS),
        hnp.arrays(
            np.complex128,
            hnp.array_shapes(max_dims=2, max_side=5),
            elements=st.builds(complex, ALL_FLOATS, ALL_FLOATS),
        ),
    )
)
def test_result_json_is_strict_and_exact(values):
    document = strict_json(serialise.result_json(make_result(values)))
    assert document["operation"] == "convolution"
    assert document["shape"] == list(values.shape)
    assert_identical(decode_array(document["result"], values.dtype), values)


def test_result_json_fields():
    result = compute([2, 1, 3, 5, 4], [1, -1], "correlation", Options.parse(padding="same"))
    document = strict_json(serialise.result_json(result))
    assert document == {
        "operation": "correlation",
        "shape": [5],
        "result": [1, -2, -2, 1, 4],
        "options": {
            "padding": "same",
            "pads": [[0, 1]],
            "pad_mode": "zeros",
            "stride": [1],
            "dilation": [1],
            "method": "direct",
        },
    }


def test_result_json_non_finite_are_strings():
    values = np.array([np.nan, np.inf, -np.inf, -0.0, 1.5])
    document = strict_json(serialise.result_json(make_result(values)))
    assert document["result"][:3] == ["nan", "inf", "-inf"]
    assert document["result"][4] == 1.5
    assert same_float(document["result"][3], -0.0)


# --------------------------------------------------------------------------- comparisons


def test_comparison_csv_worked_example():
    comparison = compare([2, 1, 3, 5, 4], [1, -1])
    assert serialise.comparison_csv(comparison) == (
        "index,convolution,correlation\n0,-1,1\n1,2,-2\n2,2,-2\n3,-1,1\n"
    )


def test_comparison_csv_columns_read_back(tmp_path):
    comparison = compare([2, 1, 3, 5, 4], [1, -1])
    path = write(tmp_path, "cmp.csv", serialise.comparison_csv(comparison))
    assert_identical(inputs.read_array(f"{path}:convolution"), comparison.convolution)
    assert_identical(inputs.read_array(f"{path}:correlation"), comparison.correlation)
    assert_identical(inputs.read_array(f"{path}:index"), np.arange(4, dtype=np.int64))


def test_comparison_json_worked_example():
    comparison = compare([2, 1, 3, 5, 4], [1, -1])
    document = strict_json(serialise.comparison_json(comparison))
    assert document == {
        "convolution": [-1, 2, 2, -1],
        "correlation": [1, -2, -2, 1],
        "kernel_symmetry": "antisymmetric",
        "identical": False,
        "negated": True,
        "differing": 4,
        "shape": [4],
        "signal": [2, 1, 3, 5, 4],
        "kernel": [1, -1],
        "flipped_kernel": [-1, 1],
        "options": {
            "padding": "valid",
            "pads": [[0, 0]],
            "pad_mode": "zeros",
            "stride": [1],
            "dilation": [1],
            "method": "direct",
        },
    }
    # and it agrees with the Comparison it was made from
    assert document["convolution"] == comparison.convolution.tolist()
    assert document["correlation"] == comparison.correlation.tolist()
    assert document["differing"] == comparison.differing


def test_comparison_csv_2d():
    signal = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    comparison = compare(signal, [[1, 2], [3, 4]])
    text = serialise.comparison_csv(comparison)
    assert text == ("row,col,convolution,correlation\n0,0,23,37\n0,1,33,47\n1,0,53,67\n1,1,63,77\n")
    lines = text.splitlines()[1:]
    assert len(lines) == comparison.convolution.size
    for line in lines:
        row, col, conv, corr = map(int, line.split(","))
        assert comparison.convolution[row, col] == conv
        assert comparison.correlation[row, col] == corr


def test_comparison_json_2d():
    signal = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    comparison = compare(signal, [[1, 2], [3, 4]], padding="full", stride=2)
    document = strict_json(serialise.comparison_json(comparison))
    assert document["convolution"] == comparison.convolution.tolist()
    assert document["correlation"] == comparison.correlation.tolist()
    assert document["shape"] == list(comparison.convolution.shape) == [2, 2]
    assert document["kernel_symmetry"] == "none"
    assert document["identical"] is False
    assert document["negated"] is False
    assert document["differing"] == comparison.differing
    assert document["signal"] == signal
    assert document["kernel"] == [[1, 2], [3, 4]]
    assert document["flipped_kernel"] == [[4, 3], [2, 1]]
    assert document["options"]["padding"] == "full"
    assert document["options"]["pads"] == [[1, 1], [1, 1]]
    assert document["options"]["stride"] == [2, 2]


def test_comparison_with_non_finite_and_complex_values_is_strict_json(tmp_path):
    comparison = compare([1.0, 2.0, np.nan, 3.0, np.inf], [1.0, 2.0])
    document = strict_json(serialise.comparison_json(comparison))
    conv = decode_array(document["convolution"], np.dtype(np.float64))
    assert_identical(conv, comparison.convolution)
    assert document["convolution"][0] == 4.0
    assert document["convolution"][1] == "nan"

    complex_comparison = compare([1 + 2j, 3, -1j], [1j, 1])
    document = strict_json(serialise.comparison_json(complex_comparison))
    for key in ("convolution", "correlation", "signal", "kernel", "flipped_kernel"):
        expected = getattr(complex_comparison, key)
        assert_identical(decode_array(document[key], expected.dtype), expected)
    # the CSV's columns read back as the same complex values
    path = write(tmp_path, "c.csv", serialise.comparison_csv(complex_comparison))
    assert_identical(inputs.read_array(f"{path}:correlation"), complex_comparison.correlation)


def test_comparison_writers_with_exact_big_integers():
    # the engine switches to Python ints (object arrays) where int64 could overflow
    comparison = compare([2**62, 2**62, 1], [1, 1])
    assert comparison.convolution.dtype == object
    document = strict_json(serialise.comparison_json(comparison))
    assert document["convolution"] == [2**63, 2**62 + 1]
    assert serialise.comparison_csv(comparison) == (
        f"index,convolution,correlation\n0,{2**63},{2**63}\n1,{2**62 + 1},{2**62 + 1}\n"
    )


# --------------------------------------------------------------------------- choose_format


@pytest.mark.parametrize(
    ("requested", "output", "interactive", "expected"),
    [
        ("csv", "out.json", True, "csv"),
        ("json", None, True, "json"),
        ("table", "out.csv", False, "table"),
        ("auto", "out.json", False, "json"),
        ("auto", "OUT.JSON", True, "json"),
        ("auto", "out.csv", True, "csv"),
        ("auto", "out.txt", True, "csv"),
        ("auto", None, True, "table"),
        ("auto", None, False, "csv"),
    ],
)
def test_choose_format(requested, output, interactive, expected):
    assert outputs.choose_format(requested, output, interactive) == expected


@pytest.mark.parametrize(("tty", "expected"), [(True, "table"), (False, "csv")])
def test_choose_format_asks_stdout_when_not_told(monkeypatch, tty, expected):
    monkeypatch.setattr(outputs.sys.stdout, "isatty", lambda: tty)
    assert outputs.choose_format("auto", None) == expected
    assert outputs.choose_format("auto", "x.json") == "json"


@pytest.mark.parametrize(
    ("source", "expected"),
    [("-", True), ("-:2", True), ("-:y", True), ("-1,1", False), ("1,2", False)],
)
def test_uses_stdin(source, expected):
    assert inputs.uses_stdin(source) is expected


@pytest.mark.parametrize(
    ("output", "expected"),
    [("out.json", "json"), ("edges.PNG", "png"), ("out.csv", "csv"), ("out.txt", "csv")],
)
def test_auto_format_follows_the_output_extension(output, expected):
    assert outputs.choose_format("auto", output, interactive=True) == expected
    assert expected in outputs.FORMATS


# --------------------------------------------------------------------------- write_text


@pytest.mark.parametrize("output", [None, "-"])
def test_write_text_to_stdout(capsys, output):
    outputs.write_text("index,value\n0,1\n", output)
    assert capsys.readouterr().out == "index,value\n0,1\n"


def test_write_text_to_a_file(tmp_path):
    target = tmp_path / "out.csv"
    outputs.write_text("a\r\nb\n1\n", str(target))
    assert target.read_bytes() == b"a\r\nb\n1\n"  # exactly the text, no newline translation
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_text_replaces_an_existing_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old old old old\n")
    outputs.write_text("new\n", str(target))
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_text_relative_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outputs.write_text("1\n", "rel.csv")
    assert (tmp_path / "rel.csv").read_text() == "1\n"


def test_write_text_unicode(tmp_path):
    target = tmp_path / "u.json"
    outputs.write_text('{"name": "café ✓"}\n', str(target))
    assert target.read_bytes() == '{"name": "café ✓"}\n'.encode()


@pytest.mark.parametrize("existing", [False, True])
def test_write_text_failure_mid_write_leaves_nothing(tmp_path, monkeypatch, existing):
    target = tmp_path / "out.csv"
    if existing:
        target.write_text("precious\n")
    real_write = os.write

    def half_write(descriptor, data):
        real_write(descriptor, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_write)
    with pytest.raises(OutputError, match=r"^no space left on device writing .*out\.csv$"):
        outputs.write_text("1,2,3\n" * 1000, str(target))
    monkeypatch.undo()
    remaining = sorted(p.name for p in tmp_path.iterdir())
    if existing:
        assert remaining == ["out.csv"]
        assert target.read_text() == "precious\n"
    else:
        assert remaining == []


def test_write_text_unencodable_text_leaves_nothing(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    with pytest.raises(UnicodeEncodeError):
        outputs.write_text("1\n2\n\ud800\n", str(target))
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (OSError(errno.EXDEV, "cross-device link"), OutputError),
        (KeyboardInterrupt(), KeyboardInterrupt),
    ],
)
def test_write_text_failed_rename_leaves_nothing(tmp_path, monkeypatch, error, raised):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    sources = []

    def failing_replace(source, destination):
        sources.append(Path(source))
        raise error

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(raised):
        outputs.write_text("new\n", str(target))
    # the temporary file was next to the target (so the rename is atomic) and is gone
    assert len(sources) == 1
    assert sources[0].parent == tmp_path
    assert sources[0] != target
    assert not sources[0].exists()
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_write_text_mode_follows_umask(tmp_path, umask, mode):
    target = tmp_path / "out.csv"
    previous = os.umask(umask)
    try:
        outputs.write_text("1\n", str(target))
        assert os.umask(umask) == umask  # write_text restored the umask it read
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_write_text_to_a_directory(tmp_path):
    with pytest.raises(OutputError, match="is a directory") as caught:
        outputs.write_text("1\n", str(tmp_path))
    assert str(tmp_path) in str(caught.value)


def test_write_text_missing_parent_directory(tmp_path):
    target = tmp_path / "no" / "such" / "out.csv"
    with pytest.raises(OutputError, match="cannot write to") as caught:
        outputs.write_text("1\n", str(target))
    assert str(target) in str(caught.value)
    assert not target.parent.exists()


# --------------------------------------------------------------------------- hostile input

#: Characters CSV-like garbage is made of: number parts, separators, quotes, line ends, a BOM.
CSV_CHARACTERS = '0123456789+-.eEjinfaIN ,;\t\r\n"#[]x\ufeff\x00é'
CSV_LIKE_TEXT = st.text(alphabet=st.sampled_from(CSV_CHARACTERS), max_size=120)
#: (delimiter, decimal mark) pairs the command line allows.
DIALECTS = st.sampled_from(
    [(",", "."), (";", "."), ("\t", "."), (None, "."), (";", ","), (None, ",")]
)


def parsed_or_one_line_error(read) -> np.ndarray | None:
    """What ``read()`` returns, which must be a 1-D or 2-D array of int64, float64 or
    complex128 numbers; or None when it raised the clean error (a ConvcliError of one line,
    as InputError is). Any other exception fails the test."""
    try:
        values = read()
    except ConvcliError as error:
        message = str(error)
        assert message.strip() and "\n" not in message and "\r" not in message, repr(message)
        return None
    assert values.ndim in (1, 2) and values.size > 0
    assert values.dtype in (np.int64, np.float64, np.complex128), values.dtype
    return values


@pytest.mark.slow
@given(data=st.one_of(CSV_LIKE_TEXT.map(str.encode), st.binary(max_size=200)), dialect=DIALECTS)
def test_fuzz_files_parse_or_fail_cleanly(tmp_path_factory, data, dialect):
    """Random text and random bytes, as a file, a file's column and standard input: numbers
    or the one-line error, nothing else; the fast reader agrees with the careful one."""
    delimiter, decimal = dialect
    path = write(tmp_path_factory.mktemp("fuzz"), "f.csv", data)
    for source in (path, f"{path}:1"):
        values = parsed_or_one_line_error(
            lambda source=source: inputs.read_array(source, delimiter=delimiter, decimal=decimal)
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(csv_format.CsvReader, "_fast", lambda self, data: None)
            careful = parsed_or_one_line_error(
                lambda source=source: inputs.read_array(
                    source, delimiter=delimiter, decimal=decimal
                )
            )
        assert (values is None) == (careful is None)
        if values is not None:
            assert_identical(values, careful)
    piped = parsed_or_one_line_error(
        lambda: inputs.read_array("-", delimiter=delimiter, decimal=decimal, stdin=io.BytesIO(data))
    )
    from_file = parsed_or_one_line_error(
        lambda: inputs.read_array(path, delimiter=delimiter, decimal=decimal)
    )
    assert (piped is None) == (from_file is None)
    if piped is not None:
        assert_identical(piped, from_file)


@pytest.mark.slow
@given(text=st.one_of(CSV_LIKE_TEXT, st.text(max_size=60)), decimal=st.sampled_from(".,"))
def test_fuzz_inline_numbers_parse_or_fail_cleanly(text, decimal):
    assume("\x00" not in text)  # not possible in a command-line argument
    for role in ("signal", "kernel"):
        parsed_or_one_line_error(lambda role=role: inputs.read_array(text, role, decimal=decimal))
    parsed_or_one_line_error(lambda: inputs.read_kernel(text, 1, decimal=decimal))


@pytest.mark.slow
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30))
def test_fuzz_stream_blocks_agree_with_the_whole_file(tmp_path_factory, values):
    """Written floats read back in blocks: the blocks joined are read_array's array."""
    path = write(tmp_path_factory.mktemp("blocks"), "f.csv", serialise.result_csv(np.array(values)))
    blocks = [block for block, _ in inputs.iter_signal_blocks(path, 4)]
    assert_identical(np.concatenate(blocks), inputs.read_array(path))


def test_messy_excel_export(tmp_path):
    """BOM, CRLF, spaces and tabs around cells, quoted cells and a trailing comma at once."""
    data = '\ufefftime , "value",\r\n 0,\t"1.5" ,\r\n1 ,  -2\t,\r\n'.encode()
    path = write(tmp_path, "excel.csv", data)
    assert_identical(inputs.read_array(path), np.array([[0.0, 1.5], [1.0, -2.0]]))
    assert_identical(inputs.read_array(f"{path}:value"), np.array([1.5, -2.0]))


@pytest.mark.parametrize(
    ("text", "delimiter", "expected"),
    [
        ("a;b\n1,5;2\n-3;4,25\n", ";", [[1.5, 2.0], [-3.0, 4.25]]),
        ('"1,5";"2,5"\r\n', ";", [1.5, 2.5]),
        ("1,5\t2\n3\t4,0\n", "\t", [[1.5, 2.0], [3.0, 4.0]]),
        ("1,5 2\n3  4,0\n", None, [[1.5, 2.0], [3.0, 4.0]]),
        ("1e3;1,5e-3;-inf;nan\n", ";", [1000.0, 0.0015, -math.inf, math.nan]),
        ("1,5+2,5j;3\n", ";", [1.5 + 2.5j, 3 + 0j]),
        ("1;2\n3;4\n", ";", [[1, 2], [3, 4]]),
    ],
)
def test_decimal_comma(tmp_path, text, delimiter, expected):
    path = write(tmp_path, "eu.csv", text)
    assert_identical(inputs.read_array(path, delimiter=delimiter, decimal=","), np.array(expected))


def test_decimal_comma_on_a_long_file_takes_the_fast_reader(tmp_path):
    values = np.arange(-2000, 2000) / 8
    text = "".join(f"{i};{v!r}\n".replace(".", ",") for i, v in enumerate(values.tolist()))
    path = write(tmp_path, "eu.csv", text)
    assert_identical(inputs.read_array(f"{path}:2", delimiter=";", decimal=","), values)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_format, "parse_numbers", None)  # the careful reader would fail
        assert_identical(inputs.read_array(f"{path}:2", delimiter=";", decimal=","), values)


@pytest.mark.parametrize("cell", ["1.500", "1.5", "1.500,25"])
def test_decimal_comma_refuses_a_point(tmp_path, cell):
    """A '.' in a European file may group thousands (1.500 is 1500): never read it as 1.5."""
    path = write(tmp_path, "eu.csv", f"1;2\n3;{cell}\n")
    with pytest.raises(InputError) as caught:
        inputs.read_array(path, delimiter=";", decimal=",")
    message = str(caught.value)
    assert "line 2, column 2" in message
    assert f"{cell!r} has a '.'" in message and "decimal mark is ','" in message
    with pytest.raises(InputError, match=r"has a '\.'"):
        inputs.read_array(f"1 {cell}", decimal=",")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("0,25 0,5 0,25", [0.25, 0.5, 0.25]),
        ("1 2;3 4", [[1, 2], [3, 4]]),
        ("[1,5 -2]", [1.5, -2.0]),
        ("-1 1", [-1, 1]),
    ],
)
def test_decimal_comma_inline(source, expected):
    assert_identical(inputs.read_array(source, decimal=","), np.array(expected))


def test_european_file_read_as_plain_csv_says_what_to_do(tmp_path):
    path = write(tmp_path, "eu.csv", "1,5;2\n3;4,25\n")
    with pytest.raises(InputError, match=r"delimiter=';'.*decimal=','"):
        inputs.read_array(path)


def test_decimal_comma_stream_blocks(tmp_path):
    path = write(tmp_path, "eu.csv", "value\n" + "".join(f"{i},5\n" for i in range(100)))
    blocks = [block for block, _ in inputs.iter_signal_blocks(path, 8, ";", decimal=",")]
    assert_identical(np.concatenate(blocks), np.arange(100) + 0.5)


@pytest.mark.slow
def test_overlong_line_is_one_row(tmp_path):
    """A single line of a million cells (about 7 MB, past any read chunk) is a 1-D signal."""
    values = np.arange(1_000_000) % 1000 - 500
    path = write(tmp_path, "wide.csv", ",".join(map(str, values.tolist())) + "\n")
    assert_identical(inputs.read_array(path), values)


@pytest.mark.parametrize("digits", [30, 5000, 100_000])
def test_overlong_integer_cell_is_refused_as_beyond_int64(tmp_path, digits):
    """Even past int()'s 4300-digit limit: the int64 message, with the cell cut short."""
    path = write(tmp_path, "long.csv", "1\n" + "7" * digits + "\n")
    with pytest.raises(InputError, match="line 2, column 1") as caught:
        inputs.read_array(path)
    message = str(caught.value)
    assert "does not fit in a 64-bit integer" in message
    assert len(message) < 250


@pytest.mark.parametrize("cell", ["x" * 100_000, "1.5" + "0" * 5000 + "e400", '"' + "9" * 9999])
def test_overlong_bad_cell_makes_a_short_message(tmp_path, cell):
    path = write(tmp_path, "long.csv", f"1\n{cell}\n")
    with pytest.raises(InputError, match=r"line 2, column 1: .*… \(\d+ characters\)") as caught:
        inputs.read_array(path)
    assert len(str(caught.value)) < 250


@pytest.mark.skipif(os.name != "posix", reason="needs a Unix socket")
def test_unopenable_file_is_a_clean_error(tmp_path):
    """A file that exists but cannot be opened (a Unix socket: this fails even as root)."""
    import socket

    path = tmp_path / "s.csv"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(InputError, match=r"^cannot read .*s\.csv: ") as caught:
            inputs.read_array(str(path))
    finally:
        server.close()
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_a_clean_error(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text("1\n2\n")
    path.chmod(0)
    with pytest.raises(InputError, match=r"cannot read .*secret\.csv: Permission denied"):
        inputs.read_array(str(path))


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux /proc")
def test_read_error_after_opening_is_a_clean_error():
    """/proc/self/mem opens but fails to read at offset 0 (an I/O error), even for root."""
    with pytest.raises(InputError, match=r"^cannot read /proc/self/mem: "):
        inputs.read_array("/proc/self/mem")


def test_read_error_on_stdin_is_a_clean_error():
    class Failing(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(InputError, match=r"^cannot read standard input: Input/output error$"):
        inputs.read_array("-", stdin=Failing())


@pytest.mark.parametrize("source", ["[]", "[[]]", " [ ] "])
def test_empty_brackets_are_an_empty_input(source):
    with pytest.raises(InputError, match="is empty"):
        inputs.read_array(source, "kernel")


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 2)])
def test_npy_kernel_with_a_zero_dimension(tmp_path, shape):
    path = tmp_path / "k.npy"
    np.save(path, np.zeros(shape))
    with pytest.raises(InputError, match=r"kernel is empty \(shape") as caught:
        inputs.read_kernel(str(path), len(shape))
    assert "k.npy" in str(caught.value)


def test_output_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "data.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target.name)
    outputs.write_text("new\n", str(link))
    assert link.is_symlink()
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "link.csv"]


def test_overwritten_input(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("1\n2\n")
    (tmp_path / "link.csv").symlink_to("data.csv")
    os.link(data, tmp_path / "hard.csv")
    other = tmp_path / "other.csv"
    other.write_text("1\n")
    sources = {"signal": "1,2,3", "kernel": f"{data}:1"}
    for output in ("data.csv", "link.csv", "hard.csv", "./sub/../data.csv"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        assert outputs.overwritten_input(str(tmp_path / output), sources) == "kernel"
    assert outputs.overwritten_input(str(other), sources) is None
    assert outputs.overwritten_input(str(tmp_path / "new.csv"), sources) is None
    assert outputs.overwritten_input(None, sources) is None
    assert outputs.overwritten_input("-", {"signal": "-"}) is None


# --------------------------------------------------------------------------- read_ahead


@pytest.mark.slow
@given(st.lists(st.integers(), max_size=50), st.integers(1, 4))
def test_read_ahead_gives_every_item_in_order(items, depth):
    assert list(inputs.read_ahead(iter(items), depth)) == items


def test_read_ahead_raises_an_error_where_its_item_would_have_come():
    def blocks():
        yield 1
        yield 2
        raise InputError("line 3: bad cell")

    seen = []
    with pytest.raises(InputError, match="line 3"):
        for item in inputs.read_ahead(blocks()):
            seen.append(item)
    assert seen == [1, 2]


def test_background_reader_alive_while_a_read_ahead_thread_is_blocked():
    """As on a standard input whose writer has gone quiet: the thread is alive until
    its read returns, and the command line must then end the process by exit_now."""
    released = threading.Event()

    def blocks():
        yield 1
        released.wait(10)
        yield 2

    ahead = inputs.read_ahead(blocks())
    assert next(ahead) == 1
    time.sleep(0.05)  # the thread is now waiting in blocks()
    assert inputs.background_reader_alive()
    ahead.close()
    released.set()
    deadline = time.monotonic() + 10
    while inputs.background_reader_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not inputs.background_reader_alive()


@pytest.mark.slow
def test_read_ahead_stops_reading_when_the_caller_stops():
    pulled = []

    def blocks():
        for number in range(1000):
            pulled.append(number)
            yield number

    ahead = inputs.read_ahead(blocks(), depth=2)
    assert next(ahead) == 0
    ahead.close()  # as a consumer does when its pipe closes or it fails
    time.sleep(0.3)  # the thread notices within its 0.1 s wait to hand an item over
    settled = len(pulled)
    time.sleep(0.3)
    assert len(pulled) == settled <= 5  # one handed over, two queued, one waiting, no more


# --------------------------------------------------------------------------- messages that point the way


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("1,5;2,5\n3;4,25\n", "line 2 has 2 value(s) but line 1 has 3"),
        ("Zeit;Wert\n0;1,5\n1;2\n", "line 1 (the header) has 1 name(s) but line 2 has 2 value(s)"),
    ],
)
def test_a_european_file_split_into_uneven_rows_gets_the_options(tmp_path, text, where):
    path = write(tmp_path, "eu.csv", text)
    with pytest.raises(InputError) as caught:
        inputs.read_array(path)
    message = str(caught.value)
    assert where in message
    assert message.endswith("give delimiter=';' decimal=','")
    assert inputs.read_array(path, delimiter=";", decimal=",").shape == (2, 2)


def test_uneven_rows_without_a_semicolon_get_no_european_hint(tmp_path):
    with pytest.raises(InputError) as caught:
        inputs.read_array(write(tmp_path, "r.csv", "1,2,3\n4,5\n"))
    assert str(caught.value).endswith("(rows must all be the same length)")


def npy_declaring(shape: tuple[int, ...], data: bytes) -> bytes:
    """A .npy file of float64 values whose header declares ``shape``, followed by ``data``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue() + data


@pytest.mark.parametrize("shape", [(10**13,), (10**6, 10**7), (3,)])
def test_a_truncated_npy_file_is_named_so_not_out_of_memory(tmp_path, shape):
    """A header declaring more values than the file holds (10^13 with 64 bytes of data):
    truncated or corrupt, from the file's size, whatever the memory."""
    path = write(tmp_path, "cut.npy", npy_declaring(shape, bytes(16)))
    count = math.prod(shape)
    expected = (
        f"{path} is truncated or corrupt: its header declares {count} values of float64 "
        f"({128 + 8 * count} bytes with the header) but the file has {128 + 16} bytes"
    )
    with pytest.raises(InputError) as caught:
        inputs.read_array(path)
    assert str(caught.value) == expected
    if len(shape) == 1:
        with pytest.raises(InputError) as caught:
            list(inputs.iter_signal_blocks(path, 64))
        assert str(caught.value) == expected
    with open(path, "rb") as stdin, pytest.raises(InputError, match="truncated or corrupt"):
        inputs.read_array("-", stdin=stdin)


def test_npy_from_a_pipe_stops_where_its_header_says():
    """Standard input holding a .npy file is read up to the end its header declares."""
    data = npy_declaring((3,), np.array([1.5, 2.0, -3.0]).tobytes())
    assert_identical(inputs.read_array("-", stdin=io.BytesIO(data)), np.array([1.5, 2.0, -3.0]))
    with pytest.raises(InputError, match=r"standard input is truncated: .* declares 152 bytes"):
        inputs.read_array("-", stdin=io.BytesIO(data[:-1]))


def test_a_quote_never_closed_is_named_where_it_opens(tmp_path):
    """The csv module reads a quoted cell to its closing quote; one that never comes swallows
    the file until the module's cell size limit, which names the line the cell starts on."""
    path = write(tmp_path, "open.csv", '1\n"2\n' + "3\n" * 100_000)
    with pytest.raises(InputError) as caught:
        inputs.read_array(path)
    assert str(caught.value) == (
        f"{path}, line 2: a cell longer than 131072 characters (a quote never closed?)"
    )
    assert_identical(inputs.read_array(write(tmp_path, "end.csv", '1\n"2\n')), np.array([1, 2]))


def test_check_kernel_accepts_a_name_that_fits_some_signal():
    """box:100000 is too large for a 2-D signal but a fine 1-D kernel: checked before the
    signal is read, it must not be refused as if the signal were 2-D."""
    assert inputs.check_kernel("box:100000") is None
    assert inputs.check_kernel("sobel-x") is None  # a 2-D kernel only
    with pytest.raises(ConvcliError, match="too large"):
        inputs.check_kernel("box:100000000")


def test_records_left_open_resume_where_their_record_begins():
    """A piece ending inside a quoted cell hands on exactly the open record's text, also
    after a record that began with spaces (which once shifted where it was cut)."""
    rows, _, lines, pending = csv_format._records('   1\n"2,\n', ",", 0, "f.csv", final=False)
    assert (rows, lines, pending) == ([["1"]], 1, '"2,\n')


@pytest.mark.parametrize("delimiter", ["\t", ",", None])
def test_spaces_and_tabs_ending_a_line_are_no_cells(tmp_path, delimiter):
    """Blanks after a line's last cell are no empty cells, on the fast reader and the careful
    one alike (as blanks before the first one are not)."""
    separator = delimiter or " "
    path = write(tmp_path, "f.csv", f"0{separator}1\t\t \n2{separator}3 \t\t".encode())
    fast = inputs.read_array(path, delimiter=delimiter)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_format.CsvReader, "_fast", lambda self, data: None)
        careful = inputs.read_array(path, delimiter=delimiter)
    assert fast.tolist() == careful.tolist() == [[0, 1], [2, 3]]


@pytest.mark.parametrize(
    "values",
    [
        np.arange(-200, 200),
        np.linspace(-3, 3, 500),
        np.array([1 + 2j, -0.5j, complex(math.nan, -0.0)] * 40),
        np.arange(600, dtype=np.float64).reshape(20, 30),
        np.arange(120).reshape(2, 3, 4, 5),
    ],
    ids=["int", "float", "complex", "2-D", "4-D"],
)
def test_result_csv_fast_path_matches_format_number(values):
    rows = values.reshape(values.shape[0], -1).tolist()
    expected = "".join(",".join(map(serialise.format_number, row)) + "\n" for row in rows)
    assert serialise.result_csv(values) == expected


@pytest.mark.slow
@given(
    st.one_of(
        st.lists(st.integers(INT64_MIN, INT64_MAX), min_size=1, max_size=400).map(
            lambda v: np.array(v, dtype=np.int64)
        ),
        st.lists(ALL_FLOATS, min_size=1, max_size=400).map(lambda v: np.array(v, dtype=np.float64)),
    ),
    st.lists(st.integers(0, 150), max_size=6),
)
def test_result_csv_of_blocks_joined_is_result_csv_of_the_whole(values, cuts):
    # what --stream relies on: blocks on either side of serialise._SMALL_ARRAY, and empty ones
    edges = sorted({0, len(values), *[min(cut, len(values)) for cut in cuts]})
    blocks = [values[a:b] for a, b in pairwise(edges)] + [values[:0]]
    assert "".join(serialise.result_csv(block) for block in blocks) == serialise.result_csv(values)


def test_result_csv_pieces_are_whole_rows_that_join_to_result_csv(monkeypatch):
    monkeypatch.setattr(serialise, "CSV_PIECE_VALUES", 1000)  # several pieces from a small array
    values = np.random.default_rng(3).standard_normal((700, 7))
    pieces = list(serialise.result_csv_pieces(values))
    assert len(pieces) == 5  # 142 rows (994 values) a piece
    assert all(piece.endswith(b"\n") and piece.count(b"\n") <= 142 for piece in pieces)
    assert b"".join(pieces).decode("ascii") == serialise.result_csv(values)
    rows = values.tolist()
    assert serialise.result_csv(values) == "".join(",".join(map(repr, row)) + "\n" for row in rows)


def test_result_csv_big_python_integers():
    values = np.array([2**70, -(2**64), 3] * 30, dtype=object)
    assert serialise.result_csv(values) == "".join(f"{v}\n" for v in values.tolist())


# --------------------------------------------------------------------------- reading files


@pytest.fixture(params=[None, 64], ids=["whole", "tiny-chunks"])
def chunked(request, monkeypatch):
    """Read whole files at once, or in chunks of about 64 bytes (every rule crosses a chunk)."""
    if request.param is not None:
        monkeypatch.setattr(inputs, "_CHUNK", request.param)
    return request.param


def big_floats(seed: int = 0, n: int = 5000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\n".join(map(repr, big_floats().tolist())) + "\n", id="one column"),
        pytest.param("".join(f"{v:.18e}\n" for v in big_floats(1).tolist()), id="savetxt"),
        pytest.param("\r\n".join(map(repr, big_floats(2).tolist())), id="crlf, no final newline"),
        pytest.param(
            "\ufeff# made by a test\n\nvalue\n" + "\n".join(map(str, range(3000))),
            id="bom, comments, header",
        ),
        pytest.param(
            "\n".join(map(str, range(-1500, 1500))) + "\n\n \n", id="blank lines at the end"
        ),
        pytest.param(
            "".join(f"{i},{v!r},{-i}\n" for i, v in enumerate(big_floats(3).tolist())), id="table"
        ),
        pytest.param(
            "".join(f" {v!r} , nan,{i}\n" for i, v in enumerate(big_floats(4, 2000).tolist())),
            id="spaces and nan",
        ),
        pytest.param("1.5\n2\n# note\n3\n" * 500, id="comment mid-file"),
        pytest.param('"1.5","2"\n"3",4\n' * 500, id="quoted"),
        pytest.param("1+2j\n3.5\n-2i\n" * 500, id="complex"),
        pytest.param("a,b\n" + "1,2\n" * 2000, id="big header row"),
    ],
)
def test_fast_reader_matches_the_careful_reader(tmp_path, monkeypatch, chunked, text):
    path = write(tmp_path, "f.csv", text)
    fast = [inputs.read_array(path)]
    if "," in text:
        fast.append(inputs.read_array(f"{path}:2"))
    with monkeypatch.context() as patch:
        careful(patch)
        slow = [inputs.read_array(path)] + ([inputs.read_array(f"{path}:2")] if "," in text else [])
    for actual, expected in zip(fast, slow):
        assert_identical(actual, expected)


@pytest.mark.slow
@pytest.mark.parametrize("delimiter", ["\t", ";", "|", " ", None])
def test_fast_reader_delimiters(tmp_path, monkeypatch, chunked, delimiter):
    sep = "\t" if delimiter is None else delimiter
    table = np.arange(3000, dtype=np.int64).reshape(1000, 3) - 1500
    text = "".join(sep.join(map(str, row)) + "\n" for row in table.tolist())
    path = write(tmp_path, "f.txt", text)
    assert_identical(inputs.read_array(path, delimiter=delimiter), table)
    column = write(tmp_path, "c.txt", "\n".join(map(repr, big_floats(5).tolist())))
    assert_identical(inputs.read_array(column, delimiter=delimiter), big_floats(5))


@pytest.mark.slow
def test_fast_reader_against_loadtxt(tmp_path):
    values = np.random.default_rng(6).standard_normal((20_000, 2))
    path = tmp_path / "f.csv"
    np.savetxt(path, values, delimiter=",")  # %.18e
    assert_identical(inputs.read_array(str(path)), np.loadtxt(path, delimiter=","))
    np.savetxt(path, values[:, 0], fmt="%.17g")
    assert_identical(inputs.read_array(str(path)), np.loadtxt(path))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("3,oops\n", r"line 2003, column 2: 'oops' is not a number"),
        ("3\n", r"line 2003 has 1 value\(s\) but line 3 has 2"),
        ("3,99999999999999999999\n", r"line 2003, column 2: 99999999999999999999 does not fit"),
        ("3,1e999\n", r"line 2003, column 2: 1e999 overflows"),
        ("3,,\n", r"line 2003, column 2: the cell is empty"),
    ],
)
def test_errors_deep_in_a_file_name_the_line(tmp_path, chunked, tail, message):
    path = write(tmp_path, "bad.csv", "# top\na,b\n" + "1,2.5\n" * 2000 + tail + "4,5\n")
    with pytest.raises(InputError, match=message) as caught:
        inputs.read_array(path)
    assert "bad.csv" in str(caught.value)


def test_only_a_header_and_nothing_in_tiny_chunks(tmp_path, chunked):
    with pytest.raises(InputError, match="header but no rows"):
        inputs.read_array(write(tmp_path, "h.csv", "# a\n# b\ntime,value\n\n# c\n"))
    with pytest.raises(InputError, match="has no numbers"):
        inputs.read_array(write(tmp_path, "e.csv", "\n# only\n\n" * 20))


# --------------------------------------------------------------------------- .npy


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.arange(5, dtype=np.int32), np.arange(5, dtype=np.int64)),
        (np.array([True, False]), np.array([1, 0])),
        (
            np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3),
            np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3).astype(np.float64),
        ),
        (np.arange(24.0).reshape(2, 3, 4), np.arange(24.0).reshape(2, 3, 4)),
        (np.array([1 + 2j, -3j], dtype=np.complex64), np.array([1 + 2j, -3j])),
        (np.array([2**64 - 1, 1], dtype=np.uint64), np.array([2**64 - 1, 1], dtype=object)),
    ],
    ids=["int32", "bool", "float32-2d", "3-d", "complex64", "uint64-big"],
)
def test_read_npy(tmp_path, array, expected):
    path = tmp_path / "a.npy"
    np.save(path, array)
    values = inputs.read_array(str(path))
    assert values.dtype == expected.dtype
    assert values.shape == expected.shape
    assert np.array_equal(values, expected)


def test_read_npy_from_stdin_and_a_name_without_npy(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.array([[1.5, 2.0], [3.0, 4.0]]))
    stdin = io.BytesIO(buffer.getvalue())
    assert_identical(inputs.read_array("-", stdin=stdin), np.array([[1.5, 2.0], [3.0, 4.0]]))
    assert_identical(
        inputs.read_array(write(tmp_path, "data.bin", buffer.getvalue())),
        np.array([[1.5, 2.0], [3.0, 4.0]]),
    )


def save_npz_as(path: Path) -> None:
    """An .npz archive under a .npy name."""
    buffer = io.BytesIO()
    np.savez(buffer, a=np.arange(3))
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            lambda p: np.save(p, np.array([1, "a"], dtype=object), allow_pickle=True),
            "Python objects",
        ),
        (lambda p: np.save(p, np.array(["a", "b"])), "<U1 values"),
        (lambda p: np.save(p, np.zeros(2, dtype=[("a", "i4")])), r"\[\('a', '<i4'\)\] values"),
        (lambda p: np.save(p, np.float64(3)), "at least one dimension"),
        (lambda p: np.save(p, np.zeros((0, 3))), "empty"),
        (lambda p: p.write_bytes(b"\x93NUMPY\x01\x00garbage"), "not a readable .npy file"),
        (lambda p: p.write_bytes(b""), "not a readable .npy file"),
        (lambda p: save_npz_as(p), "npz"),
    ],
    ids=["object", "str", "structured", "0-d", "empty", "corrupt", "zero bytes", "npz"],
)
def test_bad_npy_is_one_line_error(tmp_path, content, message):
    path = tmp_path / "bad.npy"
    content(path)
    with pytest.raises(InputError, match=message) as caught:
        inputs.read_array(str(path), role="kernel")
    assert "\n" not in str(caught.value)
    assert "bad.npy" in str(caught.value)


def test_npy_has_no_columns(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(3))
    with pytest.raises(InputError, match="no named columns"):
        inputs.read_array(f"{tmp_path / 'a.npy'}:1")


@pytest.mark.parametrize(
    "values",
    [np.arange(6).reshape(2, 3), np.linspace(-1, 1, 7), np.array([[1 + 1j]]), np.zeros((2, 1, 3))],
)
def test_result_npy_round_trip(values):
    back = np.load(io.BytesIO(serialise.result_npy(values)))
    assert_identical(back, values)


def test_result_npy_exact_python_integers():
    fits = np.array([2**62, -(2**62)], dtype=object)
    assert_identical(np.load(io.BytesIO(serialise.result_npy(fits))), np.array([2**62, -(2**62)]))
    with pytest.raises(InputError, match=r"beyond 64 bits.*CSV"):
        serialise.result_npy(np.array([2**63, 1], dtype=object))


def test_comparison_npy_stacks_convolution_then_correlation():
    comparison = compare([[1, 2, 3], [4, 5, 6]], [[1, -1]])
    stacked = np.load(io.BytesIO(serialise.comparison_npy(comparison)))
    assert_identical(stacked[0], comparison.convolution)
    assert_identical(stacked[1], comparison.correlation)


@pytest.mark.parametrize(
    ("requested", "output", "interactive", "expected"),
    [
        ("auto", "out.npy", True, "npy"),
        ("auto", "OUT.NPY", False, "npy"),
        ("npy", None, False, "npy"),
        ("npy", "x.csv", True, "npy"),
    ],
)
def test_choose_format_npy(requested, output, interactive, expected):
    assert outputs.choose_format(requested, output, interactive) == expected


def test_npy_is_refused_on_a_terminal():
    with pytest.raises(InputError, match=r"binary.*-o FILE\.npy"):
        outputs.choose_format("npy", None, interactive=True)


# --------------------------------------------------------------------------- streaming


def blocks_of(source: str, block_size: int, stdin: io.BytesIO | None = None) -> list:
    return list(inputs.iter_signal_blocks(source, block_size, stdin=stdin))


@pytest.mark.slow
@given(
    st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=300)
    | st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=300),
    st.integers(1, 50),
    st.sampled_from(["", "value\n", "# note\n\nvalue\n", "\ufeffv\r\n"]),
)
def test_stream_blocks_joined_are_read_array(values, block_size, head):
    text = (head + "".join(f"{serialise.format_number(v)}\n" for v in values)).encode()
    blocks = blocks_of("-", block_size, io.BytesIO(text))
    joined = np.concatenate([block for block, _ in blocks])
    assert_identical(joined, inputs.read_array("-", stdin=io.BytesIO(text)))
    read = [count for _, count in blocks]
    assert read == sorted(read)
    assert read[-1] == len(text)
    assert len({block.dtype for block, _ in blocks}) == 1


def test_stream_block_sizes_are_about_the_size_asked(tmp_path):
    path = write(tmp_path, "f.csv", "".join(f"{v!r}\n" for v in big_floats(8, 20_000).tolist()))
    sizes = [len(block) for block, _ in blocks_of(path, 1000)]
    assert sum(sizes) == 20_000
    assert all(250 <= size <= 4000 for size in sizes[:-1])


def test_stream_a_column_by_name(tmp_path):
    path = write(tmp_path, "t.csv", "t,y\n" + "".join(f"{i},{i / 4}\n" for i in range(1000)))
    joined = np.concatenate([block for block, _ in blocks_of(f"{path}:y", 64)])
    assert_identical(joined, np.arange(1000) / 4)


def test_stream_decimals_after_integers_refused_with_the_line(tmp_path):
    path = write(tmp_path, "f.csv", "v\n" + "1\n" * 5000 + "2.5\n")
    stream = inputs.iter_signal_blocks(path, 100)
    first, _ = next(stream)
    assert first.dtype == np.int64
    with pytest.raises(InputError, match=r"f\.csv, line 5002: 2\.5 is a decimal.*integers"):
        list(stream)


def test_stream_integers_after_decimals_become_floats():
    text = b"0.5\n" + b"7\n" * 3000
    blocks = blocks_of("-", 10, io.BytesIO(text))
    assert {block.dtype for block, _ in blocks} == {np.dtype(np.float64)}
    assert_identical(np.concatenate([b for b, _ in blocks]), np.array([0.5] + [7.0] * 3000))


@pytest.mark.slow
def test_stream_refuses_tables_and_keeps_error_lines():
    with pytest.raises(InputError, match=r"2 columns.*FILE:COLUMN"):
        blocks_of("-", 10, io.BytesIO(b"1,2\n3,4\n"))
    with pytest.raises(InputError, match=r"line 3001, column 1: 'x' is not a number"):
        blocks_of("-", 10, io.BytesIO(b"1\n" * 3000 + b"x\n"))


def test_stream_npy_through_a_memory_map(tmp_path):
    path = tmp_path / "s.npy"
    np.save(path, np.arange(1000, dtype=np.int16))
    blocks = blocks_of(str(path), 300)
    assert [len(block) for block, _ in blocks] == [300, 300, 300, 100]
    assert_identical(np.concatenate([b for b, _ in blocks]), np.arange(1000))
    assert blocks[-1][1] == path.stat().st_size
    np.save(path, np.zeros((2, 2)))
    with pytest.raises(InputError, match="2-D; --stream reads a 1-D signal"):
        blocks_of(str(path), 10)


def test_stream_inline_numbers_are_one_block():
    assert [block.tolist() for block, _ in blocks_of("1,2,3", 2)] == [[1, 2, 3]]


# --------------------------------------------------------------------------- output_sink


def test_output_sink_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "out.csv"
    with outputs.output_sink(str(target)) as write_piece:
        write_piece("1\n")
        assert not target.exists()  # still a temporary file
        write_piece(b"2\n")
    assert target.read_bytes() == b"1\n2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_output_sink_error_leaves_nothing(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    with (
        pytest.raises(InputError, match="bad block"),
        outputs.output_sink(str(target)) as write_piece,
    ):
        write_piece("1\n")
        raise InputError("bad block")
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_output_sink_stdout(capsysbinary):
    with outputs.output_sink(None) as write_piece:
        write_piece("a\n")
        write_piece(b"\x93NUMPY")
        write_piece("b\n")
    assert capsysbinary.readouterr().out == b"a\n\x93NUMPYb\n"


class ClosedPipe(io.StringIO):
    """Standard output whose reader has gone."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_output_sink_reader_gone_ends_quietly(monkeypatch):
    discarded = []
    monkeypatch.setattr(outputs.sys, "stdout", ClosedPipe())
    monkeypatch.setattr(outputs, "discard_stdout", lambda: discarded.append(True))
    written = []
    with outputs.output_sink(None) as write_piece:
        for piece in ("1\n", "2\n"):
            write_piece(piece)
            written.append(piece)
    assert written == [] and discarded == [True]


def test_output_sink_other_broken_pipes_are_not_swallowed(capsys):
    with pytest.raises(BrokenPipeError), outputs.output_sink(None):
        raise BrokenPipeError("not ours")


# --------------------------------------------------------------------------- quoted CSV


@st.composite
def quoted_csv(draw) -> tuple[str, str, int]:
    """CSV text as Python's csv module writes it: a header of names that may hold the
    delimiter, quotes, spaces and line breaks, then rows of numbers, quoted or not; the
    delimiter, and the header's width less the rows' (0 for most)."""
    import csv

    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 4))
    header_width = width + draw(st.sampled_from([0, 0, 0, -1, 1]))
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    # the writer quotes a cell holding a line break only if the break is in its terminator
    breaks = "\n\r" if terminator == "\r\n" else "\n"
    names = st.text(alphabet='ab ,;|"' + breaks, max_size=6).map(lambda name: "x" + name)
    header = draw(st.lists(names, min_size=header_width, max_size=header_width, unique=True))
    numbers = draw(  # of one kind: --stream refuses integers followed by decimals
        st.sampled_from(
            [st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False)]
        )
    )
    rows = draw(st.lists(st.lists(numbers, min_size=width, max_size=width), min_size=1, max_size=8))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        quoting=quoting,
        lineterminator=terminator,
    )
    if header_width:
        writer.writerow(header)
    writer.writerows([[repr(value) for value in row] for row in rows])
    return buffer.getvalue(), delimiter, header_width - width if header_width else 0


def csv_module_reading(text: str, delimiter: str) -> tuple[list[str] | None, np.ndarray]:
    """The header and the numbers of CSV text as Python's csv module splits it."""
    import csv

    records = list(
        csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    )
    header = None
    if not csv_format.is_number(records[0][0].strip()):
        header = [cell.strip() for cell in records.pop(0)]
    cells = [cell.strip() for row in records for cell in row]
    return header, csv_format.parse_numbers(cells, [(0, 0)] * len(cells))


@pytest.mark.slow
@given(quoted_csv(), st.sampled_from([None, 7]))
def test_quoted_csv_reads_as_the_csv_module_reads_it(tmp_path_factory, written, chunk):
    """Every reader (fast, careful, in tiny chunks, and --stream's in blocks) splits quoted
    cells as Python's csv module does, in the header and the rows; a header of another
    width than the rows is an error naming both widths."""
    text, delimiter, header_excess = written
    path = write(tmp_path_factory.mktemp("quoted"), "q.csv", text)
    with pytest.MonkeyPatch.context() as patch:
        if chunk:
            patch.setattr(inputs, "_CHUNK", chunk)
        if header_excess:
            with pytest.raises(InputError, match=r"\(the header\) has \d+ name\(s\) but line"):
                inputs.read_array(path, delimiter=delimiter)
            return
        header, values = csv_module_reading(text, delimiter)
        width = len(header) if header else None
        whole = inputs.read_array(path, delimiter=delimiter)
        rows = len(values) // (width or len(values) or 1) if width else None
        expected = values if whole.ndim == 1 else values.reshape(-1, whole.shape[1])
        assert_identical(whole, expected)
        if header:
            for index, name in enumerate(header):
                if header.index(name) == index and ":" not in name:
                    column = values.reshape(-1, len(header))[:, index]
                    read = inputs.read_array(f"{path}:{name}", delimiter=delimiter)
                    assert_identical(read, column.astype(read.dtype))
                    if rows:
                        blocks = inputs.iter_signal_blocks(f"{path}:{name}", 1, delimiter=delimiter)
                        streamed = np.concatenate([block for block, _ in blocks])
                        assert np.array_equal(streamed, column)
        careful(patch)
        assert_identical(inputs.read_array(path, delimiter=delimiter), whole)


@pytest.mark.parametrize("chunk", [None, 64])
@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_header_wider_or_narrower_than_the_rows_is_one_error(
    tmp_path, monkeypatch, chunk, quoted
):
    """On the fast path and the careful one (a quote sends a file there), whole or by column:
    one line naming both widths, never an IndexError or a wrong column."""
    if chunk:
        monkeypatch.setattr(inputs, "_CHUNK", chunk)
    for header, width in (("a,b,c", 3), ("a", 1)):
        row = '"1",2' if quoted else "1,2"
        path = write(tmp_path, "wide.csv", f"{header}\n" + f"{row}\n" * 50)
        for source in (path, f"{path}:a", f"{path}:2"):
            with pytest.raises(InputError) as caught:
                inputs.read_array(source)
            assert str(caught.value) == (
                f"{path}, line 1 (the header) has {width} name(s) but line 2 has 2 value(s) "
                "(give one name per column)"
            )


@pytest.mark.parametrize("size", [10, 5000])
def test_a_quoted_header_cell_holding_the_delimiter_is_one_column(tmp_path, size):
    path = write(tmp_path, "q.csv", '"a,b",c\n' + "".join(f"{i},{-i}\n" for i in range(size)))
    assert_identical(inputs.read_array(f"{path}:c"), -np.arange(size))
    assert_identical(inputs.read_array(f"{path}:a,b"), np.arange(size))


def test_a_quoted_line_break_crosses_a_chunk(tmp_path, monkeypatch):
    """A quoted cell holding a line break, where a chunk of the file ends inside it."""
    monkeypatch.setattr(inputs, "_CHUNK", 3)
    path = write(tmp_path, "q.csv", '"time\n(s)",value\n1,"2"\n"3\n",4\n')
    assert_identical(inputs.read_array(f"{path}:value"), np.array([2, 4]))
    assert_identical(inputs.read_array(path), np.array([[1, 2], [3, 4]]))
    with pytest.raises(InputError, match=r"line 6, column 1: 'x' is not a number"):
        inputs.read_array(write(tmp_path, "r.csv", '"time\n(s)",value\n1,"2"\n"3\n",4\nx,1\n'))


# --------------------------------------------------------------------------- float64's range

#: Around both ends of float64's range, with what float() gives (inf: refused).
RANGE_EDGES = [
    "1e-400",
    "-1e-400",
    "2e-324",
    "3e-324",
    "2.5e-320",
    "2.2250738585072011e-308",
    "1.7976931348623157e308",
    "1.7976931348623158e308",
    "1.7976931348623159e308",
    "-1e400",
    "1e400",
]


def read_on_every_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, literal: str) -> dict:
    """The value read after 1.5 (or the InputError's message), by each way in."""
    readers = {
        "inline": lambda: inputs.read_array(f"1.5,{literal}"),
        "brackets": lambda: inputs.read_array(f"[1.5, {literal}]"),
        "matrix": lambda: inputs.read_array(f"[[1.5], [{literal}]]").ravel(),
    }
    files = {
        "file": "1.5\n" + literal + "\n",
        "long file": "1.5\n" * 20_000 + literal + "\n",
        "quoted file": f'1.5\n"{literal}"\n',
    }
    for name, text in files.items():
        path = write(tmp_path, f"{name.replace(' ', '-')}.csv", text)
        readers[name] = lambda path=path: inputs.read_array(path)
        readers[f"{name}, --stream"] = lambda path=path: np.concatenate(
            [block for block, _ in inputs.iter_signal_blocks(path, 64)]
        )
    results = {}
    for name, read in readers.items():
        for reader in ("fast", "careful"):
            with monkeypatch.context() as patch:
                if reader == "careful":
                    careful(patch)
                try:
                    results[name, reader] = read()[-1]
                except InputError as error:
                    results[name, reader] = str(error)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("literal", RANGE_EDGES)
def test_values_beyond_float64_overflow_and_underflow_alike_everywhere(
    tmp_path, monkeypatch, literal
):
    """The rule of docs/commands.md's Input section: a literal rounds to the nearest float64
    as float() rounds it, so one too small becomes a subnormal or a signed zero; one too
    large would be infinite and is refused, naming it. The same on every way in."""
    expected = float(literal)
    for way, got in read_on_every_path(tmp_path, monkeypatch, literal).items():
        if math.isinf(expected):
            assert str(got).endswith(f"{literal} overflows a 64-bit float"), (way, got)
        else:
            assert not isinstance(got, str), (way, got)
            assert float_bits(float(got)) == float_bits(expected), (way, got)


def careful(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make io read every CSV with the careful cell-by-cell reader only."""
    monkeypatch.setattr(csv_format.CsvReader, "_fast", lambda self, data: None)
