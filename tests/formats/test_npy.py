"""Tests for reading .npy files (convcli.formats.npy, through read_array and read_kernel): dtypes
and shapes, from a file or a pipe, and a clean error for every bad, empty or truncated file."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

from convcli.cli import inputs
from convcli.errors import InputError
from tests.examples import assert_identical, write


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


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 2)])
def test_npy_kernel_with_a_zero_dimension(tmp_path, shape):
    path = tmp_path / "k.npy"
    np.save(path, np.zeros(shape))
    with pytest.raises(InputError, match=r"kernel is empty \(shape") as caught:
        inputs.read_kernel(str(path), len(shape))
    assert "k.npy" in str(caught.value)


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
