"""Tests for convcli.formats.bulk (issue 18): polars writes and reads CSV exactly as Python does.

Every expectation is Python's own: the bytes python_csv writes (format_number, a repr a
cell), and the numbers and errors of the careful cell-by-cell reader (parse_numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, localcontext
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli.errors import InputError, OutputError
from convcli.formats import bulk, serialise
from convcli.formats import csv as csv_format
from convcli.formats.serialise import format_number, python_csv
from tests.examples import EDGE_FLOATS, INT64_MAX, INT64_MIN, assert_identical

STAND_IN = bulk._STAND_IN

#: Floats whose shortest text is hard (ported from the numtext tests, with EDGE_FLOATS).
HARD_FLOATS = [
    *EDGE_FLOATS,
    1e-270,
    9.999999999999999e269,
    1e270,
    1e15,
    9999999999999998.0,
    1e17,
    1e22,
    1e23,
    2.0**53,
    2.0**63,
    0.0001,
    0.00012345678901234567,
    0.001,
    1e-05,
    123456.789,
    8.000015258789062,  # 8 + 2**-16: exactly halfway between two 16-digit candidates
    8 + 2**-16,
    # repr's positional range ends at 1e16 and 1e-4; polars respells 1e-10 to 1e-4
    1e-10,
    9.999999999999999e-11,
    1.0000000000000001e-10,
    9.999999999999999e-05,
    1.0000000000000001e-4,
    -1e-07,
    1.5e-09,
    STAND_IN,
]


def powers_and_neighbours() -> np.ndarray:
    """Powers of two and ten and the floats next to them: where the shortest text is hardest."""
    powers = np.concatenate([np.ldexp(1.0, np.arange(-1074, 1024)), 10.0 ** np.arange(-323, 309)])
    powers = powers[np.isfinite(powers) & (powers > 0)]
    return np.concatenate([powers, np.nextafter(powers, 0), np.nextafter(powers, np.inf), -powers])


@pytest.fixture(scope="module")
def polars() -> ModuleType:
    """polars, as convcli uses it: installed, and passing the probe."""
    bulk._usable_polars.cache_clear()
    usable = bulk._usable_polars()
    assert usable is not None, "polars is a dependency and passes the probe"
    return usable


def python_bytes(columns: list[np.ndarray]) -> bytes:
    """The reference: format_number of every cell, comma-separated rows."""
    cells = [[format_number(value) for value in column.tolist()] for column in columns]
    return "".join(",".join(row) + "\n" for row in zip(*cells)).encode()


def assert_writes_as_python(polars: ModuleType, columns: list[np.ndarray]) -> None:
    written = bulk.write_columns(polars, columns)
    expected = python_bytes(columns)
    assert python_csv(columns).encode() == expected
    if written != expected:
        got, want = written.splitlines(), expected.splitlines()
        first = next(
            (i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want))
        )
        raise AssertionError(
            f"row {first}: polars {got[first : first + 1]} != Python {want[first : first + 1]}"
        )


# --------------------------------------------------------------------------- writing

FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
#: Floats polars spells otherwise than repr: nan, and magnitudes 1e-10 to 1e-4.
RESPELLED = st.one_of(
    st.just(math.nan),
    st.floats(1e-10, 1e-4, exclude_max=True),
    st.floats(1e-10, 1e-4, exclude_max=True).map(lambda value: -value),
)
ANY_FLOAT = st.one_of(FLOATS, st.sampled_from(HARD_FLOATS), st.sampled_from([STAND_IN, -STAND_IN]))
INT64 = st.one_of(st.integers(INT64_MIN, INT64_MAX), st.sampled_from([INT64_MIN, INT64_MAX, 0, -1]))


@st.composite
def columns_of(
    draw, kinds: str = "ifc", min_width: int = 1, max_width: int = 5, longest: int = 200
) -> list[np.ndarray]:
    """Equally long columns of int64, float64 or complex128 (kinds "i", "f", "c"), the
    floats any, few respelled or mostly respelled."""
    width = draw(st.integers(min_width, max_width))
    length = draw(st.integers(1, longest))
    columns = []
    for _ in range(width):
        kind = draw(st.sampled_from(kinds))
        if kind == "i":
            columns.append(
                np.array(draw(st.lists(INT64, min_size=length, max_size=length)), np.int64)
            )
            continue
        mix = draw(st.sampled_from(["any", "few", "many"]))
        if mix == "any":
            values = draw(st.lists(ANY_FLOAT, min_size=length, max_size=length))
        elif mix == "many":
            values = draw(st.lists(st.one_of(RESPELLED, FLOATS), min_size=length, max_size=length))
        else:  # a respelled float or two among usual ones: stand-ins
            usual = draw(st.floats(-1e6, 1e6, allow_subnormal=False))
            values = [usual + index for index in range(length)]
            for index in draw(st.lists(st.integers(0, length - 1), max_size=max(1, length // 64))):
                values[index] = draw(RESPELLED)
        floats = np.array(values, np.float64)
        if kind == "f":
            columns.append(floats)
        else:
            imaginary = np.array(draw(st.lists(ANY_FLOAT, min_size=length, max_size=length)))
            columns.append(_complex(floats, imaginary))
    return columns


def _complex(real: np.ndarray, imaginary: np.ndarray) -> np.ndarray:
    """complex128 of parts as they are (no arithmetic: -0.0 and nan kept)."""
    values = np.empty(real.shape, np.complex128)
    values.real, values.imag = real, imaginary
    return values


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kinds", "widths", "longest"),
    [
        pytest.param("ifc", (1, 5), 200, id="any columns"),
        pytest.param("f", (1, 3), 200, id="float columns"),
        pytest.param("i", (65, 70), 4, id="wide integer rows"),
        pytest.param("f", (65, 70), 4, id="wide float rows"),
        pytest.param("ifc", (65, 68), 4, id="wide rows of mixed types"),
    ],
)
@given(data=st.data())
def test_polars_writes_columns_as_python(polars, data, kinds, widths, longest):
    assert_writes_as_python(polars, data.draw(columns_of(kinds, *widths, longest=longest)))


@pytest.mark.parametrize("width", [1, 3, 65])
@pytest.mark.parametrize("share", [0, 1, 64, 65, 1000])
def test_respelled_floats_in_any_share_of_a_column(polars, width, share):
    """Columns where none, one, one in 64 (stand-ins), just over (text) or all floats are
    respelled, the respelled ones of every kind."""
    rng = np.random.default_rng(share)
    length = 4096
    columns = []
    for number in range(width):
        values = rng.standard_normal(length) * 10.0 ** rng.integers(-3, 8, length)
        respelled = np.concatenate(
            [
                [math.nan, -math.nan],
                10.0 ** -rng.uniform(4, 10, 64),
                -(10.0 ** -rng.uniform(4, 10, 64)),
            ]
        )
        count = length if share == 1000 else (length * share) // (64 * 64) + (share == 1)
        where = rng.choice(length, min(count, length), replace=False)
        values[where] = rng.choice(respelled, len(where))
        columns.append(values if number % 2 == 0 else np.roll(values, number))
    assert_writes_as_python(polars, columns)


@pytest.mark.parametrize("stand_in", [STAND_IN, -STAND_IN])
@pytest.mark.parametrize("kind", ["f", "c"])
def test_a_column_holding_the_stand_in_is_written_as_python(polars, stand_in, kind):
    values = np.linspace(-1, 1, 1000)
    values[[3, 500]] = [1e-05, math.nan]  # few: stand-ins, but the column holds one already
    values[7] = stand_in
    column = _complex(values, values[::-1]) if kind == "c" else values
    assert_writes_as_python(polars, [np.arange(1000), column])


def test_hard_floats_are_written_as_python(polars):
    values = np.array(HARD_FLOATS * 3)
    assert_writes_as_python(polars, [values])
    assert_writes_as_python(polars, [values, -values, _complex(values, values[::-1])])


def test_powers_of_two_and_ten_and_their_neighbours_are_written_as_python(polars):
    values = powers_and_neighbours()
    assert_writes_as_python(polars, [values])


def test_halfway_floats_are_written_as_python(polars):
    # x = odd / 2**16 in [8, 10) lies exactly halfway between two 16-digit texts
    odd = np.arange(2**19 + 1, 2**19 + 20_001, 2, dtype=np.float64)
    assert_writes_as_python(polars, [odd / 2**16])


@pytest.mark.parametrize("seed", range(2))
def test_random_bit_patterns_are_written_as_python(polars, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2**64, 20_000, dtype=np.uint64).view(np.float64)
    assert_writes_as_python(polars, [values])
    assert_writes_as_python(polars, [values[:10_000], values[10_000:]])
    assert_writes_as_python(polars, [_complex(values[:10_000], values[10_000:])])


def test_int64_extremes_are_written_as_python(polars):
    values = np.array([INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1, INT64_MAX - 1] * 50)
    assert_writes_as_python(polars, [values])
    assert_writes_as_python(polars, [values] * 70)


@contextmanager
def writing_by_polars() -> Iterator[None]:
    """Every result goes to polars (bulk.WRITE_VALUES of 1), in pieces of a few rows."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "WRITE_VALUES", 1)
        patch.setattr(serialise, "CSV_PIECE_VALUES", 300)
        yield


