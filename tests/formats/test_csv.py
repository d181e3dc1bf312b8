"""Tests for convcli.formats.csv: quoted cells read as Python's csv module reads them.

Text inside quotes is kept as written, line breaks and the blanks before them included:
only outside quoted cells do tabs count as spaces and blanks end a line without cells.
Files are read whole, by column, in tiny pieces (so a quoted cell crosses a piece's end)
and with the careful cell-by-cell reader only.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.cli import inputs
from convcli.errors import InputError
from convcli.formats.csv import CsvReader, excerpt, parse_numbers
from tests.examples import assert_identical

TERMINATORS = ["\n", "\r\n", "\r"]
#: Text around a number in a quoted cell: blanks, line breaks, and blanks before a break.
PADDING = ["", " ", "\t", " \n", "\t\r\n", "  \r", " \t\n "]


def write(directory: Path, content: str) -> str:
    """Write CSV text, line ends as given, and return its path."""
    path = directory / "q.csv"
    path.write_bytes(content.encode())
    return str(path)


def quote(cell: str) -> str:
    """A cell in quotes, a quote in it doubled, as the csv module writes it."""
    return '"' + cell.replace('"', '""') + '"'


def csv_module_reading(text: str, delimiter: str) -> tuple[list[str], np.ndarray]:
    """The header and the numbers (row by row) of CSV text as the csv module splits it,
    cells stripped of blanks as convcli strips them."""
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    header, *rows = [[cell.strip() for cell in record] for record in records]
    cells = [cell for row in rows for cell in row]
    return header, parse_numbers(cells, [(0, 0)] * len(cells)).reshape(len(rows), -1)


def reading_ways(monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    """Read CSV whole, in pieces of 7 bytes, or with the careful reader only."""
    if way == "pieces":
        monkeypatch.setattr(inputs, "_CHUNK", 7)
    elif way == "careful":
        monkeypatch.setattr(CsvReader, "_fast", lambda self, data: None)


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


@pytest.mark.parametrize("way", ["whole", "pieces", "careful"])
@given(written=quoted_csv())
def test_quoted_cells_keep_their_blanks_before_a_line_break(tmp_path_factory, way, written):
    """Every header name, as the csv module reads it, names its column; every number reads."""
    text, delimiter = written
    path = write(tmp_path_factory.mktemp("quoted"), text)
    header, values = csv_module_reading(text, delimiter)
    with pytest.MonkeyPatch.context() as patch:
        reading_ways(patch, way)
        whole = inputs.read_array(path, delimiter=delimiter)
        assert_identical(whole, values.reshape(whole.shape))
        for index, name in enumerate(header):
            column = inputs.read_array(f"{path}:{name}", delimiter=delimiter)
            assert_identical(column, values[:, index])


@pytest.mark.parametrize("way", ["whole", "pieces", "careful"])
@pytest.mark.parametrize("terminator", TERMINATORS)
@pytest.mark.parametrize("blanks", [" ", "\t", " \t "])
def test_a_header_name_ending_a_line_in_blanks_names_its_column(
    tmp_path, monkeypatch, way, terminator, blanks
):
    reading_ways(monkeypatch, way)
    name = f"x{blanks}{terminator};"
    path = write(tmp_path, f"{quote(name)},y{terminator}0,1{terminator}2,3{terminator}")
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
    path = write(tmp_path, f"a{separator}b{terminator}1{separator}{quote(cell)}{terminator}")
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
    path = write(tmp_path, text)
    assert_identical(inputs.read_array(f"{path}:a\tb", delimiter=delimiter), np.array([1]))
    assert_identical(inputs.read_array(f"{path}:c \t\nd", delimiter=delimiter), np.array([2]))
