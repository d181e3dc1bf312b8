"""Tests for convcli.formats.csv: CSV files and inline numbers to arrays (shapes, headers,
delimiters, quotes, decimal commas, errors by line and column); the fast reader as the careful."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convcli.cli import inputs
from convcli.errors import ConvcliError, InputError
from convcli.formats import bulk
from convcli.formats import csv as csv_format
from convcli.formats.csv import excerpt
from tests.examples import INT64_MAX, INT64_MIN, assert_identical, big_floats, float_bits, write

TERMINATORS = ["\n", "\r\n", "\r"]
#: Text around a number in a quoted cell: blanks, line breaks, and blanks before a break.
PADDING = ["", " ", "\t", " \n", "\t\r\n", "  \r", " \t\n "]


def quote(cell: str) -> str:
    """A cell in quotes, a quote in it doubled, as the csv module writes it."""
    return '"' + cell.replace('"', '""') + '"'


def csv_module_reading(text: str, delimiter: str) -> tuple[list[str] | None, np.ndarray]:
    """The header (None if the first cell is a number) and the numbers, in one row, of CSV
    text as Python's csv module splits it, cells stripped of blanks as convcli strips them."""
    records = list(
        csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    )
    header = None
    if not csv_format.is_number(records[0][0].strip()):
        header = [cell.strip() for cell in records.pop(0)]
    cells = [cell.strip() for row in records for cell in row]
    return header, csv_format.parse_numbers(cells, [(0, 0)] * len(cells))


def careful(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read every CSV with the careful cell-by-cell reader only."""
    monkeypatch.setattr(csv_format.CsvReader, "_fast", lambda self, data: None)


def reading_ways(monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    """Read CSV whole, in pieces of 7 bytes, or with the careful reader only."""
    if way == "pieces":
        monkeypatch.setattr(inputs, "_CHUNK", 7)
    elif way == "careful":
        careful(monkeypatch)


@st.composite
def quoted_csv(draw) -> tuple[str, str]:
    """CSV text with quoted header names and numbers holding blanks before line breaks
    (``\\n``, ``\\r\\n`` or ``\\r``) and tabs, lines ending in another break; and its
    delimiter."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    terminator = draw(st.sampled_from(TERMINATORS))
    width = draw(st.integers(1, 3))
    names = st.builds(
        lambda blanks, rest: "x" + blanks + rest,
        st.sampled_from(PADDING),
        st.text(alphabet="ab ,;|\t\r\n", max_size=4),
    )
    header = draw(st.lists(names, min_size=width, max_size=width, unique_by=str.strip))
    cell = st.builds(
        lambda before, number, after, quoted: (
            quote(before + str(number) + after) if quoted else str(number)
        ),
        st.sampled_from(PADDING),
        st.integers(-1000, 1000),
        st.sampled_from(PADDING),
        st.booleans(),
    )
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), min_size=1, max_size=5))
    lines = [[quote(name) for name in header], *rows]
    return "".join(delimiter.join(line) + terminator for line in lines), delimiter


# --------------------------------------------------------------------------- quoted CSV
# Text inside quotes is kept as written, line breaks and the blanks before them included:
# only outside quoted cells do tabs count as spaces and blanks end a line without cells.


@pytest.mark.parametrize("way", ["whole", "pieces", "careful"])
@given(written=quoted_csv())
def test_quoted_cells_keep_their_blanks_before_a_line_break(tmp_path_factory, way, written):
    """Every header name, as the csv module reads it, names its column; every number reads."""
    text, delimiter = written
    path = write(tmp_path_factory.mktemp("quoted"), "q.csv", text)
    header, values = csv_module_reading(text, delimiter)
    with pytest.MonkeyPatch.context() as patch:
        reading_ways(patch, way)
        whole = inputs.read_array(path, delimiter=delimiter)
        assert_identical(whole, values.reshape(whole.shape))
        for index, name in enumerate(header):
            column = inputs.read_array(f"{path}:{name}", delimiter=delimiter)
            assert_identical(column, values.reshape(-1, len(header))[:, index])