def rows_of(values: np.ndarray) -> str:
    """result_csv's text made by format_number, a cell at a time."""
    rows = values.reshape(values.shape[0], -1).tolist()
    return "".join(",".join(map(format_number, row)) + "\n" for row in rows)


def pieces_made_by_polars(pieces: list[serialise.Piece]) -> int:
    return sum(isinstance(piece, bulk.Rows) for piece in pieces)


@pytest.mark.slow
@given(
    st.sampled_from(["i", "f", "c"]).flatmap(lambda kind: columns_of(kind, 1, 4)),
    st.sampled_from([1, 2, 3]),
)
def test_result_csv_through_polars_is_python_text(polars, columns, dims):
    with writing_by_polars():
        values = np.stack(columns, axis=1) if dims > 1 else columns[0]
        if dims == 3:
            values = values.reshape(len(values), 1, -1)
        pieces = list(serialise.result_csv_pieces(values))
        assert pieces_made_by_polars(pieces) == len(pieces) > 0
        assert serialise.result_csv(values) == rows_of(values)


@pytest.mark.slow
@given(columns_of("fc", 1, 2), st.booleans())
def test_labelled_csv_through_polars_is_python_text(polars, columns, lags):
    with writing_by_polars():
        named = {f"y{number}": column for number, column in enumerate(columns)}
        length = len(columns[0])
        lag = (np.arange(length) - length // 2,) if lags else None
        pieces = list(serialise.labelled_csv_pieces(named, lag))
        assert pieces_made_by_polars(pieces) >= 1
        positions = lag[0] if lag else np.arange(length)
        header = ",".join(["lag" if lags else "index", *named]) + "\n"
        assert (
            serialise.labelled_csv(named, lag)
            == header + python_bytes([positions, *columns]).decode()
        )


def test_two_dimensional_labelled_csv_through_polars_is_python_text(polars):
    with writing_by_polars():
        values = np.array(HARD_FLOATS[:24]).reshape(4, 6)
        other = _complex(values, -values)
        named = {"convolution": values, "correlation": other}
        pieces = list(serialise.labelled_csv_pieces(named))
        assert pieces_made_by_polars(pieces) >= 1
        rows, columns = np.meshgrid(np.arange(4), np.arange(6), indexing="ij")
        cells = [rows.reshape(-1), columns.reshape(-1), values.reshape(-1), other.reshape(-1)]
        expected = "row,col,convolution,correlation\n" + python_bytes(cells).decode()
        assert serialise.labelled_csv(named) == expected


def test_results_above_write_values_go_to_polars(monkeypatch, polars):
    monkeypatch.setattr(bulk, "WRITE_VALUES", 5000)
    monkeypatch.setattr(bulk, "_ONCE_IMPORTED", 1 << 40)  # as if polars were not imported yet
    small = list(serialise.csv_rows([np.arange(4999.0)]))
    large = list(serialise.csv_rows([np.arange(5000.0)]))
    assert pieces_made_by_polars(small) == 0 and pieces_made_by_polars(large) == 1
    assert serialise.result_csv(np.arange(5000.0)) == rows_of(np.arange(5000.0))


# ------------------------------------------------------------------- sinks that fail


class Refusing:
    """A sink that takes ``good`` pieces, then raises ``error``."""

    def __init__(self, error: BaseException, good: int = 0) -> None:
        self.error = error
        self.good = good
        self.pieces: list[bytes] = []

    def __call__(self, data: bytes) -> None:
        if len(self.pieces) >= self.good:
            raise self.error
        self.pieces.append(data)


@pytest.mark.parametrize(
    "error",
    [OutputError("disk full: out.csv"), BrokenPipeError(32, "Broken pipe"), KeyboardInterrupt()],
)
@pytest.mark.parametrize("good", [0, 1])
@pytest.mark.parametrize("kind", ["plain", "stand-ins", "text", "wide"])
def test_an_error_of_the_sink_comes_out_of_rows_as_it_was(polars, error, good, kind):
    values = np.arange(100_000) / 7  # a few pieces of polars' text
    if kind == "stand-ins":
        values[::1000] = 1e-07
    columns = [values, _complex(values, values)] if kind == "text" else [values]
    if kind == "wide":
        columns = [values[:4000]] * 70
    sink = Refusing(error, good)
    with pytest.raises(type(error)) as raised:
        bulk.Rows(polars, columns)(sink)
    assert raised.value is error
    written = b"".join(sink.pieces)
    assert python_csv(columns).encode().startswith(written)


# --------------------------------------------------------------------------- reading


@contextmanager
def reading(way: str) -> Iterator[list[int]]:
    """Read CSV by polars (bulk.READ_BYTES of 1), by Python's int() and float() (polars
    hidden), or by the careful reader alone; yields a list counting polars' reads."""
    calls: list[int] = []
    with pytest.MonkeyPatch.context() as patch:
        if way == "polars":
            patch.setattr(bulk, "READ_BYTES", 1)
            original = bulk.read_plain

            def counted(*args, **kwargs):
                calls.append(1)
                return original(*args, **kwargs)

            patch.setattr(bulk, "read_plain", counted)
        elif way == "python":
            patch.setattr(bulk, "polars_for", lambda size, threshold: None)
        else:
            patch.setattr(csv_format.CsvReader, "_fast", lambda self, data: None)
        yield calls


def read(
    data: bytes,
    way: str,
    delimiter: str | None = ",",
    column: str | None = None,
    decimal: str = ".",
):
    """(dtype, array, header) or the error message, of CSV bytes fed whole."""
    with reading(way) as calls:
        reader = csv_format.CsvReader(delimiter, column, "f.csv", decimal)
        try:
            values = np.concatenate([reader.feed(data), reader.finish()])
        except InputError as error:
            return str(error), calls
        return (values, reader.header, reader.rows, reader.lines), calls


def assert_read_alike(data: bytes, **options) -> bool:
    """polars, Python's plain reader and the careful reader give the same numbers (bit
    for bit, dtype too) or the same error; whether polars read any of it."""
    careful, _ = read(data, "careful", **options)
    for way in ("polars", "python"):
        got, calls = read(data, way, **options)
        if isinstance(careful, str):
            assert got == careful, way
        else:
            assert not isinstance(got, str), f"{way}: {got}"
            assert_identical(got[0], careful[0])
            if careful[0].dtype.kind in "fc":  # nan's sign bit too
                assert np.array_equal(got[0].view(np.uint64), careful[0].view(np.uint64))
            # header and rows; the lines read so far only if the text ends a line (a
            # piece without a last line break is the last: its count is never used)
            ends = data.endswith((b"\n", b"\r"))
            kept = 4 if ends else 3
            assert got[1:kept] == careful[1:kept], way
        if way == "polars":
            used = bool(calls)
    return used


def halfway(value: float) -> str:
    """The decimal exactly halfway between a float and the next one up."""
    with localcontext() as context:
        context.prec = 1200
        with np.errstate(over="ignore"):
            above = float(np.nextafter(value, math.inf))
        return str((Decimal(value) + Decimal(above)) / 2)


#: Cells every reader must read alike (or refuse alike).
SPELLINGS = [
    "-0",
    "+5",
    ".5",
    "5.",
    "1e5",
    "1E5",
    "-0.0",
    "0e0",
    "007",
    "+0",
    "-00",
    "nan",
    "NaN",
    "-nan",
    "+nan",
    "NAN",
    "inf",
    "-inf",
    "+inf",
    "Inf",
    "INF",
    "infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "4e-324",
    "2e-324",
    "1_000",
    "1.5_5",
    str(INT64_MAX),
    str(INT64_MIN),
    str(INT64_MAX + 1),
    str(INT64_MIN - 1),
    "1" * 30,
    "9" * 400,
    "0." + "3" * 800,
    "1" * 25 + "e-10",
    " 7",
    "8 ",
    " 2.5 ",
]
BAD = ["", "abc", "1.2.3", "0x10", "--1", "e5", "1e", ".", "-", "1,5", "\uff11\uff12", "2+3j", "1i"]


def cell_strategy(bad: bool, odd: bool) -> st.SearchStrategy[str]:
    """Cells of numbers polars reads; with ``odd`` spellings it may not; with ``bad`` errors."""
    cells = [
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.floats(allow_subnormal=True, max_value=1e-300, min_value=-1e-300).map(repr),
        st.floats(allow_nan=False, allow_infinity=False).map(halfway),
        st.floats(allow_nan=False, allow_infinity=False).map(lambda value: f"{value:.25e}"),
        st.integers(INT64_MIN, INT64_MAX).map(str),
        st.integers(2**53, 2**64).map(lambda value: f"{value}.0"),
    ]
    if odd:
        cells += [st.sampled_from(SPELLINGS), st.integers(-(2**80), 2**80).map(str)]
    if bad:
        cells.append(st.sampled_from(BAD))
    return st.one_of(cells)


@st.composite
def csv_text(
    draw, bad: bool = False, integers: bool = False
) -> tuple[bytes, dict[str, str | None]]:
    """CSV bytes of random cells in rows of one width, and the reader's options: headers,
    BOM, CRLF, blank and comment lines, trailing delimiters, quotes, decimal commas,
    FILE:COLUMN."""
    width = draw(st.integers(1, 5))
    length = draw(st.integers(1, 30))
    odd = draw(st.integers(0, 2)) == 0  # else files polars reads (bar the options)
    cell = st.integers(-(10**6), 10**6).map(str) if integers else cell_strategy(bad, odd)
    rows = [[draw(cell) for _ in range(width)] for _ in range(length)]
    if not bad:
        rows = [[text if text not in BAD else "1" for text in row] for row in rows]
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    # a cell holding the delimiter makes a ragged row, as an empty last cell (a trailing
    # delimiter) does where a column is chosen: test_a_ragged_row_* checks those
    rows = [[text if delimiter not in text else "x" for text in row] for row in rows]
    chosen = width > 1 and draw(st.booleans())
    if chosen:
        rows = [[text or "x" for text in row] for row in rows]
    int_column = draw(st.sampled_from([None, *range(width)]))
    if int_column is not None:
        for row in rows:
            row[int_column] = str(draw(st.integers(INT64_MIN, INT64_MAX)))
    decimal_comma = draw(st.booleans()) and not any(" " in text for row in rows for text in row)
    if decimal_comma:
        delimiter = ";"
        rows = [[text.replace(".", ",") for text in row] for row in rows]
    header = [f"h{number}" for number in range(width)] if draw(st.booleans()) else None
    if odd and draw(st.booleans()):  # a quote or two
        for _ in range(draw(st.integers(1, 2))):
            row = draw(st.integers(0, length - 1))
            rows[row][0] = '"' + rows[row][0] + '"'
    trailing = draw(st.integers(0, 4)) == 0  # delimiters ending some lines
    lines = [
        delimiter.join(row) + (delimiter if trailing and draw(st.booleans()) else "")
        for row in rows
    ]
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):  # blank and comment lines
        lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(["", "# note", "  "])))
    if header is not None:
        lines.insert(0, delimiter.join(header))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(lines) + draw(st.sampled_from(["", end, end + end]))
    data = text.encode()
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    column = None
    if chosen:
        chosen = int_column if int_column is not None else draw(st.integers(0, width - 1))
        column = header[chosen] if header is not None and draw(st.booleans()) else str(chosen + 1)
    options = {"delimiter": delimiter, "column": column, "decimal": "," if decimal_comma else "."}
    return data, options


