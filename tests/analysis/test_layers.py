"""Tests for convcli.analysis.layers (CNN layers) against the naive loop in tests/reference.py,
which shares no code with convcli: 1-, 2- and 3-D, batched or not, groups, every padding form
and pad mode, stride, dilation, bias, transposed layers, TensorFlow's layout, complex and exact
integers, non-finite weights; the decomposition into per-channel correlations; every error."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
from hypothesis import Phase, assume, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convcli import (
    ConvcliError,
    LayerError,
    convolve,
    correlate,
    layer,
    layer_backward,
    layer_terms,
)
from convcli.options import PAD_MODES
from tests.reference import (
    PAD_MODE_NAMES,
    layer_pads,
    layer_products,
    reference_layer_backward,
    reference_layer_sums,
)

# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """A layer's arrays (channels first, batched) and its keyword options; ``written`` is the
    padding as convcli is given it, ``options["padding"]`` as the reference takes it."""

    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    options: dict
    written: object

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


@cache  # one strategy per shape: building one costs more than drawing from it
def small_ints(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.int64, shape, elements=st.integers(-4, 4))


@cache  # one strategy per shape: building one costs more than drawing from it
def floats(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=st.floats(-8, 8, width=32))


@cache  # one strategy per shape: building one costs more than drawing from it
def complexes(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return st.tuples(floats(shape), floats(shape)).map(lambda p: p[0] + 1j * p[1])


def per_axis(dims: int, low: int, high: int) -> st.SearchStrategy[object]:
    """An int for every axis or a tuple of one per axis."""
    return st.one_of(st.integers(low, high), st.tuples(*[st.integers(low, high)] * dims))


def as_tuple(value: object, dims: int) -> tuple[int, ...]:
    return (value,) * dims if isinstance(value, int) else tuple(value)  # type: ignore[arg-type]


PADDING_FORMS = ("valid", "same", "full", "int", "ints", "pair", "pairs", "text")


@st.composite
def paddings(draw: st.DrawFn, dims: int, forms: tuple[str, ...]) -> tuple[object, object]:
    """(as written for convcli, as the reference takes it): a name, an int, ints per axis,
    one pair for every axis, pairs per axis, or the text "B:A,..."."""
    form = draw(st.sampled_from(forms))
    if form in ("valid", "same", "full"):
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
    dims: tuple[int, ...] = (1, 2, 3),
    transposed: bool = False,
    values: Callable[[tuple[int, ...]], st.SearchStrategy[np.ndarray]] = small_ints,
    pad_modes: tuple[str, ...] = PAD_MODE_NAMES,
    padding_forms: tuple[str, ...] = PADDING_FORMS,
    strides: int = 3,
    dilations: int = 2,
    group_counts: tuple[int, ...] = (1, 1, 2, 3),
) -> Case:
    """A forward (or transposed) layer small enough for the naive loop: up to 3 groups of 1-2
    input and 1-2 output channels (depthwise and channel multipliers included), a batch of 1-2,
    a bias or none."""
    d = draw(st.sampled_from(dims))
    groups = draw(st.sampled_from(group_counts))
    group_in, group_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, (4, 3, 2)[d - 1])) for _ in range(d))
    stride, dilation = draw(per_axis(d, 1, strides)), draw(per_axis(d, 1, dilations))
    steps, gaps = as_tuple(stride, d), as_tuple(dilation, d)
    spatial = [draw(st.integers(1, (6, 4, 3)[d - 1])) for _ in range(d)]
    written, padding = draw(paddings(d, padding_forms))
    options: dict = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if transposed:
        extra = tuple(draw(st.integers(0, max(s, t) - 1)) for s, t in zip(steps, gaps))
        # 'same' fixes the output at n * stride cells: no output_padding
        options["output_padding"] = (
            0 if padding == "same" else draw(st.sampled_from([extra, min(extra), 0]))
        )
        if padding != "same":  # the cropped output must keep a cell
            pads = layer_pads(tuple(spatial), kernel, padding, steps, gaps)
            cropped = zip(
                spatial, kernel, steps, gaps, pads, as_tuple(options["output_padding"], d)
            )
            assume(
                all(
                    (n - 1) * s + (k - 1) * t + 1 - b - a + p > 0
                    for n, k, s, t, (b, a), p in cropped
                )
            )
        options["transposed"] = True
        w_shape = (groups * group_in, group_out, *kernel)
    else:  # the kernel must fit the padded input
        pads = layer_pads(tuple(spatial), kernel, padding, steps, gaps)
        spans = [(k - 1) * t + 1 for k, t in zip(kernel, gaps)]
        spatial = [max(n, e - b - a) for n, e, (b, a) in zip(spatial, spans, pads)]
        options["pad_mode"] = draw(st.sampled_from(pad_modes))
        w_shape = (groups * group_out, group_in, *kernel)
    x = draw(values((draw(st.integers(1, 2)), groups * group_in, *spatial)))
    w = draw(values(w_shape))
    bias = draw(st.none() | values((groups * group_out,)))
    return Case(x, w, bias, options, written)


def run(case: Case, batched: bool = True, layout: str = "nchw") -> np.ndarray:
    """convcli.layer on the case, given batched or not and in either layout; the result back
    channels first and batched."""
    x, w = case.x, case.w
    if layout == "nhwc":
        x, w = nhwc(x), tf_filters(w)
    got = layer(x if batched else x[0], w, case.bias, layout=layout, **case.keywords)
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


@pytest.mark.slow
@given(layer_cases(transposed=True, values=floats))
def test_float_transposed_layers_equal_the_naive_loop(case):
    check(case)


@given(layer_cases(values=complexes))
def test_complex_layers_multiply_the_weights_unconjugated(case):
    check(case)


@pytest.mark.slow
@given(layer_cases(transposed=True, values=complexes))
def test_complex_transposed_layers_multiply_the_weights_unconjugated(case):
    check(case)


@given(layer_cases(), st.booleans())
def test_tensorflow_layout_is_the_same_layer(case, batched):
    check(case, batched, layout="nhwc")


def test_tensorflow_transposed_filters_are_k_out_in():
    """tf.nn.conv1d_transpose's filters are (k, C_out, C_in): here 2 input channels, 3 output."""
    x = np.arange(8).reshape(1, 4, 2)
    filters = np.arange(12).reshape(2, 3, 2)
    expected = reference_layer_sums(
        np.moveaxis(x, -1, 1), filters.transpose(2, 1, 0), transposed=True, stride=2
    )[0]
    got = layer(x, filters, transposed=True, layout="nhwc", stride=2)
    assert np.moveaxis(got, -1, 1).tolist() == expected.tolist()