@pytest.mark.parametrize("way", ["whole", "pieces", "careful"])
@pytest.mark.parametrize("terminator", TERMINATORS)
@pytest.mark.parametrize("blanks", [" ", "\t", " \t "])
def test_a_header_name_ending_a_line_in_blanks_names_its_column(
    tmp_path, monkeypatch, way, terminator, blanks
):
    reading_ways(monkeypatch, way)
    name = f"x{blanks}{terminator};"
    path = write(tmp_path, "q.csv", f"{quote(name)},y{terminator}0,1{terminator}2,3{terminator}")
    assert_identical(inputs.read_array(f"{path}:{name}"), np.array([0, 2]))
    assert_identical(inputs.read_array(f"{path}:y"), np.array([1, 3]))


@pytest.mark.parametrize("way", ["whole", "pieces", "careful"])
@pytest.mark.parametrize("terminator", TERMINATORS)
@pytest.mark.parametrize("delimiter", [",", "\t", None], ids=["comma", "tab", "whitespace"])
def test_a_data_cell_ending_a_line_in_blanks_is_kept_as_written(
    tmp_path, monkeypatch, way, terminator, delimiter
):
    """The bad cell an error names is the cell as written, blanks before its breaks included."""
    reading_ways(monkeypatch, way)
    cell = f"2 {terminator}3\t{terminator}"
    separator = delimiter or " "
    path = write(
        tmp_path, "q.csv", f"a{separator}b{terminator}1{separator}{quote(cell)}{terminator}"
    )
    with pytest.raises(InputError) as caught:
        inputs.read_array(path, delimiter=delimiter)
    assert str(caught.value) == f"{path}, line 2, column 2: {excerpt(cell.strip())} is not a number"


@pytest.mark.parametrize("way", ["whole", "pieces", "careful"])
@pytest.mark.parametrize("delimiter", [",", ";", None], ids=["comma", "semicolon", "whitespace"])
def test_tabs_in_quotes_are_text_and_outside_them_blanks(tmp_path, monkeypatch, way, delimiter):
    """A tab before a quote opens a quoted cell as a space does; one inside quotes is kept."""
    reading_ways(monkeypatch, way)
    separator = delimiter or "\t"
    text = f'"a\tb"{separator}\t"c \t\nd"\t\n1{separator}\t"2\t"\t\n'
    path = write(tmp_path, "q.csv", text)
    assert_identical(inputs.read_array(f"{path}:a\tb", delimiter=delimiter), np.array([1]))
    assert_identical(inputs.read_array(f"{path}:c \t\nd", delimiter=delimiter), np.array([2]))


@st.composite
def written_csv(draw) -> tuple[str, str, int]:
    """CSV text as Python's csv module writes it: a header of names that may hold the
    delimiter, quotes, spaces and line breaks, then rows of numbers, quoted or not; the
    delimiter, and the header's width less the rows' (0 for most)."""
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


@pytest.mark.slow
@given(written_csv(), st.sampled_from([None, 7]))
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


def test_records_left_open_resume_where_their_record_begins():
    """A piece ending inside a quoted cell hands on exactly the open record's text, also
    after a record that began with spaces (which once shifted where it was cut)."""
    rows, _, lines, pending = csv_format._records('   1\n"2,\n', ",", 0, "f.csv", final=False)
    assert (rows, lines, pending) == ([["1"]], 1, '"2,\n')


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


@pytest.mark.parametrize("source", ["[]", "[[]]", " [ ] "])
def test_empty_brackets_are_an_empty_input(source):
    with pytest.raises(InputError, match="is empty"):
        inputs.read_array(source, "kernel")


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ConvcliError)
    assert issubclass(InputError, ValueError)
    with pytest.raises(ValueError):
        inputs.read_array("not numbers")


# --------------------------------------------------------------------------- nested inline lists

AS_LONG = " (lists at one depth must all be as long)"
AS_DEEP = " (lists must be nested as deep everywhere)"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[[[1,2,3],[0,1,0]]]", np.array([[[1, 2, 3], [0, 1, 0]]])),
        ("[[[1]]]", np.array([[[1]]])),
        ("[[[1, 2]], [[3, 4]]]", np.array([[[1, 2]], [[3, 4]]])),
        ("[[[[1,-2],[3,4]],[[5,6],[7,8]]]]", np.array([[[[1, -2], [3, 4]], [[5, 6], [7, 8]]]])),
        ("[[[[[7]]]]]", np.array([[[[[7]]]]])),
        ("[[[1 2]\n  [3 4]]\n\n [[5 6]\n  [7 8]]]", np.arange(1, 9).reshape(2, 2, 2)),
        (" [ [ [1,2,] , [3,4] ] ] ", np.array([[[1, 2], [3, 4]]])),
        ("[[[1, 2.5]], [[nan, -inf]]]", np.array([[[1, 2.5]], [[np.nan, -np.inf]]])),
        ("[[[1+2j, 3]]]", np.array([[[1 + 2j, 3]]])),
        ("[[[1+2i],[-0.0]]]", np.array([[[1 + 2j], [-0.0]]])),
    ],
)
def test_nested_inline_lists_of_any_depth(source, expected):
    """Three or more levels of brackets give an array of that many dimensions, shaped as
    numpy shapes the same nested lists; blanks and line breaks (numpy's printout) separate
    cells too, and a comma may end a list."""
    assert_identical(csv_format.parse_inline(source, "signal"), expected)
    assert_identical(inputs.read_array(source), expected)