@given(csv_text())
def test_polars_reads_random_csv_as_the_careful_reader(polars, text_and_options):
    data, options = text_and_options
    assert_read_alike(data, **options)


@given(csv_text(bad=True))
def test_bad_cells_get_the_careful_readers_error_whoever_reads(polars, text_and_options):
    data, options = text_and_options
    assert_read_alike(data, **options)


@given(csv_text(integers=True))
def test_polars_reads_integers_as_the_careful_reader(polars, text_and_options):
    data, options = text_and_options
    assert_read_alike(data, **options)


@pytest.mark.parametrize("cell", SPELLINGS + BAD)
@pytest.mark.parametrize("among", ["2.5", "3", "nan"])
def test_each_spelling_reads_alike_whoever_reads(polars, cell, among):
    data = f"x,y\n{among},1.5\n{cell},2\n{among},-3\n".encode()
    assert_read_alike(data)
    if "," not in cell:  # else a ragged row: test_a_ragged_row_is_refused_when_a_column_is_chosen
        assert_read_alike(data, column="x")
    assert_read_alike(f"{among}\n{cell}\n{among}\n".encode())


@pytest.mark.parametrize(
    "data",
    [
        b"1.5,2\n3,4,5\n",
        b"1.5,2\n3\n",
        b"1,2\n3,4,5\n",
        b"x,y\n2.5,1.5\n1,5,2\n2.5,-3\n",
        b"1.5,2,3\n4,5,\n",  # an empty last cell: a trailing delimiter, so 2 cells
    ],
)
def test_a_ragged_row_is_refused_when_a_column_is_chosen(polars, data):
    careful, _ = read(data, "careful", column="1")
    assert isinstance(careful, str) and "rows must all be the same length" in careful
    assert read(data, "polars", column="1")[0] == careful


