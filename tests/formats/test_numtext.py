"""Tests for the fast CSV path, .npy files and streaming (convcli.formats.numtext and convcli.formats.io).

Every fast result is checked against an independent reference: Python's own
``repr``/``float``/``int`` (through io.format_number and the careful cell
reader), ``numpy.loadtxt`` and ``numpy.load``. Hand-picked hard values
(subnormals, powers of two and ten, halfway cases) come first, then random
ones; CSV files are also read with tiny chunks so that every rule is crossed
by a chunk boundary.
"""

from __future__ import annotations

import io
import math
import struct
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli.cli.main import cli
from convcli.engine.core import compare
from convcli.errors import InputError
from convcli.formats import io as cio
from convcli.formats import numtext
from tests.examples import EDGE_FLOATS, assert_identical

INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
ALL_FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)


# --------------------------------------------------------------------------- helpers


def reference_cells(values: np.ndarray, width: int = 1) -> bytes:
    """CSV text written one value at a time with format_number (Python's repr)."""
    cells = [cio.format_number(value) for value in values.reshape(-1).tolist()]
    return "".join(
        cell + ("\n" if (i + 1) % width == 0 else ",") for i, cell in enumerate(cells)
    ).encode()


def bits(values: np.ndarray) -> np.ndarray:
    """The bit patterns of a float64 array, so -0.0 and 0.0 (and nan payloads) differ."""
    return np.ascontiguousarray(values, np.float64).view(np.uint64)


