"""Tests for convcli.analysis.layers (CNN layers) against the naive loop in tests/reference.py,
which shares no code with convcli: 1-, 2- and 3-D, batched or not, groups, every padding form
and pad mode, stride, dilation, bias, transposed layers, TensorFlow's layout, complex and exact
integers, non-finite weights; the decomposition into per-channel correlations; every error."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import Phase, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import convcli
from convcli import ConvcliError, LayerError, convolve, correlate, layer, layer_terms
from tests.reference import PAD_MODE_NAMES, layer_pads, reference_layer_sums

# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """A layer's arrays (channels first, batched) and its keyword options; ``written`` is the
    padding as convcli is given it, ``options["padding"]`` as the reference takes it."""

    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    options: dict = field(default_factory=dict)
    written: object = 0

    @property
    def keywords(self) -> dict:
        return {**self.options, "padding": self.written}


def nhwc(values: np.ndarray) -> np.ndarray:
    """A channels-first tensor channels-last: (N, C, *s) to (N, *s, C)."""
    return np.moveaxis(values, 1, -1)


def tf_filters(w: np.ndarray) -> np.ndarray:
    """PyTorch's (A, B, *k) weights as TensorFlow's (*k, B, A) filters: (C_out, C_in/g, *k) to
    (*k, C_in/g, C_out), and transposed (C_in, C_out, *k) to (*k, C_out, C_in)."""
    return w.transpose(*range(2, w.ndim), 1, 0)


def kind_of(*arrays: np.ndarray | None) -> str:
    """The kind of number a layer of these arrays gives: "c", "f", or "i" (exact integers)."""
    kinds = {np.asarray(a).dtype.kind for a in arrays if a is not None}
    return "c" if "c" in kinds else "f" if "f" in kinds else "i"


def assert_layer(got: np.ndarray, values: np.ndarray, magnitude: np.ndarray, kind: str) -> None:
    """Exactly the reference for integers (int64 or Python ints); for floats and complex to
    1e-12 of each sum's magnitude, nan and inf where the reference has them."""
    assert got.shape == values.shape
    if kind == "i":
        assert got.dtype.kind in "iO", got.dtype
        assert got.tolist() == values.tolist()
        return
    assert got.dtype.kind == kind, got.dtype
    expected = values.astype(complex if kind == "c" else float)
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(got), nan)
    infinite = np.isinf(expected)
    np.testing.assert_array_equal(got[infinite], expected[infinite])
    finite = ~nan & ~infinite
    error = np.abs(got[finite] - expected[finite])
    assert np.all(error <= 1e-12 * magnitude[finite]), error.max()


def reference(case: Case, **changes: object) -> tuple[np.ndarray, np.ndarray]:
    return reference_layer_sums(case.x, case.w, case.bias, **{**case.options, **changes})


def small_ints(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.int64, shape, elements=st.integers(-4, 4))


def floats(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=st.floats(-8, 8, width=32))


def complexes(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return st.tuples(floats(shape), floats(shape)).map(lambda p: p[0] + 1j * p[1])


def per_axis(dims: int, low: int, high: int) -> st.SearchStrategy[object]:
    """An int for every axis or a tuple of one per axis."""
    return st.one_of(st.integers(low, high), st.tuples(*[st.integers(low, high)] * dims))


def as_tuple(value: object, dims: int) -> tuple[int, ...]:
    return (value,) * dims if isinstance(value, int) else tuple(value)  # type: ignore[arg-type]


@st.composite
def paddings(draw: st.DrawFn, dims: int, named: tuple[str, ...]) -> tuple[object, object]:
    """(as written for convcli, as the reference takes it): a name, an int, ints per axis,
    one pair for every axis, pairs per axis, or the text "B:A,..."."""
    form = draw(st.sampled_from([*named, "int", "ints", "pair", "pairs", "text"]))
    if form in named:
        return form, form
    if form == "int":
        n = draw(st.integers(0, 2))
        return n, n
    if form == "ints":
        ints = draw(st.lists(st.integers(0, 2), min_size=dims, max_size=dims))
        return ints, ints
    if form == "pair":
        pair = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
        return (pair,), (pair,)
    pairs = draw(
        st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=dims, max_size=dims)
    )
    if form == "pairs":
        return pairs, pairs
    return ",".join(f"{b}:{a}" for b, a in pairs), pairs