def test_polars_reads_plain_csv(polars):
    """The comparisons above are not empty: polars does read plain files."""
    values = np.arange(1000) / 7
    data = python_csv([values, -values]).encode()
    assert assert_read_alike(data)
    assert assert_read_alike(b"x,y\n" + data, column="y")
    assert assert_read_alike(python_csv([np.arange(1000)]).encode())


@pytest.mark.parametrize("number", [INT64_MAX + 1, INT64_MIN - 1, 2**64, 10**20, -(10**30)])
@pytest.mark.parametrize("among", ["decimals", "integers", "a column"])
def test_integers_beyond_int64_are_refused_never_wrapped_or_rounded(polars, number, among):
    rows = (
        [["1.5", "2"], ["3", "4"], [str(number), "5"]]
        if among == "decimals"
        else [["1", "2"], [str(number), "5"]]
    )
    if among == "a column":
        rows = [["1", "2.5"], ["2", "nan"], [str(number), "1e3"]]
    data = ("\n".join(",".join(row) for row in rows) + "\n").encode()
    careful, _ = read(data, "careful", column="1" if among == "a column" else None)
    assert isinstance(careful, str) and "does not fit in a 64-bit integer" in careful
    assert_read_alike(data, column="1" if among == "a column" else None)


def test_an_integer_column_among_float_columns_keeps_int64(polars):
    data = b"a,b,c\n" + b"".join(b"%d,%r,nan\n" % (n * 10**15, n / 3) for n in range(-500, 500))
    for column, kind in (("a", "i"), ("b", "f"), ("c", "f")):
        got, calls = read(data, "polars", column=column)
        assert calls and got[0].dtype.kind == kind
        assert_read_alike(data, column=column)


