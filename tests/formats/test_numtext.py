"""Tests for convcli.formats.numtext: number text both ways, exactly.

Every result is checked against Python's own ``repr``/``float``/``int`` (through
serialise.format_number and the careful cell reader). Hand-picked hard values (subnormals,
powers of two and ten, halfway cases) come first, then random ones.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli.formats import numtext, serialise
from tests.examples import EDGE_FLOATS, INT64_MAX, INT64_MIN

ALL_FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)


# --------------------------------------------------------------------------- helpers


def reference_cells(values: np.ndarray, width: int = 1) -> bytes:
    """CSV text written one value at a time with format_number (Python's repr)."""
    cells = [serialise.format_number(value) for value in values.reshape(-1).tolist()]
    return "".join(
        cell + ("\n" if (i + 1) % width == 0 else ",") for i, cell in enumerate(cells)
    ).encode()


def bits(values: np.ndarray) -> np.ndarray:
    """The bit patterns of a float64 array, so -0.0 and 0.0 (and nan payloads) differ."""
    return np.ascontiguousarray(values, np.float64).view(np.uint64)


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
    values = np.array(HARD_FLOATS * 3)  # more than serialise._SMALL_ARRAY, so blocks are formatted
    assert numtext.format_cells(values, 1) == reference_cells(values)


def test_format_cells_powers_and_their_neighbours():
    values = powers_and_neighbours()
    assert numtext.format_cells(values, 1) == reference_cells(values)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_format_cells_random_bit_patterns(seed):
    # every float64 is equally likely: all exponents, subnormals, nan and inf
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2**64, 100_000, dtype=np.uint64).view(np.float64)
    assert numtext.format_cells(values, 1) == reference_cells(values)


@pytest.mark.slow
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


@pytest.mark.slow
@given(st.lists(ALL_FLOATS, min_size=serialise._SMALL_ARRAY, max_size=300))
def test_format_cells_any_floats(values):
    array = np.array(values, dtype=np.float64)
    assert numtext.format_cells(array, 1) == reference_cells(array)


@pytest.mark.slow
@given(st.lists(st.integers(INT64_MIN, INT64_MAX), min_size=1, max_size=300))
def test_format_cells_any_int64(values):
    array = np.array([*values, INT64_MIN, INT64_MAX, 0, -1], dtype=np.int64)
    assert numtext.format_cells(array, 1) == reference_cells(array)


@pytest.mark.slow
@given(st.lists(st.builds(complex, ALL_FLOATS, ALL_FLOATS), min_size=1, max_size=200))
def test_format_cells_any_complex(values):
    array = np.array(values, dtype=np.complex128)
    assert numtext.format_cells(array, 1) == reference_cells(array)


@pytest.mark.slow
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 7)), elements=ALL_FLOATS)
)
def test_format_cells_rows(array):
    width = array.shape[1]
    assert numtext.format_cells(array.reshape(-1), width) == reference_cells(array, width)


@pytest.mark.slow
def test_format_cells_rows_across_blocks():
    values = np.random.default_rng(7).standard_normal(5 * 40_000)  # three blocks and a bit
    assert numtext.format_cells(values, 5) == reference_cells(values, 5)


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


@pytest.mark.slow
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


@pytest.mark.slow
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
