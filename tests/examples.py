"""Shared by several test modules: the classic 1-D pair, an 8x8 image, a bitwise array check,
the error bound of an FFT sum, the peak memory of a run, and input files and numbers to read."""

import gc
import math
import struct
import tracemalloc
from pathlib import Path

import numpy as np

from convcli.engine.memory import reuse_freed_memory

F = [2, 1, 3, 5, 4]
IMAGE = np.array(
    [
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 9, 9, 9, 9, 0],
        [0, 0, 0, 9, 5, 5, 9, 0],
        [0, 0, 0, 9, 5, 5, 9, 0],
        [0, 0, 0, 9, 9, 9, 9, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
    ]
)
SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


def write(directory: Path, name: str, content: str | bytes) -> str:
    """Write a file (text as UTF-8 with \\n line ends, or exact bytes) and return its path."""
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return str(path)


def big_floats(seed: int = 0, n: int = 5000) -> np.ndarray:
    """``n`` random floats of both signs, over ten orders of magnitude (seeded)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)


def float_bits(value: float) -> int:
    """The IEEE-754 bit pattern of a float, so -0.0 and 0.0 differ."""
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def assert_identical(actual: np.ndarray, expected: np.ndarray) -> None:
    """Same dtype, shape and values, bit for bit (any nan matches any nan)."""
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if expected.dtype.kind in "fc":
        a = np.ascontiguousarray(actual).view(np.float64)
        b = np.ascontiguousarray(expected).view(np.float64)
        nan = np.isnan(b)
        assert np.array_equal(np.isnan(a), nan)
        assert np.array_equal(a.view(np.uint64)[~nan], b.view(np.uint64)[~nan])
    else:
        assert np.array_equal(actual, expected)


#: Floats whose text is easy to get wrong: signed zeros, subnormals, the extremes, nan, inf.
EDGE_FLOATS = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    1e-300,
    1e16,
    2.0**53 + 2,
    0.1,
    1 / 3,
    math.inf,
    -math.inf,
    math.nan,
]


def assert_matches(actual: np.ndarray, expected: np.ndarray, atol: float) -> None:
    """Same shape; integer results equal exactly, float and complex ones within ``atol``."""
    assert actual.shape == expected.shape
    if expected.dtype.kind in "iuO":
        assert actual.tolist() == expected.tolist()
    else:
        np.testing.assert_allclose(actual, expected, rtol=0, atol=atol)


EPS = float(np.finfo(np.float64).eps)


def norm(values: np.ndarray) -> float:
    """||values||_2 with nan/inf counted as 0, scaled first so tiny values do not underflow."""
    values = np.abs(values.astype(np.complex128).ravel())
    values = np.where(np.isfinite(values), values, 0.0)
    top = float(values.max(initial=0.0))
    return top * float(np.sqrt(np.sum((values / top) ** 2))) if top > 0 else 0.0


def fft_error_bound(padded: np.ndarray, kernel: np.ndarray) -> float:
    """eps * log2(n) * ||p||_2 * ||h||_2: the absolute error an FFT sum may have in any
    output, ``p`` the padded signal with nan/inf as 0 (what the FFT transforms)."""
    return EPS * math.log2(4 * padded.size) * norm(padded) * norm(kernel)


def allocated_peak(run) -> int:
    """The most bytes numpy and Python held at once while ``run()`` ran (tracemalloc), run
    once before, so that imports, caches and the one untouched array that
    memory.reuse_freed_memory frees once per process are not counted."""
    reuse_freed_memory()
    run()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