@pytest.mark.parametrize(
    "data",
    [
        b"1,2\r\n3,4\r\n",
        b"\xef\xbb\xbf1.5,2\r\n3,4\r\n\r\n",
        b"x;y\n1,5;2\n3;-0,0\n",
        b"1,2,\n3,4,\n",
        b"1,2\n\n3,4\n# a note\n5,6\n",
        b"1,2\n3\n",
        b"1,2\n3,\n",
        b"1,2\n,3\n",
        b"1.5,2\n3,4,5\n",
        b"1.5,2\r3,4\n",
        b'1.5,"2"\n3,4\n',
        b"1.5 ,2\n 3, 4\n",
        b"1.5,2\n3,x\n",
        b"1.5,2\n3,1e400\n",
    ],
)
def test_odd_files_read_alike_whoever_reads(polars, data):
    decimal = "," if b";" in data else "."
    assert_read_alike(data, delimiter=";" if decimal == "," else ",", decimal=decimal)


def test_halfway_integers_among_decimals_read_alike(polars):
    # integers halfway between two floats in [2**53, 2**63), and their neighbours
    rng = np.random.default_rng(4)
    floats = np.ldexp(rng.uniform(1, 2, 500), rng.integers(53, 63, 500)).round()
    integers = []
    for value in floats.tolist():
        middle = int(value) + int(math.ulp(value)) // 2
        integers += [middle - 1, middle, middle + 1]
    cells = ["0.5"] + [str(i) for i in integers] + [f"{i}.0" for i in integers[:300]]
    cells += [f"{str(i)[0]}.{str(i)[1:]}e{len(str(i)) - 1}" for i in integers[:300]]
    assert assert_read_alike(("\n".join(cells) + "\n").encode())