def careful(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make io read every CSV with the careful cell-by-cell reader only."""
    monkeypatch.setattr(cio._CsvReader, "_fast", lambda self, data: None)


def python_cell(token: str) -> int | float | None:
    """What the careful reader gives for a cell: int() if it takes it (and it fits int64),
    else float(); None where it is an error or not an int or float."""
    try:
        value = int(token)
        return value if INT64_MIN <= value <= INT64_MAX else None
    except ValueError:
        pass
    try:
        value = float(token)
    except ValueError:
        return None
    return None if math.isinf(value) and "inf" not in token.lower() else value


def parse_tokens(tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """numtext.parse_cells over tokens joined by commas."""
    data = ",".join(tokens).encode()
    lengths = np.array([len(token) for token in tokens], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
    return numtext.parse_cells(data, starts, starts + lengths)


def assert_parsed_like_python(tokens: list[str]) -> np.ndarray:
    """Check parse_cells against int()/float() on every cell it read; returns what it left."""
    values, left = parse_tokens(tokens)
    read = np.ones(len(tokens), bool)
    read[left] = False
    expected = [python_cell(token) for token in tokens]
    for i in np.flatnonzero(read):
        assert expected[i] is not None, f"read {tokens[i]!r}, which Python refuses"
        if values.dtype == np.int64:
            assert isinstance(expected[i], int), tokens[i]
            assert values[i] == expected[i], tokens[i]
        else:
            got, want = float(values[i]), float(expected[i])
            assert struct.pack("<d", got) == struct.pack("<d", want) or (
                math.isnan(got) and math.isnan(want)
            ), (tokens[i], got, want)
    return left


#: EDGE_FLOATS and more: the ends of the fast formatter's range, and halfway cases.
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
]


def powers_and_neighbours() -> np.ndarray:
    """Powers of two and ten and the floats next to them: where the shortest text is hardest."""
    powers = np.concatenate([np.ldexp(1.0, np.arange(-1074, 1024)), 10.0 ** np.arange(-323, 309)])
    powers = powers[np.isfinite(powers) & (powers > 0)]
    return np.concatenate([powers, np.nextafter(powers, 0), np.nextafter(powers, np.inf), -powers])


# --------------------------------------------------------------------------- writing


def test_format_cells_hard_values():
    values = np.array(HARD_FLOATS * 3)  # more than io._SMALL_ARRAY, so blocks are formatted
    assert numtext.format_cells(values, 1) == reference_cells(values)


def test_format_cells_powers_and_their_neighbours():
    values = powers_and_neighbours()
    assert numtext.format_cells(values, 1) == reference_cells(values)


@pytest.mark.parametrize("seed", range(3))
def test_format_cells_random_bit_patterns(seed):
    # every float64 is equally likely: all exponents, subnormals, nan and inf
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2**64, 100_000, dtype=np.uint64).view(np.float64)
    assert numtext.format_cells(values, 1) == reference_cells(values)


@pytest.mark.parametrize("seed", range(3))
def test_format_cells_data_like_values(seed):
    # measurements: few digits, integral values, one scale, many scales
    rng = np.random.default_rng(seed)
    normal = rng.standard_normal(50_000)
    values = np.concatenate(
        [
            normal,
            np.round(normal * 1000, 3),
            np.round(normal * 1e6),
            normal * 10.0 ** rng.integers(-30, 30, 50_000),
        ]
    )
    assert numtext.format_cells(values, 1) == reference_cells(values)


def test_format_cells_halfway_cases_go_to_python():
    # x = odd / 2**16 in [8, 10) lies exactly halfway between two 16-digit texts
    odd = np.arange(2**19 + 1, 2**19 + 20_001, 2, dtype=np.float64)
    values = odd / 2**16
    assert numtext.format_cells(values, 1) == reference_cells(values)


@given(st.lists(ALL_FLOATS, min_size=cio._SMALL_ARRAY, max_size=300))
def test_format_cells_any_floats(values):
    array = np.array(values, dtype=np.float64)
    assert numtext.format_cells(array, 1) == reference_cells(array)


@given(st.lists(st.integers(INT64_MIN, INT64_MAX), min_size=1, max_size=300))
def test_format_cells_any_int64(values):
    array = np.array([*values, INT64_MIN, INT64_MAX, 0, -1], dtype=np.int64)
    assert numtext.format_cells(array, 1) == reference_cells(array)


@given(st.lists(st.builds(complex, ALL_FLOATS, ALL_FLOATS), min_size=1, max_size=200))
def test_format_cells_any_complex(values):
    array = np.array(values, dtype=np.complex128)
    assert numtext.format_cells(array, 1) == reference_cells(array)


@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 7)), elements=ALL_FLOATS)
)
def test_format_cells_rows(array):
    width = array.shape[1]
    assert numtext.format_cells(array.reshape(-1), width) == reference_cells(array, width)


def test_format_cells_rows_across_blocks():
    values = np.random.default_rng(7).standard_normal(5 * 40_000)  # three blocks and a bit
    assert numtext.format_cells(values, 5) == reference_cells(values, 5)


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
    expected = "".join(",".join(map(cio.format_number, row)) + "\n" for row in rows)
    assert cio.result_csv(values) == expected


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
    # what --stream relies on: blocks on either side of io._SMALL_ARRAY, and empty ones
    edges = sorted({0, len(values), *[min(cut, len(values)) for cut in cuts]})
    blocks = [values[a:b] for a, b in pairwise(edges)] + [values[:0]]
    assert "".join(cio.result_csv(block) for block in blocks) == cio.result_csv(values)


def test_result_csv_pieces_are_whole_rows_that_join_to_result_csv(monkeypatch):
    monkeypatch.setattr(cio, "CSV_PIECE_VALUES", 1000)  # several pieces from a small array
    values = np.random.default_rng(3).standard_normal((700, 7))
    pieces = list(cio.result_csv_pieces(values))
    assert len(pieces) == 5  # 142 rows (994 values) a piece
    assert all(piece.endswith(b"\n") and piece.count(b"\n") <= 142 for piece in pieces)
    assert b"".join(pieces).decode("ascii") == cio.result_csv(values)
    rows = values.tolist()
    assert cio.result_csv(values) == "".join(",".join(map(repr, row)) + "\n" for row in rows)


def test_result_csv_big_python_integers():
    values = np.array([2**70, -(2**64), 3] * 30, dtype=object)
    assert cio.result_csv(values) == "".join(f"{v}\n" for v in values.tolist())


# --------------------------------------------------------------------------- parsing cells


def test_parse_cells_hand_worked():
    values, left = parse_tokens(["12", "-0.5", "1e3", "nan", "+.5", "5.", "-0"])
    assert values.dtype == np.float64
    assert left.tolist() == [3]  # nan is left to Python
    assert values[[0, 1, 2, 4, 5]].tolist() == [12.0, -0.5, 1000.0, 0.5, 5.0]
    assert bits(values[6:7])[0] == 0  # "-0" is int("-0") == 0, so +0.0


def test_parse_cells_integers_stay_integers():
    tokens = ["0", "-7", "+3", "007", str(INT64_MAX), str(INT64_MIN)]
    values, left = parse_tokens(tokens)
    assert values.dtype == np.int64
    assert left.tolist() == []
    assert values.tolist() == [int(token) for token in tokens]


@pytest.mark.parametrize(
    "token",
    [
        "",
        "-",
        "+",
        ".",
        "e5",
        "1e",
        "1e+",
        "--1",
        "+-1",
        "1-",
        "1.2.3",
        "1e5.5",
        "1ee5",
        "0x10",
        "1_000",
        " 1",
        "1 ",
        "inf",
        "nan",
        "1,5",
        "1e5e5",
        str(INT64_MAX + 1),
        str(INT64_MIN - 1),
        "1" * 40,
        "1e400",
        "1e-400",
    ],
)
def test_parse_cells_leaves_what_it_does_not_read_exactly(token):
    left = assert_parsed_like_python(["1.5", token, "2"])
    assert left.tolist() == [1]


@pytest.mark.parametrize(
    ("fmt", "scales"),
    [
        ("{!r}", 250),
        ("{:.17g}", 250),
        ("{:.18e}", 250),
        ("{:.6e}", 250),
        ("{:.1E}", 250),
        ("{:.3f}", 3),
        ("{:.0f}", 5),
        ("{:.16f}", 0),
    ],
)
def test_parse_cells_reads_common_formats_exactly(fmt, scales):
    rng = np.random.default_rng(3)
    values = rng.standard_normal(20_000) * 10.0 ** rng.integers(-scales, scales + 1, 20_000)
    tokens = [fmt.format(value) for value in values.tolist()]
    left = assert_parsed_like_python(tokens)
    assert len(left) <= len(tokens) // 1000  # nearly all read without Python


def test_parse_cells_halfway_between_floats():
    # integers exactly halfway between two floats in [2**53, 2**63), and their neighbours;
    # "0.5" makes every cell a float
    rng = np.random.default_rng(4)
    floats = np.ldexp(rng.uniform(1, 2, 2000), rng.integers(53, 63, 2000)).round()
    integers = []
    for value in floats.tolist():
        middle = int(value) + int(math.ulp(value)) // 2
        integers += [middle - 1, middle, middle + 1]
    tokens = ["0.5"] + [str(i) for i in integers] + [f"{i}.0" for i in integers[:300]]
    tokens += [f"{str(i)[0]}.{str(i)[1:]}e{len(str(i)) - 1}" for i in integers[:300]]
    assert_parsed_like_python(tokens)


@given(
    st.builds(
        lambda sign, whole, point, fraction, e, e_sign, exponent: (
            sign
            + whole
            + (point + fraction if point else "")
            + (e + e_sign + exponent if e else "")
        ),
        st.sampled_from(["", "-", "+"]),
        st.text("0123456789", max_size=21),
        st.sampled_from(["", "."]),
        st.text("0123456789", max_size=21),
        st.sampled_from(["", "e", "E"]),
        st.sampled_from(["", "-", "+"]),
        st.text("0123456789", max_size=4),
    )
    | st.text("0123456789.eE+-", max_size=10)
)
def test_parse_cells_any_token(token):
    assert_parsed_like_python([token, "1", token, "-2.5", token])


# --------------------------------------------------------------------------- reading files


def write(directory: Path, name: str, content: str | bytes) -> str:
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


@pytest.fixture(params=[None, 64], ids=["whole", "tiny-chunks"])
def chunked(request, monkeypatch):
    """Read whole files at once, or in chunks of about 64 bytes (every rule crosses a chunk)."""
    if request.param is not None:
        monkeypatch.setattr(cio, "_CHUNK", request.param)
    return request.param


def big_floats(seed: int = 0, n: int = 5000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)


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
    fast = [cio.read_array(path)]
    if "," in text:
        fast.append(cio.read_array(f"{path}:2"))
    with monkeypatch.context() as patch:
        careful(patch)
        slow = [cio.read_array(path)] + ([cio.read_array(f"{path}:2")] if "," in text else [])
    for actual, expected in zip(fast, slow):
        assert_identical(actual, expected)


@pytest.mark.parametrize("delimiter", ["\t", ";", "|", " ", None])
def test_fast_reader_delimiters(tmp_path, monkeypatch, chunked, delimiter):
    sep = "\t" if delimiter is None else delimiter
    table = np.arange(3000, dtype=np.int64).reshape(1000, 3) - 1500
    text = "".join(sep.join(map(str, row)) + "\n" for row in table.tolist())
    path = write(tmp_path, "f.txt", text)
    assert_identical(cio.read_array(path, delimiter=delimiter), table)
    column = write(tmp_path, "c.txt", "\n".join(map(repr, big_floats(5).tolist())))
    assert_identical(cio.read_array(column, delimiter=delimiter), big_floats(5))


def test_fast_reader_against_loadtxt(tmp_path):
    values = np.random.default_rng(6).standard_normal((20_000, 2))
    path = tmp_path / "f.csv"
    np.savetxt(path, values, delimiter=",")  # %.18e
    assert_identical(cio.read_array(str(path)), np.loadtxt(path, delimiter=","))
    np.savetxt(path, values[:, 0], fmt="%.17g")
    assert_identical(cio.read_array(str(path)), np.loadtxt(path))


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
        cio.read_array(path)
    assert "bad.csv" in str(caught.value)


def test_only_a_header_and_nothing_in_tiny_chunks(tmp_path, chunked):
    with pytest.raises(InputError, match="header but no rows"):
        cio.read_array(write(tmp_path, "h.csv", "# a\n# b\ntime,value\n\n# c\n"))
    with pytest.raises(InputError, match="has no numbers"):
        cio.read_array(write(tmp_path, "e.csv", "\n# only\n\n" * 20))


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
    values = cio.read_array(str(path))
    assert values.dtype == expected.dtype
    assert values.shape == expected.shape
    assert np.array_equal(values, expected)


def test_read_npy_from_stdin_and_a_name_without_npy(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.array([[1.5, 2.0], [3.0, 4.0]]))
    stdin = io.BytesIO(buffer.getvalue())
    assert_identical(cio.read_array("-", stdin=stdin), np.array([[1.5, 2.0], [3.0, 4.0]]))
    assert_identical(
        cio.read_array(write(tmp_path, "data.bin", buffer.getvalue())),
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
        cio.read_array(str(path), role="kernel")
    assert "\n" not in str(caught.value)
    assert "bad.npy" in str(caught.value)


def test_npy_has_no_columns(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(3))
    with pytest.raises(InputError, match="no named columns"):
        cio.read_array(f"{tmp_path / 'a.npy'}:1")


@pytest.mark.parametrize(
    "values",
    [np.arange(6).reshape(2, 3), np.linspace(-1, 1, 7), np.array([[1 + 1j]]), np.zeros((2, 1, 3))],
)
def test_result_npy_round_trip(values):
    back = np.load(io.BytesIO(cio.result_npy(values)))
    assert_identical(back, values)


def test_result_npy_exact_python_integers():
    fits = np.array([2**62, -(2**62)], dtype=object)
    assert_identical(np.load(io.BytesIO(cio.result_npy(fits))), np.array([2**62, -(2**62)]))
    with pytest.raises(InputError, match=r"beyond 64 bits.*CSV"):
        cio.result_npy(np.array([2**63, 1], dtype=object))


def test_comparison_npy_stacks_convolution_then_correlation():
    comparison = compare([[1, 2, 3], [4, 5, 6]], [[1, -1]])
    stacked = np.load(io.BytesIO(cio.comparison_npy(comparison)))
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
    assert cio.choose_format(requested, output, interactive) == expected


def test_npy_is_refused_on_a_terminal():
    with pytest.raises(InputError, match=r"binary.*-o FILE\.npy"):
        cio.choose_format("npy", None, interactive=True)


def test_cli_writes_npy_files(tmp_path):
    runner = CliRunner()
    out = tmp_path / "out.npy"
    result = runner.invoke(cli, ["conv", "1,2,3,4", "1,-1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert_identical(np.load(out), np.array([1, 1, 1]))
    result = runner.invoke(cli, ["compare", "1,2,3,4", "1,-1", "--format", "npy"])
    assert result.exit_code == 0
    stacked = np.load(io.BytesIO(result.stdout_bytes))
    assert stacked.tolist() == [[1, 1, 1], [-1, -1, -1]]
    result = runner.invoke(cli, ["explain", "1,2,3", "1,1", "-o", str(tmp_path / "x.npy")])
    assert result.exit_code == 2
    assert "cannot write NPY" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npy"]


# --------------------------------------------------------------------------- streaming


def blocks_of(source: str, block_size: int, stdin: io.BytesIO | None = None) -> list:
    return list(cio.iter_signal_blocks(source, block_size, stdin=stdin))


@given(
    st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=300)
    | st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=300),
    st.integers(1, 50),
    st.sampled_from(["", "value\n", "# note\n\nvalue\n", "\ufeffv\r\n"]),
)
def test_stream_blocks_joined_are_read_array(values, block_size, head):
    text = (head + "".join(f"{cio.format_number(v)}\n" for v in values)).encode()
    blocks = blocks_of("-", block_size, io.BytesIO(text))
    joined = np.concatenate([block for block, _ in blocks])
    assert_identical(joined, cio.read_array("-", stdin=io.BytesIO(text)))
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
    stream = cio.iter_signal_blocks(path, 100)
    first, _ = next(stream)
    assert first.dtype == np.int64
    with pytest.raises(InputError, match=r"f\.csv, line 5002: 2\.5 is a decimal.*integers"):
        list(stream)


def test_stream_integers_after_decimals_become_floats():
    text = b"0.5\n" + b"7\n" * 3000
    blocks = blocks_of("-", 10, io.BytesIO(text))
    assert {block.dtype for block, _ in blocks} == {np.dtype(np.float64)}
    assert_identical(np.concatenate([b for b, _ in blocks]), np.array([0.5] + [7.0] * 3000))


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
    with cio.output_sink(str(target)) as write_piece:
        write_piece("1\n")
        assert not target.exists()  # still a temporary file
        write_piece(b"2\n")
    assert target.read_bytes() == b"1\n2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_output_sink_error_leaves_nothing(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    with pytest.raises(InputError, match="bad block"), cio.output_sink(str(target)) as write_piece:
        write_piece("1\n")
        raise InputError("bad block")
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_output_sink_stdout(capsysbinary):
    with cio.output_sink(None) as write_piece:
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
    monkeypatch.setattr(cio.sys, "stdout", ClosedPipe())
    monkeypatch.setattr(cio, "discard_stdout", lambda: discarded.append(True))
    written = []
    with cio.output_sink(None) as write_piece:
        for piece in ("1\n", "2\n"):
            write_piece(piece)
            written.append(piece)
    assert written == [] and discarded == [True]


def test_output_sink_other_broken_pipes_are_not_swallowed(capsys):
    with pytest.raises(BrokenPipeError), cio.output_sink(None):
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
    if not cio._is_number(records[0][0].strip()):
        header = [cell.strip() for cell in records.pop(0)]
    cells = [cell.strip() for row in records for cell in row]
    return header, cio.parse_numbers(cells, [(0, 0)] * len(cells))


@given(quoted_csv(), st.sampled_from([None, 7]))
def test_quoted_csv_reads_as_the_csv_module_reads_it(tmp_path_factory, written, chunk):
    """Every reader (fast, careful, in tiny chunks, and --stream's in blocks) splits quoted
    cells as Python's csv module does, in the header and the rows; a header of another
    width than the rows is an error naming both widths."""
    text, delimiter, header_excess = written
    path = write(tmp_path_factory.mktemp("quoted"), "q.csv", text)
    with pytest.MonkeyPatch.context() as patch:
        if chunk:
            patch.setattr(cio, "_CHUNK", chunk)
        if header_excess:
            with pytest.raises(InputError, match=r"\(the header\) has \d+ name\(s\) but line"):
                cio.read_array(path, delimiter=delimiter)
            return
        header, values = csv_module_reading(text, delimiter)
        width = len(header) if header else None
        whole = cio.read_array(path, delimiter=delimiter)
        rows = len(values) // (width or len(values) or 1) if width else None
        expected = values if whole.ndim == 1 else values.reshape(-1, whole.shape[1])
        assert_identical(whole, expected)
        if header:
            for index, name in enumerate(header):
                if header.index(name) == index and ":" not in name:
                    column = values.reshape(-1, len(header))[:, index]
                    read = cio.read_array(f"{path}:{name}", delimiter=delimiter)
                    assert_identical(read, column.astype(read.dtype))
                    if rows:
                        blocks = cio.iter_signal_blocks(f"{path}:{name}", 1, delimiter=delimiter)
                        streamed = np.concatenate([block for block, _ in blocks])
                        assert np.array_equal(streamed, column)
        careful(patch)
        assert_identical(cio.read_array(path, delimiter=delimiter), whole)


@pytest.mark.parametrize("chunk", [None, 64])
@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_header_wider_or_narrower_than_the_rows_is_one_error(
    tmp_path, monkeypatch, chunk, quoted
):
    """On the fast path and the careful one (a quote sends a file there), whole or by column:
    one line naming both widths, never an IndexError or a wrong column."""
    if chunk:
        monkeypatch.setattr(cio, "_CHUNK", chunk)
    for header, width in (("a,b,c", 3), ("a", 1)):
        row = '"1",2' if quoted else "1,2"
        path = write(tmp_path, "wide.csv", f"{header}\n" + f"{row}\n" * 50)
        for source in (path, f"{path}:a", f"{path}:2"):
            with pytest.raises(InputError) as caught:
                cio.read_array(source)
            assert str(caught.value) == (
                f"{path}, line 1 (the header) has {width} name(s) but line 2 has 2 value(s) "
                "(give one name per column)"
            )


@pytest.mark.parametrize("size", [10, 5000])
def test_a_quoted_header_cell_holding_the_delimiter_is_one_column(tmp_path, size):
    path = write(tmp_path, "q.csv", '"a,b",c\n' + "".join(f"{i},{-i}\n" for i in range(size)))
    assert_identical(cio.read_array(f"{path}:c"), -np.arange(size))
    assert_identical(cio.read_array(f"{path}:a,b"), np.arange(size))


def test_a_quoted_line_break_crosses_a_chunk(tmp_path, monkeypatch):
    """A quoted cell holding a line break, where a chunk of the file ends inside it."""
    monkeypatch.setattr(cio, "_CHUNK", 3)
    path = write(tmp_path, "q.csv", '"time\n(s)",value\n1,"2"\n"3\n",4\n')
    assert_identical(cio.read_array(f"{path}:value"), np.array([2, 4]))
    assert_identical(cio.read_array(path), np.array([[1, 2], [3, 4]]))
    with pytest.raises(InputError, match=r"line 6, column 1: 'x' is not a number"):
        cio.read_array(write(tmp_path, "r.csv", '"time\n(s)",value\n1,"2"\n"3\n",4\nx,1\n'))


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
        "inline": lambda: cio.read_array(f"1.5,{literal}"),
        "brackets": lambda: cio.read_array(f"[1.5, {literal}]"),
        "matrix": lambda: cio.read_array(f"[[1.5], [{literal}]]").ravel(),
    }
    files = {
        "file": "1.5\n" + literal + "\n",
        "long file": "1.5\n" * 20_000 + literal + "\n",
        "quoted file": f'1.5\n"{literal}"\n',
    }
    for name, text in files.items():
        path = write(tmp_path, f"{name.replace(' ', '-')}.csv", text)
        readers[name] = lambda path=path: cio.read_array(path)
        readers[f"{name}, --stream"] = lambda path=path: np.concatenate(
            [block for block, _ in cio.iter_signal_blocks(path, 64)]
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


def float_bits(value: float) -> int:
    """The IEEE-754 bit pattern of a float, so -0.0 and 0.0 differ."""
    return struct.unpack("<Q", struct.pack("<d", value))[0]