@given(
    st.tuples(*[st.integers(1, 3)] * 3).flatmap(
        lambda shape: st.lists(
            st.one_of(st.integers(INT64_MIN, INT64_MAX), st.floats(), st.complex_numbers()),
            min_size=math.prod(shape),
            max_size=math.prod(shape),
        ).map(lambda cells: (shape, cells))
    )
)
def test_nested_inline_numbers_are_the_csv_readers(shape_and_cells):
    """Every cell of a nested list reads as the same cell in a CSV file does, bit for bit,
    and the array has the type the file's numbers have."""
    shape, cells = shape_and_cells
    texts = [str(cell).strip("()") for cell in cells]
    expected = csv_format.parse_numbers(texts, [(1, 1)] * len(texts))
    nested = np.array(texts, dtype=object).reshape(shape).tolist()
    source = str(nested).replace("'", "")
    assert_identical(csv_format.parse_inline(source, "signal"), expected.reshape(shape))


@pytest.mark.parametrize("decimal", [".", ","])
def test_nested_floats_are_read_as_the_csv_file_reads_them(tmp_path, decimal):
    values = big_floats(3, 600)
    text = str(values.reshape(5, 4, 30).tolist())
    column = "\n".join(map(repr, values.tolist())) + "\n"
    if decimal == ",":
        text = text.replace(", ", " ").replace("] [", "], [").replace(".", ",")
        column = column.replace(".", ",")
    from_file = inputs.read_array(write(tmp_path, "f.csv", column), delimiter=";", decimal=decimal)
    assert_identical(csv_format.parse_inline(text, "signal", decimal), from_file.reshape(5, 4, 30))


def test_nested_inline_integers_beyond_int64_are_refused_as_elsewhere():
    with pytest.raises(InputError) as caught:
        csv_format.parse_inline(f"[[[1], [{INT64_MAX + 1}]]]", "weights")
    assert str(caught.value) == (
        f"the weights '[[[1], [{INT64_MAX + 1}]]]', at [0][1][0]: {INT64_MAX + 1} does not fit "
        "in a 64-bit integer; write it as a float (e.g. 1e20) to compute approximately"
    )


#: Lists of unequal lengths or depths, bad cells and brackets that do not pair up.
NESTED_ERRORS = [
    ("[[[1,2,3],[0,1]]]", ", [0][1] has 2 value(s) but [0][0] has 3" + AS_LONG),
    ("[[[1,2]],[[3,4],[5,6]]]", ", [1] has 2 list(s) but [0] has 1" + AS_LONG),
    ("[[[1],[2]],[[3],[4,5]]]", ", [1][1] has 2 value(s) but [0][0] has 1" + AS_LONG),
    ("[[[1,2],3]]", ", [0][1] is a number but [0][0] is a list" + AS_DEEP),
    ("[[[1,[2]]]]", ", [0][0][1] is a list but [0][0][0] is a number" + AS_DEEP),
    ("[[[1,2],x]]", ", at [0][1]: 'x' is not a number"),
    ("[[[1,2]],[3,4]]", ", [1][0] is a number but [0][0] is a list" + AS_DEEP),
    ("[[[1,x]]]", ", at [0][0][1]: 'x' is not a number"),
    ("[[[1,,2]]]", ", at [0][0][1]: the cell is empty"),
    ("[[[,1]]]", ", at [0][0][0]: the cell is empty"),
    ("[[[1]],,[[2]]]", ", at [1]: the cell is empty"),
    ("[[[1e400]]]", ", at [0][0][0]: 1e400 overflows a 64-bit float"),
    ("[[[1,2]]", ": its brackets do not pair up (the '[' at character 1 is never closed)"),
    ("[[[1,2]]]]", ": its brackets do not pair up (the ']' at character 10 closes no '[')"),
    ("[[[1]]] [[[2]]]", ": '[[[2]]]' follows the array's closing ']'"),
    ("[[[1]]],5", ": ',5' follows the array's closing ']'"),
]