@pytest.mark.parametrize(
    "fmt", ["{!r}", "{:.17g}", "{:.18e}", "{:.6e}", "{:.1E}", "{:.3f}", "{:.16f}"]
)
def test_common_formats_read_alike(polars, fmt):
    rng = np.random.default_rng(3)
    values = rng.standard_normal(3000) * 10.0 ** rng.integers(-250, 250, 3000)
    if "f}" in fmt:
        values = rng.standard_normal(3000) * 10.0 ** rng.integers(-3, 4, 3000)
    cells = [fmt.format(value) for value in values.tolist()]
    assert assert_read_alike(("\n".join(cells) + "\n").encode())


def test_written_text_reads_back_to_the_same_bits(polars):
    values = np.concatenate([powers_and_neighbours(), np.array(HARD_FLOATS)])
    data = bulk.write_columns(polars, [values])
    got, calls = read(data, "polars")
    assert calls
    assert np.array_equal(got[0].view(np.uint64), values.view(np.uint64))


# ------------------------------------------------------------------------- fallbacks


@contextmanager
def polars_as(
    found: Callable[[], ModuleType | None] | None = None, probe: bool | None = None
) -> Iterator[None]:
    """bulk with polars missing (``found``) or failing its probe, caches cleared before and after."""
    usable, writes_text = bulk._usable_polars, bulk._writes_text_as_python
    with pytest.MonkeyPatch.context() as patch:
        usable.cache_clear()
        writes_text.cache_clear()
        if found is not None:
            patch.setattr(bulk, "_usable_polars", found)
        if probe is not None:
            patch.setattr(bulk, "_passes_probe", lambda polars: probe)
            patch.setattr(bulk, "_writes_text_as_python", lambda polars: probe)
        patch.setattr(bulk, "READ_BYTES", 1)
        patch.setattr(bulk, "WRITE_VALUES", 1)
        try:
            yield
        finally:
            usable.cache_clear()
            writes_text.cache_clear()


