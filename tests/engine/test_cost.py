"""Tests for convcli.engine.cost: which method auto chooses, and the memory estimate."""

from __future__ import annotations

import numpy as np
import pytest

from convcli.engine import core as engine
from convcli.engine import cost, fft
from convcli.engine.calibration import NS_PER_FFT_UNIT_1D
from convcli.engine.core import compute
from convcli.engine.cost import choose_method, memory_estimate
from convcli.engine.geometry import plan
from convcli.options import METHODS, Options
from tests.examples import allocated_peak

# --------------------------------------------------------------------------- choose_method


@pytest.mark.parametrize("kind", ["i", "f", "c"])
def test_choose_method_small_kernels_direct_long_kernels_fft(kind: str):
    assert choose_method(plan((1_000,), (3,)), (3,), kind) == "direct"
    if kind != "c":  # numpy's complex convolve is slow enough that the FFT wins from K = 3
        assert choose_method(plan((10**6,), (5,)), (5,), kind) == "direct"
    assert choose_method(plan((10**6,), (10**4,)), (10**4,), kind) == "fft"
    assert (
        choose_method(plan((10**5,), (2_000,), Options.parse(padding="full")), (2_000,), kind)
        == "fft"
    )
    assert choose_method(plan((200, 200), (2, 2)), (2, 2), kind) == "direct"
    assert choose_method(plan((300, 300), (31, 31)), (31, 31), kind) == "fft"


@pytest.mark.parametrize("kind", ["i", "f", "c"])
def test_choose_method_counts_the_fft_calls_fixed_cost_on_short_signals(kind: str):
    """Per output the FFT beats the sum with 31 taps, but a short signal cannot pay for an
    FFT call's set-up: a thousand values are summed directly, a million by FFT."""
    geometry = plan((10**6,), (31,))
    blocks = fft.block_plan(31, 10**6)
    per_output = fft.transform_work(blocks.length) / blocks.step * NS_PER_FFT_UNIT_1D[kind]
    assert per_output < cost._direct_cost(geometry, (31,), kind)
    assert choose_method(geometry, (31,), kind) == "fft"
    assert choose_method(plan((1_000,), (31,)), (31,), kind) == "direct"


def test_choose_method_python_ints_always_direct():
    assert choose_method(plan((10**6,), (10**4,)), (10**4,), "O") == "direct"
    assert choose_method(plan((300, 300), (31, 31)), (31, 31), "O") == "direct"


@pytest.mark.parametrize("taps", range(1, engine.PLAIN_TAPS + 1))
def test_auto_sums_plain_short_kernels_directly_at_every_length(taps: int):
    """What lets convolve and correlate send such requests straight to numpy.convolve."""
    lengths = [taps, taps + 1, *(round(10**e) for e in np.arange(1, 10.01, 0.25))]
    for n in lengths:
        assert choose_method(plan((n,), (taps,)), (taps,), "f") == "direct", n


def test_result_reports_method_used():
    rng = np.random.default_rng(3)
    short, long_kernel = rng.normal(size=1_000), rng.normal(size=1_500)
    signal = rng.normal(size=30_000)
    assert compute(short, [1.0, 2.0, 1.0], "convolution").method == "direct"
    assert compute(signal, long_kernel, "convolution").method == "fft"
    assert (
        compute(signal, long_kernel, "convolution", Options.parse(method="direct")).method
        == "direct"
    )
    assert compute(short, [1.0, 2.0], "convolution", Options.parse(method="fft")).method == "fft"
    huge = [2**70 + i for i in range(1_000)]
    for method in METHODS:
        result = compute(huge, list(range(1, 301)), "correlation", Options.parse(method=method))
        assert result.method == "direct"  # Python ints: only the direct sum is exact
        assert result.values.dtype == object
        assert result.values[0] == sum((2**70 + i) * (i + 1) for i in range(300))
    geometry = plan((30_000,), (1_500,))
    assert compute(signal, long_kernel, "correlation").method == choose_method(
        geometry, (1_500,), "f"
    )