@pytest.mark.parametrize(("source", "message"), NESTED_ERRORS)
def test_nested_inline_errors_say_where(source, message):
    """One line naming the argument and where in it, as the 2-D errors name line and column;
    a list by its indices, as Python indexes nested lists."""
    with pytest.raises(InputError) as caught:
        csv_format.parse_inline(source, "kernel")
    assert str(caught.value) == f"the kernel {source!r}{message}"


@pytest.mark.parametrize("source", ["[[[]]]", "[[[], []]]", "[ [ [ ] ] ]"])
def test_nested_empty_lists_are_an_empty_input(source):
    with pytest.raises(InputError, match="is empty; give at least one number"):
        csv_format.parse_inline(source, "kernel")


def test_nesting_deeper_than_numpy_allows_is_one_line():
    source = "[" * 65 + "1" + "]" * 65
    with pytest.raises(InputError, match="nested 65 deep; numpy arrays have at most 64"):
        csv_format.parse_inline(source, "signal")
    assert csv_format.parse_inline("[" * 64 + "1" + "]" * 64, "signal").ndim == 64
    with pytest.raises(InputError):
        csv_format.parse_inline("[" * 100_000, "signal")


def test_nested_decimal_comma_separates_cells_by_blanks():
    assert_identical(
        csv_format.parse_inline("[[[0,5 1,5], [2 -3]]]", "signal", ","),
        np.array([[[0.5, 1.5], [2.0, -3.0]]]),
    )
    with pytest.raises(InputError, match=r"at \[0\]\[0\]\[0\]: '1\.5' has a '\.'"):
        csv_format.parse_inline("[[[1.5]]]", "signal", ",")


@pytest.mark.slow
@given(text=st.text(alphabet=st.sampled_from("[[[]]] ,;\n1.e-xj"), max_size=60))
def test_fuzz_nested_brackets_parse_or_fail_cleanly(text):
    parsed_or_one_line_error(lambda: inputs.read_array("[[[" + text, "signal"), max_ndim=64)
    parsed_or_one_line_error(lambda: inputs.read_array(text, "signal"), max_ndim=64)


# --------------------------------------------------------------------------- channels


@pytest.mark.parametrize(
    ("text", "expected", "names"),
    [
        ("left,right\n1,10\n2,20\n3,30\n", [[1, 2, 3], [10, 20, 30]], ["left", "right"]),
        ("1,10\n2,20\n3,30\n", [[1, 2, 3], [10, 20, 30]], ["c0", "c1"]),
        ("x\n1\n2\n", [[1, 2]], ["x"]),
        ("a,b,c\n1,2,3.5\n", [[1.0], [2.0], [3.5]], ["a", "b", "c"]),
        ("7\n", [[7]], ["c0"]),
        (
            "\ufeff# two microphones\r\nmic 1,mic 2\r\n\r\n0.5,-1\r\n# gap\r\n1,2\r\n",
            [[0.5, 1.0], [-1.0, 2.0]],
            ["mic 1", "mic 2"],
        ),
        ('"a,b",c\n1,2\n', [[1], [2]], ["a,b", "c"]),
    ],
)
def test_read_channels_one_column_per_channel(text, expected, names):
    """Channels first, as PyTorch's (C_in, L); the header names them, or c0, c1, ... as
    their indices in the array; BOM, CRLF, comments, blank lines and quotes as in any CSV."""
    values, read_names = csv_format.read_channels(text)
    assert_identical(values, np.array(expected))
    assert read_names == names
    assert values.flags.c_contiguous
    values_from_bytes, _ = csv_format.read_channels(text.encode())
    assert_identical(values_from_bytes, values)


