"""Library conventions (convcli/analysis/conventions.py) against the libraries themselves.

numpy and scipy are called directly, torch where it is installed; MATLAB and
TensorFlow, which are not, are checked against their documented definitions and
the examples in their documentation. Random cases cover odd and even kernels,
kernels longer than the signal, integers (exact), floats and complex values.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import convcli
from convcli import ConvcliError
from convcli.analysis.conventions import CONVENTIONS, ConventionError, compare, compute, lineup
from convcli.options import Options
from tests.examples import IMAGE, SOBEL_X, F
from tests.reference import reference_slide

OPERATIONS = ("convolution", "correlation")
MODES = ("full", "same", "valid")
ELEMENTS = {
    "i": st.integers(-9, 9),
    "f": st.floats(-100, 100, allow_nan=False, width=64),
    "c": st.complex_numbers(max_magnitude=100, allow_nan=False, allow_infinity=False),
}
DTYPES = {"i": np.int64, "f": np.float64, "c": np.complex128}


def signals(ndim: int, kinds: str = "ifc", longest: int = 8):
    """Pairs (f, h) of one kind (int, float or complex), each side 1..longest: kernels of
    either parity, and often longer than the signal."""

    def pair(kind: str):
        side = st.integers(1, longest)
        shape = st.tuples(*[side] * ndim)
        one = arrays(DTYPES[kind], shape, elements=ELEMENTS[kind])
        return st.tuples(one, one)

    return st.sampled_from(kinds).flatmap(pair)


def assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal shapes; integers exactly, floats to 1e-9 of the largest magnitude."""
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    if actual.dtype.kind in "iO" and expected.dtype.kind in "iu":
        assert actual.tolist() == expected.tolist()
        return
    scale = max(1.0, float(np.abs(expected).max(initial=0)), float(np.abs(actual).max(initial=0)))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-9 * scale)


def values(f, h, convention, operation, *args, **options) -> np.ndarray:
    """The library's values; ``args`` are padding, stride and dilation, in that order."""
    named = dict(zip(("padding", "stride", "dilation"), args))
    options = Options.parse(**named, **options, convention=convention)
    return compute(f, h, operation, options).values


# ---------------------------------------------------------------- numpy


@pytest.mark.slow
@given(signals(1), st.sampled_from(MODES), st.sampled_from(OPERATIONS))
def test_numpy_matches_numpy(pair, mode, operation):
    f, h = pair
    function = np.convolve if operation == "convolution" else np.correlate
    assert_same(values(f, h, "numpy", operation, mode), function(f, h, mode))


@pytest.mark.slow
@given(
    st.sampled_from("ic").flatmap(
        lambda kind: st.integers(1, 6).flatmap(
            lambda n: st.tuples(
                arrays(DTYPES[kind], n, elements=ELEMENTS[kind]),
                arrays(DTYPES[kind], st.integers(n + 1, 12), elements=ELEMENTS[kind]),
            )
        )
    ),
    st.sampled_from(MODES),
    st.sampled_from(OPERATIONS),
)
def test_numpy_with_a_longer_kernel_matches_numpy(pair, mode, operation):
    f, h = pair
    function = np.convolve if operation == "convolution" else np.correlate
    assert_same(values(f, h, "numpy", operation, mode), function(f, h, mode))


