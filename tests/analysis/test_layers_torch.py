"""convcli.layer and layer_backward against PyTorch itself (pytest -m torch; skipped without
torch): torch.nn.functional.conv{1,2,3}d and conv_transpose{1,2,3}d in float64 to 1e-12 of
each sum's magnitude, pad modes through F.pad, and the gradients against autograd."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, assume, example, given, settings
from hypothesis import strategies as st

from convcli import layer, layer_backward
from tests.analysis.test_layers import (
    INF_TRANSPOSED,
    Case,
    as_tuple,
    complexes,
    floats,
    layer_cases,
    output_shape,
    with_non_finite,
)
from tests.reference import layer_pads

torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need torch (test-torch)")
F = torch.nn.functional

pytestmark = [
    pytest.mark.torch,
    pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel:UserWarning"),
]

#: convcli's pad modes that F.pad has, by F.pad's name.
TORCH_PAD_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}
CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def tensor(values: np.ndarray | None, grad: bool = False):
    if values is None:
        return None
    dtype = torch.complex128 if np.iscomplexobj(values) else torch.float64
    return torch.tensor(values, dtype=dtype, requires_grad=grad)


def geometry(case: Case) -> tuple[int, tuple[int, ...], tuple[int, ...], list[tuple[int, int]]]:
    """Spatial axes, strides, dilations and the (before, after) pads convcli's layer takes."""
    d = case.w.ndim - 2
    steps = as_tuple(case.options["stride"], d)
    gaps = as_tuple(case.options["dilation"], d)
    padding = case.options["padding"]
    if case.options.get("transposed") and padding == "same":
        spatial = output_shape(case)[2:]
    else:
        spatial = case.x.shape[2:]
    return d, steps, gaps, layer_pads(spatial, case.w.shape[2:], padding, steps, gaps)


def symmetric_ints(case: Case) -> tuple[int, ...] | None:
    """The padding as torch's padding= takes it (one int per axis), if it is one."""
    *_, pads = geometry(case)
    if isinstance(case.options["padding"], str) or any(b != a for b, a in pads):
        return None
    return tuple(b for b, _ in pads)


def torch_layer(case: Case, x, w, b):
    """The layer by torch: F.pad then conv for a forward layer; conv_transpose, with its own
    padding where torch takes it, else uncropped and cropped as convcli pads."""
    d, steps, gaps, pads = geometry(case)
    groups = case.options["groups"]
    if not case.options.get("transposed"):
        flat = [n for before_after in reversed(pads) for n in before_after]
        mode = TORCH_PAD_MODES[case.options["pad_mode"]]
        padded = F.pad(x, flat, mode=mode) if any(flat) else x
        return CONV[d](padded, w, b, stride=steps, dilation=gaps, groups=groups)
    extra = as_tuple(case.options.get("output_padding", 0), d)
    ints = symmetric_ints(case)
    if ints is not None:
        return CONV_TRANSPOSE[d](
            x, w, b, stride=steps, padding=ints, output_padding=extra, groups=groups, dilation=gaps
        )
    full = CONV_TRANSPOSE[d](x, w, None, stride=steps, groups=groups, dilation=gaps)
    out = output_shape(case)[2:]
    grow = [max(0, before + n - size) for (before, _), n, size in zip(pads, out, full.shape[2:])]
    if any(grow):  # output_padding past the uncropped output: cells no input reaches
        full = F.pad(full, [n for g in reversed(grow) for n in (0, g)])
    crop = tuple(slice(before, before + n) for (before, _), n in zip(pads, out))
    cropped = full[(..., *crop)]
    return cropped if b is None else cropped + b.reshape(-1, *[1] * d)


def torch_fits(case: Case) -> bool:
    """Whether torch takes the case: its pad modes, F.pad's reflect narrower than the input,
    circular no wider."""
    if case.options.get("transposed"):
        return True
    pad_mode = case.options["pad_mode"]
    if pad_mode not in TORCH_PAD_MODES:
        return False
    *_, pads = geometry(case)
    widest = [max(p) for p in pads]
    if pad_mode == "reflect":
        return all(p < n for p, n in zip(widest, case.x.shape[2:]))
    if pad_mode == "circular":
        return all(p <= n for p, n in zip(widest, case.x.shape[2:]))
    return True