def test_read_channels_with_a_decimal_comma_and_a_delimiter():
    values, names = csv_format.read_channels("a;b\n0,5;1\n2;-1,5\n", "f.csv", ";", ",")
    assert_identical(values, np.array([[0.5, 2.0], [1.0, -1.5]]))
    assert names == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n3\n", "f.csv, line 3 has 1 value(s) but line 2 has 2"),
        ("a,b\n1,2\n3,x\n", "f.csv, line 3, column 2: 'x' is not a number"),
        ("a,b\n", "f.csv has a header but no rows of numbers"),
        ("", "f.csv has no numbers"),
        ("a,b,c\n1,2\n", "f.csv, line 1 (the header) has 3 name(s) but line 2 has 2 value(s)"),
    ],
)
def test_read_channels_refuses_what_the_csv_reader_refuses(text, message):
    with pytest.raises(InputError, match=re.escape(message)):
        csv_format.read_channels(text, "f.csv")


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


def test_messy_excel_export(tmp_path):
    """BOM, CRLF, spaces and tabs around cells, quoted cells and a trailing comma at once."""
    data = '\ufefftime , "value",\r\n 0,\t"1.5" ,\r\n1 ,  -2\t,\r\n'.encode()
    path = write(tmp_path, "excel.csv", data)
    assert_identical(inputs.read_array(path), np.array([[0.0, 1.5], [1.0, -2.0]]))
    assert_identical(inputs.read_array(f"{path}:value"), np.array([1.5, -2.0]))


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


@pytest.mark.parametrize("column", ["i", "j"])
def test_header_with_a_column_named_like_the_imaginary_unit(tmp_path, column):
    # "i" and "j" are common index names; a header row of names is still a header
    path = write(tmp_path, "f.csv", f"{column},value\n0,2\n1,3\n")
    assert_identical(inputs.read_array(f"{path}:value"), np.array([2, 3], dtype=np.int64))


@pytest.mark.slow
def test_overlong_line_is_one_row(tmp_path):
    """A single line of a million cells (about 7 MB, past any read chunk) is a 1-D signal."""
    values = np.arange(1_000_000) % 1000 - 500
    path = write(tmp_path, "wide.csv", ",".join(map(str, values.tolist())) + "\n")
    assert_identical(inputs.read_array(path), values)


# --------------------------------------------------------------------------- errors


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


def test_bad_cell_in_a_column_names_its_real_line_and_column(tmp_path):
    path = write(tmp_path, "f.csv", "a,b\n# note\n1,2\n3,oops\n")
    with pytest.raises(InputError, match=r"line 4, column 2: 'oops' is not a number"):
        inputs.read_array(f"{path}:b")


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


def test_binary_file(tmp_path):
    path = write(tmp_path, "blob.bin", b"1,2\x00\x00\x7fELF\n")
    with pytest.raises(InputError, match="binary") as caught:
        inputs.read_array(path)
    assert "blob.bin" in str(caught.value)


def test_binary_stdin():
    with pytest.raises(InputError, match="standard input looks like a binary"):
        inputs.read_array("-", stdin=io.BytesIO(b"\x00\x01\x02"))


# --------------------------------------------------------------------------- decimal comma


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


def test_decimal_comma_on_a_long_file_takes_the_fast_reader(tmp_path, plain):
    values = np.arange(-2000, 2000) / 8
    text = "".join(f"{i};{v!r}\n".replace(".", ",") for i, v in enumerate(values.tolist()))
    path = write(tmp_path, "eu.csv", text)
    assert_identical(inputs.read_array(f"{path}:2", delimiter=";", decimal=","), values)
    assert plain is None or any(plain)  # polars read it
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


# --------------------------------------------------------------------------- fast vs careful reader


@pytest.fixture(params=[None, 64], ids=["whole", "tiny-chunks"])
def chunked(request, monkeypatch):
    """Read whole files at once, or in chunks of about 64 bytes (every rule crosses a chunk)."""
    if request.param is not None:
        monkeypatch.setattr(inputs, "_CHUNK", request.param)
    return request.param


def plain_reading(monkeypatch: pytest.MonkeyPatch, way: str) -> list[bool] | None:
    """The fast reader's plain numbers read by polars (bulk.READ_BYTES of 1: every piece)
    or by Python's int() and float() (polars hidden); a list of whether each of polars'
    readings read its piece (None for Python's)."""
    readings: list[bool] = []
    if way == "polars":
        monkeypatch.setattr(bulk, "READ_BYTES", 1)
        original = bulk.read_plain

        def counted(*args):
            read = original(*args)
            readings.append(read is not None)
            return read

        monkeypatch.setattr(bulk, "read_plain", counted)
        return readings
    monkeypatch.setattr(bulk, "polars_for", lambda size, threshold: None)
    return None