@pytest.mark.parametrize("length", [4, 5])
def test_numpy_correlate_swap_moves_the_same_window(length):
    # numpy.correlate swaps in a longer kernel, then reverses: for an even signal its
    # 'same' window starts one later than numpy.convolve's would.
    f = np.arange(1, length + 1)
    h = np.array([3, -1, 4, 1, -5, 9, 2])
    got = values(f, h, "numpy", "correlation", "same")
    assert_same(got, np.correlate(f, h, "same"))
    full = np.correlate(f, h, "full")
    assert got.tolist() == full[length // 2 : length // 2 + len(h)].tolist()


def test_numpy_conjugates_the_kernel_and_not_the_signal_when_it_swaps():
    f = np.array([1 + 2j, 3 - 1j])
    h = np.array([2 - 1j, 1j, 4 + 0j, -1 + 1j])
    for mode in MODES:
        assert_same(values(f, h, "numpy", "correlation", mode), np.correlate(f, h, mode))


def test_numpy_refuses_what_it_cannot_express():
    with pytest.raises(ConventionError, match=r"numpy.convolve takes 1-D arrays only"):
        compute(IMAGE, SOBEL_X, "convolution", Options.parse(convention="numpy"))
    with pytest.raises(ConventionError, match=r"numpy.correlate has no stride or dilation"):
        compute(F, [1, -1], "correlation", Options.parse(stride=2, convention="numpy"))
    with pytest.raises(ConventionError, match=r"not explicit padding"):
        compute(F, [1, -1], "convolution", Options.parse(padding="1:0", convention="numpy"))
    with pytest.raises(ConventionError, match=r"pads with zeros only, not reflect"):
        compute(
            F,
            [1, -1],
            "convolution",
            Options.parse(padding="same", pad_mode="reflect", convention="numpy"),
        )


# ---------------------------------------------------------------- scipy


def scipy_reference(f, h, operation, mode, method):
    function = scipy.signal.convolve if operation == "convolution" else scipy.signal.correlate
    return function(f, h, mode, method=method)


def check_scipy(f, h, operation, mode):
    try:
        expected = [scipy_reference(f, h, operation, mode, m) for m in ("direct", "fft")]
    except ValueError as error:
        assert "at least as large" in str(error)
        with pytest.raises(ConventionError, match="at least as large as the other"):
            compute(f, h, operation, Options.parse(padding=mode, convention="scipy"))
        return
    got = values(f, h, "scipy", operation, mode)
    for reference in expected:
        if f.dtype.kind == h.dtype.kind == "i":
            reference = np.round(reference.real).astype(np.int64)
        assert_same(got, reference)


@pytest.mark.slow
@given(signals(1), st.sampled_from(MODES), st.sampled_from(OPERATIONS))
def test_scipy_matches_scipy_1d(pair, mode, operation):
    check_scipy(*pair, operation, mode)


@pytest.mark.slow
@given(signals(2, longest=5), st.sampled_from(MODES), st.sampled_from(OPERATIONS))
def test_scipy_matches_scipy_2d(pair, mode, operation):
    check_scipy(*pair, operation, mode)


def scipy2d_reference(f, h, operation, mode, boundary):
    function = scipy.signal.convolve2d if operation == "convolution" else scipy.signal.correlate2d
    return function(f, h, mode, boundary=boundary)


@pytest.mark.slow
@given(
    signals(2, longest=5),
    st.sampled_from(MODES),
    st.sampled_from(OPERATIONS),
    st.sampled_from([("zeros", "fill"), ("circular", "wrap"), ("symmetric", "symm")]),
)
def test_scipy2d_matches_convolve2d_and_correlate2d(pair, mode, operation, boundary):
    f, h = pair
    pad_mode, scipy_boundary = boundary
    try:
        expected = scipy2d_reference(f, h, operation, mode, scipy_boundary)
    except ValueError as error:
        assert "at least as large" in str(error)
        with pytest.raises(ConventionError, match="at least as large as the other"):
            compute(
                f,
                h,
                operation,
                Options.parse(padding=mode, pad_mode=pad_mode, convention="scipy2d"),
            )
        return
    assert_same(values(f, h, "scipy2d", operation, mode, pad_mode=pad_mode), expected)


def test_correlate2d_and_correlate_keep_different_centres_for_even_kernels():
    f = np.arange(20).reshape(4, 5)
    h = np.array([[1, 2], [3, 4]])
    two_d = values(f, h, "scipy2d", "correlation", "same")
    n_d = values(f, h, "scipy", "correlation", "same")
    assert two_d.tolist() == scipy.signal.correlate2d(f, h, "same").tolist()
    assert n_d.tolist() == scipy.signal.correlate(f, h, "same").tolist()
    assert two_d.tolist() != n_d.tolist()
    assert two_d.tolist() == convcli.correlate(f, h, padding="same").tolist()


def test_correlate2d_conjugates_its_result_when_it_swaps():
    f = np.array([[1 + 1j, 2 - 1j]])
    h = np.array([[1j, 2 + 0j, 3 - 2j]])
    got = compute(f, h, "correlation", Options.parse(padding="valid", convention="scipy2d"))
    assert_same(got.values, scipy.signal.correlate2d(f, h, "valid"))
    assert_same(np.conj(got.values), scipy.signal.correlate(f, h, "valid"))
    assert got.notes == ("correlate2d swaps in a larger kernel and returns the conjugate",)


def test_scipy_refusals_name_the_function():
    with pytest.raises(ConventionError, match=r"scipy.signal.convolve2d takes 2-D arrays only"):
        compute(F, [1, -1], "convolution", Options.parse(convention="scipy2d"))
    with pytest.raises(ConventionError, match=r"boundary 'fill'.*not replicate"):
        compute(
            IMAGE,
            SOBEL_X,
            "convolution",
            Options.parse(padding="same", pad_mode="replicate", convention="scipy2d"),
        )
    with pytest.raises(ConventionError, match=r"scipy.signal.correlate pads with zeros only"):
        compute(
            IMAGE,
            SOBEL_X,
            "correlation",
            Options.parse(padding="same", pad_mode="circular", convention="scipy"),
        )
    with pytest.raises(ConventionError, match=r"scipy.signal.convolve has no stride"):
        compute(IMAGE, SOBEL_X, "convolution", Options.parse(dilation=2, convention="scipy"))


# ---------------------------------------------------------------- MATLAB


def full_convolution(f, h):
    return scipy.signal.convolve(f, h, "full", method="direct")


def xcorr_definition(x, y):
    """MATLAB's xcorr: R(m) = sum_n x(n + m) conj(y(n)), the shorter input padded with
    zeros to L = max(N, M), for m = -(L - 1) .. L - 1."""
    length = max(len(x), len(y))
    x = np.concatenate([x, np.zeros(length - len(x), dtype=x.dtype)])
    y = np.concatenate([y, np.zeros(length - len(y), dtype=y.dtype)])
    return np.array(
        [
            sum(x[n + m] * np.conj(y[n]) for n in range(length) if 0 <= n + m < length)
            for m in range(-(length - 1), length)
        ]
    )


def test_matlab_conv_same_documented_example():
    # MATLAB's conv documentation, "Central Part of Convolution".
    u = [-1, 2, 3, -2, 0, 1, 2]
    v = [2, 4, -1, 1]
    assert values(u, v, "matlab", "convolution", "same").tolist() == [15, 5, -9, 7, 6, 7, -1]


@pytest.mark.slow
@given(signals(1), st.sampled_from(MODES))
def test_matlab_conv_keeps_the_central_part_from_floor_k_over_2(pair, mode):
    f, h = pair
    n, k = len(f), len(h)
    full = full_convolution(f, h)
    expected = {
        "full": full,
        "same": full[k // 2 : k // 2 + n],
        "valid": full[k - 1 : n] if k <= n else np.zeros(0),
    }[mode]
    got = values(f, h, "matlab", "convolution", mode)
    assert_same(got, expected.astype(got.dtype))


@pytest.mark.slow
@given(signals(2, longest=5), st.sampled_from(MODES))
def test_matlab_conv2_keeps_the_central_part(pair, mode):
    f, h = pair
    full = full_convolution(f, h)
    if mode == "full":
        expected = full
    elif mode == "same":
        expected = full[tuple(slice(k // 2, k // 2 + n) for n, k in zip(f.shape, h.shape))]
    else:
        expected = full[tuple(slice(k - 1, n) for n, k in zip(f.shape, h.shape))]
        expected = expected.reshape(tuple(max(n - k + 1, 0) for n, k in zip(f.shape, h.shape)))
    got = values(f, h, "matlab", "convolution", mode)
    assert_same(got, expected.astype(got.dtype))


def test_matlab_valid_with_a_longer_kernel_is_empty():
    result = compute(
        [1, 2], [1, 2, 3], "convolution", Options.parse(padding="valid", convention="matlab")
    )
    assert result.values.shape == (0,)
    assert compute(
        IMAGE, np.ones((9, 2)), "convolution", Options.parse(padding="valid", convention="matlab")
    ).values.shape == (0, 7)


@pytest.mark.slow
@given(signals(1))
def test_matlab_xcorr_returns_every_lag(pair):
    f, h = pair
    got = values(f, h, "matlab", "correlation", "full")
    assert len(got) == 2 * max(len(f), len(h)) - 1
    assert_same(got, xcorr_definition(f, h).astype(got.dtype))


def test_matlab_xcorr_documented_example_peaks_at_the_shift():
    # MATLAB's xcorr documentation: y is x delayed by 5 samples (circularly).
    n = np.arange(16)
    x = 0.84**n
    y = np.roll(x, 5)
    c = values(x, y, "matlab", "correlation", "full")
    lags = np.arange(-15, 16)
    assert lags[np.argmax(c)] == -5


@pytest.mark.slow
@given(signals(2, longest=5))
def test_matlab_xcorr2_is_the_full_2d_correlation(pair):
    f, h = pair
    got = values(f, h, "matlab", "correlation", "full")
    assert_same(got, scipy.signal.correlate2d(f, h, "full").astype(got.dtype))


def test_matlab_refusals():
    with pytest.raises(ConventionError, match=r"xcorr has no shape argument.*use padding='full'"):
        compute(F, [1, -1], "correlation", Options.parse(padding="same", convention="matlab"))
    with pytest.raises(ConventionError, match=r"conv has no stride"):
        compute(F, [1, -1], "convolution", Options.parse(stride=2, convention="matlab"))
    with pytest.raises(ConventionError, match=r"xcorr2 has no shape argument"):
        compute(IMAGE, SOBEL_X, "correlation", Options.parse(padding="valid", convention="matlab"))


# ---------------------------------------------------------------- PyTorch


def torch_reference(f, h, padding, stride, dilation, pad_mode):
    """nn.Conv1d/Conv2d with the kernel as its weight (and F.conv*d for zeros), in float64
    or complex128."""
    torch = pytest.importorskip("torch")
    dtype = torch.complex128 if np.iscomplexobj(f) or np.iscomplexobj(h) else torch.float64
    x = torch.tensor(np.asarray(f))[None, None].to(dtype)
    w = torch.tensor(np.asarray(h))[None, None].to(dtype)
    layer = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d}[f.ndim](
        1,
        1,
        h.shape,
        stride=stride,
        padding=padding,
        dilation=dilation,
        padding_mode=pad_mode,
        bias=False,
        dtype=dtype,
    )
    with torch.no_grad():
        layer.weight.copy_(w)
        out = layer(x)
        if pad_mode == "zeros":
            function = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d}[f.ndim]
            direct = function(x, w, stride=stride, padding=padding, dilation=dilation)
            assert torch.equal(direct, out)
    return out[0, 0].numpy()


def torch_case(ndim: int):
    return st.tuples(
        signals(ndim, longest=7 if ndim == 1 else 5),
        st.sampled_from(["valid", "same", 0, 1, 2, 3]),
        st.integers(1, 3),
        st.integers(1, 3),
        st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    )


def check_torch(case):
    (f, h), padding, stride, dilation, pad_mode = case
    options = {"stride": stride, "dilation": dilation, "pad_mode": pad_mode}
    try:
        expected = torch_reference(f, h, padding, stride, dilation, pad_mode)
    except (RuntimeError, ValueError, NotImplementedError) as error:
        with pytest.raises(ConvcliError):
            compute(
                f, h, "convolution", Options.parse(padding=padding, **options, convention="torch")
            )
        assert error is not None
        return
    for operation in OPERATIONS:  # torch has one function: conv and corr both run it
        got = values(f, h, "torch", operation, padding, **options)
        if got.dtype.kind == "i":
            expected = expected.astype(np.int64)
        assert_same(got, expected)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel:UserWarning")
@given(torch_case(1))
def test_torch_matches_conv1d(case):
    check_torch(case)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel:UserWarning")
@given(torch_case(2))
def test_torch_matches_conv2d(case):
    check_torch(case)


@pytest.mark.torch
def test_torch_same_with_stride_is_refused_as_torch_does():
    torch = pytest.importorskip("torch")
    x = torch.ones(1, 1, 5, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="not supported for strided convolutions") as error:
        torch.nn.functional.conv1d(x, x[..., :2], stride=2, padding="same")
    with pytest.raises(ConventionError, match="not supported for strided convolutions"):
        compute(
            F, [1, -1], "convolution", Options.parse(padding="same", stride=2, convention="torch")
        )
    assert error is not None


def test_torch_puts_the_extra_same_padding_on_the_right():
    result = compute(F, [1, -1], "correlation", Options.parse(padding="same", convention="torch"))
    assert result.geometry.pads == ((0, 1),)
    assert result.values.tolist() == [1, -2, -2, 1, 4]


def test_torch_slides_a_complex_kernel_unconjugated():
    f = np.array([1 + 1j, 2, 3 - 1j])
    h = np.array([1j, 1])
    got = values(f, h, "torch", "correlation")
    assert_same(got, np.array([f[0] * h[0] + f[1] * h[1], f[1] * h[0] + f[2] * h[1]]))


def test_torch_refusals():
    with pytest.raises(ConventionError, match=r"padding_mode is zeros, reflect.*not symmetric"):
        compute(
            F,
            [1, -1],
            "convolution",
            Options.parse(padding=1, pad_mode="symmetric", convention="torch"),
        )
    with pytest.raises(ConventionError, match=r"pads both ends of an axis alike"):
        compute(F, [1, -1], "convolution", Options.parse(padding="0:1", convention="torch"))
    with pytest.raises(ConventionError, match=r"reflect padding size should be less"):
        compute(
            [1, 2],
            [1, 1, 1],
            "convolution",
            Options.parse(padding=2, pad_mode="reflect", convention="torch"),
        )
    with pytest.raises(ConventionError, match=r"wrapping around more than once"):
        compute(
            [1, 2],
            [1, 1, 1, 1],
            "convolution",
            Options.parse(padding=3, pad_mode="circular", convention="torch"),
        )


def test_torch_calls_are_what_a_user_writes():
    assert compute(
        F, [1, -1], "convolution", Options.parse(padding="same", convention="torch")
    ).call == ('F.conv1d(f, h, padding="same")')
    call = compute(
        IMAGE,
        SOBEL_X,
        "correlation",
        Options.parse(padding="full", stride=(2, 1), convention="torch"),
    ).call
    assert call == "F.conv2d(f, h, stride=(2, 1), padding=2)"
    call = compute(
        IMAGE,
        SOBEL_X,
        "correlation",
        Options.parse(padding="1,2", pad_mode="reflect", convention="torch"),
    ).call
    assert call == 'F.conv2d(F.pad(f, (2, 2, 1, 1), mode="reflect"), h)'


@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
@pytest.mark.parametrize("bad", [np.inf, np.nan])
@pytest.mark.parametrize(
    ("convention", "operation", "padding"),
    [
        ("numpy", "convolution", "full"),
        ("numpy", "correlation", "same"),
        ("scipy", "convolution", "same"),
        ("matlab", "convolution", "full"),
        ("matlab", "correlation", "full"),
        ("torch", "correlation", "same"),
        ("torch", "convolution", 2),
        ("tensorflow", "correlation", "same"),
    ],
)
def test_nonfinite_tap_over_zero_padding(convention, operation, padding, bad, method):
    """numpy, scipy and MATLAB leave zero padding out of the sum; PyTorch and TensorFlow
    multiply its zeros (float64 convolution is im2col and a matrix product there), so a
    nan or inf tap over them gives nan. The reference computes the request's padding as
    the engine reports it, each way."""
    f = np.array([1.0, 2.0, 0.5, 3.0, -1.0])
    h = np.array([bad, 1.0, 2.0])
    result = compute(
        f, h, operation, Options.parse(padding=padding, method=method, convention=convention)
    )
    multiplies = convention in ("torch", "tensorflow")
    weights = h if multiplies else (np.flip(h) if operation == "convolution" else h)
    expected = reference_slide(
        f, weights, "correlation", padding=list(result.geometry.pads), multiply_padding=multiplies
    )[0].astype(float)
    assert np.array_equal(np.isnan(result.values), np.isnan(expected))
    assert np.array_equal(result.values[~np.isnan(expected)], expected[~np.isnan(expected)])
    if multiplies:
        assert np.isnan(result.values[0])  # the tap on a padded zero
    else:  # the output whose window holds the bad tap over padding and nothing else bad
        assert np.isfinite(result.values[-1 if operation == "convolution" else 0])


# ---------------------------------------------------------------- TensorFlow


def tf_same_pads(length: int, taps: int, stride: int, dilation: int) -> tuple[int, int]:
    """The total 'SAME' padding as TensorFlow's padding notes write it, split as they say
    (the filter size being the dilated one)."""
    size = (taps - 1) * dilation + 1
    remainder = length % stride
    total = max(size - stride, 0) if remainder == 0 else max(size - remainder, 0)
    return total // 2, total - total // 2


@pytest.mark.slow
@given(st.integers(1, 30), st.integers(1, 9), st.integers(1, 4), st.integers(1, 3))
def test_tensorflow_same_pads_as_its_padding_notes_say(length, taps, stride, dilation):
    if stride > 1 and dilation > 1:
        dilation = 1
    result = compute(
        np.ones(length),
        np.ones(taps),
        "convolution",
        Options.parse(padding="same", stride=stride, dilation=dilation, convention="tensorflow"),
    )
    assert result.geometry.pads == (tf_same_pads(length, taps, stride, dilation),)
    assert result.values.shape == (-(-length // stride),)


def test_tensorflow_documented_same_example():
    # TensorFlow's padding notes: in 5x2, filter 3x2, strides (2, 1) -> output 3x2 (one
    # channel here; the documented example has two, which doubles every value).
    result = compute(
        np.ones((5, 2)),
        np.ones((3, 2)),
        "correlation",
        Options.parse(padding="same", stride=(2, 1), convention="tensorflow"),
    )
    assert result.values.shape == (3, 2)
    assert result.values.tolist() == [[4, 2], [6, 3], [4, 2]]
    assert tf_same_pads(5, 3, 2, 1) == (1, 1)
    # "when pad_along_height is 5, we pad 2 pixels at the top and 3 pixels at the bottom"
    assert compute(
        np.ones(4),
        np.ones(6),
        "convolution",
        Options.parse(padding="same", convention="tensorflow"),
    ).geometry.pads == ((2, 3),)


def test_tensorflow_documented_explicit_padding_example():
    inp, filters = np.ones((3, 3)), np.ones((2, 2))
    result = compute(
        inp, filters, "correlation", Options.parse(padding="1:2,0:1", convention="tensorflow")
    )
    assert result.values.shape == (5, 3)
    assert result.call == "tf.nn.conv2d(f, h, strides=1, padding=[[0, 0], [1, 2], [0, 1], [0, 0]])"
    padded = np.pad(inp, ((1, 2), (0, 1)))
    assert_same(result.values, values(padded, filters, "tensorflow", "correlation", "valid"))


@pytest.mark.slow
@given(
    signals(1, kinds="if"), st.integers(1, 3), st.integers(1, 3), st.sampled_from(["same", "valid"])
)
def test_tensorflow_is_the_documented_sum(pair, stride, dilation, padding):
    # output[i] = sum_k padded_input[i * stride + k * dilation] * filter[k]
    f, h = pair
    if stride > 1:
        dilation = 1
    span = (len(h) - 1) * dilation + 1
    before, after = tf_same_pads(len(f), len(h), stride, dilation) if padding == "same" else (0, 0)
    padded = np.concatenate([np.zeros(before), f, np.zeros(after)])
    if len(padded) < span:
        with pytest.raises(ConvcliError):
            compute(
                f,
                h,
                "convolution",
                Options.parse(
                    padding=padding, stride=stride, dilation=dilation, convention="tensorflow"
                ),
            )
        return
    count = (len(padded) - span) // stride + 1
    expected = [
        sum(padded[i * stride + k * dilation] * h[k] for k in range(len(h))) for i in range(count)
    ]
    got = values(f, h, "tensorflow", "convolution", padding, stride, dilation)
    assert_same(got, np.array(expected).astype(got.dtype))


@pytest.mark.slow
@given(
    signals(2, kinds="if", longest=6),
    st.tuples(st.integers(1, 3), st.integers(1, 3)),
    st.sampled_from(["SAME", "VALID"]),
)
def test_tensorflow_conv2d_is_the_documented_sum(pair, strides, padding):
    # SAME: each axis padded as the notes say; then a valid correlation, every stride-th output.
    f, h = pair
    pads = [
        tf_same_pads(n, k, s, 1) if padding == "SAME" else (0, 0)
        for n, k, s in zip(f.shape, h.shape, strides)
    ]
    padded = np.pad(f, pads)
    if any(p < k for p, k in zip(padded.shape, h.shape)):
        with pytest.raises(ConvcliError):
            compute(
                f,
                h,
                "correlation",
                Options.parse(padding=padding.lower(), stride=strides, convention="tensorflow"),
            )
        return
    expected = scipy.signal.correlate(padded, h, "valid", method="direct")[
        :: strides[0], :: strides[1]
    ]
    got = values(f, h, "tensorflow", "correlation", padding.lower(), strides)
    assert_same(got, expected.astype(got.dtype))


def test_tensorflow_refusals():
    with pytest.raises(ConventionError, match=r"tf.nn.conv1d takes real tensors only"):
        compute([1j, 2], [1, 1], "convolution", Options.parse(convention="tensorflow"))
    with pytest.raises(ConventionError, match=r"strides > 1 together with dilations > 1"):
        compute(
            F, [1, -1], "convolution", Options.parse(stride=2, dilation=2, convention="tensorflow")
        )
    with pytest.raises(ConventionError, match=r"tf.nn.conv1d takes padding 'SAME' or 'VALID'"):
        compute(F, [1, -1], "convolution", Options.parse(padding="full", convention="tensorflow"))
    with pytest.raises(ConventionError, match=r"pads with zeros only.*tf.pad"):
        compute(
            F,
            [1, -1],
            "convolution",
            Options.parse(padding="same", pad_mode="reflect", convention="tensorflow"),
        )


# ---------------------------------------------------------------- every convention


CLASSIC_CONVOLUTION = [-1, 2, 2, -1]
CLASSIC_CORRELATION = [1, -2, -2, 1]


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_classic_example_under_every_convention(convention):
    if convention == "scipy2d":
        f, h = [F], [[1, -1]]
        conv, corr = [CLASSIC_CONVOLUTION], [CLASSIC_CORRELATION]
    else:
        f, h, conv, corr = F, [1, -1], CLASSIC_CONVOLUTION, CLASSIC_CORRELATION
    flips = convention not in ("torch", "tensorflow")
    assert convcli.convolve(f, h, convention=convention).tolist() == (conv if flips else corr)
    if convention == "matlab":  # xcorr has no 'valid': every lag, the classic ones among them
        assert convcli.correlate(f, h, padding="full", convention=convention).tolist() == [
            0, 0, 0, -2, *CLASSIC_CORRELATION, 4
        ]  # fmt: skip
    else:
        assert convcli.correlate(f, h, convention=convention).tolist() == corr
    symmetric = convcli.convolve(
        F, [-1, 2, -1], convention=convention if convention != "scipy2d" else "scipy"
    )
    assert symmetric.tolist() == [-3, 0, 3]


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_sobel_under_every_convention(convention):
    if convention == "numpy":
        with pytest.raises(ConventionError):
            convcli.compare(IMAGE, SOBEL_X, convention=convention)
        return
    result = convcli.compare(IMAGE, SOBEL_X, padding="full", convention=convention)
    flips = convention not in ("torch", "tensorflow")
    assert result.negated is flips
    assert result.identical is not flips
    assert result.correlation.tolist() == convcli.correlate(IMAGE, SOBEL_X, padding="full").tolist()


@pytest.mark.parametrize("convention", [c for c in CONVENTIONS if c not in ("scipy2d",)])
@pytest.mark.parametrize("method", ["direct", "fft", "auto"])
def test_integers_stay_exact_with_every_method(convention, method):
    f = [2**40 + 1, -(2**41), 3, 2**39] * 40
    h = [2**20 + 3, -7, 5]
    padding = "same" if convention == "tensorflow" else "full"  # tf.nn.conv1d has no full
    options = {"padding": padding, "convention": convention}
    expected = convcli.correlate(f, h, method="direct", **options)
    got = convcli.correlate(f, h, method=method, **options)
    assert got.dtype == np.int64
    assert got.tolist() == expected.tolist()


def test_integers_beyond_int64_stay_exact():
    f, h = [2**70, 1, -(2**65)], [3, 2**10]
    got = compute(f, h, "convolution", Options.parse(padding="same", convention="numpy")).values
    exact = [sum(f[i] * h[n - i] for i in range(3) if 0 <= n - i < 2) for n in range(4)]
    assert got.tolist() == exact[:3]


def test_unknown_convention_is_refused():
    with pytest.raises(ConvcliError, match="convention='octave'"):
        convcli.convolve(F, [1, -1], convention="octave")


# ---------------------------------------------------------------- compare and lineup


def test_compare_under_numpy_shows_both_calls():
    result = compare(F, [1, -1], Options.parse(padding="same", convention="numpy"))
    assert result.calls == ('np.convolve(f, h, mode="same")', 'np.correlate(f, h, mode="same")')
    assert result.convolution.tolist() == np.convolve(F, [1, -1], "same").tolist()
    assert result.correlation.tolist() == np.correlate(F, [1, -1], "same").tolist()
    assert result.negated
    assert result.verdict == ""


def test_compare_under_torch_has_one_function():
    result = convcli.compare(F, [1, -1], convention="torch")
    assert result.identical
    assert result.convolution.tolist() == CLASSIC_CORRELATION
    assert "does not flip the kernel" in result.verdict


def test_compare_refuses_results_of_different_shapes():
    with pytest.raises(ConvcliError, match="cannot be compared position by position"):
        convcli.compare(F, [1, -1], padding="full", convention="matlab")


def test_lineup_marks_the_minority_with_its_reason():
    table = lineup(F, [1, -1], options=Options.parse(padding="same"))
    rows = {(row.operation, row.convention): row for row in table.rows}
    assert [row.convention for row in table.rows[:6]] == [
        "convcli", "numpy", "scipy", "matlab", "torch", "tensorflow"
    ]  # fmt: skip
    assert rows["convolution", "matlab"].agrees is True
    assert rows["convolution", "numpy"].reason == "numpy keeps the left centre for even kernels"
    assert rows["convolution", "torch"].agrees is False
    assert "does not flip" in rows["convolution", "torch"].reason
    assert rows["correlation", "torch"].agrees is True
    assert rows["correlation", "matlab"].agrees is None
    assert "no shape argument" in rows["correlation", "matlab"].reason
    assert rows["correlation", "numpy"].values.tolist() == np.correlate(F, [1, -1], "same").tolist()


def test_lineup_in_2d_adds_convolve2d_and_refuses_numpy():
    table = lineup(IMAGE, [[1, 2], [3, 4]], ["correlation"], Options.parse(padding="same"))
    rows = {row.convention: row for row in table.rows}
    assert set(rows) == set(CONVENTIONS)
    assert rows["numpy"].agrees is None
    assert rows["scipy2d"].agrees is True  # correlate2d keeps the right centre, as convcli
    assert rows["scipy"].agrees is False
    assert rows["scipy"].reason == "scipy keeps the left centre for even kernels"


def test_lineup_with_a_longer_kernel():
    table = lineup([1, 2, 3], [1, 0, -1, 2], ["convolution"])
    rows = {row.convention: row for row in table.rows}
    assert rows["convcli"].agrees is None  # convcli refuses a kernel longer than the signal
    assert rows["numpy"].values.tolist() == np.convolve([1, 2, 3], [1, 0, -1, 2], "valid").tolist()
    assert rows["numpy"].agrees and rows["scipy"].agrees
    assert rows["matlab"].values.shape == (0,)
    assert rows["matlab"].reason.startswith("MATLAB returns an empty array")


# --------------------------------------------------------------------------- axes= and pad_value=


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("operation", ["convolution", "correlation"])
def test_scipy_axes_is_fftconvolve(mode, operation):
    from scipy import signal

    rng = np.random.default_rng(5)
    f, h = (
        rng.standard_normal((3, 10)),
        rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4)),
    )
    result = compute(f, h, operation, Options.parse(padding=mode, axes=-1, convention="scipy"))
    kernel = h if operation == "convolution" else np.conj(np.flip(h, axis=1))
    np.testing.assert_allclose(
        result.values, signal.fftconvolve(f, kernel, mode, axes=1), atol=1e-12
    )
    assert result.call.startswith("signal.fftconvolve(f, ") and result.call.endswith("axes=1)")


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("operation", ["convolution", "correlation"])
def test_scipy2d_fillvalue(mode, operation):
    from scipy import signal

    rng = np.random.default_rng(6)
    f, h = rng.standard_normal((5, 6)), rng.standard_normal((2, 3))
    result = compute(
        f, h, operation, Options.parse(padding=mode, pad_value=-1.5, convention="scipy2d")
    )
    function = signal.convolve2d if operation == "convolution" else signal.correlate2d
    np.testing.assert_allclose(result.values, function(f, h, mode, fillvalue=-1.5), atol=1e-12)
    assert "fillvalue=-1.5" in result.call


def test_convcli_call_writes_axes_and_pad_value_per_listed_axis():
    options = Options.parse(padding="full", stride=2, axes=1, pad_value=3)
    result = compute(np.ones((2, 6)), np.ones((2, 3)), "correlation", options)
    assert result.call == 'correlate(f, h, padding="full", stride=2, pad_value=3, axes=1)'


@pytest.mark.parametrize(
    ("convention", "options", "message"),
    [
        ("matlab", {"axes": (1, 0), "stride": 1}, ""),  # every axis: as without axes=
        ("scipy", {"pad_value": 2}, "scipy.signal.convolve pads with zeros only, not constant"),
        (
            "torch",
            {"pad_value": 2},
            "nn.Conv1d's padding_mode is zeros, reflect, replicate or circular, not constant",
        ),
        ("numpy", {"pad_mode": "constant"}, "numpy.convolve pads with zeros only, not constant"),
    ],
)
def test_libraries_without_axes_or_a_pad_value_refuse_them(convention, options, message):
    from convcli.analysis.conventions import ConventionOptionError, check_options

    if not message:
        check_options(("convolution",), Options.parse(convention=convention, **options))
        return
    with pytest.raises(ConventionOptionError) as error:
        check_options(("convolution",), Options.parse(convention=convention, **options))
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    ("convention", "function"), [("matlab", "conv2"), ("torch", "torch.nn.functional.conv2d")]
)
def test_libraries_refuse_axes_that_leave_an_axis_out(convention, function):
    with pytest.raises(ConvcliError) as error:
        compute(
            np.ones((3, 5)),
            np.ones((3, 2)),
            "convolution",
            Options.parse(axes=1, convention=convention),
        )
    assert str(error.value) == (
        f"{function} has no axes= (scipy.signal.fftconvolve has: try convention='scipy')"
    )