def assert_close(got: np.ndarray, expected, magnitude) -> None:
    """Equal to 1e-12 of each sum's magnitude; nan and inf where torch has them."""
    expected, magnitude = expected.detach().numpy(), magnitude.detach().numpy()
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(
        got[~finite & ~np.isnan(got)], expected[~finite & ~np.isnan(expected)]
    )
    assert np.all(np.abs(got[finite] - expected[finite]) <= 1e-12 * magnitude[finite])


def check(case: Case, convention: str = "convcli") -> None:
    assume(torch_fits(case))
    x, w, b = tensor(case.x), tensor(case.w), tensor(case.bias)
    expected = torch_layer(case, x, w, b)
    magnitude = torch_layer(case, x.abs(), w.abs(), None if b is None else b.abs())
    got = layer(case.x, case.w, case.bias, convention=convention, **case.keywords)
    assert_close(got, expected, magnitude)


# --------------------------------------------------------------------------- the layer


@given(layer_cases(values=floats))
def test_forward_layers_equal_torch_conv(case):
    check(case)


@given(layer_cases(values=floats, transposed=True))
def test_transposed_layers_equal_torch_conv_transpose(case):
    check(case)


@settings(max_examples=30)
@given(
    layer_cases(values=complexes, dims=(1, 2))
    | layer_cases(values=complexes, dims=(1, 2), transposed=True)
)
def test_complex_layers_equal_torch(case):
    check(case)


@given(
    layer_cases(
        values=with_non_finite, pad_modes=("zeros",), padding_forms=("valid", "int", "ints")
    )
)
def test_torch_convention_multiplies_zero_padding_as_torch_does(case):
    """0 * inf is nan over torch's zero padding; convention='torch' says the same."""
    check(case, convention="torch")


@settings(phases=(Phase.explicit, Phase.generate), report_multiple_bugs=False)
@example(INF_TRANSPOSED)
@given(layer_cases(values=with_non_finite, transposed=True, padding_forms=("int", "ints")))
def test_transposed_layers_with_inf_weights_equal_torch(case):
    """conv_transpose multiplies input cells only: an inf weight gives inf, never 0 * inf."""
    check(case, convention="torch")


def test_torch_takes_the_extra_same_cell_after():
    x, w = np.arange(10.0).reshape(1, 2, 5), np.arange(8.0).reshape(2, 2, 2)
    expected = F.conv1d(tensor(x), tensor(w), padding="same")
    got = layer(x, w, padding="same", convention="torch")
    np.testing.assert_array_equal(got, expected.numpy())
    np.testing.assert_array_equal(layer(x, w, padding="same"), expected.numpy())


# --------------------------------------------------------------------------- the backward pass


def autograd(case: Case, g: np.ndarray):
    """dL/dx, dL/dw, dL/db of L = sum(G * y) by torch's autograd."""
    x, w = tensor(case.x, grad=True), tensor(case.w, grad=True)
    b = tensor(np.zeros(g.shape[1]) if case.bias is None else case.bias, grad=True)
    (torch_layer(case, x, w, b) * tensor(g)).sum().backward()
    return x.grad.numpy(), w.grad.numpy(), b.grad.numpy()


@settings(max_examples=50)
@given(
    st.data(),
    layer_cases(values=floats) | layer_cases(values=floats, transposed=True),
)
def test_layer_backward_equals_torch_autograd(data, case):
    assume(torch_fits(case))
    extra = case.options.get("output_padding", 0)
    assume(case.written != "same" or not any(as_tuple(extra, 1)))  # a known defect: see test_layers
    g = data.draw(floats(output_shape(case)))
    result = layer_backward(case.x, case.w, g, case.bias, **case.keywords)
    for got, want in zip(
        (result.grad_input, result.grad_weight, result.grad_bias), autograd(case, g)
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(want).max()))