@settings(phases=(Phase.generate,), report_multiple_bugs=False)  # one failure, unshrunk
@given(layer_cases(dims=(1, 2), transposed=True), st.booleans())
def test_tensorflow_layout_is_the_same_transposed_layer(case, batched):
    assume(case.w.shape[0] > 1)
    check(case, batched, layout="nhwc")


# --------------------------------------------------------------------------- exact integers

INT64_MIN = int(np.iinfo(np.int64).min)


@cache  # one strategy per shape: building one costs more than drawing from it
def python_ints(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Object arrays of Python ints, beyond int64."""
    return hnp.arrays(object, shape, elements=st.integers(-(2**70), 2**70))


@cache  # one strategy per shape: building one costs more than drawing from it
def wide_ints(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """int64 values whose sums pass 2**53 (where float64 rounds) but mostly stay in int64."""
    return hnp.arrays(
        np.int64, shape, elements=st.integers(-(2**29), 2**29) | st.sampled_from([2**29 - 1])
    )


@cache  # one strategy per shape: building one costs more than drawing from it
def huge_int64(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """int64 values whose products and sums leave int64."""
    return hnp.arrays(
        np.int64, shape, elements=st.integers(-(2**62), 2**62) | st.sampled_from([INT64_MIN])
    )


EXACT = {"python": python_ints, "wide": wide_ints, "huge": huge_int64}


@pytest.mark.parametrize("values", ["python", "wide", pytest.param("huge", marks=pytest.mark.slow)])
@given(data=st.data())
def test_integer_layers_are_exact(values, data):
    case = data.draw(layer_cases(values=EXACT[values], transposed=data.draw(st.booleans())))
    check(case)


def test_integer_sums_past_2_53_are_exact():
    """2 * (2**27 + 1) * (2**26 + 1) = 2**54 + 3 * 2**27 + 2, which float64 (4 apart there)
    cannot hold: the sum runs in int64."""
    x = np.array([[2**27 + 1, 2**26 + 1]], dtype=np.int64)
    w = np.array([[[2**26 + 1, 2**27 + 1]]], dtype=np.int64)
    got = layer(x, w)
    assert got.dtype == np.int64
    assert got.tolist() == [[2 * (2**27 + 1) * (2**26 + 1)]]
    assert layer(x, w[..., ::-1], transposed=True)[0, 1] == got[0, 0]


def test_integers_past_int64_are_python_ints():
    x = [[2**63 - 1, 2**63 - 1]]
    got = layer(np.array(x, dtype=np.int64), [[[1, 1]]])
    assert got.dtype == object and got.tolist() == [[2**64 - 2]]
    got = layer(np.array([[2**80, -(2**80)]], dtype=object), [[[3, 1]]], bias=[1])
    assert got.tolist() == [[2 * 2**80 + 1]]


def test_integer_layers_stay_integers_and_a_float_bias_makes_floats():
    x, w = np.arange(6).reshape(2, 3), np.ones((1, 2, 2), dtype=np.int64)
    assert layer(x, w).dtype == np.int64
    assert layer(x, w, bias=[0.5]).tolist() == [[8.5, 12.5]]
    assert layer(x.astype(np.uint8), w.astype(np.int8)).dtype == np.int64


# --------------------------------------------------------------------------- nan and inf


@cache  # one strategy per shape: building one costs more than drawing from it
def with_non_finite(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Floats with inf, -inf and nan among them."""
    return hnp.arrays(
        np.float64,
        shape,
        elements=st.floats(-8, 8, width=32) | st.sampled_from([np.inf, -np.inf, np.nan]),
    )


@given(
    layer_cases(values=with_non_finite, pad_modes=("zeros",)).filter(
        lambda case: not np.isfinite(case.w).all()
    )
)
def test_zero_padding_is_no_term_of_the_sum(case):
    """convcli's rule: an inf weight over zero padding adds nothing (no 0 * inf = nan)."""
    check(case)


TORCH_PADDINGS = ("valid", "int", "ints")


@given(
    layer_cases(values=with_non_finite, pad_modes=("zeros",), padding_forms=TORCH_PADDINGS)
    | layer_cases(values=with_non_finite, pad_modes=("zeros",), padding_forms=("same",), strides=1)
)
def test_torch_multiplies_zero_padding(case):
    """convention='torch': zero padding is multiplied, so an inf weight over it gives nan."""
    values, magnitude = reference(case, multiply_padding=True)
    got = layer(case.x, case.w, case.bias, convention="torch", **case.keywords)
    assert_layer(got, values, magnitude, "f")


#: x = [1, 2] through the weights [1, inf] transposed: [1, inf, inf] (PyTorch's too).
INF_TRANSPOSED = Case(
    x=np.array([[[1.0, 2.0]]]),
    w=np.array([[[1.0, np.inf]]]),
    bias=None,
    options={"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "transposed": True},
    written=0,
)
#: Transposed layers by one forward layer per output phase (main, 7a2cb84) multiply zeros.


@settings(phases=(Phase.explicit, Phase.generate), report_multiple_bugs=False)
@example(INF_TRANSPOSED)
@given(layer_cases(values=with_non_finite, transposed=True, padding_forms=("int", "ints")))
def test_a_transposed_layer_multiplies_input_cells_only(case):
    """A transposed layer's padding crops: no zero meets a weight, under either rule."""
    values, magnitude = reference(case)
    for convention in ("convcli", "torch"):
        got = layer(case.x, case.w, case.bias, convention=convention, **case.keywords)
        assert_layer(got, values, magnitude, "f")


def test_inf_over_padding_by_hand():
    x, w = [[1.0, 2.0, 3.0]], [[[1.0, np.inf]]]
    assert layer(x, w, padding=1).tolist() == [[np.inf, np.inf, np.inf, 3.0]]
    got = layer(x, w, padding=1, convention="torch")
    assert got[0, :3].tolist() == [np.inf] * 3 and np.isnan(got[0, 3])


@pytest.mark.parametrize(
    "x, w, bias, padding",
    [
        ([[1.0, 2.0], [1.0, 2.0]], [[[np.inf], [-np.inf]]], None, 1),
        ([[np.inf, 1.0]], [[[1.0]]], [-np.inf], 0),
    ],
)
def test_nan_from_inf_minus_inf_is_silent_as_in_the_sums(x, w, bias, padding):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(layer([[np.inf, -np.inf]], [[[1.0, 1.0]]])).all()  # the sums are silent
        got = layer(x, w, bias, padding=padding)
    assert np.isnan(got).any()


# --------------------------------------------------------------------------- the decomposition


def flipped(w: np.ndarray) -> np.ndarray:
    return w[(slice(None, None, -1),) * w.ndim]


@given(layer_cases(dims=(1, 2)))
def test_a_layer_is_the_bias_plus_one_correlation_per_channel(case):
    """y[n, o] = b[o] + sum_j correlate(x[n, c(o, j)], w[o, j]) = b[o] + sum_j convolve(x, flip(w))."""
    x, w, options = case.x, case.w, case.options
    terms = layer_terms(x, w, case.bias, **case.keywords)
    output = layer(x, w, case.bias, **case.keywords)
    assert terms.agrees and terms.twin_agrees
    assert terms.output.tolist() == output.tolist()
    d = w.ndim - 2
    pads = layer_pads(
        x.shape[2:],
        w.shape[2:],
        options["padding"],
        *(as_tuple(options[name], d) for name in ("stride", "dilation")),
    )
    geometry = {
        "padding": pads,
        "stride": options["stride"],
        "dilation": options["dilation"],
        "pad_mode": options["pad_mode"],
    }
    group_in, group_out = w.shape[1], w.shape[0] // options["groups"]
    sums = np.zeros(output.shape, dtype=object) + (
        0 if case.bias is None else case.bias.reshape(-1, *[1] * d).astype(object)
    )
    twins = sums.copy()
    for n, o, j in np.ndindex(x.shape[0], w.shape[0], group_in):
        c = o // group_out * group_in + j
        assert terms.channel(o, j) == c
        assert terms.kernel(o, j).tolist() == w[o, j].tolist()
        term = correlate(x[n, c], w[o, j], **geometry)
        assert terms.terms[n, o, j].tolist() == term.tolist()
        sums[n, o] += term
        twins[n, o] += convolve(x[n, c], flipped(w[o, j]), **geometry)
    assert sums.tolist() == output.tolist()
    assert twins.tolist() == output.tolist()


@given(layer_cases(dims=(1, 2), transposed=True))
def test_a_transposed_layer_is_the_bias_plus_one_transposed_term_per_channel(case):
    x, w = case.x, case.w
    terms = layer_terms(x, w, case.bias, **case.keywords)
    output = layer(x, w, case.bias, **case.keywords)
    assert terms.agrees and terms.twin_agrees
    assert terms.output.tolist() == output.tolist()
    single = {**case.options, "groups": 1}
    group_in, group_out = x.shape[1] // case.options["groups"], w.shape[1]
    for n, o, j in np.ndindex(x.shape[0], output.shape[1], group_in):
        c, local = o // group_out * group_in + j, o % group_out
        assert terms.channel(o, j) == c
        assert terms.kernel(o, j).tolist() == w[c, local].tolist()
        expected = reference_layer_sums(
            x[n : n + 1, c : c + 1], w[c : c + 1, local : local + 1], **single
        )[0]
        assert terms.terms[n, o, j].tolist() == expected[0, 0].tolist()
    bias = 0 if case.bias is None else case.bias.reshape(-1, *[1] * (w.ndim - 2))
    assert (terms.terms.sum(axis=2) + bias).tolist() == output.tolist()


@pytest.mark.slow
@given(layer_cases(dims=(1, 2)), st.booleans())
def test_layer_terms_are_channels_first_and_batched_whatever_the_layout(case, batched):
    expected = layer_terms(case.x[:1], case.w, case.bias, **case.keywords)
    x = nhwc(case.x[:1]) if batched else nhwc(case.x[:1])[0]
    got = layer_terms(x, tf_filters(case.w), case.bias, layout="nhwc", **case.keywords)
    for name in ("input", "weights", "terms", "output"):
        assert getattr(got, name).tolist() == getattr(expected, name).tolist(), name
    assert got.agrees and got.twin_agrees


def test_the_terms_of_a_strided_transposed_layer_with_inf_weights():
    terms = layer_terms([[[1.0, 2.0, 3.0]]], [[[1.0, np.inf]]], stride=2, transposed=True)
    assert terms.output.tolist() == [[[1.0, np.inf, 2.0, np.inf, 3.0, np.inf]]]
    assert terms.terms[0, 0, 0].tolist() == terms.output[0, 0].tolist()
    # the twin correlates x spread with zeros, which meet the inf tap: 0 * inf is nan
    assert terms.agrees and not terms.twin_agrees


# --------------------------------------------------------------------------- errors

# (input shape, weight shape, bias shape, options, words the one-line message must have)
REFUSALS = {
    "channels": (
        (2, 3, 8, 8),
        (4, 2, 3, 3),
        None,
        {},
        ["(2, 3, 8, 8)", "(4, 2, 3, 3)", "3 channels", "(C_out, 3, kH, kW)"],
    ),
    "groups not dividing the output channels": (
        (1, 6, 5),
        (4, 2, 3),
        None,
        {"groups": 3},
        ["(1, 6, 5)", "(4, 2, 3)", "groups=3", "divide"],
    ),
    "groups not dividing the input channels": (
        (1, 5, 5),
        (4, 2, 3),
        None,
        {"groups": 2},
        ["(1, 5, 5)", "(4, 2, 3)", "groups=2"],
    ),
    "groups not dividing a transposed layer's channels": (
        (1, 4, 5),
        (4, 1, 2),
        None,
        {"groups": 3, "transposed": True},
        ["(1, 4, 5)", "(4, 1, 2)", "groups=3"],
    ),
    "transposed channels": (
        (1, 2, 5),
        (3, 1, 2),
        None,
        {"transposed": True},
        ["(1, 2, 5)", "(3, 1, 2)", "(C_in, C_out/groups, kL)"],
    ),
    "bias length": (
        (1, 2, 5),
        (3, 2, 2),
        (4,),
        {},
        ["(4,)", "(3, 2, 2)", "must have shape (3,)"],
    ),
    "bias of a transposed layer": (
        (1, 2, 5),
        (2, 3, 2),
        (2,),
        {"transposed": True},
        ["(2,)", "(2, 3, 2)", "(3,)"],
    ),
    "channels-first tensors given as nhwc": (
        (2, 3, 8, 8),
        (4, 3, 3, 3),
        None,
        {"layout": "nhwc"},
        ["(2, 3, 8, 8)", "(4, 3, 3, 3)", "(kH, kW, 8, C_out)"],
    ),
    "channels-last tensors given as nchw": (
        (2, 8, 8, 3),
        (3, 3, 3, 4),
        None,
        {},
        ["(2, 8, 8, 3)", "(3, 3, 3, 4)", "(C_out, 8, kH, kW)"],
    ),
    "output_padding not below the stride": (
        (1, 2, 5),
        (2, 3, 3),
        None,
        {"transposed": True, "stride": 2, "output_padding": 2},
        ["output_padding=2", "stride 2", "dilation 1"],
    ),
    "output_padding not below the dilation": (
        (1, 2, 5, 5),
        (2, 3, 3, 3),
        None,
        {"transposed": True, "stride": (2, 1), "dilation": 3, "output_padding": (1, 3)},
        ["output_padding=(1, 3)", "stride (2, 1)", "dilation (3, 3)", "axis 1"],
    ),
    "5-D weights for a 4-D batched input": (
        (2, 3, 8, 8),
        (4, 3, 3, 3, 3),
        None,
        {},
        ["(2, 3, 8, 8)", "(4, 3, 3, 3, 3)", "unbatched", "3-D layer"],
    ),
    "4-D weights for a 5-D input": (
        (2, 3, 4, 8, 8),
        (4, 3, 3, 3),
        None,
        {},
        ["(2, 3, 4, 8, 8)", "(4, 3, 3, 3)", "2-D layer"],
    ),
    "2-D weights": ((1, 2, 5), (3, 2), None, {}, ["(3, 2)", "3-, 4- or 5-D weights"]),
    "6-D weights": ((1, 2, 5), (1, 1, 2, 2, 2, 2), None, {}, ["(1, 1, 2, 2, 2, 2)", "6-D"]),
    "output_padding without transposed": (
        (1, 2, 5),
        (3, 2, 2),
        None,
        {"output_padding": 1},
        ["output_padding=1", "transposed=True"],
    ),
    "a convention that is not a layer's": (
        (1, 2, 5),
        (3, 2, 2),
        None,
        {"convention": "scipy"},
        ["'scipy'", "convcli, torch, tensorflow"],
    ),
    "a transposed layer padded by reflection": (
        (1, 2, 5),
        (2, 3, 2),
        None,
        {"transposed": True, "pad_mode": "reflect"},
        ["pad_mode='reflect'", "zeros only"],
    ),
    "padding that crops a transposed layer to nothing": (
        (1, 2, 5),
        (2, 1, 2),
        None,
        {"transposed": True, "padding": 9},
        ["padding 9", "6 cells"],
    ),
    "torch's conv_transpose with a named padding": (
        (1, 2, 5),
        (2, 1, 2),
        None,
        {"transposed": True, "padding": "same", "convention": "torch"},
        ["conv_transpose", "'same'"],
    ),
    "stride for the wrong number of axes": (
        (1, 2, 8, 8),
        (2, 2, 2, 2),
        None,
        {"stride": (1, 1, 1)},
        ["stride", "3 values"],
    ),
    "output_padding for the wrong number of axes": (
        (1, 2, 8, 8),
        (2, 1, 2, 2),
        None,
        {"transposed": True, "stride": 2, "output_padding": (1, 1, 1)},
        ["output_padding", "3 values"],
    ),
    "groups below 1": ((1, 2, 5), (3, 2, 2), None, {"groups": 0}, ["groups=0"]),
    "a negative output_padding": (
        (1, 2, 5),
        (2, 3, 2),
        None,
        {"transposed": True, "output_padding": -1},
        ["output_padding", "-1"],
    ),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_every_refusal_is_one_line_naming_the_shapes(name):
    x_shape, w_shape, bias_shape, options, words = REFUSALS[name]
    bias = None if bias_shape is None else np.ones(bias_shape)
    for function in (layer, layer_terms, layer_backward):
        with pytest.raises(ConvcliError) as caught:
            function(np.ones(x_shape), np.ones(w_shape), bias=bias, **options)
        message = str(caught.value)
        assert isinstance(caught.value, ValueError)
        assert "\n" not in message
        for word in words:
            assert word in message, (word, message)


def test_shape_errors_are_layer_errors():
    with pytest.raises(LayerError, match=r"^the input \(2, 3, 8, 8\) has 3 channels"):
        layer(np.ones((2, 3, 8, 8)), np.ones((4, 2, 3, 3)))


def test_tensorflow_refuses_complex_layers_as_its_one_channel_convention_does():
    with pytest.raises(ConvcliError, match="real tensors only"):
        correlate([1j, 2, 3], [1, 1], convention="tensorflow", padding="valid")
    with pytest.raises(ConvcliError, match="real tensors only"):
        layer([[1j, 2, 3]], [[[1, 1]]], convention="tensorflow", padding="valid")


WRONG_TYPES = {
    "groups": ("2", 2.0, True, None),
    "transposed": ("yes", 1, None),
    "layout": (1, None),
    "padding": (1.5, None, {1: 2}),
    "stride": (1.5, None),
    "dilation": (2.0, None),
    "pad_mode": (None, 0),
    "convention": (None, 1),
}


@pytest.mark.parametrize(
    "name, value", [(name, value) for name, values in WRONG_TYPES.items() for value in values]
)
def test_options_of_a_wrong_type_are_type_errors_naming_the_option(name, value):
    with pytest.raises(TypeError, match=name):
        layer(np.ones((1, 2, 5)), np.ones((3, 2, 2)), **{name: value})


@pytest.mark.parametrize("value", [1.0, True, "x", None])
def test_output_padding_of_a_wrong_type_is_a_type_error(value):
    with pytest.raises((TypeError, ConvcliError), match="output_padding"):
        layer(
            np.ones((1, 2, 5)), np.ones((2, 3, 2)), transposed=True, stride=2, output_padding=value
        )


@pytest.mark.parametrize(
    "x, w, bias, name",
    [
        ("abc", [[[1]]], None, "input"),
        ([[1]], None, None, "weights"),
        ([[1]], [[[1]]], "b", "bias"),
    ],
)
def test_arrays_of_a_wrong_type_are_type_errors_naming_the_argument(x, w, bias, name):
    with pytest.raises(TypeError, match=name):
        layer(x, w, bias)


# --------------------------------------------------------------------------- the backward pass


def output_shape(case: Case) -> tuple[int, ...]:
    return layer_products(case.x.shape, case.w.shape, **case.options)[0]


@st.composite
def backward_cases(draw: st.DrawFn, values=small_ints, **kinds: object) -> tuple[Case, object]:
    """A forward or transposed layer and its upstream gradient G (None: all ones)."""
    case = draw(layer_cases(transposed=draw(st.booleans()), values=values, **kinds))
    extra = case.options.get("output_padding", 0)
    assume(case.written != "same" or not any(as_tuple(extra, 1)))  # see the known defect
    grad = draw(st.none() | values(output_shape(case)))
    return case, grad


def naive_backward(case: Case, grad: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.ones(output_shape(case), dtype=np.int64) if grad is None else grad
    return reference_layer_backward(case.x, case.w, g, **case.options)


@given(backward_cases())
def test_layer_backward_equals_the_naive_backward_exactly(case_and_grad):
    case, grad = case_and_grad
    result = layer_backward(case.x, case.w, grad, case.bias, **case.keywords)
    expected = naive_backward(case, grad)
    for got, want in zip((result.grad_input, result.grad_weight, result.grad_bias), expected):
        assert got.dtype.kind in "iO" and got.tolist() == want.tolist()
    assert result.output.tolist() == layer(case.x, case.w, case.bias, **case.keywords).tolist()
    assert result.largest_difference == 0.0 and result.checked_cells > 0
    assert result.transpose_agrees is (
        True if case.options.get("pad_mode", "zeros") == "zeros" else None
    )


@pytest.mark.slow
@given(backward_cases(values=floats, dims=(1, 2)))
def test_layer_backward_equals_the_naive_backward_in_floats(case_and_grad):
    case, grad = case_and_grad
    result = layer_backward(case.x, case.w, grad, case.bias, **case.keywords)
    for got, want in zip(
        (result.grad_input, result.grad_weight, result.grad_bias), naive_backward(case, grad)
    ):
        np.testing.assert_allclose(got, want.astype(float), rtol=1e-12, atol=1e-12)
    assert result.largest_difference <= 1e-12 * max(1.0, np.abs(result.grad_weight).max())


@pytest.mark.slow
@given(backward_cases(values=python_ints, dims=(1, 2)))
def test_layer_backward_is_exact_past_int64(case_and_grad):
    case, grad = case_and_grad
    largest = [max(abs(int(v)) for v in a.flat) for a in (case.x, case.w)]
    assume(largest[0] * largest[1] > 2**63)  # a forward layer in Python ints: see the known defect
    result = layer_backward(case.x, case.w, grad, case.bias, **case.keywords)
    for got, want in zip(
        (result.grad_input, result.grad_weight, result.grad_bias), naive_backward(case, grad)
    ):
        assert got.tolist() == want.tolist()


@settings(phases=(Phase.generate,), report_multiple_bugs=False)
@given(backward_cases(dims=(1, 2)), st.booleans())
def test_layer_backward_in_tensorflow_layout_and_unbatched(case_and_grad, batched):
    case, grad = case_and_grad
    assume(not case.options.get("transposed"))  # nhwc transposed filters: the known defect
    case.x = case.x[:1]
    g = np.ones(output_shape(case), dtype=np.int64) if grad is None else np.asarray(grad)[:1]
    gx, gw, gb = reference_layer_backward(case.x, case.w, g, **case.options)
    x, g, want_x = nhwc(case.x), nhwc(g), nhwc(gx)
    if not batched:
        x, g, want_x = x[0], g[0], want_x[0]
    result = layer_backward(x, tf_filters(case.w), g, case.bias, layout="nhwc", **case.keywords)
    assert result.grad_input.tolist() == want_x.tolist()
    assert result.grad_weight.tolist() == tf_filters(gw).tolist()
    assert result.grad_bias.tolist() == gb.tolist()


def test_layer_backward_in_tensorflow_layout_with_more_outputs_than_inputs():
    """A forward nhwc layer of 1 input and 2 output channels: dL/dx is checked as the
    transposed nhwc layer of G, which reads the filters the other way round."""
    result = layer_backward(np.ones((1, 3, 1)), np.ones((1, 1, 2)), layout="nhwc")
    assert result.grad_input.tolist() == [[[2], [2], [2]]]


def formula_value(formula: str, g: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A layer_backward formula ``dL/dx = layer(G, w, ...)`` evaluated."""
    call = formula.removeprefix("dL/dx = ").split(", its first cells")[0]
    return eval(call, {"layer": layer, "G": g, "w": w})


@given(backward_cases(pad_modes=("zeros",)))
def test_the_input_gradient_is_the_layer_its_formula_writes(case_and_grad):
    """dL/dx = layer(G, w, ...): the formula, evaluated, gives dL/dx (its first cells where a
    transposed layer's output_padding leaves the forward layer of G longer)."""
    case, grad = case_and_grad
    g = np.ones(output_shape(case), dtype=np.int64) if grad is None else np.asarray(grad)
    result = layer_backward(case.x, case.w, g, case.bias, **case.keywords)
    values = formula_value(result.grad_input_formula, g, case.w)
    kept = tuple(slice(0, n) for n in result.grad_input.shape)
    assert values[kept].tolist() == result.grad_input.tolist(), result.grad_input_formula


def test_the_input_gradient_formula_names_the_layout():
    x, w, g = np.arange(2).reshape(1, 2, 1), np.ones((1, 1, 1), dtype=int), np.ones((1, 2, 1))
    result = layer_backward(x, w, g, layout="nhwc")
    assert formula_value(result.grad_input_formula, g, w).tolist() == result.grad_input.tolist()


@pytest.mark.parametrize("geometry", [{"dilation": 2}, {"stride": 2}])
def test_a_transposed_same_layer_takes_no_output_padding(geometry):
    """'same' makes the output n * stride cells, which output_padding would contradict (and
    whose forward 'same' layer would have n + 1 outputs: no adjoint)."""
    options = {"transposed": True, "padding": "same", "output_padding": 1, **geometry}
    for function in (layer, layer_backward):
        with pytest.raises(LayerError, match="output_padding=1 does not apply"):
            function([[[1, 2, 3]]], [[[1, 1]]], **options)


def test_layer_backward_past_int64_from_a_large_upstream_gradient():
    result = layer_backward([[[1, 1]]], [[[1]]], [[[2**62, 2**62]]])
    assert result.grad_weight.tolist() == [[[2**63]]]
    assert result.grad_input.tolist() == [[[2**62, 2**62]]]


# --------------------------------------------------------------------------- CNN sizes


def windowed_layer(x, w, *, stride, pads, dilation, groups, pad_mode="zeros"):
    """A 2-D layer by numpy alone, for sizes the naive loop is too slow for: every kernel
    tap's strided view of the padded input, summed over the group's channels by einsum."""
    padded = np.pad(x, [(0, 0), (0, 0), *pads], mode=PAD_MODES[pad_mode])
    (s0, s1), (d0, d1) = stride, dilation
    k0, k1 = w.shape[2:]
    rows = (padded.shape[2] - d0 * (k0 - 1) - 1) // s0 + 1
    cols = (padded.shape[3] - d1 * (k1 - 1) - 1) // s1 + 1
    n, c = x.shape[:2]
    grouped = w.reshape(groups, -1, *w.shape[1:])
    y = np.zeros((n, groups, grouped.shape[1], rows, cols), dtype=np.result_type(x, w))
    for a, b in np.ndindex(k0, k1):
        view = padded[:, :, a * d0 :: s0, b * d1 :: s1][:, :, :rows, :cols]
        view = view.reshape(n, groups, c // groups, rows, cols)
        y += np.einsum("ngcij,goc->ngoij", view, grouped[..., a, b])
    return y.reshape(n, -1, rows, cols)


def windowed_transposed(x, w, *, stride, pads, dilation, groups, output_padding=(0, 0)):
    """A 2-D transposed layer by numpy alone: each tap's products added into a strided view
    of the uncropped output, which the padding then crops."""
    (s0, s1), (d0, d1) = stride, dilation
    n, c, h, v = x.shape
    k0, k1 = w.shape[2:]
    full = ((h - 1) * s0 + d0 * (k0 - 1) + 1, (v - 1) * s1 + d1 * (k1 - 1) + 1)
    out = [f - b - a + p for f, (b, a), p in zip(full, pads, output_padding)]
    size = [max(f, b + o) for f, (b, _), o in zip(full, pads, out)]
    grouped = w.reshape(groups, c // groups, *w.shape[1:])
    y = np.zeros((n, groups, w.shape[1], *size), dtype=np.result_type(x, w))
    rows = x.reshape(n, groups, c // groups, h, v)
    for a, b in np.ndindex(k0, k1):
        target = y[
            ..., a * d0 : a * d0 + (h - 1) * s0 + 1 : s0, b * d1 : b * d1 + (v - 1) * s1 + 1 : s1
        ]
        target += np.einsum("ngcij,gco->ngoij", rows, grouped[..., a, b])
    (b0, _), (b1, _) = pads
    return y.reshape(n, -1, *size)[..., b0 : b0 + out[0], b1 : b1 + out[1]]


# channels, groups, input size, kernel, stride, dilation, pads: each takes the sums through
# several blocks of rows (im2col) or of channels (depthwise)
CNN_SIZES = {
    "im2col in row blocks": (16, 8, 1, (66, 62), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
    "grouped, strided": (12, 6, 3, (70, 60), (3, 2), (2, 1), (1, 2), ((2, 0), (1, 3))),
    "depthwise in channel blocks": (
        24,
        24,
        24,
        (120, 118),
        (3, 3),
        (1, 1),
        (1, 1),
        ((1, 1), (1, 1)),
    ),
    "channel multiplier, dilated": (20, 40, 20, (90, 90), (3, 3), (1, 1), (2, 2), ((2, 2), (2, 2))),
    "depthwise strided": (16, 16, 16, (64, 64), (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1))),
}


@pytest.mark.parametrize("name", CNN_SIZES)
@pytest.mark.parametrize("pad_mode", ["zeros", "reflect"])
def test_layers_at_cnn_sizes_equal_numpy_windows(name, pad_mode):
    c_in, c_out, groups, spatial, kernel, stride, dilation, pads = CNN_SIZES[name]
    rng = np.random.default_rng(16)
    x = rng.integers(-9, 10, (2, c_in, *spatial))
    w = rng.integers(-9, 10, (c_out, c_in // groups, *kernel))
    options = {"stride": stride, "dilation": dilation, "groups": groups}
    expected = windowed_layer(x, w, pads=pads, pad_mode=pad_mode, **options)
    got = layer(x, w, padding=pads, pad_mode=pad_mode, **options)
    assert got.dtype == np.int64 and np.array_equal(got, expected)
    got = layer(x.astype(float), w.astype(float), padding=pads, pad_mode=pad_mode, **options)
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("name", CNN_SIZES)
def test_transposed_layers_at_cnn_sizes_equal_numpy_windows(name):
    c_in, c_out, groups, spatial, kernel, stride, dilation, pads = CNN_SIZES[name]
    rng = np.random.default_rng(61)
    x = rng.integers(-9, 10, (2, c_in, *spatial))
    w = rng.integers(-9, 10, (c_in, c_out // groups, *kernel))
    extra = tuple(max(s, d) - 1 for s, d in zip(stride, dilation))
    options = {"stride": stride, "dilation": dilation, "groups": groups, "output_padding": extra}
    expected = windowed_transposed(x, w, pads=pads, **options)
    got = layer(x, w, padding=pads, transposed=True, **options)
    assert got.dtype == np.int64 and np.array_equal(got, expected)


@pytest.mark.slow
@given(layer_cases(dims=(2,), padding_forms=("pairs",), group_counts=(1, 2)), st.booleans())
def test_the_numpy_windows_equal_the_naive_loop(case, transposed):
    """The references above, on layers small enough for the naive loop."""
    options = {name: as_tuple(case.options[name], 2) for name in ("stride", "dilation")}
    options["groups"] = case.options["groups"]
    pads = case.options["padding"]
    if transposed:
        w = case.w.reshape(options["groups"], -1, *case.w.shape[1:]).swapaxes(1, 2)
        w = w.reshape(case.x.shape[1], -1, *case.w.shape[2:])
        out = layer_products(case.x.shape, w.shape, transposed=True, padding=pads, **options)[0]
        assume(min(out[2:]) > 0)
        got = windowed_transposed(case.x, w, pads=pads, **options)
        expected = reference_layer_sums(case.x, w, transposed=True, padding=pads, **options)[0]
    else:
        pad_mode = case.options["pad_mode"]
        got = windowed_layer(case.x, case.w, pads=pads, pad_mode=pad_mode, **options)
        expected = reference_layer_sums(case.x, case.w, padding=pads, pad_mode=pad_mode, **options)[
            0
        ]
    assert got.tolist() == expected.tolist()


def test_tensorflow_takes_the_default_padding_as_valid():
    x, w = np.arange(10.0).reshape(1, 5, 2), np.ones((3, 2, 4))
    got = layer(x, w, layout="nhwc", convention="tensorflow")
    assert got.tolist() == layer(x, w, layout="nhwc", padding="valid").tolist()
    assert layer(x, w, layout="nhwc", transposed=False, convention="tensorflow").shape == (1, 3, 4)


def test_numpy_integers_are_ints_and_layer_conventions_are_named():
    x, w = np.ones((1, 2, 5)), np.ones((4, 1, 3))
    assert layer(x, w, groups=np.int64(2)).shape == (1, 4, 3)
    with pytest.raises(ConvcliError, match=r"is not one of convcli, torch, tensorflow$"):
        layer(x, w, convention="pytorch")


def test_a_dilated_depthwise_layer_meets_inf_only_with_its_taps():
    """The depthwise sums slide a kernel spread by the dilation; its zeros must not meet an
    inf in the input (0 * inf is nan), as in PyTorch's sum of real taps only."""
    x = np.array([[[1.0, np.inf, 3, 4, 5, 6, 7]], [[1.0, 2, 3, np.inf, 5, 6, 7]]])
    w = np.array([[[1.0, 2.0]], [[3.0, 1.0]]])
    got = layer(x.reshape(1, 2, 7), w, dilation=2, groups=2)
    assert got.tolist() == [[[7.0, np.inf, 13.0, 16.0, 19.0], [6.0, np.inf, 14.0, np.inf, 22.0]]]


@given(
    st.lists(st.floats(-1e6, 1e6, allow_subnormal=False), min_size=12, max_size=12),
    st.lists(st.floats(-1e3, 1e3, allow_subnormal=False), min_size=8, max_size=8),
)
def test_float_terms_agree_whatever_cancels(x, w):
    """The terms' check is scaled by each output's rounding (the layer of |x| and |w|), so
    outputs near zero after cancellation still agree."""
    terms = layer_terms(
        np.array(x).reshape(1, 2, 6), np.array(w).reshape(2, 2, 2), padding=1, stride=1
    )
    assert terms.agrees and terms.twin_agrees
