"""Tests for convcli.analysis.xcorr: lags against scipy.signal.correlation_lags and against the
definition of a lag, MATLAB xcorr's normalizations and zncc against naive sums written
here, the values in MATLAB's, Altair's and scikit-image's documented examples, and
find_delay's sign convention, refinement and search window."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import convcli
from convcli import ConvcliError, Delay, correlation_lags, find_delay, normalized_correlate
from convcli.analysis.xcorr import compare_normalized, geometry_lags, normalized_compute
from convcli.engine.core import compute
from convcli.engine.geometry import plan
from convcli.options import Options
from tests.reference import get, shape_of, to_nested, window_sources

PADDINGS = ["valid", "same", "full", "explicit"]
PAD_MODES = ["zeros", "reflect", "symmetric", "replicate", "circular"]


# --------------------------------------------------------------------------- strategies


@st.composite
def cases(draw, ndim: int, kind: str = "int", equal_shapes: bool = False) -> dict:
    """A signal, a kernel and options (padding in every form, stride, dilation)."""
    sides = {1: (9, 4), 2: (5, 3)}[ndim]
    signal_shape = tuple(draw(st.integers(1, sides[0])) for _ in range(ndim))
    if equal_shapes:
        kernel_shape = signal_shape
    else:
        kernel_shape = tuple(draw(st.integers(1, sides[1])) for _ in range(ndim))
    values = {
        "int": st.integers(-3, 3),
        # quarters: no window is flat to within rounding without being flat
        "float": st.integers(-40, 40).map(lambda v: v / 4),
        "complex": st.builds(complex, st.integers(-3, 3), st.integers(-3, 3)),
    }[kind]
    signal = np.array(
        draw(st.lists(values, min_size=math.prod(signal_shape), max_size=math.prod(signal_shape)))
    ).reshape(signal_shape)
    kernel = np.array(
        draw(st.lists(values, min_size=math.prod(kernel_shape), max_size=math.prod(kernel_shape)))
    ).reshape(kernel_shape)
    form = draw(st.sampled_from(PADDINGS))
    padding: object = form
    if form == "explicit":
        padding = [(draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(ndim)]
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilation = (1,) * ndim if equal_shapes else tuple(draw(st.integers(1, 2)) for _ in range(ndim))
    try:
        plan(
            signal_shape,
            kernel_shape,
            Options.parse(padding=padding, stride=stride, dilation=dilation),
        )
    except ConvcliError:
        assume(False)
    return {
        "signal": signal,
        "kernel": kernel,
        "padding": padding,
        "stride": stride,
        "dilation": dilation,
    }


def lag_sum(signal: np.ndarray, kernel: np.ndarray, lag: tuple[int, ...], dilation) -> object:
    """The definition of a lag: sum_k f[k * dilation + lag] * conj(h[k]), zero outside f."""
    total = 0
    for k in product(*(range(n) for n in kernel.shape)):
        source = tuple(i * d + m for i, d, m in zip(k, dilation, lag))
        if all(0 <= s < n for s, n in zip(source, signal.shape)):
            total += signal[source].item() * np.conj(kernel[k]).item()
    return total


# --------------------------------------------------------------------------- lags


def test_lags_of_the_classic_example():
    assert correlation_lags(5, 2, padding="full").tolist() == [-1, 0, 1, 2, 3, 4]
    assert correlation_lags(5, 2).tolist() == [0, 1, 2, 3]
    assert correlation_lags(5, 2, padding="same").tolist() == [0, 1, 2, 3, 4]
    assert correlation_lags(5, 2, padding="3:1", stride=2).tolist() == [-3, -1, 1, 3]
    assert correlation_lags(5, 2, padding="full", dilation=2).tolist() == [-2, -1, 0, 1, 2, 3, 4]
    rows, columns = correlation_lags((3, 4), (2, 3), padding="full")
    assert rows.tolist() == [-1, 0, 1, 2]
    assert columns.tolist() == [-2, -1, 0, 1, 2, 3]


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
def test_lags_match_scipy_correlation_lags(mode):
    signal_module = pytest.importorskip("scipy.signal")
    for n in range(1, 13):
        for k in range(1, n + 1):
            ours = correlation_lags(n, k, padding=mode)
            theirs = signal_module.correlation_lags(n, k, mode)
            if mode == "same" and k % 2 == 0:
                # convcli's same keeps the smaller half of the padding before (PyTorch,
                # MATLAB), scipy's correlate the larger: one lag apart for even kernels.
                # (scipy's correlation_lags itself follows correlate only for even n.)
                assert ours.tolist() == list(range(-(k // 2) + 1, n - k // 2 + 1))
                f, h = np.arange(1, n + 1) ** 2, np.arange(k) - 7
                full = signal_module.correlate(f, h, mode="full")
                full_lags = signal_module.correlation_lags(n, k, mode="full").tolist()
                start = full_lags.index(int(ours[0]) - 1)
                assert signal_module.correlate(f, h, mode="same").tolist() == (
                    full[start : start + n].tolist()
                )
                continue
            assert ours.tolist() == theirs.tolist(), (n, k)
            assert ours.dtype.kind == "i"


@pytest.mark.slow
@given(data=st.data(), ndim=st.sampled_from([1, 2]))
def test_lags_label_every_output_with_its_shift(data, ndim):
    case = data.draw(cases(ndim))
    result = compute(
        case["signal"],
        case["kernel"],
        "correlation",
        Options.parse(padding=case["padding"], stride=case["stride"], dilation=case["dilation"]),
    )
    lags = geometry_lags(result.geometry)
    assert tuple(len(axis) for axis in lags) == result.values.shape
    for position in np.ndindex(result.values.shape):
        lag = tuple(int(axis[i]) for axis, i in zip(lags, position))
        assert result.values[position] == lag_sum(
            case["signal"], case["kernel"], lag, case["dilation"]
        )


@pytest.mark.slow
@given(
    signal=st.lists(st.integers(-9, 9), min_size=1, max_size=12),
    kernel=st.lists(st.integers(-9, 9), min_size=1, max_size=12),
    stride=st.integers(1, 3),
)
def test_lagged_values_are_scipy_full_correlation_at_those_lags(signal, kernel, stride):
    signal_module = pytest.importorskip("scipy.signal")
    full = signal_module.correlate(signal, kernel, mode="full")
    full_lags = signal_module.correlation_lags(len(signal), len(kernel), mode="full")
    ours = convcli.correlate(signal, kernel, padding="full", stride=stride)
    lags = correlation_lags(len(signal), len(kernel), padding="full", stride=stride)
    assert ours.tolist() == [full[np.flatnonzero(full_lags == m)[0]] for m in lags]


def test_matlab_xcorr_example_peak_lag():
    # MATLAB xcorr documentation: y = circshift(x, 5) gives the largest spike at lag -5.
    x = 0.84 ** np.arange(16)
    y = np.roll(x, 5)
    values = convcli.correlate(x, y, padding="full")
    assert correlation_lags(16, 16, padding="full")[np.argmax(values)] == -5
    assert find_delay(x, y).lag == -5


def test_lags_refuse_sizes_that_are_not_positive():
    with pytest.raises(ConvcliError, match="positive integers"):
        correlation_lags(0, 1)
    with pytest.raises(ConvcliError, match="positive integers"):
        correlation_lags((3, -1), (1, 1))


# --------------------------------------------------------------------------- MATLAB scalings


def xcorr_reference(x: np.ndarray, y: np.ndarray, scale: str) -> tuple[dict, np.ndarray]:
    """MATLAB's xcorr(x, y, scaleopt) for equal shapes, from its definition: every lag m
    (per axis, -(N-1)..N-1), R(m) = sum_n x[n + m] conj(y[n]), then scaled."""
    shape = x.shape
    values = {}
    for lag in product(*(range(-(n - 1), n) for n in shape)):
        total = lag_sum(x, y, lag, (1,) * len(shape))
        if scale == "biased":
            total = total / x.size
        elif scale == "unbiased":
            total = total / math.prod(n - abs(m) for n, m in zip(shape, lag))
        elif scale == "coeff":
            total = total / math.sqrt(
                np.sum(np.abs(x.astype(complex)) ** 2) * np.sum(np.abs(y.astype(complex)) ** 2)
            )
        values[lag] = total
    return values, np.array(list(values.values()))


@pytest.mark.slow
@pytest.mark.parametrize("scale", ["biased", "unbiased", "coeff"])
@given(
    data=st.data(), ndim=st.sampled_from([1, 2]), kind=st.sampled_from(["int", "float", "complex"])
)
def test_matlab_scalings_match_their_definitions(scale, data, ndim, kind):
    case = data.draw(cases(ndim, kind, equal_shapes=True))
    x, y = case["signal"], case["kernel"]
    assume(np.any(x != 0) and np.any(y != 0))
    padding = case["padding"]
    if scale == "unbiased" and isinstance(padding, list):  # no lag beyond ±(N-1)
        padding = [(min(b, n - 1), min(a, n - 1)) for (b, a), n in zip(padding, x.shape)]
    result = normalized_compute(
        x, y, scale, options=Options.parse(padding=padding, stride=case["stride"])
    )
    assert result.values.dtype.kind in "fc"
    expected, _ = xcorr_reference(x, y, scale)
    lags = geometry_lags(result.geometry)
    for position in np.ndindex(result.values.shape):
        lag = tuple(int(axis[i]) for axis, i in zip(lags, position))
        want = expected.get(lag, 0)
        assert result.values[position] == pytest.approx(want, rel=1e-12, abs=1e-12)
    if scale == "coeff" and kind != "complex":
        assert np.all(np.abs(result.values) <= 1 + 1e-15)


def test_xcorr_scalings_of_a_worked_example():
    # xcorr([1 2 3]) = [3 8 14 8 3] at lags -2..2, and its three scalings.
    full = {"padding": "full"}
    assert normalized_correlate([1, 2, 3], [1, 2, 3], normalize="none", **full).tolist() == [
        3,
        8,
        14,
        8,
        3,
    ]
    np.testing.assert_allclose(
        normalized_correlate([1, 2, 3], [1, 2, 3], normalize="biased", **full),
        [1, 8 / 3, 14 / 3, 8 / 3, 1],
    )
    np.testing.assert_allclose(
        normalized_correlate([1, 2, 3], [1, 2, 3], normalize="unbiased", **full),
        [3, 4, 14 / 3, 4, 3],
    )
    np.testing.assert_allclose(
        normalized_correlate([1, 2, 3], [1, 2, 3], normalize="coeff", **full),
        [3 / 14, 8 / 14, 1, 8 / 14, 3 / 14],
    )


def test_unequal_lengths_as_xcorr_pads_them_documented_example():
    # Altair Compose's xcorr documentation: x = [2,3,4,5,6], y = [4,6,7,8] (zero-padded
    # to length 5 as MATLAB does) gives [0 16 38 65 94 119 88 56 24].
    values = convcli.correlate([2, 3, 4, 5, 6], [4, 6, 7, 8, 0], padding="full")
    assert values.tolist() == [0, 16, 38, 65, 94, 119, 88, 56, 24]
    assert correlation_lags(5, 5, padding="full").tolist() == list(range(-4, 5))


def test_matlab_scalings_refuse_what_xcorr_does_not_define():
    with pytest.raises(ConvcliError, match="same shape, as MATLAB's xcorr"):
        normalized_correlate([1, 2, 3, 4], [1, 2], normalize="biased")
    with pytest.raises(ConvcliError, match="zero padding"):
        normalized_correlate(
            [1, 2, 3], [1, 2, 3], normalize="coeff", padding="full", pad_mode="reflect"
        )
    with pytest.raises(ConvcliError, match="undilated"):
        normalized_correlate([1, 2, 3], [1, 2, 3], normalize="unbiased", padding=4, dilation=2)
    with pytest.raises(ConvcliError, match=r"beyond lag ±2"):
        normalized_correlate([1, 2, 3], [1, 2, 3], normalize="unbiased", padding=3)
    with pytest.raises(ConvcliError, match="normalize='"):
        normalized_correlate([1, 2, 3], [1, 2, 3], normalize="scaled")


def test_coeff_of_an_all_zero_signal_is_zero_with_a_note():
    result = normalized_compute([0, 0, 0], [1, 2, 3], "coeff", options=Options(padding="full"))
    assert result.values.tolist() == [0.0] * 5
    assert result.notes == ("the signal or the kernel is all zeros, so every coeff output is 0",)


# --------------------------------------------------------------------------- zncc


def zncc_reference(signal, kernel, padding, stride, dilation, pad_mode) -> np.ndarray:
    """Each window read from the padded signal, mean-removed, against the mean-removed kernel,
    over both norms; 0 where either is flat. Python numbers, loops, no engine code."""
    f, h = to_nested(signal), to_nested(kernel)
    h_shape = shape_of(h)
    taps = [complex(get(h, k)) for k in product(*(range(n) for n in h_shape))]
    t_mean = sum(taps) / len(taps)
    t_centred = [t - t_mean for t in taps]
    t_norm = math.sqrt(sum(abs(t) ** 2 for t in t_centred))
    out_shape, windows = window_sources(shape_of(f), h_shape, padding, stride, dilation, pad_mode)
    out = np.zeros(out_shape, dtype=complex)
    for position, window_taps in windows:
        window = [0j if src is None else complex(get(f, src)) for _, src in window_taps]
        mean = sum(window) / len(window)
        centred = [w - mean for w in window]
        norm = math.sqrt(sum(abs(w) ** 2 for w in centred))
        if len(set(window)) > 1 and len(set(taps)) > 1:
            dot = sum(w * t.conjugate() for w, t in zip(centred, t_centred))
            out[position] = dot / (norm * t_norm)
    return out


@pytest.mark.slow
@given(
    data=st.data(),
    ndim=st.sampled_from([1, 2]),
    kind=st.sampled_from(["int", "int", "float", "complex"]),
    pad_mode=st.sampled_from(PAD_MODES),
    method=st.sampled_from(["auto", "direct", "fft"]),
)
def test_zncc_matches_its_definition(data, ndim, kind, pad_mode, method):
    case = data.draw(cases(ndim, kind))
    padding = case["padding"]
    try:
        result = normalized_compute(
            case["signal"],
            case["kernel"],
            "zncc",
            options=Options.parse(
                padding=padding,
                stride=case["stride"],
                dilation=case["dilation"],
                pad_mode=pad_mode,
                method=method,
            ),
        )
    except ConvcliError:
        assume(False)
    expected = zncc_reference(
        case["signal"], case["kernel"], padding, case["stride"], case["dilation"], pad_mode
    )
    assert result.values.shape == expected.shape
    assert result.values.dtype == (np.complex128 if kind == "complex" else np.float64)
    np.testing.assert_allclose(result.values, expected, rtol=0, atol=1e-9)
    if kind == "complex":  # the modulus of a complex number is itself rounded
        assert np.all(np.abs(result.values) <= 1 + 4 * np.finfo(float).eps)
    else:
        assert np.all(np.abs(result.values) <= 1)


def test_zncc_of_scikit_image_match_template_example():
    # scikit-image's match_template docstring: a 3x3 impulse template over a 6x6 image with
    # +1 at (1, 1) and -1 at (4, 4); valid windows, and pad_input=True (zero padding, centred).
    template = np.zeros((3, 3))
    template[1, 1] = 1
    image = np.zeros((6, 6))
    image[1, 1] = 1
    image[4, 4] = -1
    valid = normalized_correlate(image, template, normalize="zncc")
    np.testing.assert_array_equal(
        np.round(valid, 3),
        [
            [1.0, -0.125, 0.0, 0.0],
            [-0.125, -0.125, 0.0, 0.0],
            [0.0, 0.0, 0.125, 0.125],
            [0.0, 0.0, 0.125, -1.0],
        ],
    )
    same = normalized_correlate(image, template, normalize="zncc", padding="same")
    np.testing.assert_array_equal(
        np.round(same, 3),
        [
            [-0.125, -0.125, -0.125, 0.0, 0.0, 0.0],
            [-0.125, 1.0, -0.125, 0.0, 0.0, 0.0],
            [-0.125, -0.125, -0.125, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.125, 0.125, 0.125],
            [0.0, 0.0, 0.0, 0.125, -1.0, 0.125],
            [0.0, 0.0, 0.0, 0.125, 0.125, 0.125],
        ],
    )


def test_zncc_of_random_floats_matches_its_definition():
    generator = np.random.default_rng(11)
    for shape, kernel_shape in (((40,), (5,)), ((9, 11), (3, 4))):
        signal = generator.normal(size=shape) * 100 + 50
        kernel = generator.normal(size=kernel_shape)
        for method in ("direct", "fft"):
            result = normalized_correlate(
                signal, kernel, normalize="zncc", padding="full", method=method
            )
            expected = zncc_reference(signal, kernel, "full", 1, 1, "zeros")
            np.testing.assert_allclose(result, expected.real, rtol=0, atol=1e-10)


def test_zncc_flat_windows_and_flat_kernels_give_zero_with_a_note():
    result = normalized_compute([5, 5, 5, 1, 2, 3], [1, 2, 3], "zncc")
    expected = zncc_reference([5, 5, 5, 1, 2, 3], [1, 2, 3], "valid", 1, 1, "zeros").real
    np.testing.assert_allclose(result.values, expected, rtol=0, atol=1e-12)
    assert result.values[0] == 0 and result.values[3] == 1
    assert result.notes == ("1 of 4 windows are flat (no variation), so their zncc is 0",)
    flat = normalized_compute([1, 2, 3, 4], [7, 7], "zncc")
    assert flat.values.tolist() == [0.0, 0.0, 0.0]
    assert flat.notes == ("the kernel is flat (every value equal), so every zncc output is 0",)


def test_zncc_finds_a_scaled_shifted_copy_in_a_long_signal_with_the_fast_path():
    generator = np.random.default_rng(5)
    recording = generator.normal(size=200_000) + 1000  # a large mean must not cancel the variance
    pattern = recording[123_456:124_456].copy()
    result = normalized_compute(3 * recording - 7, pattern, "zncc")
    assert result.method == "fft"
    assert int(np.argmax(result.values)) == 123_456
    assert result.values.max() == pytest.approx(1, abs=1e-9)


def test_zncc_silent_stretches_of_a_long_signal_are_exactly_flat_on_the_fast_path():
    generator = np.random.default_rng(8)
    pattern = generator.normal(size=500)
    signal = np.zeros(20_000)
    signal[5000:5500] = pattern
    result = normalized_compute(signal, pattern, "zncc")
    assert result.method == "fft"
    silent = np.ones(19_501, dtype=bool)
    silent[4501:5500] = False
    assert np.all(result.values[silent] == 0)
    assert np.all(result.values[~silent] != 0)
    assert result.values[5000] == pytest.approx(1)
    assert result.notes == ("18502 of 19501 windows are flat (no variation), so their zncc is 0",)


@pytest.mark.slow
@given(
    pattern=st.lists(st.integers(-50, 50), min_size=2, max_size=8),
    scale=st.integers(-7, 7).filter(bool),
    offset=st.integers(-1000, 1000),
)
def test_zncc_of_integers_is_exactly_one_at_an_affine_copy(pattern, scale, offset):
    assume(len(set(pattern)) > 1)
    copy = [scale * v + offset for v in pattern]
    signal = [3, -4, *copy, 9]
    values = normalized_correlate(signal, pattern, normalize="zncc")
    assert values[2] == (1.0 if scale > 0 else -1.0)
    assert np.all(np.abs(values) <= 1)


def test_zncc_is_a_float_and_the_lags_stay_integers():
    result = normalized_compute([1, 2, 3, 5, 4], [1, 2], "zncc", options=Options(padding="full"))
    assert result.values.dtype == np.float64
    assert geometry_lags(result.geometry)[0].dtype == np.int64


# --------------------------------------------------------------------------- compare


@pytest.mark.slow
@pytest.mark.parametrize("scale", ["biased", "unbiased", "coeff", "zncc"])
@given(data=st.data())
def test_compare_normalizes_convolution_as_correlation_with_the_flipped_kernel(scale, data):
    case = data.draw(cases(1, "int", equal_shapes=scale != "zncc"))
    f, h = case["signal"], case["kernel"]
    assume(np.any(f != 0) and np.any(h != 0))
    options = {"padding": case["padding"], "stride": case["stride"]}
    if scale == "unbiased":
        options["padding"] = "full"
    comparison = compare_normalized(f, h, scale, Options.parse(**options))
    np.testing.assert_allclose(
        comparison.correlation, normalized_correlate(f, h, normalize=scale, **options), atol=1e-12
    )
    np.testing.assert_allclose(
        comparison.convolution,
        normalized_correlate(f, np.flip(h), normalize=scale, **options),
        atol=1e-12,
    )
    assert comparison.normalize == scale
    equal = np.isclose(comparison.convolution, comparison.correlation, rtol=0, atol=1e-9)
    assert comparison.equal.tolist() == equal.tolist()


def test_compare_keeps_the_verdict_of_an_antisymmetric_kernel():
    comparison = compare_normalized([2, 1, 3, 5, 4], [1, -1], "zncc")
    assert comparison.kernel_symmetry == "antisymmetric"
    assert comparison.negated
    np.testing.assert_allclose(comparison.convolution, -comparison.correlation)


# --------------------------------------------------------------------------- delay


@pytest.mark.slow
@given(
    reference=st.lists(st.integers(-9, 9), min_size=1, max_size=30),
    shift=st.integers(-40, 40),
    as_float=st.booleans(),
)
def test_a_delayed_copy_gives_its_delay(reference, shift, as_float):
    assume(any(reference))
    r = np.array(reference, dtype=float if as_float else int)
    # signal[n] = reference[n - shift]: zeros before it (delay) or its first cells cut (advance)
    signal = np.concatenate([np.zeros(shift, dtype=r.dtype), r]) if shift >= 0 else r[-shift:]
    assume(np.any(signal != 0))
    found = find_delay(signal, r)
    if shift >= 0:
        assert found.lag == shift
        assert found.normalized_peak == pytest.approx(1)
    else:  # the cut copy still peaks where it matches, unless the cut left a better match
        assert abs(found.normalized_peak) <= 1
    assert isinstance(found.lag, int)
    inverted = find_delay(-signal, r)
    assert inverted.lag == found.lag
    assert inverted.normalized_peak == pytest.approx(-found.normalized_peak)


@pytest.mark.slow
@given(
    signal=st.lists(st.integers(-9, 9), min_size=1, max_size=25),
    reference=st.lists(st.integers(-9, 9), min_size=1, max_size=25),
    max_lag=st.one_of(st.none(), st.integers(0, 30)),
)
def test_delay_is_the_lag_of_scipy_correlations_largest_magnitude(signal, reference, max_lag):
    signal_module = pytest.importorskip("scipy.signal")
    assume(any(signal) and any(reference))
    full = np.abs(signal_module.correlate(signal, reference, mode="full"))
    lags = signal_module.correlation_lags(len(signal), len(reference), mode="full")
    if max_lag is not None:
        full, lags = full[np.abs(lags) <= max_lag], lags[np.abs(lags) <= max_lag]
    best = lags[full == full.max()]
    expected = min(best.tolist(), key=lambda m: (abs(m), m))  # ties: the lag nearest 0
    found = find_delay(signal, reference, max_lag=max_lag)
    assert found.lag == expected
    assert found.max_lag == max_lag
    assert abs(found.refined_lag - found.lag) <= 0.5
    assert -1 <= found.normalized_peak <= 1
    peak = np.dot(
        np.array(signal)[max(found.lag, 0) : found.lag + len(reference)],
        np.array(reference)[max(-found.lag, 0) : len(signal) - found.lag],
    )
    assert found.peak == peak


def test_sub_sample_delay_of_a_smooth_pulse():
    t = np.arange(64)
    reference = np.exp(-0.5 * ((t - 20) / 4) ** 2)
    signal = np.exp(-0.5 * ((t - 27.3) / 4) ** 2)
    found = find_delay(signal, reference)
    assert found.lag == 7
    assert found.refined_lag == pytest.approx(7.3, abs=0.02)
    assert found.normalized_peak == pytest.approx(1, abs=0.01)


def test_long_signals_take_the_fast_method_and_max_lag_narrows_the_search():
    generator = np.random.default_rng(3)
    reference = generator.normal(size=50_000)
    signal = np.concatenate([np.zeros(1234), reference])[:50_000] + 0.1 * generator.normal(
        size=50_000
    )
    found = find_delay(signal, reference)
    assert (found.lag, found.method) == (1234, "fft")
    assert find_delay(signal, reference, max_lag=2000).lag == 1234
    narrowed = find_delay(signal, reference, max_lag=100)
    assert abs(narrowed.lag) <= 100


def test_delay_of_a_documented_example_and_its_fields():
    found = find_delay([0, 0, 0, 1, 2, 1, 0], [1, 2, 1, 0, 0, 0, 0])
    assert found == Delay(
        lag=3, refined_lag=3.0, peak=6, normalized_peak=1.0, max_lag=None, method="direct"
    )


def test_matlab_finddelay_documented_examples():
    # MATLAB's finddelay(X, Y) documentation; convcli's delay takes the signal (Y) first.
    assert find_delay([0, 0, 1, 2, 3], [1, 2, 3]).lag == 2  # Y delayed by two samples
    assert find_delay([1, 2, 3, 0], [0, 0, 0, 1, 2, 3, 0, 0]).lag == -3  # Y advanced by three
    noisy = [0.02, 0.12, 1.08, 2.21, 2.95, -0.09]
    assert find_delay(noisy, [0, 0, 1, 2, 3, 0]).lag == 0  # aligned, with noise
    periodic = [1, 2, 3, 0, 0, 0, 0, 1, 2, 3, 0, 0]
    assert find_delay(periodic, [0, 1, 2, 3]).lag == -1  # the smallest possible delay
    # the same in floats through the FFT, whose rounding must not split the tie
    floats = np.array(periodic, dtype=float) / 3
    assert find_delay(floats, np.array([0, 1, 2, 3]) / 7, method="fft").lag == -1


def test_delay_errors():
    with pytest.raises(ConvcliError, match="1-D"):
        find_delay([[1, 2], [3, 4]], [[1, 2], [3, 4]])
    with pytest.raises(ConvcliError, match="reference is all zeros"):
        find_delay([1, 2, 3], [0, 0])
    with pytest.raises(ConvcliError, match="nan or inf"):
        find_delay([1, float("nan")], [1, 2])
    with pytest.raises(ConvcliError, match="0 or more"):
        find_delay([1, 2, 3], [1, 2], max_lag=-1)