@st.composite
def layer_cases(
    draw: st.DrawFn,
    dims: st.SearchStrategy[int] = st.integers(1, 3),
    transposed: bool = False,
    values: object = small_ints,
    pad_modes: tuple[str, ...] = PAD_MODE_NAMES,
    bias: st.SearchStrategy[bool] = st.booleans(),
) -> Case:
    """A forward (or transposed) layer small enough for the naive loop: up to 3 groups of 1-2
    input and 1-2 output channels (depthwise and channel multipliers included)."""
    d = draw(dims)
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    group_in, group_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, (4, 3, 2)[d - 1])) for _ in range(d))
    stride, dilation = draw(per_axis(d, 1, 3)), draw(per_axis(d, 1, 2))
    strides, dilations = as_tuple(stride, d), as_tuple(dilation, d)
    largest = (6, 4, 3)[d - 1]
    spatial = [draw(st.integers(1, largest)) for _ in range(d)]
    options: dict = {"stride": stride, "dilation": dilation, "groups": groups}
    if transposed:
        written, padding = draw(paddings(d, ("valid", "same", "full")))
        extra = tuple(draw(st.integers(0, max(s, t) - 1)) for s, t in zip(strides, dilations))
        options["output_padding"] = draw(st.sampled_from([extra, min(extra), 0]))
        extra = as_tuple(options["output_padding"], d)
        if padding != "same":
            pads = layer_pads(tuple(spatial), kernel, padding, strides, dilations)
            out = [
                (n - 1) * s + (k - 1) * t + 1 - b - a + p
                for n, k, s, t, (b, a), p in zip(spatial, kernel, strides, dilations, pads, extra)
            ]
            assume(min(out) >= 1)
        options["transposed"] = True
        weights = (batch, groups * group_in, groups * group_out)
        w_shape = (groups * group_in, group_out, *kernel)
    else:
        written, padding = draw(paddings(d, ("valid", "same", "full")))
        pads = layer_pads(tuple(spatial), kernel, padding, strides, dilations)
        spans = [(k - 1) * t + 1 for k, t in zip(kernel, dilations)]
        spatial = [max(n, e - b - a) for n, e, (b, a) in zip(spatial, spans, pads)]
        options["pad_mode"] = draw(st.sampled_from(pad_modes))
        w_shape = (groups * group_out, group_in, *kernel)
        weights = (batch, groups * group_in, groups * group_out)
    batch, in_channels, out_channels = weights
    make = values if callable(values) else small_ints
    x = draw(make((batch, in_channels, *spatial)))  # type: ignore[operator]
    w = draw(make(w_shape))  # type: ignore[operator]
    b = draw(make((out_channels,))) if draw(bias) else None  # type: ignore[operator]
    options["padding"] = padding
    return Case(x, w, b, options, written)


def run(case: Case, batched: bool = True, layout: str = "nchw", **extra: object) -> np.ndarray:
    """convcli.layer on the case, given batched or not and in either layout; the result back
    channels first and batched."""
    x, w = case.x, case.w
    if layout == "nhwc":
        x, w = nhwc(x), tf_filters(w)
    got = layer(x if batched else x[0], w, case.bias, layout=layout, **case.keywords, **extra)
    if not batched:
        got = got[None]
    return np.moveaxis(got, -1, 1) if layout == "nhwc" else got


def check(case: Case, batched: bool = True, layout: str = "nchw") -> None:
    """convcli.layer equals the naive loop on the case (its first sample if not batched)."""
    values, magnitude = reference(case)
    if not batched:
        values, magnitude = values[:1], magnitude[:1]
    assert_layer(run(case, batched, layout), values, magnitude, kind_of(case.x, case.w, case.bias))


# --------------------------------------------------------------------------- hand-checked


