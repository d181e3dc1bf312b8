"""Tests for convcli.api's axes=, pad_value=, kernel names and explain: against scipy.signal.fftconvolve(axes=),
a loop over rows and numpy.pad(constant_values=), integers exact, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcli import ConvcliError, compare, convolve, correlate, explain
from convcli.analysis.kernels import named_kernel
from convcli.errors import OptionError

scipy_signal = pytest.importorskip("scipy.signal")


@st.composite
def batched_problems(draw):
    """A signal and a kernel of 2 or 3 axes, the axes to slide along, and on the others
    sizes that are equal or 1 in one of the two."""
    ndim = draw(st.integers(2, 3))
    axes = tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))
    signal_shape, kernel_shape = [], []
    for axis in range(ndim):
        if axis in axes:
            n = draw(st.integers(1, 7))
            signal_shape.append(n)
            kernel_shape.append(draw(st.integers(1, n)))
        else:
            size = draw(st.integers(1, 4))
            which = draw(st.sampled_from(["both", "signal", "kernel"]))
            signal_shape.append(1 if which == "kernel" else size)
            kernel_shape.append(1 if which == "signal" else size)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    signed = draw(st.sampled_from(["int", "float", "complex"]))
    f, h = (rng.integers(-9, 10, shape) for shape in (signal_shape, kernel_shape))
    if signed != "int":
        f, h = f + rng.standard_normal(f.shape), h + rng.standard_normal(h.shape)
    if signed == "complex":
        h = h + 1j * rng.standard_normal(h.shape)
    if draw(st.booleans()):
        axes = tuple(a - ndim for a in axes)  # negative axes mean the same
    return f, h, axes


@given(
    batched_problems(),
    st.sampled_from(["full", "valid"]),
    st.sampled_from(["auto", "direct", "fft"]),
)
def test_axes_match_scipy_fftconvolve(problem, mode, method):
    f, h, axes = problem
    flipped = np.conj(np.flip(h, axis=axes))
    for ours, theirs in (
        (
            convolve(f, h, padding=mode, axes=axes, method=method),
            scipy_signal.fftconvolve(f, h, mode, axes=axes),
        ),
        (
            correlate(f, h, padding=mode, axes=axes, method=method),
            scipy_signal.fftconvolve(f, flipped, mode, axes=axes),
        ),
    ):
        assert ours.shape == theirs.shape
        scale = max(1.0, float(np.abs(theirs).max(initial=0)))
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9 * scale)
        if f.dtype.kind == h.dtype.kind == "i":
            assert ours.dtype == np.int64


def _rows(function, f, h, **options):
    """The per-row loop axes=1 stands for: row b of the signal with row b of the kernel."""
    h = np.broadcast_to(h, (f.shape[0], h.shape[1]))
    return np.array([function(row, taps, **options) for row, taps in zip(f, h)])


@pytest.mark.parametrize("kernel_rows", [1, 6])
@pytest.mark.parametrize("function", [convolve, correlate])
def test_integers_along_one_axis_are_the_exact_loop_over_rows(function, kernel_rows):
    rng = np.random.default_rng(1)
    f = rng.integers(-(2**34), 2**34, (6, 50))
    h = rng.integers(-(2**20), 2**20, (kernel_rows, 7))
    options = {"padding": "same", "stride": 2, "dilation": 3}
    ours = function(f, h, axes=1, **options)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours, _rows(function, f, h, **options))


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_a_shared_kernel_is_the_nd_sum_with_one_row(method):
    """A kernel of one row is the N-D sum with no padding, stride or dilation along the
    broadcast axis (summed row by row, in pieces that stay in cache): exactly on values
    whose sums are exact in float64, the FFT to its accuracy."""
    rng = np.random.default_rng(2)
    f = rng.integers(-50, 50, (5, 300)).astype(float)
    h = rng.integers(-5, 5, (1, 9)).astype(float)
    ours = correlate(f, h, axes=1, padding="full", method=method)
    whole = correlate(f, h, padding=[(0, 0), (8, 8)], method=method)
    np.testing.assert_allclose(ours, whole, rtol=0, atol=1e-9 * np.abs(whole).max())
    rows = _rows(correlate, f, h, padding="full")
    if method == "direct":
        np.testing.assert_array_equal(ours, rows)
    else:
        np.testing.assert_allclose(ours, rows, rtol=0, atol=1e-9)


def test_python_ints_past_int64_stay_exact_per_row():
    f = np.array([[2**70, 1, 2], [3, 2**65, 5]], dtype=object)
    h = np.array([[1, -1], [2**3, 1]], dtype=object)
    assert convolve(f, h, axes=1).tolist() == [[1 - 2**70, 1], [2**68 + 3, 2**65 + 40]]


def test_nan_kernel_rows_leave_zero_padding_out_as_the_engine_does():
    f = np.arange(1.0, 9.0).reshape(2, 4)
    h = np.array([[np.nan, 1.0, 1.0], [1.0, 1.0, 1.0]])
    ours = correlate(f, h, axes=1, padding="full")
    np.testing.assert_array_equal(ours, _rows(correlate, f, h, padding="full"))
    assert np.isnan(ours[0, 2:]).all() and not np.isnan(ours[0, :2]).any()


def test_compare_flips_only_the_listed_axes():
    # each row is symmetric along axis 1, but the rows differ: along axis 0 it is not
    result = compare(np.arange(12).reshape(2, 6), [[1, 2, 1], [3, 0, 3]], axes=1)
    assert result.kernel_symmetry == "symmetric" and result.identical
    assert result.flipped_kernel.tolist() == [[1, 2, 1], [3, 0, 3]]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"signal": np.ones((3, 100)), "kernel": np.ones((2, 5)), "axes": (1,)},
            ConvcliError,
            "signal shape (3, 100) and kernel shape (2, 5) cannot broadcast along axis 0 (not in "
            "axes=(1,)): sizes must match or one be 1",
        ),
        (
            {"signal": np.ones((3, 10)), "kernel": np.ones((3, 5)), "axes": (0, 0)},
            OptionError,
            "axes=(0, 0) lists an axis twice",
        ),
        (
            {"signal": np.ones((3, 10)), "kernel": np.ones((3, 5)), "axes": 1.0},
            TypeError,
            "axes 1.0 is not None, an integer or a sequence of integers",
        ),
        (
            {"signal": [1, 2], "kernel": [1], "pad_value": "x"},
            ConvcliError,
            "pad_value='x' is not a number",
        ),
        (
            {"signal": [1, 2], "kernel": [1], "pad_value": [1]},
            TypeError,
            "pad_value [1] is not a number",
        ),
        (
            {"signal": [1, 2], "kernel": [1], "pad_value": 1, "pad_mode": "circular"},
            OptionError,
            "pad_value=1 is what constant padding holds; pad_mode='circular' takes its cells",
        ),
    ],
)
def test_errors_name_the_shapes_and_the_argument(kwargs, error, message):
    with pytest.raises(error) as raised:
        convolve(**kwargs)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


# --------------------------------------------------------------------------- pad_value


@given(
    st.lists(st.integers(-20, 20), min_size=1, max_size=12),
    st.lists(st.integers(-5, 5), min_size=1, max_size=5),
    st.integers(0, 4),
    st.integers(0, 4),
    st.one_of(st.integers(-30, 30), st.floats(-30, 30), st.complex_numbers(max_magnitude=30)),
    st.sampled_from(["convolution", "correlation"]),
)
def test_constant_padding_is_numpy_pad(signal, kernel, before, after, value, operation):
    padded = np.pad(np.array(signal, dtype=type(value)), (before, after), constant_values=value)
    if len(kernel) > len(padded):
        return
    function = convolve if operation == "convolution" else correlate
    ours = function(signal, kernel, padding=[(before, after)], pad_value=value)
    expected = function(padded, kernel)
    assert ours.dtype == expected.dtype
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-9)


def test_integer_pad_value_stays_exact_and_a_float_one_makes_floats():
    exact = convolve([2**62, 1], [1, 1], padding="full", pad_value=2**62)
    assert exact.tolist() == [2**63, 2**62 + 1, 2**62 + 1]
    assert convolve([1, 2], [1, 1], padding="full", pad_value=0.5).dtype == np.float64
    assert convolve([1, 2], [1, 1], padding="full", pad_mode="constant").dtype == np.int64


def test_constant_padding_is_a_term_where_zeros_are_not():
    kernel = [np.inf, 1.0]
    zeros = correlate([1.0, 2.0], kernel, padding="full")
    constant = correlate([1.0, 2.0], kernel, padding="full", pad_mode="constant")
    assert zeros.tolist() == [1.0, np.inf, np.inf]
    assert np.isnan(constant[0]) and constant[1:].tolist() == [np.inf, np.inf]


def test_pad_value_matches_scipy_convolve2d_fillvalue():
    rng = np.random.default_rng(3)
    f, h = rng.standard_normal((6, 7)), rng.standard_normal((3, 2))
    ours = convolve(f, h, padding="full", pad_value=2.5)
    theirs = scipy_signal.convolve2d(f, h, "full", boundary="fill", fillvalue=2.5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- rows that differ, by FFT


def test_rows_by_fft_agree_with_the_direct_sum_and_keep_exact_zeros():
    rng = np.random.default_rng(9)
    f = rng.standard_normal((40, 3000))
    f[3] = 1.0  # a flat row: an antisymmetric kernel gives exact zeros there
    h = rng.standard_normal((40, 201))
    h[3] = np.r_[np.arange(100.0), 0.0, -np.arange(100.0)[::-1]]
    direct = correlate(f, h, axes=1, padding="same", stride=3, dilation=2, method="direct")
    for method in ("fft", "auto"):
        ours = correlate(f, h, axes=1, padding="same", stride=3, dilation=2, method=method)
        np.testing.assert_allclose(ours, direct, rtol=1e-9, atol=1e-9)
    interior = slice(110, -110)
    auto = correlate(f, h, axes=1, padding="same", method="auto")
    assert (auto[3, interior] == 0).all()


def test_rows_by_fft_fall_back_to_the_direct_sum_for_nan_and_integers():
    f = np.arange(60.0).reshape(3, 20)
    f[1, 5] = np.nan
    h = np.arange(9.0).reshape(3, 3)
    ours = convolve(f, h, axes=1, method="fft")
    np.testing.assert_array_equal(ours, convolve(f, h, axes=1, method="direct"))
    assert np.isnan(ours[1, 3:6]).all() and not np.isnan(np.delete(ours, 1, axis=0)).any()
    integers = convolve(f[[0, 2]].astype(int), h[[0, 2]].astype(int), axes=1, method="fft")
    assert integers.dtype == np.int64


def test_rows_by_fft_keep_a_tiny_row_next_to_a_huge_one():
    f = np.vstack([np.full(500, 1e-12), np.full(500, 1e12)]) * np.linspace(1, 2, 500)
    h = np.array([[1.0, -1.0], [1.0, 1.0]])
    ours = correlate(f, h, axes=1, method="fft")
    np.testing.assert_allclose(ours, correlate(f, h, axes=1, method="direct"), rtol=1e-12)


# --------------------------------------------------------------------------- kernel names


@pytest.mark.parametrize("function", [convolve, correlate])
@pytest.mark.parametrize(
    ("signal", "name"),
    [
        (np.arange(12.0), "gaussian:5"),
        (np.arange(20).reshape(4, 5), "gaussian:3"),
        (np.arange(20).reshape(4, 5), "sobel-x"),
        (np.arange(20).reshape(4, 5), "diff"),
        ([2, 1, 3, 5, 4], "Laplacian"),
    ],
)
def test_a_kernel_by_name_is_the_named_kernel_for_the_signals_dimensions(function, signal, name):
    kernel = named_kernel(name, np.ndim(signal))
    np.testing.assert_array_equal(
        function(signal, name, padding="same"), function(signal, kernel, padding="same")
    )


def test_compare_takes_a_kernel_by_name():
    by_name = compare(np.arange(16).reshape(4, 4), "sobel-y", padding="same")
    by_values = compare(np.arange(16).reshape(4, 4), named_kernel("sobel-y", 2), padding="same")
    np.testing.assert_array_equal(by_name.kernel, by_values.kernel)
    np.testing.assert_array_equal(by_name.convolution, by_values.convolution)
    assert by_name.kernel_symmetry == "antisymmetric"


@pytest.mark.parametrize(("axes", "kernel"), [(1, [[1, -1]]), (0, [[1], [-1]]), (-1, [[1, -1]])])
def test_with_axes_a_named_kernel_lies_along_the_listed_axes(axes, kernel):
    signal = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(
        convolve(signal, "diff", axes=axes), convolve(signal, kernel, axes=axes)
    )


def test_with_two_listed_axes_of_three_a_named_kernel_is_2d_there():
    signal = np.arange(60.0).reshape(3, 4, 5)
    expected = convolve(signal, named_kernel("gaussian:3", 2)[:, None, :], axes=(0, 2))
    np.testing.assert_array_equal(convolve(signal, "gaussian:3", axes=(0, 2)), expected)


def test_backward_and_normalized_correlate_take_a_kernel_by_name():
    from convcli import backward, normalized_correlate

    signal = [2.0, 1, 3, 5, 4, 0, 1]
    kernel = named_kernel("gaussian:3", 1)
    by_name, by_values = backward(signal, "gaussian:3"), backward(signal, kernel)
    np.testing.assert_array_equal(by_name.grad_signal, by_values.grad_signal)
    np.testing.assert_array_equal(by_name.grad_kernel, by_values.grad_kernel)
    np.testing.assert_array_equal(
        normalized_correlate(signal, "gaussian:3", normalize="zncc"),
        normalized_correlate(signal, kernel, normalize="zncc"),
    )


@pytest.mark.parametrize("function", [convolve, correlate, compare])
@pytest.mark.parametrize("word", ["gausian:5", "1,-1", ""])
def test_a_string_that_is_no_kernel_name_is_refused_saying_where_the_names_are(function, word):
    with pytest.raises(ConvcliError) as raised:
        function([1, 2, 3], word)
    message = str(raised.value)
    assert f"the kernel {word!r} is neither a kernel name nor numbers" in message
    assert "gaussian:N[:SIGMA]" in message
    assert "catalogue()" in message and "convcli kernels" in message


def test_a_named_kernel_with_bad_parameters_says_so():
    with pytest.raises(ConvcliError, match="sobel-x is a 2-D kernel but the signal is 1-D"):
        convolve([1, 2, 3, 4], "sobel-x")


@pytest.mark.parametrize("function", [convolve, correlate, compare])
def test_a_string_signal_is_still_a_type_error_naming_it(function):
    with pytest.raises(TypeError, match="signal must be an array"):
        function("1,2,3", "diff")


# --------------------------------------------------------------------------- explain


def test_explain_writes_out_both_operations_as_the_engine_computes_them():
    signal, kernel = np.arange(10) % 4, [1, 2, -1]
    lesson = explain(signal, kernel, padding="full", stride=2)
    np.testing.assert_array_equal(
        lesson.convolution.output, convolve(signal, kernel, padding="full", stride=2)
    )
    np.testing.assert_array_equal(
        lesson.correlation.output, correlate(signal, kernel, padding="full", stride=2)
    )
    assert lesson.kernel_symmetry == compare(signal, kernel).kernel_symmetry == "none"
    for operation in ("convolution", "correlation"):
        steps = lesson.steps_of(operation)
        explanation = getattr(lesson, operation)
        assert [step.total for step in steps] == explanation.output.tolist()
        assert all(step.total == step.products.sum() for step in steps)


def test_explain_one_operation():
    lesson = explain(
        [2, 1, 3, 5, 4], "diff", operation="correlation", pad_mode="circular", padding="same"
    )
    assert lesson.convolution is None
    assert lesson.explanations == (lesson.correlation,)
    np.testing.assert_array_equal(
        lesson.correlation.output,
        correlate([2, 1, 3, 5, 4], [1, -1], pad_mode="circular", padding="same"),
    )
    with pytest.raises(ConvcliError, match="no convolution"):
        lesson.steps_of("convolution")


@pytest.mark.parametrize("steps", [(1, 3), [1, 3], slice(1, 3), slice(1, 3, 1)])
def test_explain_steps_pick_a_range(steps):
    lesson = explain([2, 1, 3, 5, 4], [1, -1], steps=steps)
    for explanation in lesson.explanations:
        assert explanation.steps == range(1, 3)
    assert [step.position for step in lesson.steps_of("convolution")] == [(1,), (2,)]


def test_explain_steps_open_at_one_end():
    assert explain([2, 1, 3, 5, 4], [1, -1], steps=slice(2, None)).convolution.steps == range(2, 4)
    assert explain([2, 1, 3, 5, 4], [1, -1], steps=(None, 1)).correlation.steps == range(0, 1)


@pytest.mark.parametrize(
    ("steps", "error", "message"),
    [
        ((3, 9), ConvcliError, "steps 3:9 are not within the 4 steps"),
        (slice(0, 4, 2), ConvcliError, "skips steps"),
        (3, TypeError, "steps takes a \\(start, end\\) pair"),
        ((1.0, 2), TypeError, "steps takes"),
        ("1:3", TypeError, "steps takes"),
    ],
)
def test_explain_refuses_bad_steps(steps, error, message):
    with pytest.raises(error, match=message):
        explain([2, 1, 3, 5, 4], [1, -1], steps=steps)


def test_explain_refuses_an_unknown_operation_naming_it():
    with pytest.raises(ConvcliError, match="operation"):
        explain([1, 2], [1], operation="conv")


def test_explain_is_a_public_name():
    import convcli

    assert convcli.explain is explain
    assert {"explain", "Walkthrough", "Explanation"} <= set(convcli.__all__)