FALLBACKS = {"missing": {"found": lambda: None}, "failing its probe": {"probe": False}}


@pytest.mark.parametrize("fallback", FALLBACKS)
def test_without_usable_polars_the_same_bytes_are_written(polars, fallback):
    values = np.concatenate([np.array(HARD_FLOATS), np.arange(2000) / 3])
    results = [
        values,
        np.arange(-1000, 1000),
        _complex(values, values[::-1]),
        np.stack([values] * 70, axis=1),
    ]
    with polars_as(lambda: polars):
        made = [serialise.result_csv(result) for result in results]
        assert all(
            pieces_made_by_polars(list(serialise.result_csv_pieces(result))) for result in results
        )
    with polars_as(**FALLBACKS[fallback]):
        assert bulk._usable_polars() is None
        for result, text in zip(results, made):
            assert pieces_made_by_polars(list(serialise.result_csv_pieces(result))) == 0
            assert serialise.result_csv(result) == text == rows_of(result)
    assert bulk._usable_polars() is polars


def test_a_polars_that_writes_text_otherwise_sends_text_columns_to_python(polars):
    values = np.arange(2000) / 3
    columns = [values, _complex(values, -values)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "_writes_text_as_python", lambda polars: False)
        assert bulk.write_columns(polars, columns) == python_bytes(columns)


@pytest.mark.parametrize("fallback", FALLBACKS)
def test_without_usable_polars_the_same_numbers_are_read(polars, fallback):
    values = np.concatenate([np.array(HARD_FLOATS), np.arange(2000) / 3])
    files = [
        python_csv([values, -values]).encode(),
        python_csv([np.arange(-1000, 1000)]).encode(),
        b"x,y\n" + python_csv([np.arange(100), values[:100]]).encode(),
    ]
    with polars_as(lambda: polars):
        made = [read(data, "polars")[0] for data in files]
    with polars_as(**FALLBACKS[fallback]):
        for data, (expected, *_) in zip(files, made):
            reader = csv_format.CsvReader(",", None, "f.csv")
            got = np.concatenate([reader.feed(data), reader.finish()])
            assert_identical(got, expected)
            careful, _ = read(data, "careful")
            assert_identical(got, careful[0])