CASES = [
    # signal shape, kernel shape, dtype, options
    ((200_000,), (31,), np.float64, {}),
    ((200_000,), (31,), np.int64, {"padding": "full", "stride": 3}),
    ((300_000,), (1000,), np.float64, {"padding": "same"}),
    ((100_000,), (64,), np.complex128, {"dilation": 2, "pad_mode": "reflect"}),
    ((400, 500), (3, 3), np.float64, {"padding": "full"}),
    ((300, 300), (40, 40), np.float64, {"padding": "same", "pad_mode": "circular"}),
    ((200, 300), (5, 5), np.int64, {"stride": 2}),
    ((300, 200), (7, 7), np.complex128, {"padding": "full"}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("signal_shape", "kernel_shape", "dtype", "options"), CASES)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("comparing", [False, True], ids=["compute", "compare"])
def test_estimate_covers_what_numpy_allocates(
    signal_shape, kernel_shape, dtype, options, method, comparing
):
    rng = np.random.default_rng(sum(signal_shape))
    signal = (rng.integers(-9, 9, signal_shape) * (1 + 1j if dtype == np.complex128 else 1)).astype(
        dtype
    )
    kernel = rng.integers(-9, 9, kernel_shape).astype(dtype)
    geometry = plan(signal.shape, kernel.shape, Options.parse(**options))
    estimate = memory_estimate(signal, kernel, geometry, method, comparing)
    if comparing:
        peak = allocated_peak(
            lambda: engine.compare(signal, kernel, Options.parse(**options, method=method))
        )
    else:
        peak = allocated_peak(
            lambda: engine.compute(
                signal, kernel, "correlation", Options.parse(**options, method=method)
            )
        )
    assert peak <= estimate, (peak, estimate)
    assert estimate <= 12 * peak + (40 << 20), (peak, estimate)  # and not wildly more


@pytest.mark.slow
def test_estimate_of_python_integers_counts_their_objects():
    signal = np.array([2**70] * 100_000, dtype=object)
    kernel = np.array([3, 1], dtype=object)
    geometry = plan(signal.shape, kernel.shape)
    estimate = memory_estimate(signal, kernel, geometry)
    peak = allocated_peak(lambda: engine.compute(signal, kernel, "convolution"))
    assert peak <= estimate <= 12 * peak
    int64 = memory_estimate(signal.astype(float), kernel.astype(float), geometry)
    assert estimate > 3 * int64


@pytest.mark.slow
def test_estimate_grows_with_the_padding_not_the_inputs():
    """A 2x2 matrix padded by 10^5 on every side: a 200002x200002 result, estimated without
    allocating anything."""
    signal, kernel = np.ones((2, 2)), np.ones((1, 1))
    geometry = plan(signal.shape, kernel.shape, Options.parse(padding=100_000))
    estimates = []
    peak = allocated_peak(lambda: estimates.append(memory_estimate(signal, kernel, geometry)))
    assert peak < 10**5
    assert estimates[0] >= 2 * 200_002**2 * 8


@pytest.mark.parametrize("padding", ["valid", "same", "full"])
def test_auto_sums_a_3x3x3_kernel_on_a_volume_directly(padding: str):
    """The direct sum beats a 3-D FFT there (docs/performance.md), though a 3x3 kernel's
    2-D FFT would be priced alike; a 5x5x5 kernel takes the FFT."""
    options = Options.parse(padding=padding)
    assert choose_method(plan((128,) * 3, (3,) * 3, options), (3,) * 3, "f") == "direct"
    assert choose_method(plan((128,) * 3, (5,) * 3, options), (5,) * 3, "f") == "fft"


def test_fft_priced_at_the_transform_it_makes():
    """A full sum's transform leaves the zero padding out: a 1000x1000 signal with a 15x15
    kernel is transformed at 1024x1024, not at fast lengths of the padded 1028x1028."""
    geometry = plan((1000, 1000), (15, 15), Options.parse(padding="full"))
    axes = fft.transform_lengths(geometry.padded_shape, (15, 15), fft.zero_pads(geometry))
    assert [axis.length for axis in axes] == [1024, 1024]
    assert fft.fast_length(1028) == 1080
    priced = cost._fft_cost(geometry, (15, 15), "f") - cost.NS_FFT_CALL["f"]
    size = 1024 * 1024
    assert priced == pytest.approx(size * (np.log2(size) + 4) * cost.NS_PER_FFT_UNIT_ND["f"])
