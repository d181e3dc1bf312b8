"""convcli.layer against TensorFlow itself (pytest -m tensorflow; skipped without tensorflow):
tf.nn.convolution (1-, 2- and 3-D, SAME and VALID, conv2d's explicit pads, stride, dilation,
groups) and conv1d/2d/3d_transpose, in float64 with layout="nhwc", to 1e-12 of each sum's
magnitude."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st

from convcli import layer
from tests.analysis.test_layers import (
    Case,
    as_tuple,
    floats,
    layer_cases,
    nhwc,
    output_shape,
    tf_filters,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no banner on importing
tf = pytest.importorskip("tensorflow", reason="the TensorFlow cross-checks need tensorflow")

pytestmark = pytest.mark.tensorflow

TRANSPOSE = {1: tf.nn.conv1d_transpose, 2: tf.nn.conv2d_transpose, 3: tf.nn.conv3d_transpose}


def steps_and_gaps(case: Case) -> tuple[tuple[int, ...], tuple[int, ...]]:
    d = case.w.ndim - 2
    return as_tuple(case.options["stride"], d), as_tuple(case.options["dilation"], d)


def tf_padding(case: Case) -> object:
    """ "SAME", "VALID", or conv2d's explicit [[0, 0], [b, a], [b, a], [0, 0]]."""
    padding = case.options["padding"]
    if isinstance(padding, str):
        return padding.upper()
    return [[0, 0], *map(list, padding), [0, 0]]


def tf_forward(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """tf.nn.convolution (conv2d for explicit pads) on TensorFlow's layout, back channels first."""
    steps, gaps = steps_and_gaps(case)
    padding = tf_padding(case)
    call = tf.nn.conv2d if isinstance(padding, list) else tf.nn.convolution
    y = call(nhwc(x), tf_filters(w), strides=steps, padding=padding, dilations=gaps)
    if b is not None:
        y = tf.nn.bias_add(y, b)
    return np.moveaxis(y.numpy(), -1, 1)


def tf_transposed(case: Case, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """conv{1,2,3}d_transpose with filters (*k, C_out, C_in) and the output shape convcli gives."""
    steps, _ = steps_and_gaps(case)
    shape = output_shape(case)
    y = TRANSPOSE[w.ndim - 2](
        nhwc(x),
        tf_filters(w),
        output_shape=(shape[0], *shape[2:], shape[1]),
        strides=steps,
        padding=tf_padding(case),
    )
    if b is not None:
        y = tf.nn.bias_add(y, b)
    return np.moveaxis(y.numpy(), -1, 1)


def assert_close(got: np.ndarray, expected: np.ndarray, magnitude: np.ndarray) -> None:
    assert got.shape == expected.shape
    assert np.all(np.abs(got - expected) <= 1e-12 * magnitude)


def conv3d_starts_late(case: Case) -> bool:
    """Whether tf.nn.conv3d's CPU kernel shifts this SAME layer: it halves a negative padding
    total (a stride wider than the kernel leaves cells past the last window) toward zero
    without clamping it, and so starts |total| // 2 cells in, where conv1d and conv2d (and the
    documented rule) start at the first cell."""
    if case.w.ndim != 5 or case.written != "same":
        return False
    steps, gaps = steps_and_gaps(case)
    totals = (
        (-(-n // s) - 1) * s + (k - 1) * t + 1 - n
        for n, k, s, t in zip(case.x.shape[2:], case.w.shape[2:], steps, gaps)
    )
    return any(total <= -2 for total in totals)


def forward_cases(dims: tuple[int, ...], explicit: bool = False) -> st.SearchStrategy[Case]:
    """Zero-padded layers TensorFlow computes: no stride together with a dilation, groups
    in 1-D and 2-D only (conv3d has none)."""
    forms = ("valid", "same", "pairs") if explicit else ("valid", "same")
    groups = (1,) if 3 in dims else (1, 1, 2, 3)
    cases = layer_cases(
        dims=dims, values=floats, pad_modes=("zeros",), padding_forms=forms, group_counts=groups
    )
    return cases.filter(
        lambda case: (
            not conv3d_starts_late(case) and not all(max(axis) > 1 for axis in steps_and_gaps(case))
        )
    )


def check_forward(case: Case, convention: str) -> None:
    expected = tf_forward(case, case.x, case.w, case.bias)
    magnitude = tf_forward(
        case, abs(case.x), abs(case.w), None if case.bias is None else abs(case.bias)
    )
    got = layer(
        nhwc(case.x),
        tf_filters(case.w),
        case.bias,
        layout="nhwc",
        convention=convention,
        **case.keywords,
    )
    assert_close(np.moveaxis(got, -1, 1), expected, magnitude)


@pytest.mark.parametrize("convention", ["convcli", "tensorflow"])
@given(forward_cases((1,)) | forward_cases((2,), explicit=True) | forward_cases((3,)))
def test_layers_equal_tf_nn_convolution(convention, case):
    check_forward(case, convention)


def transposed_cases() -> st.SearchStrategy[Case]:
    """TensorFlow's transposed layers: SAME or VALID, no groups or dilation on its CPU, and
    an output shape its forward layer maps back onto the input (no output_padding for SAME)."""
    return layer_cases(
        transposed=True,
        values=floats,
        padding_forms=("valid", "same"),
        dilations=1,
        group_counts=(1,),
    ).filter(
        lambda case: case.written == "valid" or not any(as_tuple(case.options["output_padding"], 1))
    )


@given(transposed_cases())
def test_transposed_layers_equal_tf_conv_transpose(case):
    """convcli's channels-first weights (C_in, C_out, *k) against TensorFlow's (*k, C_out, C_in)."""
    expected = tf_transposed(case, case.x, case.w, case.bias)
    magnitude = tf_transposed(
        case, abs(case.x), abs(case.w), None if case.bias is None else abs(case.bias)
    )
    got = layer(case.x, case.w, case.bias, **case.keywords)
    assert_close(got, expected, magnitude)


@settings(phases=(Phase.generate,), report_multiple_bugs=False)  # one failure, unshrunk
@given(transposed_cases())
def test_transposed_layers_in_tensorflow_layout_equal_tf_conv_transpose(case):
    assume(case.w.shape[0] != case.w.shape[1])
    expected = tf_transposed(case, case.x, case.w, case.bias)
    magnitude = tf_transposed(
        case, abs(case.x), abs(case.w), None if case.bias is None else abs(case.bias)
    )
    got = layer(nhwc(case.x), tf_filters(case.w), case.bias, layout="nhwc", **case.keywords)
    assert_close(np.moveaxis(got, -1, 1), expected, magnitude)


def test_depthwise_layers_equal_tf_depthwise_conv2d():
    """tf.nn.depthwise_conv2d's filters (kH, kW, C_in, multiplier) are groups=C_in weights."""
    rng = np.random.default_rng(16)
    x, filters = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 2, 3, 2))
    expected = tf.nn.depthwise_conv2d(x, filters, strides=[1, 2, 2, 1], padding="SAME").numpy()
    got = layer(x, filters.reshape(3, 2, 1, 6), groups=3, stride=2, padding="same", layout="nhwc")
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_tensorflow_refuses_stride_with_dilation_as_convention_tensorflow_does():
    x, w = np.ones((1, 8, 1)), np.ones((2, 1, 1))
    with pytest.raises(ValueError):
        tf.nn.convolution(x, w, strides=2, dilations=2, padding="VALID")
    with pytest.raises(ValueError, match="strides > 1 together with dilations > 1"):
        layer(x, w, stride=2, dilation=2, padding="valid", layout="nhwc", convention="tensorflow")
