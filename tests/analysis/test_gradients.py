"""Tests for convcli.analysis.gradients: hand-worked backward passes, property tests against
a naive loop built on tests/reference.py (which shares no code with convcli),
the adjoint identity, the independent checks, exact integers and every error."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

import convcli
from convcli import ConvcliError, backward, correlate
from convcli.analysis.gradients import FINITE_DIFFERENCES, OPERATOR_MATRIX, Backward
from tests.reference import PAD_MODE_NAMES, reference_output_shape, window_sources

FORWARDS = {"corr": "corr", "correlation": "corr", "conv": "conv", "convolution": "conv"}


# --------------------------------------------------------------------------- helpers


def naive_backward(x, w, g, forward, padding="valid", stride=1, dilation=1, pad_mode="zeros"):
    """y and both gradients of L = sum(G * y), one product at a time, in Python scalars.

    Every window tap reads one signal cell (or a zero); the tap's product
    x[src] * weight contributes G[out] * weight to dL/dx[src] and G[out] * x[src]
    to dL/dw at the kernel cell the tap used (flipped for convolution).
    """
    x, w, g = (np.asarray(a, dtype=object) for a in (x, w, g))
    out_shape, windows = window_sources(x.shape, w.shape, padding, stride, dilation, pad_mode)
    y = np.zeros(out_shape, dtype=object)
    grad_x = np.zeros(x.shape, dtype=object)
    grad_w = np.zeros(w.shape, dtype=object)
    for out, taps in windows:
        for k, src in taps:
            if src is None:
                continue
            cell = k if forward == "corr" else tuple(n - 1 - i for n, i in zip(w.shape, k))
            y[out] += x[src] * w[cell]
            grad_x[src] += g[out] * w[cell]
            grad_w[cell] += g[out] * x[src]
    return y, grad_x, grad_w


def is_exact_integer_array(values: np.ndarray) -> bool:
    if values.dtype == np.int64:
        return True
    return values.dtype == object and all(
        isinstance(v, int) and not isinstance(v, bool) for v in values.flat
    )


def dot(a, b):
    """<a, b> in Python scalars (exact for integers)."""
    return sum(
        u * v for u, v in zip(np.asarray(a).ravel().tolist(), np.asarray(b).ravel().tolist())
    )


@st.composite
def problems(draw, integer=None):
    """A signal, kernel, upstream gradient and options whose kernel fits the padded signal."""
    ndim = draw(st.integers(1, 2))
    top = 8 if ndim == 1 else 5
    signal_shape = tuple(draw(st.lists(st.integers(1, top), min_size=ndim, max_size=ndim)))
    kernel_shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    dilation = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    pair = st.tuples(st.integers(0, 3), st.integers(0, 3))
    padding = draw(
        st.one_of(
            st.sampled_from(["valid", "same", "full"]),
            st.lists(pair, min_size=ndim, max_size=ndim),
        )
    )
    pad_mode = draw(st.sampled_from(PAD_MODE_NAMES))
    forward = draw(st.sampled_from(sorted(FORWARDS)))
    out_shape = reference_output_shape(signal_shape, kernel_shape, padding, stride, dilation)
    assume(all(out_shape))
    integer = draw(st.booleans()) if integer is None else integer
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if integer:
        x, w = rng.integers(-9, 10, signal_shape), rng.integers(-9, 10, kernel_shape)
        g = rng.integers(-9, 10, out_shape)
    else:
        x, w = rng.uniform(-10, 10, signal_shape), rng.uniform(-10, 10, kernel_shape)
        g = rng.uniform(-10, 10, out_shape)
    options = {"padding": padding, "stride": stride, "dilation": dilation, "pad_mode": pad_mode}
    note(f"x={x.tolist()} w={w.tolist()} G={g.tolist()} forward={forward} {options}")
    return x, w, g, forward, options


def assert_float_close(actual: np.ndarray, expected: np.ndarray) -> None:
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual.astype(np.float64), expected, rtol=1e-10, atol=1e-8)


# --------------------------------------------------------------------------- hand-worked


def test_correlation_forward_by_hand():
    # y[i] = f[i] - f[i+1]; dL/dx[j] = G[j] - G[j-1]; dL/dw = [sum f[0:4], sum f[1:5]]
    result = backward([2, 1, 3, 5, 4], [1, -1])
    assert result.forward == "correlation"
    assert result.output.tolist() == [1, -2, -2, 1]
    assert result.upstream.tolist() == [1, 1, 1, 1]
    assert result.grad_signal.tolist() == [1, 0, 0, 0, -1]
    assert result.grad_kernel.tolist() == [2 + 1 + 3 + 5, 1 + 3 + 5 + 4]
    assert result.output_formula == "y = corr(x, w)"
    assert result.grad_signal_formula == "dL/dx = conv_full(G, w)"
    assert result.grad_kernel_formula == "dL/dw = corr(x, G)"
    assert result.check_method == OPERATOR_MATRIX
    assert result.check_signal.tolist() == [1, 0, 0, 0, -1]
    assert result.check_kernel.tolist() == [11, 13]
    assert result.largest_difference == 0.0
    assert result.checked_cells == 7
    assert result.notes == ()


def test_convolution_forward_by_hand():
    # y[i] = -f[i] + f[i+1]: the flipped kernel, so both gradients flip sign / order
    result = backward([2, 1, 3, 5, 4], [1, -1], forward="conv")
    assert result.forward == "convolution"
    assert result.output.tolist() == [-1, 2, 2, -1]
    assert result.grad_signal.tolist() == [-1, 0, 0, 0, 1]
    assert result.grad_kernel.tolist() == [13, 11]
    assert result.grad_signal_formula == "dL/dx = corr_full(G, w)"
    assert result.grad_kernel_formula == "dL/dw = flip(corr(x, G))"
    assert result.output_formula == "y = conv(x, w)"
    assert result.largest_difference == 0.0


def test_stride_and_dilation_by_hand():
    # y = [x0 + 2 x3, x2 + 2 x5]; x6 is under no window
    x = [0, 1, 2, 3, 4, 5, 6]
    result = backward(x, [1, 2], grad=[1, 10], stride=2, dilation=3)
    assert result.output.tolist() == [0 + 2 * 3, 2 + 2 * 5]
    assert result.grad_signal.tolist() == [1, 0, 10, 2, 0, 20, 0]
    assert result.grad_kernel.tolist() == [0 + 10 * 2, 3 + 10 * 5]
    assert result.uncovered == (1,)
    assert result.output_formula == "y = corr(x, w, stride=2, dilation=3)"
    assert result.grad_signal_formula == (
        "dL/dx = conv_full(dilate(G, 2), w, dilation=3), zero-extended to the shape of x"
    )
    assert result.grad_kernel_formula == "dL/dw = corr(x, dilate(G, 2), stride=3)"
    assert any("the last 1 padded cell on axis 0" in line for line in result.notes)


def test_uncovered_tail_longer_than_the_dilation_takes_the_first_outputs():
    # stride 4 over 7 cells: windows at 0 and 4 cover 0..5, cell 6 is left over
    result = backward([1, 2, 3, 4, 5, 6, 7], [1, 1], stride=4)
    assert result.output.tolist() == [3, 11]
    assert result.grad_kernel.tolist() == [1 + 5, 2 + 6]
    assert result.grad_signal.tolist() == [1, 1, 0, 0, 1, 1, 0]
    assert result.grad_kernel_formula == "dL/dw = corr(x, dilate(G, 4))[:2]"
    # the formula is literally true: the correlation has an extra output, cut off
    full = correlate([1, 2, 3, 4, 5, 6, 7], [1, 0, 0, 0, 1], stride=1)
    assert full.tolist() == [6, 8, 10]


def test_reflect_padding_folds_gradients_back_by_hand():
    # pad(x) = [2, 1, 2, 3, 2]: cells 0 and 4 copy x[1]
    g = [1, 10, 100, 1000, 10000]
    result = backward([1, 2, 3], [1], grad=g, padding=1, pad_mode="reflect")
    assert result.output.tolist() == [2, 1, 2, 3, 2]
    assert result.grad_signal.tolist() == [10, 1 + 100 + 10000, 1000]
    assert result.grad_kernel.tolist() == [2 * 1 + 1 * 10 + 2 * 100 + 3 * 1000 + 2 * 10000]
    assert result.grad_signal_formula == "dL/dx = conv_full(G, w) folded back by reflect padding 1"
    assert result.grad_kernel_formula == "dL/dw = corr(pad(x), G)"
    assert any("added to the signal cell it copies" in line for line in result.notes)


def test_zero_padding_crops_by_hand():
    result = backward([1, 2, 3], [1, 1], padding="full")
    # pad(x) = [0, 1, 2, 3, 0]; y = [1, 3, 5, 3]; every x cell sits under two windows
    assert result.output.tolist() == [1, 3, 5, 3]
    assert result.grad_signal.tolist() == [2, 2, 2]
    assert result.grad_kernel.tolist() == [6, 6]
    assert result.grad_signal_formula == "dL/dx = conv_full(G, w) cropped by padding 1"
    assert result.notes == ()


def test_two_dimensional_by_hand():
    x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    result = backward(x, [[1, 0], [0, -1]])
    # y[i, j] = x[i, j] - x[i+1, j+1]
    assert result.output.tolist() == [[-4, -4], [-4, -4]]
    assert result.grad_signal.tolist() == [[1, 1, 0], [1, 0, -1], [0, -1, -1]]
    assert result.grad_kernel.tolist() == [[12, 16], [24, 28]]
    assert result.largest_difference == 0.0


def test_per_axis_options_read_as_tuples():
    result = backward(
        np.arange(12).reshape(3, 4), [[1, 2], [3, 4]], padding="same", stride=(2, 1),
        dilation="1,2", forward="conv",
    )  # fmt: skip
    assert result.output_formula == "y = conv(pad(x), w, stride=(2, 1), dilation=(1, 2))"
    assert result.grad_signal_formula == (
        "dL/dx = corr_full(dilate(G, (2, 1)), w, dilation=(1, 2)) cropped by padding 0:1,1"
    )
    assert (
        result.grad_kernel_formula == "dL/dw = flip(corr(pad(x), dilate(G, (2, 1)), stride=(1, 2)))"
    )


# --------------------------------------------------------------------------- properties


@pytest.mark.slow
@given(problems())
def test_matches_the_naive_loop_and_its_own_check(problem):
    x, w, g, forward, options = problem
    result = backward(x, w, g, forward=forward, **options)
    y, grad_x, grad_w = naive_backward(x, w, g, FORWARDS[forward], **options)
    assert result.check_method == OPERATOR_MATRIX
    assert result.grad_signal.shape == x.shape and result.grad_kernel.shape == w.shape
    if x.dtype.kind == "i":
        for values in (result.output, result.grad_signal, result.grad_kernel):
            assert is_exact_integer_array(values)
        assert result.output.tolist() == y.tolist()
        assert result.grad_signal.tolist() == grad_x.tolist()
        assert result.grad_kernel.tolist() == grad_w.tolist()
        assert result.check_signal.tolist() == grad_x.tolist()
        assert result.check_kernel.tolist() == grad_w.tolist()
        assert result.largest_difference == 0.0
    else:
        for actual, expected in [
            (result.output, y),
            (result.grad_signal, grad_x),
            (result.grad_kernel, grad_w),
            (result.check_signal, grad_x),
            (result.check_kernel, grad_w),
        ]:
            assert_float_close(actual, expected)
        assert 0.0 <= result.largest_difference <= 1e-9
    assert result.checked_cells == x.size + w.size


@pytest.mark.slow
@given(problems(integer=True))
def test_adjoint_identity(problem):
    # L = <y, G> is linear in x and in w, so <y, G> = <x, dL/dx> = <w, dL/dw> exactly
    x, w, g, forward, options = problem
    result = backward(x, w, g, forward=forward, **options)
    inner = dot(result.output, g)
    assert dot(x, result.grad_signal) == inner
    assert dot(w, result.grad_kernel) == inner


@pytest.mark.slow
@given(problems(integer=True))
def test_default_upstream_is_all_ones(problem):
    x, w, _, forward, options = problem
    result = backward(x, w, forward=forward, **options)
    ones = np.ones(result.output.shape, dtype=np.int64)
    assert result.upstream.tolist() == ones.tolist()
    explicit = backward(x, w, ones, forward=forward, **options)
    assert explicit.grad_signal.tolist() == result.grad_signal.tolist()
    assert explicit.grad_kernel.tolist() == result.grad_kernel.tolist()
    assert dot(w, result.grad_kernel) == sum(result.output.ravel().tolist())


# --------------------------------------------------------------------------- the checks


def test_large_signal_falls_back_to_finite_differences():
    rng = np.random.default_rng(7)
    x, w = rng.uniform(-5, 5, 5000), rng.uniform(-5, 5, 3)
    options = {"padding": "same", "stride": 3, "dilation": 2, "pad_mode": "reflect"}
    g = rng.uniform(-1, 1, backward(x, w, **options).output.shape)
    result = backward(x, w, g, **options)
    assert result.check_method == FINITE_DIFFERENCES
    checked = ~np.isnan(result.check_signal)
    assert 2 < np.count_nonzero(checked) <= 32
    assert checked[0] and checked[-1]
    assert np.count_nonzero(~np.isnan(result.check_kernel)) == 3
    assert result.checked_cells == np.count_nonzero(checked) + 3
    assert 0.0 <= result.largest_difference < 1e-9
    _, grad_x, grad_w = naive_backward(x, w, g, "corr", **options)
    assert_float_close(result.grad_signal, grad_x)
    assert_float_close(result.grad_kernel, grad_w)
    assert_float_close(result.check_signal[checked], grad_x[checked])


@pytest.mark.slow
def test_finite_differences_in_two_dimensions_with_integers():
    rng = np.random.default_rng(3)
    x, w = rng.integers(-9, 10, (70, 70)), rng.integers(-9, 10, (3, 3))
    result = backward(x, w, padding="same", pad_mode="circular", forward="conv")
    assert result.check_method == FINITE_DIFFERENCES
    assert is_exact_integer_array(result.grad_signal)
    assert result.largest_difference == 0.0  # small integers: the differences are exact
    assert backward(x[:32, :32], w).check_method == OPERATOR_MATRIX
    # within the cell limit, but building the 4096-column matrix would cost too much
    assert backward(x[:64, :64], w).check_method == FINITE_DIFFERENCES


def test_the_check_is_independent_of_the_formulas():
    # the operator matrix is built from the forward operation alone, so a wrong
    # gradient would show as a difference: compare the check with A^T G by hand
    x, w, g = [3, -1, 4, 1], [2, 5], [1, -2, 7]
    result = backward(x, w, g)
    columns = [correlate(unit, w) for unit in np.eye(4, dtype=int)]
    assert result.check_signal.tolist() == [dot(column, g) for column in columns]
    kernel_columns = [correlate(x, unit) for unit in np.eye(2, dtype=int)]
    assert result.check_kernel.tolist() == [dot(column, g) for column in kernel_columns]


def test_nan_in_the_signal_shows_as_a_difference_or_agreement_not_a_crash():
    result = backward([1.0, np.nan, 3.0, 4.0], [1.0, 2.0])
    assert result.grad_signal.tolist() == [1.0, 3.0, 3.0, 2.0]  # dL/dx does not read x
    assert np.isnan(result.grad_kernel).all()
    assert result.largest_difference == 0.0 or np.isnan(result.largest_difference)


# --------------------------------------------------------------------------- exactness


def test_big_integers_stay_exact():
    x, w = [10**30, 2, 3], [10**20, 1]
    result = backward(x, w, padding=5, pad_mode="circular", forward="conv")
    _, grad_x, grad_w = naive_backward(x, w, np.ones(result.output.shape, dtype=int), "conv",
                                       padding=[(5, 5)], pad_mode="circular")  # fmt: skip
    assert result.grad_signal.tolist() == grad_x.tolist()
    assert result.grad_kernel.tolist() == grad_w.tolist()
    assert is_exact_integer_array(result.grad_kernel)
    assert result.largest_difference == 0.0


def test_int64_folding_does_not_overflow():
    # replicate padding folds many padded cells onto the edge cell
    g = np.full(41, 2**58, dtype=np.int64)
    result = backward([1, 1], [1], grad=g, padding=[(20, 19)], pad_mode="replicate")
    assert result.grad_signal.tolist() == [21 * 2**58, 20 * 2**58]
    assert result.largest_difference == 0.0


def test_mixed_integer_and_float_give_floats():
    result = backward([1, 2, 3], [0.5, 0.25], grad=[1, 2])
    assert result.grad_signal.dtype == np.float64
    assert result.grad_signal.tolist() == [0.5, 1.25, 0.5]
    assert result.grad_kernel.tolist() == [1 + 2 * 2, 2 + 2 * 3]


# --------------------------------------------------------------------------- API and errors


def test_exported_from_the_package():
    assert convcli.backward is backward
    assert "backward" in convcli.__all__
    result = backward([1, 2], [1])
    assert isinstance(result, Backward)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.output = None  # type: ignore[misc]


@pytest.mark.parametrize("name", ["corr", "correlation", " Conv ", "convolution"])
def test_forward_names(name):
    result = backward([2, 1, 3, 5, 4], [1, -1], forward=name)
    expected = "convolution" if "conv" in name.lower() else "correlation"
    assert result.forward == expected
    assert result.grad_kernel.tolist() == ([13, 11] if expected == "convolution" else [11, 13])


def test_unknown_forward():
    with pytest.raises(ConvcliError, match="unknown forward operation 'xcorr'"):
        backward([1, 2], [1], forward="xcorr")
    with pytest.raises(ConvcliError, match="unknown forward operation"):
        backward([1, 2], [1], forward=["corr"])  # type: ignore[arg-type]


@pytest.mark.parametrize("grad", [[1, 2], [[1, 1, 1, 1]], [1, 1, 1, 1, 1]])
def test_upstream_shape_must_match_the_output(grad):
    shape = np.asarray(grad).shape
    with pytest.raises(ConvcliError) as error:
        backward([2, 1, 3, 5, 4], [1, -1], grad=grad)
    assert str(shape) in str(error.value) and "(4,)" in str(error.value)


def test_upstream_must_be_numbers():
    with pytest.raises(ConvcliError, match="upstream gradient"):
        backward([2, 1, 3, 5, 4], [1, -1], grad=["a", "b", "c", "d"])


@pytest.mark.parametrize(
    ("signal", "kernel", "grad", "role"),
    [
        ([1j, 2], [1], None, "signal"),
        ([1, 2], [1 + 1j], None, "kernel"),
        ([1, 2], [1], [1j, 1], "upstream gradient"),
    ],
)
def test_complex_values_are_refused(signal, kernel, grad, role):
    with pytest.raises(ConvcliError, match=f"backward is defined here for real values; the {role}"):
        backward(signal, kernel, grad)


def test_engine_errors_pass_through():
    with pytest.raises(ConvcliError, match="kernel spans"):
        backward([1, 2], [1, 2, 3])
    with pytest.raises(ConvcliError, match="pad_mode='"):
        backward([1, 2], [1], pad_mode="mirror")


def test_constant_padding_has_the_gradient_of_zero_padding():
    """Constant cells do not depend on x: the gradient is zero padding's, cropped."""
    from convcli.analysis.gradients import backward

    x, w, g = np.array([1.0, 2.0, 3.0]), np.array([1.0, -2.0]), np.array([1.0, 5.0, 2.0, 7.0])
    zeros = backward(x, w, g, padding=1)
    constant = backward(x, w, g, padding=1, pad_mode="constant")
    np.testing.assert_array_equal(constant.grad_signal, zeros.grad_signal)
    np.testing.assert_array_equal(constant.grad_kernel, zeros.grad_kernel)
    assert not any("copies signal cells" in note for note in constant.notes)


@pytest.mark.parametrize("forward", ["corr", "conv"])
def test_constant_padding_cells_feed_the_kernels_gradient(forward):
    """A pad value is a term of every sum that reaches it: dL/dw_k = sum_i G_i p[i + k] over
    the padded signal p (flipped for conv), while dL/dx is cropped as for zeros."""
    from convcli.analysis.gradients import backward

    x, w, g = [2, 1, 3, 5, 4], [1, -1, 2], [1, 2, 3, 4, 5, 6, 7]
    result = backward(x, w, g, padding=2, pad_value=3, forward=forward)
    p = [3, 3, *x, 3, 3]
    by_hand = [sum(g[i] * p[i + k] for i in range(len(g))) for k in range(len(w))]
    assert result.grad_kernel.tolist() == (by_hand if forward == "corr" else by_hand[::-1])
    zeros = backward(x, w, g, padding=2, forward=forward)
    assert result.grad_signal.tolist() == zeros.grad_signal.tolist()
    assert result.check_kernel.tolist() == result.grad_kernel.tolist()
    assert result.largest_difference == 0.0