@pytest.fixture(params=["polars", "python"])
def plain(request, monkeypatch):
    """Plain numbers read by polars or by Python (issue 18: the same numbers and errors)."""
    return plain_reading(monkeypatch, request.param)


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
def test_fast_reader_matches_the_careful_reader(tmp_path, monkeypatch, chunked, plain, text):
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
def test_fast_reader_delimiters(tmp_path, monkeypatch, chunked, plain, delimiter):
    sep = "\t" if delimiter is None else delimiter
    table = np.arange(3000, dtype=np.int64).reshape(1000, 3) - 1500
    text = "".join(sep.join(map(str, row)) + "\n" for row in table.tolist())
    path = write(tmp_path, "f.txt", text)
    assert_identical(inputs.read_array(path, delimiter=delimiter), table)
    column = write(tmp_path, "c.txt", "\n".join(map(repr, big_floats(5).tolist())))
    assert_identical(inputs.read_array(column, delimiter=delimiter), big_floats(5))


@pytest.mark.slow
def test_fast_reader_against_loadtxt(tmp_path, plain):
    values = np.random.default_rng(6).standard_normal((20_000, 2))
    path = tmp_path / "f.csv"
    np.savetxt(path, values, delimiter=",")  # %.18e
    assert_identical(inputs.read_array(str(path)), np.loadtxt(path, delimiter=","))
    np.savetxt(path, values[:, 0], fmt="%.17g")
    assert_identical(inputs.read_array(str(path)), np.loadtxt(path))
    assert plain is None or (len(plain) >= 2 and all(plain))  # polars read both


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
def test_errors_deep_in_a_file_name_the_line(tmp_path, chunked, plain, tail, message):
    path = write(tmp_path, "bad.csv", "# top\na,b\n" + "1,2.5\n" * 2000 + tail + "4,5\n")
    with pytest.raises(InputError, match=message) as caught:
        inputs.read_array(path)
    assert "bad.csv" in str(caught.value)


def test_only_a_header_and_nothing_in_tiny_chunks(tmp_path, chunked):
    with pytest.raises(InputError, match="header but no rows"):
        inputs.read_array(write(tmp_path, "h.csv", "# a\n# b\ntime,value\n\n# c\n"))
    with pytest.raises(InputError, match="has no numbers"):
        inputs.read_array(write(tmp_path, "e.csv", "\n# only\n\n" * 20))


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
        for reader in ("fast", "careful", "polars", "python"):
            with monkeypatch.context() as patch:
                if reader == "careful":
                    careful(patch)
                elif reader != "fast":
                    plain_reading(patch, reader)
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


# --------------------------------------------------------------------------- hostile input


#: Characters CSV-like garbage is made of: number parts, separators, quotes, line ends, a BOM.
CSV_CHARACTERS = '0123456789+-.eEjinfaIN ,;\t\r\n"#[]x\ufeff\x00é'


CSV_LIKE_TEXT = st.text(alphabet=st.sampled_from(CSV_CHARACTERS), max_size=120)


#: (delimiter, decimal mark) pairs the command line allows.
DIALECTS = st.sampled_from(
    [(",", "."), (";", "."), ("\t", "."), (None, "."), (";", ","), (None, ",")]
)


def parsed_or_one_line_error(read, max_ndim: int = 2) -> np.ndarray | None:
    """What ``read()`` returns, which must be an array of int64, float64 or complex128
    numbers of 1 to ``max_ndim`` dimensions; or None when it raised the clean error (a
    ConvcliError of one line, as InputError is). Any other exception fails the test."""
    try:
        values = read()
    except ConvcliError as error:
        message = str(error)
        assert message.strip() and "\n" not in message and "\r" not in message, repr(message)
        return None
    assert 1 <= values.ndim <= max_ndim and values.size > 0
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
        if source == path:  # polars reads the plain numbers as Python does (issue 18)
            with pytest.MonkeyPatch.context() as patch:
                plain_reading(patch, "polars")
                by_polars = parsed_or_one_line_error(
                    lambda: inputs.read_array(path, delimiter=delimiter, decimal=decimal)
                )
            assert (by_polars is None) == (values is None)
            if values is not None:
                assert_identical(by_polars, values)
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
        parsed_or_one_line_error(
            lambda role=role: inputs.read_array(text, role, decimal=decimal), max_ndim=64
        )
    parsed_or_one_line_error(lambda: inputs.read_kernel(text, 1, decimal=decimal), max_ndim=64)