def test_the_issue_example():
    x = [[[2, 1, 3, 5, 4], [0, 1, 0, 1, 0]]]
    w = [[[1, -1], [1, 1]]]
    assert layer(x, w, bias=[10]).tolist() == [[[12, 9, 9, 12]]]
    assert layer(x[0], w, bias=[10]).tolist() == [[12, 9, 9, 12]]


def test_a_transposed_layer_spreads_each_cell_through_the_kernel():
    assert layer([[1, 2, 3]], [[[1, 1]]], transposed=True, stride=2).tolist() == [
        [1, 1, 2, 2, 3, 3]
    ]
    # output_padding adds cells at the end that no input reaches
    assert layer([[1, 2, 3]], [[[1, 1]]], transposed=True, stride=2, output_padding=1).tolist() == [
        [1, 1, 2, 2, 3, 3, 0]
    ]
    # padding crops: (n - 1) * stride + kernel - 2 * padding cells
    assert layer([[1, 2, 3]], [[[1, 10, 100]]], transposed=True, stride=2, padding=1).tolist() == [
        [10, 100 + 2, 20, 200 + 3, 30]
    ]


def test_groups_keep_channels_apart():
    x = np.array([[[1, 2, 3], [10, 20, 30]]])
    w = np.array([[[1]], [[1]], [[2]], [[2]]])  # depthwise, two outputs per input channel
    assert layer(x, w, groups=2).tolist() == [[[1, 2, 3], [1, 2, 3], [20, 40, 60], [20, 40, 60]]]


def test_a_complex_kernel_is_not_conjugated():
    got = layer([[1 + 1j, 2, 3 - 1j]], [[[1j, 1]]])
    assert got.tolist() == [[(1 + 1j) * 1j + 2, 2j + 3 - 1j]]


# --------------------------------------------------------------------------- against the loop


@given(layer_cases(), st.booleans())
def test_forward_layers_equal_the_naive_loop(case, batched):
    note(case)
    check(case, batched)


@given(layer_cases(transposed=True), st.booleans())
def test_transposed_layers_equal_the_naive_loop(case, batched):
    note(case)
    check(case, batched)


@given(layer_cases(values=floats))
def test_float_layers_equal_the_naive_loop(case):
    check(case)


@given(layer_cases(transposed=True, values=floats))
def test_float_transposed_layers_equal_the_naive_loop(case):
    check(case)


@given(layer_cases(values=complexes))
def test_complex_layers_multiply_the_weights_unconjugated(case):
    check(case)


@given(layer_cases(transposed=True, values=complexes))
def test_complex_transposed_layers_multiply_the_weights_unconjugated(case):
    check(case)


@given(layer_cases(), st.booleans())
def test_tensorflow_layout_is_the_same_layer(case, batched):
    check(case, batched, layout="nhwc")


NHWC_TRANSPOSED = pytest.mark.xfail(
    strict=True,
    raises=(AssertionError, LayerError),
    reason="layout='nhwc' transposed reads filters as (*k, C_in, C_out), not TensorFlow's "
    "(*k, C_out, C_in)",
)


@NHWC_TRANSPOSED
def test_tensorflow_transposed_filters_are_k_out_in():
    """tf.nn.conv1d_transpose's filters are (k, C_out, C_in): here 2 input channels, 3 output."""
    x = np.arange(8).reshape(1, 4, 2)
    filters = np.arange(12).reshape(2, 3, 2)
    expected = reference_layer_sums(
        np.moveaxis(x, -1, 1), filters.transpose(2, 1, 0), transposed=True, stride=2
    )[0]
    got = layer(x, filters, transposed=True, layout="nhwc", stride=2)
    assert np.moveaxis(got, -1, 1).tolist() == expected.tolist()


@NHWC_TRANSPOSED
@settings(phases=(Phase.generate,), report_multiple_bugs=False)  # one failure, unshrunk
@given(layer_cases(transposed=True, dims=st.integers(1, 2)), st.booleans())
def test_tensorflow_layout_is_the_same_transposed_layer(case, batched):
    assume(case.w.shape[0] > 1)
    check(case, batched, layout="nhwc")