def test_the_probe_passes_and_refuses(polars):
    assert bulk._passes_probe(polars)
    assert bulk._writes_text_as_python(polars)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "_STAND_IN", 1.0)  # a float every column holds: a wrong respelling
        patch.setattr(bulk, "_respelled", lambda values: np.zeros(len(values), bool))
        assert not bulk._passes_probe(polars)


@pytest.mark.slow
@pytest.mark.parametrize("width", [1, 2, 66])
def test_stand_ins_across_many_pieces_of_polars_text(polars, width):
    """Stand-ins replaced in every piece polars writes (about half a megabyte each), a
    line and a stand-in cut between two pieces among them."""
    rng = np.random.default_rng(width)
    values = rng.standard_normal(300_000) * 10.0 ** rng.integers(-3, 12, 300_000)
    where = rng.choice(len(values), len(values) // 100, replace=False)
    values[where] = rng.choice([1e-05, -2.5e-07, math.nan, 9.999999999999999e-05], len(where))
    columns = [np.roll(values, number)[: len(values) // width] for number in range(width)]
    pieces: list[bytes] = []
    bulk.Rows(polars, columns)(pieces.append)
    assert len(pieces) > 3
    assert b"".join(pieces) == python_bytes(columns)


@pytest.mark.parametrize("column", [None, "1", "70"])
@pytest.mark.parametrize("odd", ["", "-0", "nan", "1e400", str(INT64_MAX + 1), "x", "1.5,2"])
def test_rows_wider_than_polars_takes_read_alike(polars, column, odd):
    """Rows of more than bulk.WIDE cells are read by Python, as the careful reader reads them."""
    rng = np.random.default_rng(70)
    table = rng.standard_normal((50, 70)) * 10.0 ** rng.integers(-8, 8, (50, 70))
    cells = [[repr(value) for value in row] for row in table.tolist()]
    cells[10] = [str(number) for number in range(70)]
    for row in cells:
        row[0] = str(int(rng.integers(-(10**9), 10**9)))
    if odd:
        cells[20][0] = cells[30][69] = odd
    data = "".join(",".join(row) + "\n" for row in cells).encode()
    assert_read_alike(data, column=column)


def test_tab_separated_cells_are_read_by_polars(polars):
    """Tabs that separate cells are not blanks around them: polars reads such a file."""
    values = np.random.default_rng(5).standard_normal((300, 3))
    data = "".join("\t".join(map(repr, row)) + "\n" for row in values.tolist()).encode()
    assert assert_read_alike(data, delimiter="\t")
    assert assert_read_alike(data.replace(b"\t", b" \t "), delimiter="\t")


@pytest.mark.parametrize("column", ["1", "3"])
def test_a_quote_in_a_column_not_chosen_reads_as_the_careful_reader_reads_it(polars, column):
    """A quote never closed runs on past its line, whichever column is asked for."""
    assert_read_alike(b'1,2,3\n4,5,"6\n7,8,9\n', column=column)
    assert_read_alike(b'1,2,3\n4,5,"6,7"\n7,8,9\n' * 50, column=column)


def test_a_comment_in_a_large_piece_leaves_the_careful_reader_a_small_piece(polars, monkeypatch):
    """A piece the fast reader refuses is read in halves: the careful reader reads only a
    small piece around a comment or a blank line, and the numbers are its own."""
    rows = [
        f"{a!r},{b!r}" for a, b in np.random.default_rng(6).standard_normal((60_000, 2)).tolist()
    ]
    rows[20_000:20_000] = ["# a comment", ""]
    data = ("\n".join(rows) + "\n").encode()
    careful_lengths: list[int] = []
    original = csv_format.CsvReader._careful

    def careful(self, piece: bytes, final: bool = False) -> np.ndarray:
        careful_lengths.append(len(piece))
        return original(self, piece, final)

    monkeypatch.setattr(csv_format.CsvReader, "_careful", careful)
    reader = csv_format.CsvReader(",", "2", "f.csv")
    values = np.concatenate([reader.feed(data), reader.finish()])
    monkeypatch.setattr(csv_format.CsvReader, "_careful", original)
    assert max(careful_lengths) <= csv_format._HALVED
    expected, _ = read(data, "careful", column="2")
    assert_identical(values, expected[0])
