"""Tests for convcli.formats.serialise: format_number and the CSV, JSON and NPY writers of results
and comparisons, exact round trips (property-based) included."""

from __future__ import annotations

import io
import math
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli import compare
from convcli.cli import inputs
from convcli.engine.core import Result, compute
from convcli.engine.geometry import plan
from convcli.errors import InputError
from convcli.formats import serialise
from convcli.options import Options
from tests.cli.runner import strict_json
from tests.examples import EDGE_FLOATS, INT64_MAX, INT64_MIN, assert_identical, float_bits, write


def same_float(actual: float, expected: float) -> bool:
    """Bitwise equal, except that any nan matches any nan."""
    if math.isnan(expected):
        return math.isnan(actual)
    return float_bits(actual) == float_bits(expected)


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


# --------------------------------------------------------------------------- result_csv


FINITE_FLOATS = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)


ALL_FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)


INT64S = st.integers(INT64_MIN, INT64_MAX)


#: Lists up to this long go to Python's writer (polars', which writes larger outputs to the
#: same text, is checked in tests/formats/test_bulk.py).
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
    # what --stream relies on: blocks of any length, empty ones too
    edges = sorted({0, len(values), *[min(cut, len(values)) for cut in cuts]})
    blocks = [values[a:b] for a, b in pairwise(edges)] + [values[:0]]
    assert "".join(serialise.result_csv(block) for block in blocks) == serialise.result_csv(values)


def test_result_csv_pieces_are_whole_rows_that_join_to_result_csv(monkeypatch):
    monkeypatch.setattr(serialise, "CSV_PIECE_VALUES", 1000)  # several pieces from a small array
    values = np.random.default_rng(3).standard_normal((700, 7))
    pieces = list(serialise.result_csv_pieces(values))
    assert len(pieces) == 5  # 142 rows (994 values) a piece
    written = [list(serialise.as_bytes_or_text([piece])) for piece in pieces]
    texts = [b"".join(p if isinstance(p, bytes) else p.encode() for p in w) for w in written]
    assert all(text.endswith(b"\n") and text.count(b"\n") <= 142 for text in texts)
    assert b"".join(texts).decode("ascii") == serialise.result_csv(values)
    rows = values.tolist()
    assert serialise.result_csv(values) == "".join(",".join(map(repr, row)) + "\n" for row in rows)


def test_result_csv_big_python_integers():
    values = np.array([2**70, -(2**64), 3] * 30, dtype=object)
    assert serialise.result_csv(values) == "".join(f"{v}\n" for v in values.tolist())


# --------------------------------------------------------------------------- result_json


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


# --------------------------------------------------------------------------- result_npy


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
